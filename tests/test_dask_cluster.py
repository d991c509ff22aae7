"""``yzmap locate`` on a real Dask cluster (``--scheduler``) and on local processes (``--workers``).

The cluster is what the README tells a user to start: ``dask scheduler`` and two
``dask worker tcp://…`` processes on 127.0.0.1, each worker in its own directory. Output files
must be byte-identical to a run in one process.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from tests.dask_cluster import cli_cluster, scheduler_idle
from webmap.cli import main

# -- yzmap locate on the cluster ----------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scheduler and two workers started with the ``dask`` command line."""
    with cli_cluster(tmp_path_factory.mktemp("dask"), n_workers=2) as client:
        yield client


def _points_csv(path: Path, n: int, seed: int = 15) -> None:
    """A seeded CSV of ``n`` points over Yongzhou and around it, some declared counties wrong."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(110.9, 112.6, n).round(6).astype(str)
    lat = rng.uniform(24.5, 27.0, n).round(6).astype(str)
    lon[::97] = "abc"  # unreadable cells: an error row each
    counties = np.array(["零陵区", "冷水滩区", "道县", "", "祁阳县"])
    pd.DataFrame({"编号": np.arange(n), "经度": lon, "纬度": lat,
                  "所在县区": counties[rng.integers(0, 5, n)]}).to_csv(path, index=False)


def _locate(src: Path, out: Path, *options) -> str:
    """Run ``yzmap locate`` on ``src``; return its output (the test fails if it fails)."""
    result = CliRunner().invoke(main, ["locate", str(src), "--out", str(out), "--county-col",
                                       "所在县区", "--chunk-rows", "700", *map(str, options)])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def serial_run(tmp_path_factory):
    """The input CSV (5,000 points, 8 chunks) and its output located in this process."""
    folder = tmp_path_factory.mktemp("locate")
    src, out = folder / "points.csv", folder / "serial.csv"
    _points_csv(src, 5_000)
    _locate(src, out)
    return src, out


def test_locate_on_cluster_is_byte_identical(cluster, serial_run, tmp_path):
    """``--scheduler`` on two workers writes exactly the bytes of the one-process run."""
    src, serial = serial_run
    out = tmp_path / "cluster.csv"
    output = _locate(src, out, "--scheduler", cluster.scheduler.address)
    assert output.startswith("完成：共 5000 行")
    assert out.read_bytes() == serial.read_bytes()
    assert scheduler_idle(cluster)


def test_locate_on_local_workers_is_byte_identical(serial_run, tmp_path):
    """``--workers 2`` (a local cluster started for the run) writes the same bytes too."""
    src, serial = serial_run
    out = tmp_path / "workers.csv"
    _locate(src, out, "--workers", 2)
    assert out.read_bytes() == serial.read_bytes()


def test_unreachable_scheduler_is_a_clear_error(serial_run, tmp_path):
    """No scheduler at the address: one Chinese line naming it, and no output file."""
    import dask

    src, _ = serial_run
    out = tmp_path / "never.csv"
    # what DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=1s does in a fresh process (default 30 s)
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        result = CliRunner().invoke(main, ["locate", str(src), "--out", str(out),
                                           "--scheduler", "127.0.0.1:9"])
    assert result.exit_code == 1
    assert "无法连接 Dask 调度器 tcp://127.0.0.1:9：" in result.output
    assert not out.exists()


def test_cluster_options_are_checked(serial_run, tmp_path):
    """Both options at once, zero workers and a malformed address are usage errors (exit 2)."""
    src, _ = serial_run
    cases = [(["--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"], "只能选一个"),
             (["--workers", "0"], "--workers"),
             (["--scheduler", "http://127.0.0.1"], "调度器地址应形如 tcp://主机:端口")]
    for options, message in cases:
        result = CliRunner().invoke(main, ["locate", str(src), "--out", str(tmp_path / "o.csv"),
                                           *options])
        assert result.exit_code == 2 and message in result.output, (options, result.output)


def test_parquet_chunks_read_here_run_on_cluster(cluster, serial_run, tmp_path):
    """Parquet input (chunks read by the client, shipped as frames): same bytes as one process."""
    src, _ = serial_run
    parquet = tmp_path / "points.parquet"
    pd.read_csv(src, dtype=str, keep_default_na=False).to_parquet(parquet, index=False)
    here, there = tmp_path / "here.csv", tmp_path / "there.csv"
    _locate(parquet, here)
    _locate(parquet, there, "--scheduler", cluster.scheduler.address)
    assert there.read_bytes() == here.read_bytes()
    assert pd.read_csv(there, dtype=str)["编号"].tolist() == [str(i) for i in range(5_000)]
