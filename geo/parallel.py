"""Run partitions of a bulk job in order: in this process, on local worker processes, or on a
Dask distributed cluster.

The engine is Dask's ``distributed`` (a scheduler plus workers), not a home-made pool:
``workers=N`` starts a ``LocalCluster`` of N single-threaded processes for the run, and
``scheduler="tcp://host:port"`` connects to a cluster a user started with ``dask scheduler`` and
``dask worker``. Either way the results come back in the order of the tasks.

``shared`` (the boundary layers with their indexes) reaches each worker once per run, as a
worker plugin removed when the run closes; at most ``in_flight`` tasks are outstanding, and a
task bigger than 1 MiB (a chunk read here) is scattered to a worker as data.

Dask is imported only when a run uses it, so a command run in this process does not pay for it.
Without a cluster, ``processes=N`` forks N processes of this machine (``geo.local_pool``, the
standard library's pool): they start in milliseconds with the shared data already in memory,
which suits the files a user locates in seconds; a Dask cluster suits millions of rows.

A task whose result is large can hand it over as a file instead (``geo.part_files``);
``OrderedRun.on_every_worker`` asks the workers, before the tasks are made, whether they see
this machine's files.

Functions are sent to workers by reference (module and name), so they must be importable there:
the ``geo`` functions are, in the environment where yzmap is installed (``pip install -e .`` or
the wheel), whatever directory the worker was started in.
"""

from __future__ import annotations

import logging
import pickle
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache, partial
from typing import Any

from geo.errors import GeoError
from geo.local_pool import can_fork, in_order, run_forked

__all__ = ["OrderedRun", "SchedulerUnreachable", "run_ordered"]

TASKS_PER_WORKER = 4  # outstanding tasks per worker thread: keeps workers busy, memory bounded
INLINE_TASK_BYTES = 1 << 20  # larger tasks are scattered as data instead of sent in the graph


class SchedulerUnreachable(GeoError):
    """The Dask scheduler at the given address did not answer."""

    def __init__(self, address: str, reason: str) -> None:
        """Keep the address and the cause for the message."""
        super().__init__(f"无法连接 Dask 调度器 {address}：{reason}")
        self.address = address
        self.reason = reason


def _with_shared(func: Callable[[Any, Any], Any], name: str | None, task: Any) -> Any:
    """On a worker: call ``func`` with the task and the shared data of plugin ``name`` (or None)."""
    from distributed import get_worker

    return func(task, None if name is None else get_worker().plugins[name].value)


def _run_pickled(func: bytes, task: Any, task_pickled: bool) -> Any:
    """On a worker: unpickle the function (``_with_shared`` bound to the job's) and the task
    (unless it came as scattered data), then run it.

    The scheduler unpickles every task it is sent: pickled here, the job's function and task
    reach it as opaque bytes, so it never imports the job's modules (pandas, shapely ... about
    0.4 s of a fresh scheduler's CPU before the first task could start) nor needs them installed.
    """
    return _loaded(func)(pickle.loads(task) if task_pickled else task)


@lru_cache(maxsize=8)
def _loaded(func: bytes) -> Callable[[Any], Any]:
    """The function pickled in ``func``, unpickled once per worker process."""
    return pickle.loads(func)


