"""glibc's allocator tuned for Dask workers whose tasks make many large, short-lived arrays.

Dask's nanny starts worker processes with ``MALLOC_TRIM_THRESHOLD_`` set (to give memory back to
the system), which also fixes glibc's mmap threshold at 128 KiB: every larger array of a task is
then a fresh mmap, page-faulted and zeroed, and the locate tasks took 20% longer (0.40 s instead
of 0.33 s per 100,000 rows). glibc's largest threshold, 32 MiB, keeps a task's arrays in the
heap; the trim threshold still hands freed memory back. Set at run time with ``mallopt`` on
every worker a job reaches (``geo.dask_shared.SharedData.setup``), so a user's own
``dask worker`` gets it too, without an environment variable. Hand-written with ctypes: neither
the standard library nor a maintained package exposes ``mallopt``.
"""

from __future__ import annotations

import ctypes
import platform
import sys

__all__ = ["MMAP_THRESHOLD", "keep_arrays_in_heap"]

M_MMAP_THRESHOLD = -3  # glibc's <malloc.h> parameter number
MMAP_THRESHOLD = 32 << 20  # glibc's largest allowed value (HEAP_MAX / 2 on 64-bit)


def keep_arrays_in_heap() -> bool:
    """Serve allocations up to 32 MiB from the heap, not fresh mmaps; True when glibc took it."""
    if sys.platform != "linux" or platform.libc_ver()[0] != "glibc":
        return False  # musl, macOS and Windows have no such knob; nothing to tune
    try:
        libc = ctypes.CDLL(None)
        return libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    except (OSError, AttributeError):
        return False
