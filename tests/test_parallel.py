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
from geo.dask_shared import SharedData, dumps_shared
from geo.lookup import attribute_points, warm_indexes
from geo.parallel import SchedulerUnreachable, run_ordered
from geo.part_files import PartFolder, file_stamp, sees_file, sees_folder, take_part, write_part
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


def test_scheduler_never_imports_the_tasks_module(cluster):
    """Function and tasks reach the scheduler pickled: it runs them without importing this module
    (which it could: the cluster has the checkout on its path)."""
    with run_ordered(scaled, range(6), shared=Probe(os.devnull, 1),
                     scheduler=cluster.scheduler.address) as results:
        assert [value for value, _ in results] == list(range(6))
    imported = cluster.run_on_scheduler(eval, f"{__name__!r} in __import__('sys').modules")
    assert imported is False


def test_asking_every_worker(cluster, tmp_path):
    """``on_every_worker`` answers once per worker on a cluster, once here without one."""
    src = tmp_path / "seen.txt"
    src.write_text("x", encoding="ascii")
    with run_ordered(slow, [], scheduler=cluster.scheduler.address) as run:
        assert run.on_every_worker(sees_file, str(src), file_stamp(src)) == [True, True]
        assert run.on_every_worker(sees_file, str(src), (2, 0)) == [False, False]
    assert run.client is None
    assert run_ordered(slow, []).on_every_worker(os.getpid) == [os.getpid()]


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


def test_shipped_layers_arrive_usable():
    """The layers as the plugin ships them (geometry arrays in bulk WKB) answer identically."""
    from distributed.protocol.pickle import dumps

    layers = warm_indexes(load_shipped())
    copy = pickle.loads(dumps(SharedData(layers))).value
    assert shapely.is_prepared(copy.counties.cache["grid"].geoms).all()
    rng = np.random.default_rng(16)
    lon, lat = rng.uniform(110.9, 112.6, 20_000), rng.uniform(24.5, 27.0, 20_000)
    want, got = attribute_points(layers, lon, lat), attribute_points(copy, lon, lat)
    for name in want.__dataclass_fields__:
        assert np.array_equal(getattr(want, name), getattr(got, name), equal_nan=True), name


def test_bulk_geometry_pickling_keeps_every_array():
    """Geometry arrays (any shape) come back equal; other arrays and objects as pickle gives."""
    points = shapely.points(np.arange(6.0), np.arange(6.0)).reshape(2, 3)
    mixed = np.array([shapely.Point(1, 2), None, "text"], dtype=object)
    value = {"points": points, "mixed": mixed, "numbers": np.arange(5), "empty":
             np.array([], dtype=object), "polygon": shapely.box(0, 0, 1, 1)}
    copy = pickle.loads(dumps_shared(value))
    assert copy["points"].shape == (2, 3) and shapely.equals(copy["points"], points).all()
    assert copy["mixed"][0] == mixed[0] and copy["mixed"][1:].tolist() == [None, "text"]
    assert copy["numbers"].tolist() == [0, 1, 2, 3, 4] and copy["empty"].shape == (0,)
    assert copy["polygon"].equals(value["polygon"])


def test_part_folder_holds_parts_until_the_run_ends(tmp_path):
    """A worker that reads the folder's token writes parts there; other tokens, no folder."""
    out = tmp_path / "out.csv"
    with PartFolder(out) as folder:
        assert folder.path.parent == tmp_path and folder.path.name.startswith(".out.csv.parts-")
        assert sees_folder(folder.spec)
        assert not sees_folder((folder.spec[0], "another token"))
        assert write_part((folder.spec[0], "another token"), b"rows") is None
        assert write_part(None, b"rows") is None
        first, second = write_part(folder.spec, b"a,1\n"), write_part(folder.spec, b"b,2\n")
        assert Path(first).parent == folder.path and first != second
        assert take_part(first) == b"a,1\n" and not Path(first).exists()
    assert list(tmp_path.iterdir()) == []  # the folder went, with the part nobody took


def test_part_folder_removed_while_a_task_still_writes(tmp_path):
    """A cancelled task writing after the folder went gets an error and leaves nothing behind.

    Bounded on purpose: the task writes a fixed number of small parts, never "until it fails".
    """
    folder = PartFolder(tmp_path / "out.csv").__enter__()
    spec = folder.spec
    assert write_part(spec, b"x" * 100) is not None  # the task saw the folder: it is cached
    folder.remove()
    for _ in range(3):
        with pytest.raises(OSError):
            write_part(spec, b"x" * 100)
    assert list(tmp_path.iterdir()) == []
