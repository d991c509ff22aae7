"""Benchmark: ``yzmap locate`` end to end against a plain pandas + geopandas.sjoin pipeline.

Run ``python bench/locate.py [--rows N] [--no-plain] [--keep DIR [--reuse]] [--workers N]
[--repeat N]``.
Writes a seeded CSV of N WGS84 points (default 300,000) with 经度/纬度 headers and a
declared-county column, spread over the city and a little beyond (not timed), then times, as
subprocesses in the same run:

(a) ``yzmap locate in.csv --out out.csv --county-col 所在县区`` as a new user runs it: a fresh
    instance folder (``YZMAP_INSTANCE_PATH``) without a database, so the shipped layers are used,
    and an empty cache folder (``YZMAP_CACHE_DIR``); it finds county, township, zone,
    constraints and flags. The first run builds and saves the grid index and the projection
    pipeline (``geo.disk_cache``); the later runs read them, as every run after a user's first;
(b) a plain script: ``pd.read_csv`` -> ``gpd.points_from_xy`` -> ``gpd.sjoin`` with the same county
    polygons (``predicate="intersects"``) -> ``to_csv``; it finds the county only.

Both (b) and the later runs of (a) are repeated ``--repeat`` times (default 3), alternating, and
the medians are compared; the first run of (a) is compared too. yzmap uses the machine's cores
as a user's run does (forked worker processes, ``geo.local_pool``), so the CPU seconds of each
process tree are printed next to the wall time.

It checks that both give the same county for every point and prints the times and the ratios
(target: yzmap <= 0.5x the plain pipeline), and the peak RSS of each process tree (the sum over
yzmap and its forked workers, sampled every 20 ms; pages the workers share with yzmap are counted
once per process, so the figure is an upper bound; a ``--workers`` Dask cluster is not counted).
With ``--rows 10000000 --no-plain``: the streamed run's rate (rows/s) and peak RSS (target
< 2 GiB).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DECLARED = ("零陵区", "冷水滩区", "祁阳市", "东安县", "双牌县", "道县", "江永县", "宁远县",
            "蓝山县", "新田县", "江华瑶族自治县", "")

PLAIN = textwrap.dedent("""
    import sys
    import geopandas as gpd
    import pandas as pd

    src, counties, out = sys.argv[1:4]
    df = pd.read_csv(src)
    points = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["经度"], df["纬度"]),
                              crs="EPSG:4326")
    polys = gpd.read_file(counties)[["code", "name", "geometry"]]
    joined = gpd.sjoin(points, polys, how="left", predicate="intersects")
    joined = joined[~joined.index.duplicated()]  # a point on a shared line matches twice
    joined.drop(columns=["geometry", "index_right"]).to_csv(out, index=False)
""")


def write_points(path: Path, rows: int, seed: int = 300, block: int = 1_000_000) -> None:
    """Write ``rows`` seeded points (6 decimals) in blocks, so 10,000,000 fit in little memory."""
    rng = np.random.default_rng(seed)
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("编号,经度,纬度,所在县区\n")
        for start in range(0, rows, block):
            n = min(block, rows - start)
            frame = pd.DataFrame({
                "编号": np.arange(start, start + n),
                # the city's bounding box (110.9-112.4 E, 24.6-26.9 N) and ~0.1 degree beyond
                "经度": np.round(rng.uniform(110.8, 112.5, n), 6),
                "纬度": np.round(rng.uniform(24.5, 27.0, n), 6),
                "所在县区": np.array(DECLARED, dtype=object)[rng.integers(len(DECLARED), size=n)],
            })
            frame.to_csv(fh, header=False, index=False, float_format="%.6f")


def timed(cmd: list[str], env: dict) -> tuple[float, int, float]:
    """Run ``cmd``; return wall seconds, the peak RSS of its process tree in bytes (sampled every
    20 ms: yzmap's own forked workers count) and the CPU seconds of the tree (``os.wait4``)."""
    import psutil

    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    peak, done = [0], threading.Event()

    def sample() -> None:
        """Record the largest total RSS of the process and its children until it ends."""
        try:
            root = psutil.Process(proc.pid)
            while not done.wait(0.02):
                tree = [root, *root.children(recursive=True)]
                total = 0
                for p in tree:
                    try:
                        total += p.memory_info().rss
                    except psutil.Error:  # a worker that just ended
                        pass
                peak[0] = max(peak[0], total)
        except psutil.Error:
            pass

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    out, err = proc.stdout.read(), proc.stderr.read()
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{out}\n{err}")
    if out.strip():
        print("   ", out.strip().splitlines()[0])
    # wait4's usage covers the child and the children it waited for (its forked workers)
    return seconds, max(peak[0], usage.ru_maxrss * 1024), usage.ru_utime + usage.ru_stime


def _line_count(path: Path) -> int:
    """Lines in a file (read in blocks)."""
    with path.open("rb") as fh:
        return sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 24), b""))


