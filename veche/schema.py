"""The schema: Alembic migrations in ``veche/migrations`` over every package's tables.

``migrate()`` brings any database, SQLite or PostgreSQL, to the newest migration.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from kernel.db import DatabaseUnavailable, describe_db_error

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine, time_zone: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    # The municipality's time zone (the setting time_zone): the local days that a
    # migration counting by day counts in (0011, the reports' analytics).
    config.attributes["time_zone"] = time_zone
    return config


def migrate(engine: Engine, time_zone: str | None = None) -> None:
    """Create or upgrade the schema to the newest migration; ``time_zone`` is the
    setting of that name (UTC when not given)."""
    try:
        command.upgrade(alembic_config(engine, time_zone), "head")
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(describe_db_error(engine.url.render_as_string(), exc)) from exc
