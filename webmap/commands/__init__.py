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
    with app.app_context():
        yield app
