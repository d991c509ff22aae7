"""The one way yzmap writes an output file: beside it first, then renamed over it.

A picture, pack, export, report or located table is never seen half-written, and a failure
leaves the previous file (or none) in place. The temporary file lives in the target's folder so
the final ``os.replace`` is an atomic rename on the same file system.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` that replaces it only when the block succeeds.

    For writers that want a file name (GDAL drivers, pandas): the temporary file does not exist
    when the block starts.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(handle)
    tmp = Path(tmp)
    tmp.unlink()
    try:
        yield tmp
        if tmp.exists():
            os.chmod(tmp, 0o644)  # mkstemp makes 0600; an output is meant to be shared
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def write_atomically(path: str | Path) -> Iterator[BinaryIO]:
    """Yield a binary file beside ``path`` that replaces it only when the block succeeds."""
    with atomic_path(path) as tmp, tmp.open("wb") as handle:
        yield handle
