"""The ``yzmap`` command line: one group, with commands discovered in ``webmap.commands``."""

from __future__ import annotations

import importlib
import pkgutil

import click

from webmap import commands as _commands_pkg


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """yzmap: rectification issues of Yongzhou on a map."""


def _register_commands() -> None:
    """Add every click command listed in ``COMMANDS`` of each ``webmap.commands`` module."""
    for mod in pkgutil.iter_modules(_commands_pkg.__path__):
        module = importlib.import_module(f"{_commands_pkg.__name__}.{mod.name}")
        for command in getattr(module, "COMMANDS", ()):
            main.add_command(command)


_register_commands()
