"""Benchmark: 10,000 site polygons against every protected-area zone in use.

Run ``python bench/overlap.py [--sites N] [--store DIR]``. Sites are random squares and
hexagons (100 m - 1 km across); half are centred inside the reserves' bounding boxes so that
many cross zone boundaries (the expensive case), half anywhere in the city. Prints the time of a
cold run (zones projected and indexed) and a warm run, and the relations found. Target: < 10 s.
"""

from __future__ import annotations

import argparse
import time

import geopandas as gpd
import numpy as np
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


def main() -> None:
    """Time overlap_sites on synthetic sites against the protected-area layer in use."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=10_000)
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
