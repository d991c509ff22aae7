"""Progress for long commands: a bar on a terminal, nothing when piped or with ``--quiet``.

``with progress(quiet) as step: step("阶段", done, total)`` draws one bar (rich) on stderr when
stderr is a terminal; ``summary(text)`` prints the one-line result every command ends with.
Domain functions take the ``step`` callback and never know whether anyone watches.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

QUIET_HELP = "不显示进度条（输出不是终端时也不显示）"


def quiet_option(command):
    """Add the ``--quiet`` option every long-running command shares."""
    return click.option("--quiet", "-q", is_flag=True, help=QUIET_HELP)(command)


def _silent(label: str, done: int = 0, total: int | None = None) -> None:
    """Ignore a progress report."""


@contextmanager
def progress(quiet: bool = False, stream=None) -> Iterator[Callable]:
    """Yield ``step(label, done, total)`` that drives a progress bar, or a no-op when silent."""
    stream = stream or sys.stderr
    if quiet or not stream.isatty():
        yield _silent
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), console=Console(file=stream), transient=True)  # fmt: skip
    tasks: dict[str, int] = {}

    def step(label: str, done: int = 0, total: int | None = None) -> None:
        """Move the bar of ``label`` to ``done`` of ``total`` (a new label starts a new bar)."""
        if label not in tasks:
            tasks[label] = bar.add_task(label, total=total)
        bar.update(tasks[label], completed=done, total=total)

    with bar:
        yield step


def summary(text: str) -> None:
    """Print a command's one-line summary."""
    click.echo(text)
