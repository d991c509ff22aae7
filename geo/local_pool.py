"""Run the tasks of a bulk job on this machine's cores, results in task order.

A Dask cluster (``geo.parallel`` with ``workers``/``scheduler``) takes seconds to start and ships
the boundary layers to every worker, which pays off on millions of rows but not on a file a
user locates in two seconds. Without a cluster, a bulk command forks a few processes with
``concurrent.futures`` (the standard library's pool): a forked child starts in milliseconds and
already holds the layers and their built indexes (copy-on-write), so only the small task
descriptions go out and the encoded results come back.

Forking is what makes this cheap, so it is used only where the platform forks (Linux; not
Windows, and not macOS, where forking a process that has loaded system frameworks is unsafe);
elsewhere, or with one core, the tasks run in this process.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

__all__ = ["MAX_DEFAULT_PROCESSES", "can_fork", "default_processes", "in_order", "run_forked"]

MAX_DEFAULT_PROCESSES = 4  # beyond this a bulk job is memory- or disk-bound on a desktop
TASKS_PER_PROCESS = 2  # outstanding tasks per process: keeps them busy, memory bounded

_shared: Any = None  # the job's shared data, inherited by the forked children


def can_fork() -> bool:
    """True where child processes can be forked safely (Linux and other non-macOS Unix)."""
    return sys.platform != "darwin" and "fork" in multiprocessing.get_all_start_methods()


def default_processes() -> int:
    """Processes a bulk job uses by default: the cores this process may run on, at most 4."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_PROCESSES)) if can_fork() else 1


def run_forked(func: Callable[[Any, Any], Any], tasks: Iterable, shared: Any,
               processes: int) -> Iterator[Any]:
    """Yield ``func(task, shared)`` for every task, in task order, computed by forked children
    (a single task runs here).

    At most ``TASKS_PER_PROCESS`` tasks per process are outstanding, so a huge input is never
    read ahead of the results. A task's exception is raised here, for that task, and the
    pool is shut down (children that are still computing finish their task first).
    """
    tasks = iter(tasks)
    first = list(itertools.islice(tasks, 2))
    if len(first) < 2:  # one task (a small file): forking would only add its cost
        for task in first:
            yield func(task, shared)
        return
    tasks = itertools.chain(first, tasks)
    global _shared
    _shared = shared  # set before the fork: every child starts with it
    limit = TASKS_PER_PROCESS * processes
    pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"),
                               initializer=_ignore_interrupts)
    try:
        yield from in_order(lambda task: pool.submit(_call, func, task), tasks, limit, deque())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        _shared = None


def in_order(submit: Callable[[Any], Any], tasks: Iterable, limit: int,
             pending: deque) -> Iterator[Any]:  # fmt: skip
    """Yield the results of ``submit(task)`` futures in task order, at most ``limit`` outstanding.

    ``pending`` holds the outstanding futures (a caller that stops early cancels them); any
    future with ``result()`` will do: the standard library's here, Dask's in ``geo.parallel``.
    """
    for task in tasks:
        pending.append(submit(task))
        if len(pending) >= limit:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _ignore_interrupts() -> None:
    """In a child: leave Ctrl-C to the parent, which stops the pool (no traceback per child)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _call(func: Callable[[Any, Any], Any], task: Any) -> Any:
    """In a child: run one task with the shared data inherited from the parent."""
    return func(task, _shared)
