"""Bulk commands on forked local processes (``--processes``), run as a user runs them.

``yzmap`` is started as a subprocess, so the forks are those of a real command, not of the test
process: the output must be byte for byte that of a run in one process, whatever the count.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from geo.local_pool import can_fork
from tests.test_overlap_bulk import patches

pytestmark = pytest.mark.skipif(not can_fork(), reason="the platform does not fork")

DATA = Path(__file__).parent / "data"
YZMAP = Path(sys.executable).with_name("yzmap")
_spec = importlib.util.spec_from_file_location("locate_mixed_make", DATA / "locate_mixed_make.py")
make = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make)


def _yzmap(tmp_path: Path, *args) -> str:
    """Run ``yzmap`` in a fresh instance folder (shipped layers); return its output."""
    env = dict(os.environ, YZMAP_INSTANCE_PATH=str(tmp_path / "instance"))
    env.pop("YZMAP_DATABASE_URL", None)
    done = subprocess.run([str(YZMAP), *map(str, args)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.parametrize("processes", [1, 2, 3])
def test_locate_on_processes_gives_the_golden_bytes(tmp_path, processes):
    import csv

    n, seed, gcj, options = make.CASES["mixed"]
    src = tmp_path / "mixed.csv"
    with src.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(make.make_rows(n, seed, gcj))
    out = tmp_path / "out.csv"
    said = _yzmap(tmp_path, "locate", src, "--out", out, "--chunk-rows", 11,
                  "--processes", processes, *options)
    assert out.read_bytes() == (DATA / "locate_mixed_golden.csv").read_bytes()
    assert said.startswith(f"完成：共 {n} 行，已定位 433，市外 292，归属不明 8，错误 77，提示 41，")


def test_overlap_on_processes_equals_one_process(tmp_path):
    src = tmp_path / "patches.gpkg"
    patches(600).to_file(src)
    outs = []
    for processes in (1, 2):
        out = tmp_path / f"report-{processes}.csv"
        _yzmap(tmp_path, "overlap", src, "--out", out, "--site-id-col", "编号",
               "--category-col", "类别", "--chunk-size", 100, "--processes", processes)
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] and outs[0].count(b"\n") > 100


def test_processes_and_a_cluster_are_refused_together(tmp_path):
    env = dict(os.environ, YZMAP_INSTANCE_PATH=str(tmp_path / "instance"))
    src = tmp_path / "p.csv"
    src.write_text("经度,纬度\n111.6,26.2\n", encoding="utf-8")
    done = subprocess.run([str(YZMAP), "locate", str(src), "--out", str(tmp_path / "o.csv"),
                           "--processes", "2", "--workers", "2"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and "--processes" in done.stderr
