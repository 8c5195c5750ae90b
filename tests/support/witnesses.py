"""A witness (docs/protocol.md §15) as its own process: ``veche witness keygen`` then
``veche witness serve`` on a free port, answered once it serves its key."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.server import veche
from veche.pgtemp import free_port


def start_witness(
    tmp_path: Path, name: str, origin: str, log_vkey: str
) -> tuple[subprocess.Popen[bytes], str, str]:
    key = tmp_path / f"{name}.key"
    made = veche("witness", "keygen", "--name", f"witness.test/{name}", "--out", str(key))
    assert made.returncode == 0, made.stderr
    vkey = made.stdout.strip()
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "veche.cli",
            "witness",
            "serve",
            "--key",
            str(key),
            "--db",
            str(tmp_path / f"{name}.db"),
            "--log",
            f"{origin}={log_vkey}",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "the witness exited early"
        try:
            if httpx.get(url + "/", timeout=1).text.strip() == vkey:
                return process, url, vkey
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the witness did not answer within 30 s")
