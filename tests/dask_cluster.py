"""A Dask cluster started as the README tells a user to: ``dask scheduler`` and ``dask worker``.

Used by the cluster tests (``tests/test_parallel.py``, ``tests/test_dask_cluster.py``) and by
``bench/dask_scaling.py``: real processes on 127.0.0.1, each worker in its own directory, torn
down with their process groups.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

DASK = Path(sys.executable).with_name("dask")
START_TIMEOUT_S = 60


@contextmanager
def cli_cluster(folder: Path, n_workers: int = 2, pythonpath: Path | None = None,
                worker_options: tuple = ()):
    """Start ``dask scheduler`` and ``n_workers`` ``dask worker`` processes; yield a client.

    Everything listens on 127.0.0.1 only, with no dashboard; the processes are stopped (SIGTERM,
    then SIGKILL) on exit and their logs stay in ``folder``. ``pythonpath`` is added to the
    processes' PYTHONPATH (for test functions not installed in the venv); ``worker_options`` are
    added to each ``dask worker`` command line.
    """
    from distributed import Client

    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # only what the venv installs, unless asked
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    scheduler_file = folder / "scheduler.json"
    procs = [_start([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0",
                     "--no-dashboard", "--scheduler-file", scheduler_file],
                    folder, "scheduler", env)]  # fmt: skip
    client = None
    try:
        _wait_for(scheduler_file.exists, procs, "scheduler file")
        client = Client(scheduler_file=str(scheduler_file), set_as_default=False, timeout=30)
        for i in range(n_workers):
            home = folder / f"worker{i}"  # a directory of its own: nothing imported from here
            home.mkdir()
            procs.append(_start([DASK, "worker", client.scheduler.address, "--nthreads", "1",
                                 "--nworkers", "1", "--no-dashboard", "--host", "127.0.0.1",
                                 "--name", f"worker{i}", "--local-directory", home,
                                 *worker_options],
                                home, f"worker{i}", env))  # fmt: skip
        client.wait_for_workers(n_workers, timeout=START_TIMEOUT_S)
        yield client
    finally:
        if client is not None:
            client.close()
        _stop(reversed(procs))


def _start(argv, cwd: Path, name: str, env: dict) -> subprocess.Popen:
    """Start one dask process in ``cwd`` with its output in ``cwd/<name>.log``."""
    log = open(cwd / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process in _stop
    proc = subprocess.Popen([str(a) for a in argv], cwd=cwd, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    proc.log = log
    return proc


def _wait_for(ready, procs, what: str) -> None:
    """Poll ``ready()`` until true; fail with the logs if a process died or it took too long."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while not ready():
        dead = [p for p in procs if p.poll() is not None]
        if dead or time.monotonic() > deadline:
            logs = "\n".join(Path(p.log.name).read_text(errors="replace")[-2000:] for p in procs)
            raise RuntimeError(f"dask cluster did not start ({what}):\n{logs}")
        time.sleep(0.1)


def _stop(procs) -> None:
    """Terminate each process group (the worker's nanny and its worker), then reap it."""
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        proc.log.close()


def scheduler_idle(client, timeout: float = 15) -> bool:
    """True once the scheduler holds no tasks and no client but ``client`` (polled)."""

    def state(dask_scheduler):
        """Tasks held and other clients connected, read on the scheduler."""
        others = set(dask_scheduler.clients) - {"fire-and-forget", client_id}
        return len(dask_scheduler.tasks), len(others)

    client_id = client.id
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.run_on_scheduler(state) == (0, 0):
            return True
        time.sleep(0.1)
    return False
