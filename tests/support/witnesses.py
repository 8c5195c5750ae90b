"""A witness (docs/protocol.md §15) as its own process: a key made by ``veche witness
keygen``, then the process the demo and the benchmarks start too
(``veche.witness_process``), with its log lines kept in ``<name>.log``."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.server import veche
from veche.witness_process import start_witness as start_process


def start_witness(
    tmp_path: Path, name: str, origin: str, log_vkey: str
) -> tuple[subprocess.Popen[str], str, str]:
    """The witness ``witness.test/<name>`` of the log ``origin``: its process, URL and
    verifier key, once it listens."""
    key = tmp_path / f"{name}.key"
    made = veche("witness", "keygen", "--name", f"witness.test/{name}", "--out", str(key))
    assert made.returncode == 0, made.stderr
    witness = start_process(
        key, tmp_path / f"{name}.db", f"{origin}={log_vkey}", errors=tmp_path / f"{name}.log"
    )
    assert witness.vkey == made.stdout.strip()
    return witness.process, witness.url, witness.vkey
