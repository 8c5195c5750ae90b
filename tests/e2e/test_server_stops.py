"""Stopping a server with SIGTERM (a service manager, ``kill``) stops what it started.

The server stops on the signal and then raises it again; without ``sigterm_unwinds``
Python's default action ends the process at once, skipping the ``with`` blocks that stop
``veche demo``'s witness processes, which were left running (found by stopping a demo).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# A server in the way ``veche serve`` and ``veche demo`` run theirs, with a helper
# process standing for the demo's witnesses, stopped in a ``finally`` block.
SCRIPT = """
import subprocess, sys
import uvicorn
from veche.commands import sigterm_unwinds

async def app(scope, receive, send):
    pass

helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
print(helper.pid, flush=True)
try:
    with sigterm_unwinds():
        uvicorn.run(app, host="127.0.0.1", port=0, lifespan="off", log_level="info")
finally:
    helper.terminate()
    helper.wait(10)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_sigterm_stops_the_server_and_what_it_started() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as server:
        try:
            assert server.stdout is not None and server.stderr is not None
            first = server.stdout.readline()
            assert first.strip().isdigit(), server.stderr.read()
            helper = int(first)
            for line in server.stderr:  # serving once uvicorn says so
                if "Uvicorn running on" in line:
                    break
            assert _alive(helper)
            server.send_signal(signal.SIGTERM)
            assert server.wait(timeout=30) == 128 + signal.SIGTERM
            assert not _alive(helper), "the helper outlived the server"
        finally:
            if server.poll() is None:
                server.kill()
