"""Backup and restore on SQLite and PostgreSQL: the restored log verifies and goes on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from litestar import Litestar

from audit.core.checkpoint import verify_checkpoint
from audit.core.entry import parse_entry
from audit.core.export import KeyInfo, write_export
from audit.services.store import LogStore
from kernel.db import make_engine
from kernel.keys import load_authority_key
from kernel.settings import Settings
from veche.backup import BackupError, backup, restore
from veche.commands import export_local_log
from veche.kinds import entry_kinds
from veche.pgtemp import TempCluster
from veche.setup import initialize

KINDS = entry_kinds()


def notice(store: LogStore, title: str) -> None:
    store.append_now(
        lambda db, log: log.append("notice.published", {"title": title, "text": "t", "lang": "en"})
    )


def test_restored_log_verifies_and_continues_the_chain(
    app: Litestar,
    settings: Settings,
    tmp_path: Path,
    engine_name: str,
    request: pytest.FixtureRequest,
) -> None:
    store: LogStore = app.state.log_store
    for n in range(5):
        notice(store, f"before backup {n}")
    made = backup(settings, tmp_path / "backup")
    assert made["size"] == 6
    assert oct((tmp_path / "backup" / "keys" / "authority.key").stat().st_mode & 0o777) == "0o600"
    with pytest.raises(BackupError, match="not empty"):
        backup(settings, tmp_path / "backup")

    target_url = ""
    if engine_name == "postgres":
        cluster: TempCluster = request.getfixturevalue("pg_cluster")
        target_url = cluster.create_database()
    restored = settings.with_changes(data_dir=tmp_path / "restored", database_url=target_url)
    restore(restored, tmp_path / "backup")
    with pytest.raises(BackupError):
        restore(restored, tmp_path / "backup")  # never over existing data

    engine = make_engine(restored)
    try:
        again = LogStore(engine, load_authority_key(restored.keys_dir), restored.origin, KINDS)
        notice(again, "after restore")
        with again.read_sessions() as db:
            lines = again.entries(db, 0, again.size(db))
            latest = again.latest_checkpoint(db)
    finally:
        engine.dispose()
    assert len(lines) == 7
    before = verify_checkpoint(made["checkpoint"], made["verifier_key"])
    assert latest is not None
    after = verify_checkpoint(latest.note, made["verifier_key"])
    assert after.size == 7 > before.size
    assert (
        parse_entry(lines[6], KINDS).prev
        == __import__("hashlib").sha256(b"\x00" + lines[5]).hexdigest()
    )

    export = tmp_path / "export"
    export_local_log(restored, export)
    state = tmp_path / "state"
    env = {**os.environ, "VECHE_DATA_DIR": str(restored.data_dir)}
    # The verifier remembers the backed-up checkpoint, then accepts the continued log.
    (tmp_path / "old").mkdir()
    write_export(
        tmp_path / "old",
        lines[:6],
        made["checkpoint"],
        KeyInfo.from_private_key(restored.origin, load_authority_key(restored.keys_dir)),
    )
    for directory in (tmp_path / "old", export):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "veche.cli",
                "verify",
                str(directory),
                "--key",
                made["verifier_key"],
                "--state",
                str(state),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_restore_refuses_what_is_not_a_backup(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "junk").mkdir()
    with pytest.raises(BackupError, match="not a Veche backup"):
        restore(settings.with_changes(data_dir=tmp_path / "new"), tmp_path / "junk")
    initialize(settings).dispose()


def test_backup_and_restore_commands(tmp_path: Path) -> None:
    """The commands on an embedded deployment, as an operator runs them."""
    env = {
        **os.environ,
        "VECHE_DATA_DIR": str(tmp_path / "var"),
        "VECHE_ARGON2_TIME_COST": "1",
        "VECHE_ARGON2_MEMORY_COST": "8",
        "VECHE_ARGON2_PARALLELISM": "1",
    }

    def veche(*args: str, data_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
        run_env = env if data_dir is None else {**env, "VECHE_DATA_DIR": str(data_dir)}
        return subprocess.run(
            [sys.executable, "-m", "veche.cli", *args],
            capture_output=True,
            text=True,
            env=run_env,
            timeout=120,
        )

    assert veche("init").returncode == 0
    made = veche("backup", str(tmp_path / "b"))
    assert made.returncode == 0, made.stderr
    assert "the log had 1 entries" in made.stdout
    refused = veche("backup", str(tmp_path / "b"))
    assert refused.returncode == 1
    assert refused.stderr.startswith("veche: error:") and "Traceback" not in refused.stderr
    restored = veche("restore", str(tmp_path / "b"), data_dir=tmp_path / "new")
    assert restored.returncode == 0, restored.stderr
    again = veche("restore", str(tmp_path / "b"), data_dir=tmp_path / "new")
    assert again.returncode == 1 and "already has keys" in again.stderr
