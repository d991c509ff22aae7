"""The request's handle on the ledger: its database session, ``LedgerContext`` and layers.

The app keeps one engine (``DATABASE_URL``); each request opens at most one session, closed at
app-context teardown. ``ledger_context()`` turns the app's settings into the explicit
``LedgerContext`` the domain code takes (day, amber and 公示 periods, boundary layers in use), so
a page, an API call and a command all judge the same issue the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from geo.boundaries import LayerSet
from webmap.ledger.boundaries import layers_in_use
from webmap.ledger.context import LedgerContext
from webmap.ledger.db import make_engine, transaction, writer_engine

WRITING_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def init_app(app: Flask) -> None:
    """Register the engine holder, a fresh context per request, and session teardown."""
    app.extensions["db"] = {"engine": None, "sessionmaker": None, "writer": None}
    # g outlives a request when a caller (a test, a command) holds the app context
    app.before_request(layers_changed)
    app.teardown_appcontext(close_session)


def get_engine(app: Flask | None = None) -> Engine:
    """Return the app's engine, creating it on first use."""
    app = app or current_app
    holder = app.extensions["db"]
    if holder["engine"] is None:
        holder["engine"] = make_engine(app.config["DATABASE_URL"])
        holder["sessionmaker"] = sessionmaker(holder["engine"], expire_on_commit=False)
        holder["writer"] = sessionmaker(writer_engine(holder["engine"]), expire_on_commit=False)
    return holder["engine"]


def make_session(app: Flask | None = None, *, writer: bool = False) -> Session:
    """Return a new session bound to the app's engine (the caller closes it).

    ``writer`` sessions take SQLite's write lock when their transaction begins, so a request
    that reads and then writes queues for the lock instead of failing (``writer_engine``).
    """
    app = app or current_app
    get_engine(app)
    return app.extensions["db"]["writer" if writer else "sessionmaker"]()


def get_session() -> Session:
    """Return the session of the current app context, opening it on first use."""
    if "db_session" not in g:
        writing = has_request_context() and request.method in WRITING_METHODS
        g.db_session = make_session(writer=writing)
    return g.db_session


def close_session(exc: BaseException | None = None) -> None:
    """Close the app context's session, rolling back anything not committed."""
    session = g.pop("db_session", None)
    g.pop("ledger_context", None)
    if session is not None:
        session.close()


@contextmanager
def session_scope(app: Flask) -> Iterator[Session]:
    """Yield a session of the app's database, committed at the end or rolled back, then closed."""
    session = make_session(app, writer=True)
    try:
        with transaction(session):
            yield session
    finally:
        session.close()


def ledger_context() -> LedgerContext:
    """Return this app context's ``LedgerContext`` (built once, layers loaded on first use)."""
    if "ledger_context" not in g:
        config = current_app.config
        session = get_session()
        g.ledger_context = LedgerContext.from_settings(
            config, load_layers=lambda: layers_in_use(session, config["BOUNDARIES_DIR"])
        )
    return g.ledger_context


def get_layers() -> LayerSet:
    """Return the boundary layers in use (shipped, overlaid by the active imported versions)."""
    return ledger_context().layers


def layers_changed() -> None:
    """Forget the context built so far (after an import or activation; before each request)."""
    g.pop("ledger_context", None)


def today() -> date:
    """Return the day deadlines are judged against (``TODAY`` in config pins it for tests)."""
    return ledger_context().today