class OrderedRun:
    """Iterator over ``func(task, shared)`` in task order; a context manager that closes the run.

    The cluster (or the connection) is opened on the first ``next()`` and closed when the tasks
    are exhausted, when a task raises, on ``close()``, on leaving the ``with`` block or when the
    run is garbage-collected, so a consumer that stops early leaks no processes.
    """

    def __init__(self, func: Callable[[Any, Any], Any], tasks: Iterable, *, shared: Any = None,
                 workers: int | None = None, scheduler: str | None = None,
                 in_flight: int | None = None, timeout: float | None = None,
                 processes: int | None = None) -> None:
        """Remember the job; nothing starts until the first result is asked for.

        ``processes`` (without ``workers`` or ``scheduler``): run the tasks on that many forked
        processes of this machine (``geo.local_pool``) rather than here, one after another.

        ``timeout`` (seconds) bounds the wait for the scheduler; None takes Dask's setting
        ``distributed.comm.timeouts.connect`` (30 s; the environment variable
        ``DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=5s`` changes it).
        """
        if workers is not None and scheduler is not None:
            raise ValueError("give workers or scheduler, not both")
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        if in_flight is not None and in_flight < 1:
            raise ValueError(f"in_flight must be at least 1, got {in_flight}")
        self.func, self.tasks, self.shared = func, tasks, shared
        self.workers, self.scheduler = workers, scheduler
        self.processes = processes if processes and processes > 1 and can_fork() else None
        self.in_flight, self.timeout = in_flight, timeout
        self.client = self.cluster = None
        self._results: Iterator[Any] | None = None
        self._pending: deque = deque()
        self._plugin: str | None = None
        self._closed = False

    @property
    def distributed(self) -> bool:
        """True when the tasks run on Dask workers rather than in this process."""
        return self.workers is not None or self.scheduler is not None

    # -- iteration ------------------------------------------------------------------------------

    def __iter__(self) -> OrderedRun:
        """The run is its own iterator (it can be consumed once)."""
        return self

    def __next__(self) -> Any:
        """Return the next result in task order; close everything on the last one or an error."""
        if self._closed:
            raise StopIteration
        try:
            if self._results is None:
                if self.distributed:
                    self._results = self._distributed()
                elif self.processes:
                    self._results = run_forked(self.func, self.tasks, self.shared,
                                               self.processes)
                else:
                    self._results = _serial(self.func, self.tasks, self.shared)
            return next(self._results)
        except BaseException:  # StopIteration included: the run is over either way
            self.close()
            raise

    def start(self) -> OrderedRun:
        """Start the local cluster or connect to the scheduler now (the first result would).

        Lets the caller ask the workers something (``on_every_worker``) before the tasks are
        made; closes the run if connecting fails.
        """
        if self.distributed and self.client is None and not self._closed:
            try:
                self._connect()
            except BaseException:
                self.close()
                raise
        return self

    def on_every_worker(self, func: Callable[..., Any], *args: Any) -> list:
        """``func(*args)`` on every worker of the cluster (here, once, without a cluster).

        For quick questions (does the worker see a file?); ``func`` must be importable there.
        """
        if not self.distributed:
            return [func(*args)]
        self.start()
        return list(self.client.run(func, *args).values())

    def _distributed(self) -> Iterator[Any]:
        """Connect, ship ``shared`` once and return the ordered results of the cluster."""
        from geo.dask_shared import SharedData

        client = self._connect() if self.client is None else self.client
        if self.shared is not None:
            name = f"yzmap-shared-{uuid.uuid4().hex}"
            client.register_plugin(SharedData(self.shared), name=name)
            self._plugin = name  # only once registered: close() unregisters it
        func = _dumps(partial(_with_shared, self.func, self._plugin))
        limit = self.in_flight or TASKS_PER_WORKER * max(_thread_count(client), 1)
        # a module-level generator: one holding ``self`` would keep the run alive in a cycle,
        # so a dropped run would not be closed until the garbage collector found it
        return _submit_in_order(client, func, self.tasks, limit, self._pending)

    def _connect(self):
        """Start a local cluster or connect to the scheduler; return the client."""
        from distributed import Client, LocalCluster

        if self.scheduler is not None:
            # no timeout given: Client falls back on Dask's configured connect timeout
            wait = {} if self.timeout is None else {"timeout": self.timeout}
            try:
                self.client = Client(self.scheduler, set_as_default=False, **wait)
            except (OSError, TimeoutError) as exc:
                raise SchedulerUnreachable(self.scheduler, _reason(exc)) from exc
            return self.client
        # threads_per_worker=1: the tasks are numpy/shapely code holding the GIL in places, so
        # processes, not threads, give the speed-up; no dashboard, worker logs kept to errors
        # the scheduler's HTTP server (health checks) would take port 8787 even without a
        # dashboard, and warn when that is taken; a free local port avoids both
        self.cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                    dashboard_address=None, silence_logs=logging.ERROR,
                                    scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
        self.client = Client(self.cluster, set_as_default=False)
        # the workers must be registered before the shared data is, or one may miss it
        self.client.wait_for_workers(self.workers)
        return self.client

    # -- closing --------------------------------------------------------------------------------

    def close(self) -> None:
        """Cancel outstanding tasks and close the client and any cluster this run started."""
        if self._closed:
            return
        self._closed = True
        results, self._results = self._results, None
        if results is not None:
            results.close()
        client, cluster, self.client, self.cluster = self.client, self.cluster, None, None
        pending, plugin, self._plugin = list(self._pending), self._plugin, None
        self._pending.clear()
        try:
            if client is not None:
                _tidy_scheduler(client, pending, plugin)
        finally:
            if client is not None:
                client.close()
            if cluster is not None:
                cluster.close()

    def __enter__(self) -> OrderedRun:
        """Use the run in a ``with`` block so it is closed however the block ends."""
        return self

    def __exit__(self, *exc_info) -> None:
        """Close the run."""
        self.close()

    def __del__(self) -> None:
        """Close a run its consumer dropped without closing."""
        if not getattr(self, "_closed", True):
            try:
                self.close()
            except Exception:  # noqa: BLE001 - interpreter shutdown may have torn down the loop
                pass


