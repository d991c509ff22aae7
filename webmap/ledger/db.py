"""Database engine, sessions and migrations, with no web framework involved.

- ``make_engine(url)`` for the ``DATABASE_URL`` setting (env ``YZMAP_DATABASE_URL``); the default
  is a SQLite file in the instance folder, opened with WAL, foreign keys and a busy timeout. A
  PostgreSQL URL gets PostGIS geometry columns (see ``webmap.ledger.models.base``).
- SQLite has one writer: a transaction that reads and then writes would fail at once with
  "database is locked" when another writer committed in between (the busy timeout does not
  apply to that upgrade). ``writer_engine(engine)`` gives sessions that start with ``BEGIN
  IMMEDIATE``, so a write request takes the write lock first and queues behind the busy timeout.
- Writes run in explicit transactions: ``with transaction(session): ...``. Commands open their
  session through ``webmap.commands.open_ledger``; the web app keeps one session per request
  (``webmap.web.context``).
- Schema changes go through Alembic (``webmap/ledger/migrations``). The app never migrates on
  start: ``yzmap init`` runs ``upgrade_db`` (idempotent), so a shared PostgreSQL schema only
  changes when someone asks for it; ``schema_status`` tells whether a database is behind.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 30000  # how long a SQLite writer waits for the lock before it gives up


def _json_dumps(value) -> str:
    """Serialise JSON columns keeping Chinese text readable (and searchable with LIKE)."""
    return json.dumps(value, ensure_ascii=False)


def _setup_sqlite(engine: Engine) -> None:
    """Turn on WAL and foreign keys, and let SQLAlchemy (not pysqlite) emit BEGIN."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, record):
        """Configure each new SQLite connection."""
        # pysqlite's own transaction handling breaks SAVEPOINT: take it over (SQLAlchemy recipe)
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        """Start the transaction ourselves, so reads and writes share it."""
        immediate = conn.get_execution_options().get("yzmap_writer")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str) -> Engine:
    """Create an engine for a database URL with yzmap's connection settings."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    # an unreachable PostgreSQL server fails in seconds (readiness probes, commands), not minutes
    connect_args = {"connect_timeout": 10} if url.startswith("postgresql") else {}
    engine = create_engine(url, json_serializer=_json_dumps, pool_pre_ping=True,
                           connect_args=connect_args)  # fmt: skip
    if engine.dialect.name == "sqlite":
        _setup_sqlite(engine)
    return engine


def writer_engine(engine: Engine) -> Engine:
    """Return ``engine`` for sessions that will write: SQLite takes the write lock at BEGIN."""
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(yzmap_writer=True)


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """Run a block as one transaction: commit if it succeeds, roll everything back if it raises."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def database_name(bind) -> str:
    """Return a database's URL with its password hidden (an engine, connection or URL).

    What messages name a database by, and what tells databases apart in one process (the
    caches of boundary versions and rebuilt ledgers are kept per database).
    """
    url = getattr(bind, "url", bind)
    return make_url(url).render_as_string(hide_password=True)


def _alembic_config(connection):
    """Build an Alembic config that runs the shipped migrations on an open connection."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade_db(engine: Engine, revision: str = "head") -> None:
    """Create or migrate the schema to ``revision``; running it again is a no-op."""
    from alembic import command

    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), revision)


def schema_status(engine: Engine) -> tuple[str | None, str]:
    """Return (current revision of the database or None, head revision of the shipped code)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    with engine.connect() as conn:
        head = ScriptDirectory.from_config(_alembic_config(conn)).get_current_head()
        current = MigrationContext.configure(conn).get_current_revision()
    return current, head
