"""A witness (docs/protocol.md §15) as a process of its own, for the demo, the benchmarks
and the tests: ``veche witness serve`` on a port of 127.0.0.1 the system picks, ready once
it says where it listens."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


class WitnessProcess:
    """A running ``veche witness serve``: its process, its URL and its verifier key."""

    def __init__(self, process: subprocess.Popen[str], url: str, vkey: str) -> None:
        self.process = process
        self.url = url
        self.vkey = vkey

    def stop(self) -> None:
        """Ask it to stop; kill it if it has not within 10 seconds."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_witness(key_file: Path, db: Path, log: str, errors: Path | None = None) -> WitnessProcess:
    """Start a witness with the key in ``key_file`` and its database ``db``, cosigning the
    log ``log`` (``origin=verifier key``); its log lines go to ``errors`` (or nowhere).
    Returns once it listens: its first line is ``witness <vkey> listening on <url>``."""
    stderr = errors.open("ab") if errors is not None else subprocess.DEVNULL
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "veche.cli", "witness", "serve",
             "--key", str(key_file), "--db", str(db),
             "--log", log, "--host", "127.0.0.1", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )  # fmt: skip
    finally:
        if errors is not None:
            stderr.close()  # type: ignore[union-attr]
    assert process.stdout is not None
    first = process.stdout.readline().split()
    if len(first) < 5 or first[0] != "witness":
        process.kill()
        process.wait()
        raise RuntimeError(f"the witness with the key {key_file.name} did not start")
    return WitnessProcess(process, first[-1], first[1])
