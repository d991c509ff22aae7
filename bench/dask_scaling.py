"""Benchmark: ``yzmap locate --scheduler`` on a Dask cluster of 1 worker, then of 2 workers.

Run ``python bench/dask_scaling.py [--rows N] [--chunk-rows N] [--repeat N] [--serial]
[--keep DIR [--reuse]]``. Writes a seeded CSV of N WGS84 points (not timed; default
10,000,000, the streamed job of ``bench/locate.py`` and the size a cluster is for: the run's
fixed costs, about 1.3 s to start the command and ship the layers and 0.3 s to finish, weigh
on the ratio of a shorter job, e.g. 1.62x at 3,000,000 points on 2 cores), then
``--repeat`` times (default 3), alternating 1 and 2 workers: starts a cluster as the README
tells a user (``dask scheduler`` and ``dask worker`` processes on 127.0.0.1, one thread each,
``--preload geo.locate_job``), times
``yzmap locate in.csv --out out.csv --county-col 所在县区 --scheduler tcp://…`` as a
subprocess, and stops the cluster. Prints the best and median times of each, the speed-up
(target: 2 workers at least 1.7x faster, median against median) and checks that every output
is byte-identical (and identical to a run in one process with ``--serial``).

For each run it also prints the CPU time of the ``yzmap`` client process, of the scheduler and
of the workers, the workers' compute time (the scheduler's task stream), when the first task
started and the last ended, and the CPU that other processes on the machine used meanwhile
(``/proc/stat``): on a 2-core machine the client and the scheduler share the cores with the two
workers, and a shared machine's other load shows up as noise in a run ("steal" is CPU time the
hypervisor gave to other machines).

The processes get this process's environment: a ``PYTHONPATH`` (another checkout, to compare)
reaches the cluster as it reaches ``yzmap``.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.dask_cluster import cli_cluster  # noqa: E402 - the cluster the tests start

sys.path.insert(0, str(ROOT / "bench"))
from locate import _line_count, write_points  # noqa: E402 - the seeded points of bench/locate.py

YZMAP = Path(sys.executable).with_name("yzmap")


@dataclass
class Run:
    """One timed ``yzmap locate`` on a cluster and where its time went."""

    workers: int
    seconds: float = 0.0
    client: float = 0.0  # CPU seconds of the yzmap process
    scheduler: float = 0.0
    worker_cpu: list = field(default_factory=list)
    compute: list = field(default_factory=list)  # seconds computing tasks, per worker
    first: float = 0.0  # when the first task started / the last ended, from the launch
    last: float = 0.0
    other: float = 0.0  # CPU seconds of every other process on the machine meanwhile
    steal: float = 0.0  # CPU seconds the hypervisor gave to other machines meanwhile
    out: Path | None = None

    def line(self) -> str:
        """The run's figures on one line."""
        return (f"{self.seconds:5.1f} s; CPU: client {self.client:.1f} s, scheduler "
                f"{self.scheduler:.1f} s, workers " + " + ".join(f"{c:.1f}" for c in
                                                                   self.worker_cpu)
                + " s (compute " + " + ".join(f"{c:.1f}" for c in self.compute)
                + f" s), other processes {self.other:.1f} s, steal {self.steal:.1f} s; "
                f"tasks from {self.first:.1f} s to {self.last:.1f} s")


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
    return seconds, usage.ru_utime + usage.ru_stime


