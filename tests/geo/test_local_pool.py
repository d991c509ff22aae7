"""Forked local processes for bulk jobs (``geo.local_pool``): order, shared data, errors."""

from __future__ import annotations

import multiprocessing
import os
import time

import pytest

from geo.errors import GeoError
from geo.local_pool import can_fork, default_processes, run_forked

pytestmark = pytest.mark.skipif(not can_fork(), reason="the platform does not fork")


def _square_plus(task, shared):
    """A task: the square of ``task`` plus the shared offset, and which process ran it."""
    time.sleep(0.002 * (task % 3))  # uneven tasks finish out of order
    return task * task + shared["offset"], os.getpid()


def _fail_on_five(task, shared):
    """A task that stops on 5 with a message naming the row."""
    if task == 5:
        raise GeoError(f"第 {task} 行：坐标无法识别")
    return task


def test_results_come_in_task_order_from_several_processes():
    results = list(run_forked(_square_plus, range(40), {"offset": 7}, processes=2))
    assert [r for r, _ in results] == [i * i + 7 for i in range(40)]
    pids = {pid for _, pid in results}
    assert os.getpid() not in pids and len(pids) == 2


def test_a_task_error_reaches_the_caller_and_no_child_is_left():
    seen = []
    with pytest.raises(GeoError, match="第 5 行"):
        for result in run_forked(_fail_on_five, range(100), None, processes=2):
            seen.append(result)
    assert seen == [0, 1, 2, 3, 4]
    assert not multiprocessing.active_children()


def test_stopping_early_closes_the_pool():
    results = run_forked(_square_plus, iter(range(10_000)), {"offset": 0}, processes=2)
    assert next(results)[0] == 0
    results.close()
    assert not multiprocessing.active_children()


def test_default_is_the_usable_cores_at_most_four():
    assert 1 <= default_processes() <= min(4, len(os.sched_getaffinity(0)))


def test_a_single_task_runs_here():
    [(value, pid)] = run_forked(_square_plus, [3], {"offset": 1}, processes=2)
    assert value == 10 and pid == os.getpid()
