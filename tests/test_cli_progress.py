"""#19: every command that can run past 2 s has ``--quiet`` and the shared progress bar."""

from __future__ import annotations

import io

import pytest

from webmap.cli import main
from webmap.commands.progress import progress

LONG = ("init", "brief", "import-ledger", "export-ledger", "overlap", "locate", "snapshot",
        "boundaries import", "remind", "backup", "restore")  # fmt: skip


class _Terminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        """Claim to be a terminal, as stderr is in an interactive shell."""
        return True


@pytest.mark.parametrize("path", LONG)
def test_long_commands_take_quiet(path):
    """Each long command has ``--quiet``/``-q`` (no bar; the bar is also off when piped)."""
    command = main
    for name in path.split():
        command = command.commands[name]
    options = {o for p in command.params for o in p.opts}
    assert {"--quiet", "-q"} <= options


def test_bar_draws_on_a_terminal_and_not_when_quiet():
    """The helper draws on a terminal, and stays silent with ``quiet`` or a plain stream."""
    shown, quiet, piped = _Terminal(), _Terminal(), io.StringIO()
    for stream, flag in ((shown, False), (quiet, True), (piped, False)):
        with progress(flag, stream=stream) as step:
            step("定位中", 1, 2)
            step("定位中", 2, 2)
    assert "定位中" in shown.getvalue()
    assert quiet.getvalue() == "" and piped.getvalue() == ""
