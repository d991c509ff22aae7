"""``yzmap locate`` on a real Dask cluster (``--scheduler``) and on local processes (``--workers``).

The cluster is what the README tells a user to start: ``dask scheduler`` and two
``dask worker tcp://…`` processes on 127.0.0.1, each worker in its own directory. Output files
must be byte-identical to a run in one process. Workers on this machine read the input and
hand their results over as part files next to the output; workers that see neither get and
return bytes; the part files go whatever the end of the run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import geo.locate_job
import geo.part_files
from geo.locate_job import CsvRange, LocateOptions, locate_task
from geo.part_files import file_stamp
from geo.tables import TableError
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


@pytest.fixture
def handover(monkeypatch):
    """Record how the tasks travelled: the input stamps given to ``for_workers`` (None: bytes
    sent) and the part files the command took (each must be gone once taken)."""
    seen = {"stamps": [], "parts": []}
    for_workers, take_part = geo.locate_job.for_workers, geo.part_files.take_part

    def recording_for_workers(source, stamp):
        """Note the stamp, then prepare the source as usual."""
        seen["stamps"].append(stamp)
        return for_workers(source, stamp)

    def recording_take_part(path):
        """Note the part, take it, check it was removed."""
        seen["parts"].append(Path(path))
        data = take_part(path)
        assert not Path(path).exists()
        return data

    monkeypatch.setattr(geo.locate_job, "for_workers", recording_for_workers)
    monkeypatch.setattr(geo.part_files, "take_part", recording_take_part)
    return seen


def _scheduler_imported(client, module: str) -> bool:
    """Whether the scheduler process has imported ``module`` (checked without importing ours)."""
    return client.run_on_scheduler(eval, f"{module!r} in __import__('sys').modules")


def test_locate_on_cluster_is_byte_identical(cluster, serial_run, tmp_path, handover):
    """``--scheduler`` on two workers writes exactly the bytes of the one-process run; the
    workers, on this machine, read their ranges and write their results as part files."""
    src, serial = serial_run
    out = tmp_path / "cluster.csv"
    output = _locate(src, out, "--scheduler", cluster.scheduler.address)
    assert output.startswith("完成：共 5000 行")
    assert out.read_bytes() == serial.read_bytes()
    assert len(handover["stamps"]) > 2 and None not in handover["stamps"]
    assert len(handover["parts"]) == len(handover["stamps"])  # every range has rows
    assert {p.parent.name.split("-")[0] for p in handover["parts"]} == {".cluster.csv.parts"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cluster.csv"]  # parts folder gone
    assert scheduler_idle(cluster)
    # the tasks reach the scheduler pickled: it never imports the job's modules
    assert not _scheduler_imported(cluster, "geo.locate_job")


def test_locate_on_local_workers_is_byte_identical(serial_run, tmp_path, handover):
    """``--workers 2`` (a local cluster started for the run) writes the same bytes too."""
    src, serial = serial_run
    out = tmp_path / "workers.csv"
    _locate(src, out, "--workers", 2)
    assert out.read_bytes() == serial.read_bytes()
    assert handover["parts"] and None not in handover["stamps"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["workers.csv"]


def test_workers_seeing_no_file_get_and_return_bytes(cluster, serial_run, tmp_path, handover,
                                                     monkeypatch):
    """Workers that do not see the input (its stamp differs there) are sent the bytes of each
    range; workers that do not see the part folder (another token) return their rows."""
    real_enter = geo.part_files.PartFolder.__enter__

    def elsewhere(folder):
        """Create the folder, but with a token the workers will not match."""
        real_enter(folder)
        (folder.path / geo.part_files.TOKEN_NAME).write_text("another machine's", encoding="ascii")
        return folder

    monkeypatch.setattr(geo.part_files, "file_stamp", lambda path: (-1, -1))
    monkeypatch.setattr(geo.part_files.PartFolder, "__enter__", elsewhere)
    src, serial = serial_run
    out = tmp_path / "apart.csv"
    _locate(src, out, "--scheduler", cluster.scheduler.address)
    assert out.read_bytes() == serial.read_bytes()
    assert handover["stamps"] and set(handover["stamps"]) == {None}
    assert handover["parts"] == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["apart.csv"]


def test_failed_task_leaves_no_output_nor_parts(cluster, tmp_path):
    """A row with extra cells late in the input fails its task on a worker: the error is
    shown, and neither the output, its temporary file nor the part folder remains."""
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    lines = ["经度,纬度"] + ["111.6035,26.2083"] * 3000 + ["111.6,26.2,多余"] + ["111.6,26.2"] * 5
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["locate", str(src), "--out", str(out), "--chunk-rows",
                                       "300", "--scheduler", cluster.scheduler.address])
    assert result.exit_code == 1
    assert "CSV 格式错误" in result.output and "111.6,26.2,多余" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]
    assert scheduler_idle(cluster)


def test_interrupted_run_leaves_no_output_nor_parts(cluster, serial_run, tmp_path, monkeypatch):
    """Ctrl-C while the parts are copied: the run is cancelled, nothing is left behind."""
    take_part, taken = geo.part_files.take_part, []

    def interrupted(path):
        """Take two parts, then act as if the user pressed Ctrl-C."""
        if len(taken) == 2:
            raise KeyboardInterrupt
        taken.append(path)
        return take_part(path)

    monkeypatch.setattr(geo.part_files, "take_part", interrupted)
    src, _ = serial_run
    out = tmp_path / "stopped.csv"
    result = CliRunner().invoke(main, ["locate", str(src), "--out", str(out), "--chunk-rows",
                                       "300", "--scheduler", cluster.scheduler.address])
    assert result.exit_code == 1 and "已中止" in result.output  # the CLI's Ctrl-C ending
    assert len(taken) == 2 and list(tmp_path.iterdir()) == []
    assert scheduler_idle(cluster)


def test_changed_input_is_refused_on_the_worker(tmp_path):
    """A range whose file no longer has the client's stamp is an error, not other rows."""
    src = tmp_path / "in.csv"
    src.write_text("经度,纬度\n111.6035,26.2083\n", encoding="utf-8")
    size, mtime = file_stamp(src)
    task = CsvRange(str(src), 10, size, "utf-8", ("经度", "纬度"), stamp=(size + 1, mtime))
    options = LocateOptions(x_col="经度", y_col="纬度")
    with pytest.raises(TableError, match="工作进程看到的文件与本机的不同"):
        locate_task((task, options), None)


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
