"""Benchmark: GridIndex point-in-polygon against geopandas.sjoin on the shipped layers.

1,000,000 random points over the city's bounding box are attributed to the county layer, a
synthetic township-sized layer (195 Voronoi cells clipped to the city) and the illustrative
protected-area zone layer. Answers must be identical to ``sjoin(predicate="intersects")``
(lowest polygon index per point). Run: ``.venv/bin/python bench/attribution.py [N]``.
"""

from __future__ import annotations

import sys
import time

import geopandas as gpd
import numpy as np
import shapely

from geo.boundaries import load_shipped
from geo.index import GridIndex
from geo.lookup import attribute_points

N_TOWNSHIPS = 195
SEED = 20210306


def synthetic_townships(city, n: int = N_TOWNSHIPS, seed: int = SEED) -> gpd.GeoDataFrame:
    """About ``n`` Voronoi cells from random seeds inside the city, clipped to its outline."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = city.bounds
    seeds = []
    while len(seeds) < n:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if shapely.contains_xy(city, x, y):
            seeds.append((x, y))
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=city))
    clipped = shapely.intersection(cells, city)
    clipped = clipped[~shapely.is_empty(clipped)]
    return gpd.GeoDataFrame({"code": [f"T{i:03d}" for i in range(len(clipped))]},
                            geometry=clipped, crs="EPSG:4326")


def sjoin_first(polys: gpd.GeoDataFrame, points: gpd.GeoDataFrame) -> np.ndarray:
    """Lowest polygon index per point by geopandas.sjoin (intersects), -1 where none."""
    joined = gpd.sjoin(points, polys, predicate="intersects", how="inner")
    first = joined.groupby(level=0)["index_right"].min()
    out = np.full(len(points), -1, dtype=np.int64)
    out[first.index.to_numpy()] = first.to_numpy()
    return out


def _best(run, repeat: int = 3):
    """Best wall time of ``repeat`` runs (the machine is shared) and the last result."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - t0)
    return min(times), result


def bench_layer(name: str, polys: gpd.GeoDataFrame, x, y, points) -> float:
    """Time grid build, grid query and sjoin on one layer; check answers; return the ratio."""
    polys = polys.reset_index(drop=True)
    build, index = _best(lambda: GridIndex(polys.geometry.values))
    grid_s, got = _best(lambda: index.query(x, y))
    sjoin_s, want = _best(lambda: sjoin_first(polys[["geometry"]], points))
    if not np.array_equal(got, want):
        raise AssertionError(f"{name}: {(got != want).sum()} points differ from sjoin")
    n = len(x)
    grid_rate, sjoin_rate = n / grid_s, n / sjoin_s
    mixed = float(np.mean(index.state[index.cell_index(x, y)[0]] <= -2))
    print(f"{name:<16} {len(polys):>4} polygons {index.nx}x{index.ny} cells  "
          f"build {build:6.3f} s  grid {grid_rate:>12,.0f} pts/s  "
          f"sjoin {sjoin_rate:>10,.0f} pts/s  ratio {grid_rate / sjoin_rate:5.1f}x  "
          f"(incl. build {n / (grid_s + build) / sjoin_rate:4.1f}x; {mixed:.1%} pts exact-tested; "
          f"{int((got >= 0).sum()):,} hits, identical)")
    return grid_rate / sjoin_rate


def main(n: int = 1_000_000) -> None:
    """Run the benchmark on ``n`` points and print one line per layer plus the full pipeline."""
    layers = load_shipped()
    city = shapely.union_all(layers.counties.frame.geometry.values)
    rng = np.random.default_rng(SEED)
    minx, miny, maxx, maxy = city.bounds
    x, y = rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs="EPSG:4326")
    _ = points.sindex  # sjoin builds this tree once and reuses it; build it before timing
    print(f"{n:,} random points over the city bbox {minx:.2f}-{maxx:.2f}E {miny:.2f}-{maxy:.2f}N")
    ratios = [
        bench_layer("counties", layers.counties.frame, x, y, points),
        bench_layer("townships(syn)", synthetic_townships(city), x, y, points),
        bench_layer("protected_zones", layers.protected_areas.frame, x, y, points),
    ]
    t0 = time.perf_counter()
    res = attribute_points(layers, x, y)
    t1 = time.perf_counter()
    print(f"attribute_points (county + zone + near-border distances, warm indexes): "
          f"{n / (t1 - t0):,.0f} pts/s, {int(res.near_border.sum()):,} near a county line")
    print(f"ratio grid/sjoin: min {min(ratios):.1f}x, "
          f"overall {len(ratios) / sum(1 / r for r in ratios):.1f}x (harmonic mean)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
