"""CLI commands; each module exposes ``COMMANDS``, a list of click commands or groups.

Commands read the same settings as the web app (``webmap.config.load_config``) and work on the
ledger through ``open_ledger``: a database session and the ``LedgerContext`` (day, periods,
boundary layers in use) a request would get, without Flask. Modules keep heavy imports inside
the command functions so ``yzmap --help`` stays fast.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import click


@dataclass
class Ledger:
    """What a command works with: the settings, a session (None: no database yet), the context."""

    config: dict
    session: object | None
    ctx: object

    @property
    def layers(self):
        """Return the boundary layers in use (shipped, overlaid by the active imported versions)."""
        return self.ctx.layers


@contextmanager
def open_ledger(*, require_schema: bool = True, create: bool = True) -> Iterator[Ledger]:
    """Open the configured database and yield a ``Ledger``; close everything afterwards.

    ``require_schema`` stops with a hint when ``yzmap init`` has not been run; ``create=False``
    leaves a missing SQLite file uncreated (the ledger then has no session, and the shipped
    layers are the ones in use).
    """
    from webmap.config import load_config, sqlite_missing
    from webmap.ledger.context import LedgerContext

    config = load_config()
    url = config["DATABASE_URL"]
    if not create and sqlite_missing(url):
        # no database yet: the shipped layers are in use, and SQLAlchemy (a third of a second
        # to import) is not needed, which matters to one-shot commands such as yzmap locate
        from geo.boundaries import shipped_layers

        ctx = LedgerContext.from_settings(
            config, load_layers=lambda: shipped_layers(config["BOUNDARIES_DIR"]))
        yield Ledger(config, None, ctx)
        return
    from sqlalchemy.orm import Session

    from webmap.ledger.boundaries import layers_in_use
    from webmap.ledger.db import make_engine, schema_status

    engine = make_engine(url)
    session = Session(engine, expire_on_commit=False)
    try:
        if require_schema:
            current, head = schema_status(engine)
            if current != head:
                raise click.ClickException(
                    f"数据库未初始化或版本过旧（{current} → {head}），请先运行 yzmap init"
                )
        ctx = LedgerContext.from_settings(
            config, load_layers=lambda: layers_in_use(session, config["BOUNDARIES_DIR"])
        )
        yield Ledger(config, session, ctx)
    finally:
        # a command is a whole process: close pooled connections so none outlive it
        session.close()
        engine.dispose()


def version_line(layers) -> str:
    """Return the boundary layer versions a command used, for its summary line."""
    return "边界图层：" + "，".join(f"{k} {v}" for k, v in layers.versions().items())


def cli_actor() -> str:
    """Return who runs a command, for the event log (``cli:`` + the OS user)."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no passwd entry (containers): still name the channel
        return "cli"
