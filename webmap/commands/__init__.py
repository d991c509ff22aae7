"""CLI commands; each module exposes ``COMMANDS``, a list of click commands or groups.

Modules keep heavy imports inside the command functions so ``yzmap --help`` stays fast.
"""

from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def app_context():
    """Yield a configured app inside its application context, for commands that need one."""
    from webmap import create_app

    app = create_app()
    try:
        with app.app_context():
            yield app
    finally:
        # a command is a whole process: close pooled connections so none outlive it
        engine = app.extensions.get("db", {}).get("engine")
        if engine is not None:
            engine.dispose()
