"""A log written by Veche 0.1, before the code was reorganised, still verifies.

``tests/data/logs/demo-0.1`` is the exported log of a small demo (``veche demo --voters 40``)
made by the release before the restructuring: every kind of entry the demo writes, an
election counted and published, a budgeting programme with pledges. The bytes on the wire
and in the log must not change, so today's verifier must accept it whole — and still
catch a single changed byte in it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

LOG = Path(__file__).parent.parent / "data" / "logs" / "demo-0.1"
KEY = "veche.localhost/log+52b3f063+AZrtaSun46dY0UovBioKMDJbUxwwSLlEyenbF8Ams9en"


def _verify(directory: Path) -> tuple[int, dict[str, object]]:
    command = ["verify", str(directory), "--no-state", "--key", KEY, "--json"]
    done = subprocess.run(
        [sys.executable, "-m", "veche.cli", *command],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, json.loads(done.stdout)


def test_a_log_of_the_previous_release_verifies() -> None:
    status, report = _verify(LOG)
    assert status == 0, report
    assert report["ok"] is True
    assert report["entries"] == 171
    counted = [e["id"] for e in report["elections"] if e["status"] == "tallied"]
    assert counted == ["centre-2026"]


def test_one_changed_byte_in_it_is_caught(tmp_path: Path) -> None:
    copy = tmp_path / "log"
    shutil.copytree(LOG, copy)
    entries = (copy / "entries.ndjson").read_bytes()
    changed = entries.replace(b'"stars":5', b'"stars":4', 1)
    assert changed != entries
    (copy / "entries.ndjson").write_bytes(changed)
    status, report = _verify(copy)
    assert status == 1
    assert report["ok"] is False
