"""Benchmark: site polygons against every protected-area zone in use, in memory or streamed.

Run ``python bench/overlap.py [--sites N] [--database URL]``. Sites are random squares and
octagons (100 m - 1 km across); half are centred inside the reserves' bounding boxes so that
many cross zone boundaries (the expensive case), half anywhere in the city.

Up to ``--stream-above`` sites (default 100,000): prints the time of a cold ``overlap_sites`` run
(zones projected and indexed) and a warm one, and the relations found; target for 10,000: < 10 s.

Above it (e.g. ``--sites 1000000``, the 绿盾 change-patch case): the patches are written to a
GeoParquet file first (not timed), then run as ``yzmap overlap --out x.csv`` runs them: read in
chunks, checked against every constraint layer in use, rows streamed to a CSV report, on
forked processes as the command does by default (``--processes N``), ``--workers`` local Dask
processes or a ``--scheduler`` cluster (``geo.parallel``); ``--format``
parquet or gpkg for those reports. Prints the time, the rate in patches per second, the CPU
seconds (the rate on free cores when the machine is shared) and the rows, then the rate of a
plain geopandas pipeline doing less (sjoin, intersection area, distance, CSV) on a sample;
target for 1,000,000 on 2 cores: < 120 s.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.boundaries import load_shipped
from geo.crs import METRIC_CRS
from geo.overlap import overlap_sites


def make_sites(layer, n: int, seed: int = 6) -> gpd.GeoDataFrame:
    """Return ``n`` random polygon sites in WGS84, half near the reserves, half across the city."""
    rng = np.random.default_rng(seed)
    zones = layer.frame.to_crs(METRIC_CRS)
    boxes = np.array([zones[zones.pa_code == c].total_bounds for c in zones.pa_code.unique()])
    near = n // 2
    pick = boxes[rng.integers(0, len(boxes), near)]
    x = np.concatenate(
        [rng.uniform(pick[:, 0], pick[:, 2]), rng.uniform(470_000, 640_000, n - near)]
    )
    y = np.concatenate(
        [rng.uniform(pick[:, 1], pick[:, 3]), rng.uniform(2_720_000, 2_980_000, n - near)]
    )
    size = rng.uniform(50, 500, n)
    sides = rng.choice([1, 2], n)  # 1: square (quad_segs=1 buffer), 2: octagon-ish
    geoms = shapely.buffer(shapely.points(x, y), size, quad_segs=1)
    geoms = np.where(sides == 2, shapely.buffer(shapely.points(x, y), size, quad_segs=2), geoms)
    return gpd.GeoDataFrame(
        {"site_id": np.arange(1, n + 1).astype(str)}, geometry=geoms, crs=METRIC_CRS
    ).to_crs("EPSG:4326")


def write_patches(layer, n: int, path: Path, chunk: int = 100_000) -> None:
    """Write ``n`` synthetic patches to a GeoParquet file, ``chunk`` at a time (bounded memory)."""
    from geo.tables import TableWriter

    with TableWriter(path) as writer:
        for k, first in enumerate(range(0, n, chunk)):
            sites = make_sites(layer, min(chunk, n - first), seed=6 + k)
            sites["site_id"] = np.arange(first + 1, first + len(sites) + 1).astype(str)
            writer.write(sites)


def run_streamed(path: Path, out: Path, layers, chunk: int, cluster: dict):
    """Run the streamed overlap of ``yzmap overlap`` on a patch file; return the tally.

    ``cluster`` is what the command's options give (``webmap.commands.cluster.run_options``):
    by default forked processes of this machine, as ``yzmap overlap`` runs.
    """
    from geo.constraints import OverlapJob
    from geo.importing.site_chunks import open_site_stream
    from geo.parallel import run_ordered
    from webmap.render.overlap_report import ReportJob, report_chunk, stream_report

    stream = open_site_stream(path, rows=chunk)
    job = ReportJob(OverlapJob(layers), out.suffix.lstrip("."))
    with run_ordered(report_chunk, stream.chunks(), shared=job, **cluster) as results:
        return stream_report(results, out), stream.features


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the local workers, once closed)."""
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usage)


