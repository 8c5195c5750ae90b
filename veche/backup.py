"""Backup and restore of a deployment: the database and the keys, consistently.

A backup directory holds:

- ``database.sqlite`` (SQLite's online backup API: a consistent copy while the server
  runs) or ``database.dump`` (``pg_dump --format=custom`` for PostgreSQL);
- ``keys/``: the key files, mode 0600 (without them the restored log could not be
  extended under the same key, and elections could not be closed);
- ``backup.json``: when it was made, from which engine, and the log's size and signed
  checkpoint at that moment, so that the restored log can be checked against it.

Restoring refuses a data directory (or PostgreSQL database) that already holds data,
then checks that the restored log's head is the recorded checkpoint. A restored
deployment continues the same chain: its next entry links to the last one backed up.
Keep backups where the keys are as safe as the live ones.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from audit.core.checkpoint import verify_checkpoint
from kernel.db import make_engine, redact_url
from kernel.keys import read_secret_file, write_secret_file
from kernel.settings import Settings
from veche.wiring import log_store

MANIFEST = "backup.json"


class BackupError(RuntimeError):
    """A backup or restore cannot be done; the message says why."""


def _log_state(settings: Settings) -> dict[str, Any]:
    engine = make_engine(settings)
    try:
        store = log_store(settings, engine)
        with store.read_sessions() as db:
            latest = store.latest_checkpoint(db)
        if latest is None:
            raise BackupError("the log is empty; is this a Veche data directory?")
        return {
            "size": latest.size,
            "checkpoint": latest.note,
            "verifier_key": store.key_info.verifier_key,
        }
    finally:
        engine.dispose()


def backup(settings: Settings, target: Path) -> dict[str, Any]:
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty; choose a new directory for the backup")
    target.mkdir(parents=True, exist_ok=True)
    os.chmod(target, 0o700)
    state = _log_state(settings)
    if settings.is_sqlite:
        source = sqlite3.connect(settings.sqlite_path)
        copy = sqlite3.connect(target / "database.sqlite")
        with copy:
            source.backup(copy)
        copy.close()
        source.close()
        engine_name = "sqlite"
    else:
        _run(
            [
                "pg_dump",
                "--format=custom",
                "--no-owner",
                f"--file={target / 'database.dump'}",
                _libpq_url(settings.database_url),
            ],
            "pg_dump",
        )
        engine_name = "postgresql"
    (target / "keys").mkdir(mode=0o700)
    for key_file in sorted(settings.keys_dir.iterdir()):
        write_secret_file(target / "keys" / key_file.name, read_secret_file(key_file))
    manifest = {
        "made_at": int(time.time()),
        "engine": engine_name,
        "origin": settings.origin,
        **state,
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def restore(settings: Settings, source: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise BackupError(f"{source} holds no readable {MANIFEST}: not a Veche backup") from None
    if manifest.get("origin") != settings.origin:
        raise BackupError(
            f"the backup's log is named {manifest.get('origin')!r}; set "
            f"VECHE_ORIGIN to it (now {settings.origin!r})"
        )
    if settings.keys_dir.exists() and any(settings.keys_dir.iterdir()):
        raise BackupError(
            f"{settings.data_dir} already has keys; restore into a new data directory"
        )
    if manifest["engine"] == "sqlite":
        if not settings.is_sqlite:
            raise BackupError(
                "this backup is of a SQLite deployment; restore it without "
                "VECHE_DATABASE_URL, or migrate the data separately"
            )
        if settings.sqlite_path.exists():
            raise BackupError(f"{settings.sqlite_path} exists; restore into a new directory")
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / "database.sqlite", settings.sqlite_path)
    else:
        if settings.is_sqlite:
            raise BackupError(
                "this backup is of a PostgreSQL deployment; set "
                "VECHE_DATABASE_URL to an empty database to restore it"
            )
        _require_empty_postgres(settings)
        _run(
            [
                "pg_restore",
                "--no-owner",
                f"--dbname={_libpq_url(settings.database_url)}",
                str(source / "database.dump"),
            ],
            "pg_restore",
        )
    settings.keys_dir.mkdir(parents=True, exist_ok=True)
    for key_file in sorted((source / "keys").iterdir()):
        write_secret_file(settings.keys_dir / key_file.name, read_secret_file(key_file))
    state = _log_state(settings)
    if state["size"] < manifest["size"]:
        raise BackupError("the restored log is shorter than the backup says")
    checkpoint = verify_checkpoint(state["checkpoint"], manifest["verifier_key"])
    recorded = verify_checkpoint(manifest["checkpoint"], manifest["verifier_key"])
    if checkpoint.size == recorded.size and checkpoint.root != recorded.root:
        raise BackupError("the restored log does not match the backed-up checkpoint")
    return manifest


def _libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _require_empty_postgres(settings: Settings) -> None:
    engine = make_engine(settings)
    try:
        with engine.connect() as conn:
            tables = conn.execute(
                text("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
            ).scalar()
    finally:
        engine.dispose()
    if tables:
        raise BackupError(f"the database {redact_url(settings.database_url)} is not empty")


def _run(command: list[str], name: str) -> None:
    from veche.pgtemp import pg_bin

    try:
        executable = pg_bin(name)
    except RuntimeError as exc:
        raise BackupError(str(exc)) from None
    done = subprocess.run([executable, *command[1:]], capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{name} failed: {done.stderr.strip()[:300]}")