def main() -> None:
    """Generate the input, time both pipelines, compare counties and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--no-plain", action="store_true", help="only time yzmap (e.g. 10M)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep the files")
    parser.add_argument("--workers", type=int, help="pass --workers N to yzmap locate")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of (b) and of (a) after the first, medians compared")
    parser.add_argument("--reuse", action="store_true",
                        help="with --keep: reuse the folder's points.csv if it has --rows rows")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="yzmap-bench-locate-"))
    work.mkdir(parents=True, exist_ok=True)
    src = work / "points.csv"
    t0 = time.perf_counter()
    if not (args.reuse and src.exists() and _line_count(src) == args.rows + 1):
        write_points(src, args.rows)
    print(f"input: {args.rows:,} points, {src.stat().st_size / 2**20:.0f} MiB "
          f"(written in {time.perf_counter() - t0:.1f} s, not timed); {os.cpu_count()} CPUs")
    env = {**os.environ, "YZMAP_INSTANCE_PATH": str(work / "instance")}
    env.pop("YZMAP_DATABASE_URL", None)

    env["YZMAP_CACHE_DIR"] = str(work / "cache")
    shutil.rmtree(work / "cache", ignore_errors=True)  # a new user has nothing cached

    out = work / "yzmap.csv"
    extra = ["--workers", str(args.workers)] if args.workers else []
    yzmap = [str(BIN / "yzmap"), "locate", str(src), "--out", str(out), "--county-col", "所在县区",
             "--quiet", *extra]
    first_s, yz_rss, yz_cpu = timed(yzmap, env)
    print(f"(a) yzmap locate, first run: {first_s:7.2f} s  {args.rows / first_s:10,.0f} rows/s  "
          f"peak RSS {yz_rss / 2**20:,.0f} MiB  CPU {yz_cpu:.1f} s")
    if args.no_plain:
        return
    from geo.boundaries import load_shipped

    counties = work / "counties.gpkg"
    load_shipped().counties.frame[["code", "name", "geometry"]].to_file(counties)
    script = work / "plain.py"
    script.write_text(PLAIN, encoding="utf-8")
    plain_out = work / "plain.csv"
    plain = [sys.executable, str(script), str(src), str(counties), str(plain_out)]
    yz_runs, pl_runs = [], []
    for _ in range(args.repeat):  # alternate, so load on a shared machine hits both alike
        pl_runs.append(timed(plain, env))
        yz_runs.append(timed(yzmap, env))
    yz_s, pl_s = (statistics.median(r[0] for r in runs) for runs in (yz_runs, pl_runs))
    for label, runs, s in (("(a) yzmap locate, later runs:", yz_runs, yz_s),
                           ("(b) pandas + sjoin:          ", pl_runs, pl_s)):
        cpu = statistics.median(r[2] for r in runs)
        print(f"{label} {s:6.2f} s  {args.rows / s:10,.0f} rows/s  peak RSS "
              f"{max(r[1] for r in runs) / 2**20:,.0f} MiB  CPU {cpu:.1f} s"
              f"  (median of {', '.join(f'{r[0]:.2f}' for r in runs)})")
    a = pd.read_csv(out, usecols=["county_code"], dtype=str, encoding="utf-8-sig")
    b = pd.read_csv(plain_out, usecols=["code"], dtype=str)
    same = (a["county_code"].fillna("") == b["code"].fillna("")).to_numpy()
    located = int(a["county_code"].notna().sum())
    print(f"same county for every point: {bool(same.all())} "
          f"({int(same.sum()):,} of {len(same):,}; located {located:,})")
    print(f"ratio yzmap / plain: {yz_s / pl_s:.2f}x later runs, {first_s / pl_s:.2f}x first run "
          f"(target <= 0.50x)")


if __name__ == "__main__":
    main()
