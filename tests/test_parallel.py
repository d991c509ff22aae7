"""``geo.parallel.run_ordered`` here, on local worker processes and on a real Dask cluster.

The cluster is started as a user would start one: ``dask scheduler`` and two ``dask worker``
processes on 127.0.0.1, each worker in a directory of its own (not this checkout).
"""

from __future__ import annotations

import os
import pickle
import random
import socket
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import shapely

from geo.boundaries import load_shipped
from geo.lookup import attribute_points, warm_indexes
from geo.parallel import SchedulerUnreachable, run_ordered
from tests.dask_cluster import cli_cluster, scheduler_idle

# the scheduler and workers import geo from the venv, but this module only from the checkout
# (as a user's own module must be importable on the cluster: PYTHONPATH or installed)
CHECKOUT = Path(__file__).resolve().parents[1]


class Probe:
    """Shared data that appends the pid of every process that unpickles it to a file."""

    def __init__(self, log: str, factor: int) -> None:
        """Keep the log path and the factor tasks multiply by."""
        self.log, self.factor = log, factor

    def __setstate__(self, state: dict) -> None:
        """Record this deserialisation."""
        self.__dict__.update(state)
        with open(self.log, "a", encoding="utf-8") as fh:
            fh.write(f"{os.getpid()}\n")


def scaled(task: int, shared: Probe) -> tuple[int, int]:
    """The task times the shared factor, after a random pause (so completions come unordered)."""
    time.sleep(random.random() * 0.02)
    return task * shared.factor, os.getpid()


def fail_on_three(task: int, shared) -> int:
    """Raise on task 3."""
    if task == 3:
        raise ValueError(f"任务 {task} 的数据无效")
    return task


def slow(task: int, shared) -> int:
    """Take a tenth of a second."""
    time.sleep(0.1)
    return task


def total(task: np.ndarray, shared) -> float:
    """Sum of an array task."""
    return float(task.sum())


def _deserialised(log) -> list[int]:
    """Pids recorded by ``Probe.__setstate__``."""
    return [int(x) for x in log.read_text().split()] if log.exists() else []


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scheduler and two workers started with the ``dask`` command line; yields a client."""
    assert sys.modules[scaled.__module__].__file__ == __file__  # importable by that name
    with cli_cluster(tmp_path_factory.mktemp("dask"), n_workers=2, pythonpath=CHECKOUT) as client:
        yield client


def test_serial_run_keeps_order_without_pickling(tmp_path):
    """Neither workers nor scheduler: results in order, shared passed as is (never pickled)."""
    log = tmp_path / "unpickled.txt"
    with run_ordered(scaled, range(20), shared=Probe(str(log), 3)) as results:
        got = list(results)
    assert [value for value, _ in got] == [3 * i for i in range(20)]
    assert {pid for _, pid in got} == {os.getpid()} and _deserialised(log) == []


def test_cluster_keeps_order_and_ships_shared_once(cluster, tmp_path):
    """60 tasks on the two workers: task order kept, shared unpickled once per worker process."""
    log = tmp_path / "unpickled.txt"
    with run_ordered(scaled, range(60), shared=Probe(str(log), 7),
                     scheduler=cluster.scheduler.address) as results:
        got = list(results)
    assert [value for value, _ in got] == [7 * i for i in range(60)]
    used = {pid for _, pid in got}
    assert len(used) == 2 and os.getpid() not in used
    assert sorted(_deserialised(log)) == sorted(used)


def test_task_error_surfaces_and_run_closes(cluster):
    """A task's exception reaches the caller with its type and message; the client is closed."""
    run = run_ordered(fail_on_three, range(10), scheduler=cluster.scheduler.address)
    got = []
    with pytest.raises(ValueError, match="任务 3 的数据无效"):
        for value in run:
            got.append(value)
    assert got == [0, 1, 2] and run.client is None
    assert scheduler_idle(cluster)


def test_early_stop_closes_and_bounds_submission(cluster):
    """Leaving the loop early cancels the rest; no more than ``in_flight`` tasks were taken."""
    taken = []

    def tasks():
        """Count the tasks the run pulls from the input."""
        for i in range(1000):
            taken.append(i)
            yield i

    with run_ordered(slow, tasks(), scheduler=cluster.scheduler.address, in_flight=4) as run:
        assert [next(run) for _ in range(3)] == [0, 1, 2]
        assert len(taken) <= 4 + 3
    assert run.client is None and scheduler_idle(cluster)
    dropped = run_ordered(slow, range(1000), scheduler=cluster.scheduler.address, in_flight=4)
    assert next(dropped) == 0
    del dropped  # a consumer that forgets to close: the run closes when dropped
    assert scheduler_idle(cluster)


def test_large_tasks_travel_as_data(cluster):
    """Chunks of 16 MB (frames read by the client) run without Dask's large-graph warning."""
    chunks = [np.full(2_000_000, float(i)) for i in range(3)]  # warnings are errors here
    with run_ordered(total, chunks, scheduler=cluster.scheduler.address) as results:
        assert list(results) == [0.0, 2_000_000.0, 4_000_000.0]
    assert scheduler_idle(cluster)


def test_unreachable_scheduler_gives_clear_error():
    """Nothing listens on the port: a ``SchedulerUnreachable`` naming the address."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    with pytest.raises(SchedulerUnreachable, match=f"无法连接 Dask 调度器 {address}："):
        next(run_ordered(slow, [1], scheduler=address, timeout=1))


def test_local_worker_processes(tmp_path, monkeypatch):
    """``workers=2`` starts two processes for the run: order kept, shared unpickled twice."""
    monkeypatch.syspath_prepend(str(CHECKOUT))  # spawned workers copy sys.path to import us
    log = tmp_path / "unpickled.txt"
    with run_ordered(scaled, range(40), shared=Probe(str(log), 2), workers=2) as results:
        got = list(results)
    assert [value for value, _ in got] == [2 * i for i in range(40)]
    used = {pid for _, pid in got}
    assert len(used) == 2 and sorted(_deserialised(log)) == sorted(used)


def test_bad_arguments():
    """Workers and scheduler together, or zero workers, are refused before anything starts."""
    with pytest.raises(ValueError, match="not both"):
        run_ordered(slow, [1], workers=2, scheduler="tcp://127.0.0.1:8786")
    with pytest.raises(ValueError, match="at least 1"):
        run_ordered(slow, [1], workers=0)


def test_warmed_layers_pickle_usable_and_small():
    """The shipped layers arrive with every index built and prepared, answering identically."""
    layers = warm_indexes(load_shipped())
    data = pickle.dumps(layers, protocol=5)
    assert len(data) < 12_000_000  # 7.3 MB for the shipped layers (the grid is most of it)
    copy = pickle.loads(data)
    grid = copy.counties.cache["grid"]
    assert shapely.is_prepared(grid.geoms).all()
    assert {"grid", "segments", "metric", "metric_tree"} <= set(copy.counties.cache)
    assert "overlap" in copy.protected_areas.cache
    rng = np.random.default_rng(15)
    lon, lat = rng.uniform(110.9, 112.6, 20_000), rng.uniform(24.5, 27.0, 20_000)
    want, got = attribute_points(layers, lon, lat), attribute_points(copy, lon, lat)
    for name in want.__dataclass_fields__:
        assert np.array_equal(getattr(want, name), getattr(got, name), equal_nan=True), name
    assert np.array_equal(grid.state, layers.counties.cache["grid"].state)
