"""Alembic environment: runs migrations on the engine the caller hands over."""

from alembic import context
from sqlalchemy import text

from veche.all_models import metadata

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Several servers may start at once: one migrates, the others wait, then find
            # nothing left to do.
            connection.execute(text("SELECT pg_advisory_xact_lock(74153)"))
        context.run_migrations()
    connection.commit()
