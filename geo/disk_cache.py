"""The folder where one-shot commands keep what is slow to derive and never changes for a key.

Built grid indexes (``geo.index_cache``) and coordinate-operation pipelines (``geo.crs``) are
saved here, each under a key that names everything it was derived from, so an entry is never
stale, only unused. The folder is ``YZMAP_CACHE_DIR``, else ``$XDG_CACHE_HOME/yzmap``, else
``~/.cache/yzmap``; ``YZMAP_CACHE_DIR=off`` turns caching off. A folder that cannot be written
(a read-only home on a server) only costs the next run the work again.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["CACHE_ENV", "cache_dir", "write_atomically"]

CACHE_ENV = "YZMAP_CACHE_DIR"

log = logging.getLogger(__name__)


def cache_dir() -> Path | None:
    """The cache folder, or None when caching is turned off."""
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        return None if configured.strip().lower() in ("", "off", "0", "no") else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "yzmap"


def write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> bool:
    """Write ``path`` through a temporary file renamed into place; False (logged) on failure.

    Readers never see half a file, and two processes writing the same key both succeed.
    """
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
        return True
    except OSError as exc:  # read-only or full disk: the cache is an optimisation only
        log.info("not cached in %s: %s", path.parent, exc)
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        return False
