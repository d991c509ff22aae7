"""Benchmark: ``yzmap locate --scheduler`` on a Dask cluster of 1 worker, then of 2 workers.

Run ``python bench/dask_scaling.py [--rows N] [--chunk-rows N] [--serial] [--keep DIR]``.
Writes a seeded CSV of N WGS84 points (default 3,000,000; not timed), then for 1 and 2 workers
starts a cluster as the README tells a user (``dask scheduler`` and ``dask worker`` processes
on 127.0.0.1, one thread each, ``--preload geo.locate_job``), times
``yzmap locate in.csv --out out.csv --county-col 所在县区 --scheduler tcp://…`` as a
subprocess, and stops the cluster. Prints both times, the ratio (target: 2 workers at least
1.7x faster) and checks the two outputs are byte-identical (and identical to a run in one
process with ``--serial``). For each run it also prints the CPU time of the ``yzmap`` client
process and of the scheduler, the compute time of each worker (the scheduler's task stream)
and when the first task started and the last ended: where the time goes when the ratio falls
short (on a 2-core machine the client and scheduler share the cores with the two workers).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.dask_cluster import cli_cluster  # noqa: E402 - the cluster the tests start

sys.path.insert(0, str(ROOT / "bench"))
from locate import write_points  # noqa: E402 - the same seeded points as bench/locate.py

YZMAP = Path(sys.executable).with_name("yzmap")


def run_locate(src: Path, out: Path, folder: Path, chunk_rows: int, *options) -> tuple:
    """Time one ``yzmap locate`` subprocess; return (wall s, its CPU s) (shipped layers)."""
    env = dict(os.environ, YZMAP_INSTANCE_PATH=str(folder / "instance"))
    argv = [str(YZMAP), "locate", str(src), "--out", str(out), "--county-col", "所在县区",
            "--chunk-rows", str(chunk_rows), "--quiet", *options]
    log = folder / "locate.log"
    started = time.perf_counter()
    with log.open("wb") as fh:
        proc = subprocess.Popen(argv, env=env, stdout=fh, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text(encoding="utf-8", errors="replace")
    if proc.returncode != 0:
        raise SystemExit(f"yzmap locate failed:\n{text}")
    print("   ", text.strip().splitlines()[0])
    return seconds, usage.ru_utime + usage.ru_stime


def timed_on_cluster(src: Path, folder: Path, n_workers: int, chunk_rows: int) -> tuple:
    """Start a CLI cluster of ``n_workers``, time the locate run on it; return (s, output)."""
    home = folder / f"cluster{n_workers}"
    home.mkdir()
    out = folder / f"out_{n_workers}w.csv"
    # --preload: the workers import yzmap's code when they start, as the README suggests
    with cli_cluster(home, n_workers=n_workers,
                     worker_options=("--preload", "geo.locate_job")) as client:
        start = time.time()
        client.get_task_stream(start=start)  # installs the scheduler's task-stream recorder
        sched0 = client.run_on_scheduler(_cpu_seconds)
        seconds, cpu = run_locate(src, out, folder, chunk_rows, "--scheduler",
                                  client.scheduler.address)
        sched = client.run_on_scheduler(_cpu_seconds) - sched0
        stream = client.get_task_stream(start=start)
    busy = _busy_seconds(stream)
    spans = [p for r in stream for p in r.get("startstops", ()) if p["action"] == "compute"]
    first, last = min(p["start"] for p in spans) - start, max(p["stop"] for p in spans) - start
    print(f"    CPU: client (yzmap) {cpu:.1f} s, scheduler {sched:.1f} s; task compute per worker: "
          + ", ".join(f"{b:.1f} s" for b in busy.values())
          + f" (sum {sum(busy.values()):.1f} s); first task started at {first:.1f} s, "
          f"last ended at {last:.1f} s")
    return seconds, out


def _cpu_seconds() -> float:
    """CPU seconds of the process this runs in (used on the scheduler)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _busy_seconds(stream: list) -> dict:
    """Seconds each worker spent computing tasks, from the scheduler's task stream."""
    busy: dict = {}
    for record in stream:
        for part in record.get("startstops", ()):
            if part["action"] == "compute":
                took = part["stop"] - part["start"]
                busy[record["worker"]] = busy.get(record["worker"], 0.0) + took
    return busy


def main() -> None:
    """Generate the input, time 1 and 2 workers, print the ratio and check the outputs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--serial", action="store_true", help="also time a one-process run")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep the files")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="yzmap-dask-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        src = folder / "points.csv"
        write_points(src, args.rows)
        print(f"{args.rows:,} points, {src.stat().st_size / 1e6:.0f} MB, "
              f"chunks of {args.chunk_rows:,} rows; {os.cpu_count()} cores")
        one, out1 = timed_on_cluster(src, folder, 1, args.chunk_rows)
        print(f"1 worker : {one:7.1f} s  ({args.rows / one:,.0f} rows/s)")
        two, out2 = timed_on_cluster(src, folder, 2, args.chunk_rows)
        print(f"2 workers: {two:7.1f} s  ({args.rows / two:,.0f} rows/s)")
        print(f"speed-up 2 vs 1 workers: {one / two:.2f}x (target >= 1.7x)")
        same = out1.read_bytes() == out2.read_bytes()
        print(f"outputs byte-identical: {same}")
        if args.serial:
            serial_out = folder / "out_serial.csv"
            serial, _ = run_locate(src, serial_out, folder, args.chunk_rows)
            print(f"one process: {serial:7.1f} s; identical to the cluster runs: "
                  f"{serial_out.read_bytes() == out2.read_bytes()}")
        if not same:
            raise SystemExit("outputs differ")


if __name__ == "__main__":
    main()
