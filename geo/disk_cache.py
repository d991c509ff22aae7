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
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from geo.files import write_atomically

__all__ = ["CACHE_ENV", "cache_dir", "store"]

CACHE_ENV = "YZMAP_CACHE_DIR"

log = logging.getLogger(__name__)


def cache_dir() -> Path | None:
    """The cache folder, or None when caching is turned off."""
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        return None if configured.strip().lower() in ("", "off", "0", "no") else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "yzmap"


def store(path: Path, write: Callable[[BinaryIO], None]) -> bool:
    """Write a cache entry through ``geo.files`` (never half-written); False, logged, on failure.

    Two processes writing the same key both succeed; a read-only or full disk only costs the
    next run the work again.
    """
    try:
        with write_atomically(path) as fh:
            write(fh)
        return True
    except OSError as exc:  # the cache is an optimisation only
        log.info("not cached in %s: %s", path.parent, exc)
        return False
