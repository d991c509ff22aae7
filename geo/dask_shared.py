"""The data a run shares with every Dask worker, carried as a worker plugin.

Kept apart from ``geo.parallel`` so that importing the runner does not import ``distributed``
(about 0.7 s): only a run on workers needs this class.
"""

from __future__ import annotations

import copyreg
import io
import pickle
from typing import Any

import numpy as np
from distributed.diagnostics.plugin import WorkerPlugin

__all__ = ["SharedData", "dumps_shared"]


class SharedData(WorkerPlugin):
    """The run's shared data, carried to every worker once as a Dask worker plugin.

    A plugin rather than ``client.scatter(..., broadcast=True)``: measured on a two-worker
    cluster, a broadcast copy was sometimes fetched a second time by a worker whose first task
    raced the replication, while a plugin is unpickled exactly once per worker, including
    workers that join the cluster during the run. It pickles its value with ``dumps_shared``.
    """

    def __init__(self, value: Any) -> None:
        """Keep the data to ship."""
        self.value = value

    def setup(self, worker) -> None:
        """On each worker the job reaches: keep task arrays in the heap (``geo.heap_tuning``)."""
        from geo.heap_tuning import keep_arrays_in_heap

        keep_arrays_in_heap()

    def __reduce__(self) -> tuple:
        """Pickle the value with its geometry arrays encoded in bulk (``dumps_shared``)."""
        return _shared_from, (dumps_shared(self.value),)


def _shared_from(data: bytes) -> SharedData:
    """On a worker: the plugin with its value unpickled."""
    return SharedData(pickle.loads(data))


def dumps_shared(value: Any) -> bytes:
    """Pickle ``value``, writing every numpy array of shapely geometries as one block of WKB.

    Shapely pickles each geometry on its own (a WKB call per geometry): the boundary layers
    with their indexes hold about 30,000 geometries in arrays, which took 0.13 s to pickle and
    0.06 s to unpickle that way, 0.02 s each in bulk, on the path before the first task can
    start. The WKB is what shapely writes for one geometry (with its SRID), so the geometries
    come back equal; arrays that shared a geometry get a copy each.
    """
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = copyreg.dispatch_table.copy()
    pickler.dispatch_table[np.ndarray] = _reduce_array
    pickler.dump(value)
    return buffer.getvalue()


def _reduce_array(array: np.ndarray) -> tuple:
    """Reduce an array of geometries to its WKB, any other array as numpy does."""
    if array.dtype == object and array.size:
        import shapely

        flat = array.ravel()
        if shapely.is_geometry(flat).all():
            return _geometries_from, (shapely.to_wkb(flat, include_srid=True), array.shape)
    return array.__reduce_ex__(pickle.HIGHEST_PROTOCOL)


def _geometries_from(wkb: np.ndarray, shape: tuple) -> np.ndarray:
    """An array of geometries read back from its WKB, in its shape."""
    import shapely

    return shapely.from_wkb(wkb).reshape(shape)
