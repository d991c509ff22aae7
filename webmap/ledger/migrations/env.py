"""Alembic environment: migrations run on a connection given by ``webmap.ledger.db``."""

from __future__ import annotations

from alembic import context

from webmap.ledger.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    """Run migrations on the connection passed in ``config.attributes`` (or the configured URL)."""
    connection = config.attributes.get("connection")
    if connection is None:
        from webmap.ledger.db import make_engine

        engine = make_engine(config.get_main_option("sqlalchemy.url"))
        with engine.begin() as connection:
            _run(connection)
        return
    _run(connection)


def _run(connection) -> None:
    """Configure the context on a connection and run the migrations in its transaction."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
