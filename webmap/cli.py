"""The ``yzmap`` command line: one group, with commands discovered in ``webmap.commands``."""

from __future__ import annotations

import atexit
import gc
import importlib
import pkgutil

import click

from webmap import commands as _commands_pkg
from webmap.commands import zh

zh.install()


class Group(click.Group):
    """The ``yzmap`` group: an operating-system error ends a command with a Chinese message."""

    def invoke(self, ctx: click.Context):
        """Run the command; a file-system failure (no permission, full disk) becomes one line."""
        try:
            return super().invoke(ctx)
        except OSError as exc:
            raise click.ClickException(zh.os_error_message(exc)) from exc


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """yzmap：永州市生态环境督察整改问题台账与地图。"""


def _register_commands() -> None:
    """Add every click command listed in ``COMMANDS`` of each ``webmap.commands`` module."""
    for mod in pkgutil.iter_modules(_commands_pkg.__path__):
        module = importlib.import_module(f"{_commands_pkg.__name__}.{mod.name}")
        for command in getattr(module, "COMMANDS", ()):
            main.add_command(command)


_register_commands()


def run() -> None:
    """The ``yzmap`` console script: the command group, then a quick exit."""
    # At exit CPython walks every object left (pandas, shapely, the layers: about a million) in
    # one last collection, ~0.1 s of a 1.5 s ``yzmap locate``; the process is ending, so what
    # it would free does not matter, and frozen objects are skipped. Registered here, not in
    # ``main``, so callers that run ``main`` in their own process (tests, a notebook) keep it.
    atexit.register(gc.freeze)
    main()