def run_ordered(func: Callable[[Any, Any], Any], tasks: Iterable, *, shared: Any = None,
                workers: int | None = None, scheduler: str | None = None,
                in_flight: int | None = None, timeout: float | None = None,
                processes: int | None = None) -> OrderedRun:
    """Yield ``func(task, shared)`` for every task, in the tasks' order.

    ``workers`` N runs the tasks on N local Dask worker processes, ``scheduler``
    ("tcp://host:port") on that Dask cluster; neither runs them on ``processes`` forked
    processes of this machine (``geo.local_pool``, where the platform forks), else here.
    ``shared`` (e.g. the boundary layers with their built indexes) is sent to each worker once,
    not with every task; at most ``in_flight`` tasks are outstanding, so memory stays bounded
    on inputs larger than RAM.
    A task's exception is raised here with its message; ``timeout`` bounds the wait for the
    scheduler (see ``OrderedRun``). Use the result in a ``with`` block (or
    exhaust it) so the cluster is closed as soon as the consumer is done.

    Examples
    --------
    >>> with run_ordered(pow, [1, 2, 3], shared=2) as results:
    ...     list(results)
    [1, 4, 9]
    """
    return OrderedRun(func, tasks, shared=shared, workers=workers, scheduler=scheduler,
                      in_flight=in_flight, timeout=timeout, processes=processes)


def _serial(func, tasks, shared) -> Iterator[Any]:
    """Run the tasks here, one after another."""
    for task in tasks:
        yield func(task, shared)


def _submit_in_order(client, func: bytes, tasks, limit: int, pending: deque) -> Iterator[Any]:
    """Submit tasks of the pickled ``func`` with at most ``limit`` outstanding (kept in
    ``pending``); yield the results in order."""
    from dask.sizeof import sizeof

    def submit(task):
        """Send one task: pickled inside the graph, or scattered when it is big."""
        if sizeof(task) > INLINE_TASK_BYTES:
            # a chunk read here (a frame) travels as data, straight to a worker, rather than
            # inside the task graph the scheduler unpacks (Dask warns about graphs over 10 MB)
            [task], pickled = client.scatter([task], hash=False), False
        else:
            task, pickled = _dumps(task), True
        # pure=False: equal tasks (e.g. two empty chunks) are still separate tasks
        return client.submit(_run_pickled, func, task, pickled, pure=False)

    return in_order(submit, tasks, limit, pending)


def _dumps(value: Any) -> bytes:
    """Pickle ``value`` as Dask does (pickle, or cloudpickle for what pickle refuses: lambdas)."""
    from distributed.protocol.pickle import dumps

    return dumps(value)


def _tidy_scheduler(client, pending: list, plugin: str | None) -> None:
    """Cancel outstanding tasks and drop the run's plugin, best effort.

    Called while closing, often because something failed (a task, the connection): a second
    failure here must not hide the first, and the client is closed afterwards anyway.
    """
    try:
        if pending:
            client.cancel(pending)
        if plugin is not None:
            # the scheduler keeps a plugin for workers joining later: drop it with the run
            client.unregister_worker_plugin(plugin)
    except Exception as exc:  # noqa: BLE001 - see the docstring
        logging.getLogger(__name__).warning("could not tidy the Dask scheduler: %s", exc)


def _thread_count(client) -> int:
    """Total worker threads of the cluster the client is connected to."""
    return sum(client.nthreads().values())


def _reason(exc: BaseException) -> str:
    """A short Chinese cause for a failed connection (distributed's messages are long, English)."""
    text = (str(exc).strip() or type(exc).__name__).splitlines()[0][:200]
    if isinstance(exc, TimeoutError) or "Timed out" in text:
        return f"在连接时限内没有应答（{text}）"
    return text
