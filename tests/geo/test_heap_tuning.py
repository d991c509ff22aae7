"""``keep_arrays_in_heap``: a locate task's large arrays reuse heap pages, not fresh mmaps.

Run in subprocesses started with ``MALLOC_TRIM_THRESHOLD_`` set, as Dask's nanny starts its
workers: the page faults of locating the same 50,000 points a few times tell whether the
task's arrays were fresh, zeroed mmaps each time or reused heap memory (measured on 100,000
rows: 279,000 faults and 0.36 s a task untuned, 63,000 and 0.32 s tuned).
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from geo.heap_tuning import keep_arrays_in_heap

PROBE = """
import resource, sys
from pathlib import Path
from geo.boundaries import load_shipped
from geo.heap_tuning import keep_arrays_in_heap
from geo.locate_job import LocateOptions, locate_task, plan_tasks

layers = load_shipped()
_, _, sources = plan_tasks(Path(sys.argv[1]), rows=100_000)
task = (next(iter(sources)), LocateOptions(x_col="lon", y_col="lat"))
tuned = keep_arrays_in_heap() if sys.argv[2] == "tuned" else False
locate_task(task, layers)  # indexes built, caches warm
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(4):
    locate_task(task, layers)
print(tuned, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""

glibc_only = pytest.mark.skipif(not keep_arrays_in_heap(), reason="needs Linux with glibc")


def _faults(csv, mode: str) -> tuple[str, int]:
    """(whether tuned, page faults of four locate tasks) in a Dask-like worker process."""
    env = dict(os.environ, MALLOC_TRIM_THRESHOLD_="65536")
    env.pop("MALLOC_MMAP_THRESHOLD_", None)
    out = subprocess.run([sys.executable, "-c", PROBE, str(csv), mode], env=env,
                         capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
    return out[0], int(out[1])


@glibc_only
def test_locate_tasks_reuse_the_heap_once_tuned(tmp_path):
    """Tuned, the same tasks fault well under half the pages they do with Dask's defaults."""
    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(110.9, 112.3, 50_000), rng.uniform(24.7, 26.9, 50_000)
    csv = tmp_path / "points.csv"
    rows = "".join(f"{x:.6f},{y:.6f}\n" for x, y in zip(lon, lat, strict=True))
    csv.write_text("lon,lat\n" + rows, encoding="utf-8")
    untuned, tuned = _faults(csv, "plain"), _faults(csv, "tuned")
    assert untuned[0] == "False" and tuned[0] == "True"
    assert tuned[1] < untuned[1] / 2, (untuned, tuned)


def test_tuning_is_a_no_op_where_glibc_is_absent(monkeypatch):
    """On another C library (musl, macOS, Windows) nothing is called and False is returned."""
    monkeypatch.setattr("platform.libc_ver", lambda: ("", ""))
    assert keep_arrays_in_heap() is False