def timed_on_cluster(src: Path, folder: Path, n_workers: int, chunk_rows: int, tag: str) -> Run:
    """Start a CLI cluster of ``n_workers``, time the locate run on it and stop the cluster."""
    home = folder / f"cluster-{tag}"
    shutil.rmtree(home, ignore_errors=True)  # a kept folder's earlier run
    home.mkdir()
    run = Run(n_workers, out=folder / f"out-{tag}.csv")
    # --preload: the workers import yzmap's code when they start, as the README suggests;
    # a PYTHONPATH (another checkout, to compare) reaches the cluster as it reaches yzmap
    with cli_cluster(home, n_workers=n_workers, pythonpath=os.environ.get("PYTHONPATH"),
                     worker_options=("--preload", "geo.locate_job")) as client:
        start = time.time()
        client.get_task_stream(start=start)  # installs the scheduler's task-stream recorder
        sched0, workers0, busy0 = (client.run_on_scheduler(_cpu_seconds),
                                   client.run(_cpu_seconds), _machine_busy())
        run.seconds, run.client = run_locate(src, run.out, folder, chunk_rows, "--scheduler",
                                             client.scheduler.address)
        busy, run.steal = (b - b0 for b, b0 in zip(_machine_busy(), busy0, strict=True))
        run.scheduler = client.run_on_scheduler(_cpu_seconds) - sched0
        run.worker_cpu = [cpu - workers0[w] for w, cpu in client.run(_cpu_seconds).items()]
        stream = client.get_task_stream(start=start)
    run.compute = list(_busy_seconds(stream).values())
    spans = [p for r in stream for p in r.get("startstops", ()) if p["action"] == "compute"]
    run.first = min(p["start"] for p in spans) - start
    run.last = max(p["stop"] for p in spans) - start
    run.other = busy - run.client - run.scheduler - sum(run.worker_cpu)
    return run


def _machine_busy() -> tuple[float, float]:
    """CPU seconds all processes of the machine spent so far, and the seconds the hypervisor
    gave the machine's CPUs to other machines (steal), from ``/proc/stat``."""
    with open("/proc/stat", encoding="ascii") as fh:
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(
            int, fh.readline().split()[1:9])
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / tick, steal / tick


def _cpu_seconds() -> float:
    """CPU seconds of the process this runs in (used on the scheduler and the workers)."""
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
    """Generate the input, time 1 and 2 workers alternately, print the figures, check outputs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each cluster size")
    parser.add_argument("--serial", action="store_true", help="also time a one-process run")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep the files")
    parser.add_argument("--reuse", action="store_true",
                        help="with --keep: reuse the folder's points.csv if it has --rows rows")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="yzmap-dask-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        src = folder / "points.csv"
        if not (args.reuse and src.exists() and _line_count(src) == args.rows + 1):
            write_points(src, args.rows)
        print(f"{args.rows:,} points, {src.stat().st_size / 1e6:.0f} MB, "
              f"chunks of {args.chunk_rows:,} rows; {os.cpu_count()} cores")
        runs: dict[int, list[Run]] = {1: [], 2: []}
        reference, same = None, True
        for i in range(args.repeat):
            for n in (1, 2):
                run = timed_on_cluster(src, folder, n, args.chunk_rows, f"{n}w-{i + 1}")
                print(f"{n} worker{'s' if n > 1 else ' '} #{i + 1}: {run.line()}")
                runs[n].append(run)
                reference, same = _compare(reference, run.out, same, keep=args.keep)
        medians = {n: statistics.median(r.seconds for r in rs) for n, rs in runs.items()}
        best = {n: min(r.seconds for r in rs) for n, rs in runs.items()}
        for n in (1, 2):
            print(f"{n} worker{'s' if n > 1 else ' '}: median {medians[n]:6.1f} s "
                  f"({args.rows / medians[n]:,.0f} rows/s), best {best[n]:6.1f} s")
        print(f"speed-up 2 vs 1 workers: {medians[1] / medians[2]:.2f}x median against median, "
              f"{best[1] / best[2]:.2f}x best against best (target >= 1.7x)")
        print(f"outputs byte-identical: {same}")
        if args.serial:
            serial_out = folder / "out-serial.csv"
            serial, _ = run_locate(src, serial_out, folder, args.chunk_rows, "--processes", "1")
            print(f"one process: {serial:7.1f} s; identical to the cluster runs: "
                  f"{filecmp.cmp(serial_out, reference, shallow=False)}")
        if not same:
            raise SystemExit("outputs differ")


def _compare(reference: Path | None, out: Path, same: bool, keep: Path | None) -> tuple:
    """Compare ``out`` with the first output (which it becomes if there is none yet); drop it
    unless the files are kept (each is several hundred MB)."""
    if reference is None:
        return out, same
    same = same and filecmp.cmp(reference, out, shallow=False)
    if keep is None:
        out.unlink()
    return reference, same


if __name__ == "__main__":
    main()
