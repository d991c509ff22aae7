"""``--workers N`` and ``--scheduler ADDRESS``: the options bulk commands share to run on Dask.

``@cluster_options`` adds both options; ``run_options(workers, scheduler)`` checks them and
returns the keyword arguments of ``geo.parallel.run_ordered``; ``cluster_errors()`` turns a
cluster failure into a one-line Chinese error. Start a cluster for ``--scheduler`` with
``dask scheduler`` and one ``dask worker tcp://HOST:8786`` per machine (see the README).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

import click

WORKERS_HELP = ("在本机启动 N 个工作进程并行处理（``Dask LocalCluster``）；"
                "结果与单进程相同，行序不变。")
SCHEDULER_HELP = ("在已启动的 ``Dask`` 集群上运行，ADDRESS 为调度器地址，如 "
                  "``tcp://127.0.0.1:8786``（先用 ``dask scheduler`` 和 ``dask worker`` "
                  "启动集群）；与 --workers 不能同时使用。")
PROCESSES_HELP = ("未用 --workers 或 --scheduler 时，本机并行的进程数（默认：可用的 CPU 核数，"
                  "最多 4；1 为只用本进程）；结果与单进程相同，行序不变。")
# the transports distributed speaks; a bare "host:port" means tcp
_ADDRESS = re.compile(r"^(?:(tcp|tls|ws|wss)://)?(\[[0-9a-fA-F:]+\]|[\w.-]+):(\d{1,5})$")
# loggers that would otherwise print worker and connection chatter on the user's terminal
_DASK_LOGGERS = ("distributed", "dask", "tornado")


def cluster_options(command):
    """Add ``--workers N`` and ``--scheduler ADDRESS`` (mutually exclusive) and ``--processes N``
    (forked processes of this machine when neither is given) to a command."""
    command = click.option("--processes", type=click.IntRange(min=1), metavar="N",
                           help=PROCESSES_HELP)(command)
    command = click.option("--scheduler", metavar="ADDRESS", callback=_check_address,
                           help=SCHEDULER_HELP)(command)
    return click.option("--workers", type=click.IntRange(min=1), metavar="N",
                        help=WORKERS_HELP)(command)


def _check_address(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Validate a scheduler address; "host:port" is read as tcp://host:port."""
    if value is None:
        return None
    match = _ADDRESS.match(value.strip())
    if match is None or not 0 < int(match.group(3)) < 65536:
        raise click.BadParameter(f"调度器地址应形如 tcp://主机:端口，收到「{value}」")
    scheme, host, port = match.groups()
    return f"{scheme or 'tcp'}://{host}:{port}"


def run_options(workers: int | None, scheduler: str | None,
                processes: int | None = None) -> dict:
    """Return the ``run_ordered`` keyword arguments for the options.

    Without a cluster the tasks run on ``processes`` forked processes, by default one per
    usable core up to four (``geo.local_pool``; one where the platform does not fork).

    Examples
    --------
    >>> run_options(None, None, 1)
    {'workers': None, 'scheduler': None, 'processes': 1}
    >>> run_options(2, "tcp://127.0.0.1:8786")
    Traceback (most recent call last):
    ...
    click.exceptions.UsageError: --workers 与 --scheduler 只能选一个
    """
    if workers is not None and scheduler is not None:
        raise click.UsageError("--workers 与 --scheduler 只能选一个")
    if workers is not None or scheduler is not None:
        if processes is not None:
            raise click.UsageError(
                "--processes 只用于本机进程，不能与 --workers 或 --scheduler 同用")
        quiet_dask_logs()
        return {"workers": workers, "scheduler": scheduler, "processes": None}
    from geo.local_pool import default_processes

    return {"workers": None, "scheduler": None, "processes": processes or default_processes()}


def uses_cluster(run: dict) -> bool:
    """Say whether ``run_options`` chose a Dask cluster (``--workers`` or ``--scheduler``)."""
    return run["workers"] is not None or run["scheduler"] is not None


def quiet_dask_logs() -> None:
    """Keep Dask's info-level logging (workers starting, connections) off the terminal."""
    import distributed  # noqa: F401 - importing it installs the handlers whose level we set

    for name in _DASK_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


@contextmanager
def cluster_errors() -> Iterator[None]:
    """Turn an unreachable scheduler or a failed worker into a ``click.ClickException``."""
    from geo.parallel import SchedulerUnreachable

    try:
        yield
    except SchedulerUnreachable as exc:
        raise click.ClickException(
            f"{exc}。请确认调度器已启动（dask scheduler）且地址、端口正确") from exc
    except Exception as exc:
        from distributed.scheduler import KilledWorker

        if isinstance(exc, KilledWorker):
            raise click.ClickException(f"Dask 工作进程反复崩溃，任务无法完成：{exc}") from exc
        raise