def plain_rate(layer, n: int, out: Path) -> float:
    """Patches per second of a plain geopandas pipeline doing part of the job, for comparison.

    ``sjoin`` (dwithin 5 km) on EPSG:4546, the intersection area and the distance per pair,
    one CSV: no shares of lines or points, scale correction, nearest reserve, boundary
    distance or rules, so it does less than ``yzmap overlap``.
    """
    sites = make_sites(layer, n, seed=99).to_crs(METRIC_CRS)
    zones = layer.frame.to_crs(METRIC_CRS)[["pa_code", "name", "zone", "geometry"]]
    t0 = time.perf_counter()
    pairs = gpd.sjoin(sites, zones, predicate="dwithin", distance=5000)
    other = zones.geometry.array[pairs["index_right"].to_numpy()]
    pairs["overlap_m2"] = pairs.geometry.intersection(gpd.GeoSeries(other, index=pairs.index)).area
    pairs["distance_m"] = pairs.geometry.distance(gpd.GeoSeries(other, index=pairs.index))
    pd.DataFrame(pairs.drop(columns="geometry")).to_csv(out, index=False)
    return n / (time.perf_counter() - t0)


def bench_streamed(args, layers) -> None:
    """Time the streamed overlap of ``args.sites`` patches and print the rate."""
    with tempfile.TemporaryDirectory(prefix="yzmap-bench-overlap-") as tmp:
        src, out = Path(tmp) / "patches.parquet", Path(tmp) / f"report.{args.format}"
        t0 = time.perf_counter()
        write_patches(layers.protected_areas, args.sites, src)
        print(f"wrote {args.sites:,} patches to GeoParquet in {time.perf_counter() - t0:.1f} s "
              f"({src.stat().st_size / 2**20:.0f} MiB; not timed)")  # fmt: skip
        from webmap.commands.cluster import run_options

        cluster = run_options(args.workers, args.scheduler, args.processes)
        t0, cpu0 = time.perf_counter(), _cpu_seconds()
        tally, n = run_streamed(src, out, layers, args.chunk_size, cluster)
        took, cpu = time.perf_counter() - t0, _cpu_seconds() - cpu0
        print(f"{n:,} patches -> {tally.rows:,} rows: {dict(tally.relations.most_common())}")
        print(f"report: {out.stat().st_size / 2**20:.0f} MiB {args.format}")
        where = (args.scheduler or args.workers and f"{args.workers} Dask workers"
                 or f"{cluster['processes']} forked process(es)")
        print(f"time: {took:.1f} s on {where}, rate {n / took:,.0f} patches/s; "
              f"target for 1,000,000: < 120 s on 2 cores")  # fmt: skip
        print(f"CPU: {cpu:.1f} s (this process and local workers), {n / cpu:,.0f} patches per "
              "CPU-second: the rate on free cores, when the machine is shared")  # fmt: skip
        sample = min(n, 50_000)
        plain = plain_rate(layers.protected_areas, sample, Path(tmp) / "plain.csv")
        print(f"plain geopandas sjoin + intersection + distance (less work), {sample:,} patches, "
              f"1 process: {plain:,.0f} patches/s; yzmap/plain rate: {n / took / plain:.2f}x")


def main() -> None:
    """Time overlap_sites on synthetic sites against the protected-area layer in use."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--stream-above", type=int, default=100_000,
                        help="stream (file in, CSV out, in chunks) above this many sites")
    parser.add_argument("--chunk-size", type=int, default=50_000)
    parser.add_argument("--format", choices=("csv", "parquet", "gpkg"), default="csv",
                        help="report format of the streamed run")
    parser.add_argument("--workers", type=int, default=None, help="local Dask worker processes")
    parser.add_argument("--processes", type=int, default=None,
                        help="forked processes (default: as yzmap overlap, usable cores up to 4)")
    parser.add_argument("--scheduler", default=None, help="Dask scheduler tcp://host:port")
    parser.add_argument(
        "--database", default=None,
        help="database URL whose boundary layers in use are measured (default: shipped layers)",
    )
    args = parser.parse_args()
    layers = load_shipped()
    if args.database:
        from sqlalchemy.orm import Session

        from webmap.ledger.boundaries import layers_in_use
        from webmap.ledger.db import make_engine

        with Session(make_engine(args.database)) as session:
            layers = layers_in_use(session)
    if args.sites > args.stream_above:
        bench_streamed(args, layers)
        return
    layer = layers.protected_areas
    sites = make_sites(layer, args.sites)
    n_vertices = int(shapely.get_num_coordinates(layer.frame.geometry.array).sum())
    print(
        f"zones: {len(layer.frame)} features, {layer.frame.pa_code.nunique()} protected areas, "
        f"{n_vertices} vertices ({layer.info.version})"
    )
    t0 = time.perf_counter()
    rows = overlap_sites(sites, layer)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    rows = overlap_sites(sites, layer)
    warm = time.perf_counter() - t0
    counts = rows.relation.value_counts().to_dict()
    print(f"{len(sites)} site polygons -> {len(rows)} rows: {counts}")
    print(
        f"time: {cold:.2f} s cold (zones projected and indexed), {warm:.2f} s warm; target < 10 s"
    )


if __name__ == "__main__":
    main()
