"""The demo's log — accounts, a whole election, a budgeting program with proposals in
every state — is accepted by ``veche verify`` exactly as the demo tells a newcomer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_demo_log_verifies(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "VECHE_DATA_DIR": str(tmp_path / "demo"),
        "VECHE_ARGON2_TIME_COST": "1",
        "VECHE_ARGON2_MEMORY_COST": "8",
        "VECHE_ARGON2_PARALLELISM": "1",
    }

    def veche(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "veche.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    made = veche("demo", "--no-serve", "--voters", "40")
    assert made.returncode == 0, made.stderr
    assert "veche verify" in made.stdout
    key = made.stdout.split("--key '")[1].split("'")[0]
    assert veche("export", "log", str(tmp_path / "export")).returncode == 0
    verified = veche("verify", str(tmp_path / "export"), "--key", key, "--no-state")
    assert verified.returncode == 0, verified.stdout[-3000:]
    assert "OVERALL: OK" in verified.stdout
    assert "ballots counted:        40" in verified.stdout
