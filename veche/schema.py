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


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration."""
    try:
        command.upgrade(alembic_config(engine), "head")
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(describe_db_error(engine.url.render_as_string(), exc)) from exc
