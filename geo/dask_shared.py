"""The data a run shares with every Dask worker, carried as a worker plugin.

Kept apart from ``geo.parallel`` so that importing the runner does not import ``distributed``
(about 0.7 s): only a run on workers needs this class.
"""

from __future__ import annotations

from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

__all__ = ["SharedData"]


class SharedData(WorkerPlugin):
    """The run's shared data, carried to every worker once as a Dask worker plugin.

    A plugin rather than ``client.scatter(..., broadcast=True)``: measured on a two-worker
    cluster, a broadcast copy was sometimes fetched a second time by a worker whose first task
    raced the replication, while a plugin is unpickled exactly once per worker, including
    workers that join the cluster during the run.
    """

    def __init__(self, value: Any) -> None:
        """Keep the data to ship."""
        self.value = value
