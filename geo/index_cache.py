"""Built ``GridIndex`` arrays kept on disk, keyed by the content of the geometries they index.

Building the county grid takes a quarter of a second, as long as locating 50,000 points, and a
one-shot command such as ``yzmap locate`` would pay it on every run. The cell states and
candidate lists are saved as ``.npz`` (plain arrays, read without pickle) in the cache folder
(``geo.disk_cache``), named by a SHA-256 of the geometries' WKB, the margin and the index
format: a changed or newly imported layer gets a new key, so an entry is never stale.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np
import shapely

from geo.disk_cache import cache_dir, store
from geo.index import GridIndex

__all__ = ["cached_grid", "grid_key"]

# bump when GridIndex's build or the saved fields change, so older entries are not read
FORMAT = "grid-1"
_SCALARS = ("dx", "dy", "x0", "y0", "nx", "ny")
_ARRAYS = ("touched", "cand", "offsets", "_padded")

log = logging.getLogger(__name__)


def grid_key(geoms: np.ndarray, margin: float) -> str:
    """The cache key of an index over ``geoms`` widened by ``margin``: a hex SHA-256."""
    digest = hashlib.sha256(f"{FORMAT}|{margin!r}|{len(geoms)}".encode())
    for wkb in shapely.to_wkb(geoms, output_dimension=2, include_srid=False):
        digest.update(len(wkb).to_bytes(8, "little"))
        digest.update(wkb)
    return digest.hexdigest()


def cached_grid(geoms, margin: float = 0.0) -> GridIndex:
    """A ``GridIndex`` over ``geoms``: read from the cache when built before, else built and saved.

    Examples
    --------
    >>> from shapely import box
    >>> cached_grid([box(0, 0, 1, 1), box(1, 0, 2, 1)]).query([0.5, 1.5], [0.5, 0.5]).tolist()
    [0, 1]
    """
    geoms = np.asarray(geoms, dtype=object)
    folder = cache_dir()
    if folder is None:
        return GridIndex(geoms, margin=margin)
    path = folder / f"{grid_key(geoms, margin)}.npz"
    index = _read(path, geoms)
    if index is None:
        index = GridIndex(geoms, margin=margin)
        _write(path, index)
    return index


def _read(path: Path, geoms: np.ndarray) -> GridIndex | None:
    """The index saved at ``path`` over ``geoms``; None when absent or unreadable."""
    try:
        with np.load(path, allow_pickle=False) as saved:
            fields = {name: saved[name] for name in _SCALARS + _ARRAYS}
    except (OSError, KeyError, ValueError) as exc:
        if not isinstance(exc, FileNotFoundError):
            log.warning("grid index cache %s unreadable, rebuilding: %s", path, exc)
        return None
    index = GridIndex.__new__(GridIndex)
    index.geoms = geoms
    shapely.prepare(geoms)
    for name in _SCALARS:
        value = fields[name].item()
        setattr(index, name, int(value) if name in ("nx", "ny") else float(value))
    for name in _ARRAYS:
        setattr(index, name, fields[name])
    return index


def _write(path: Path, index: GridIndex) -> None:
    """Save ``index`` at ``path`` (atomically; a failure only costs the next run a build)."""
    arrays = {name: np.asarray(getattr(index, name)) for name in _SCALARS + _ARRAYS}
    store(path, lambda fh: np.savez(fh, **arrays))
