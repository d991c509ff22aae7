"""GridIndex gives the same answers as geopandas.sjoin, boundary points included."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely import Polygon, box

from geo.index import GridIndex

DATA = Path(__file__).resolve().parent.parent / "data"


def sjoin_first(polys: gpd.GeoDataFrame, x, y, predicate: str) -> np.ndarray:
    """Lowest polygon index holding each point according to geopandas.sjoin, -1 for none."""
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=polys.crs)
    joined = gpd.sjoin(pts, polys.reset_index(drop=True), predicate=predicate)
    first = joined.groupby(level=0)["index_right"].min()
    out = np.full(len(x), -1)
    out[first.index.to_numpy()] = first.to_numpy()
    return out


@pytest.fixture(scope="module")
def counties() -> gpd.GeoDataFrame:
    """Tianditu county polygons of Yongzhou (real, generalised)."""
    return gpd.read_file(DATA / "yongzhou_counties_tianditu_cgcs2000.geojson").to_crs(4326)


def test_shared_edge_and_outer_edge_convention():
    """On a shared edge: 'intersects' gives the lower index, 'within' gives none, as sjoin does."""
    polys = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=4326)
    idx = GridIndex(polys.geometry.values)
    x = np.array([1.0, 0.0, 2.0, 0.5, 1.0, 1.0, 2.0000001])
    y = np.array([0.5, 0.5, 1.0, 0.0, 1.0, 0.0, 0.5])
    assert idx.query(x, y, "intersects").tolist() == [0, 0, 1, 0, 0, 0, -1]
    assert idx.query(x, y, "within").tolist() == [-1] * 7
    for predicate in ("intersects", "within"):
        assert idx.query(x, y, predicate).tolist() == sjoin_first(polys, x, y, predicate).tolist()


@pytest.mark.parametrize("predicate", ["intersects", "within"])
@pytest.mark.parametrize("scale", [None, 0.3, 4.0])
def test_random_and_vertex_points_match_sjoin(counties, predicate, scale):
    """Random points plus every polygon vertex and edge midpoint: identical answers to sjoin."""
    geoms = counties.geometry.values
    cell = None
    if scale is not None:  # much finer and much coarser grids than the automatic choice
        probe = GridIndex(geoms)
        cell = (probe.dx * scale, probe.dy * scale)
    idx = GridIndex(geoms, cell)
    rng = np.random.default_rng(42)
    minx, miny, maxx, maxy = counties.total_bounds
    verts = shapely.get_coordinates(shapely.boundary(geoms))
    mids = (verts[:-1] + verts[1:]) / 2
    x = np.concatenate((rng.uniform(minx - 0.1, maxx + 0.1, 20_000), verts[:, 0], mids[:, 0]))
    y = np.concatenate((rng.uniform(miny - 0.1, maxy + 0.1, 20_000), verts[:, 1], mids[:, 1]))
    got = idx.query(x, y, predicate)
    assert np.array_equal(got, sjoin_first(counties, x, y, predicate))
    assert (got >= 0).sum() > 10_000  # the sample really exercises the polygons


def test_overlapping_nested_polygons_lowest_index_wins():
    """Where polygons overlap, every point gets the lowest index containing it."""
    outer, inner = box(0, 0, 10, 10), box(4, 4, 6, 6)
    hole = Polygon(box(0, 0, 10, 10).exterior.coords, [box(2, 2, 8, 8).exterior.coords])
    idx = GridIndex([outer, inner], cell_size=(0.5, 0.5))
    assert idx.query([5.0, 1.0], [5.0, 1.0]).tolist() == [0, 0]
    idx = GridIndex([inner, outer, hole])
    assert idx.query([5.0, 1.0, 3.0, 11.0], [5.0, 1.0, 3.0, 5.0]).tolist() == [0, 1, 1, -1]


def test_multipolygon_hole_and_bad_input():
    """Holes are empty, multipolygon parts answer for their feature, NaN and far points give -1."""
    ring = Polygon(box(0, 0, 4, 4).exterior.coords, [box(1, 1, 3, 3).exterior.coords])
    multi = shapely.MultiPolygon([box(10, 0, 11, 1), box(12, 0, 13, 1)])
    idx = GridIndex([ring, multi])
    got = idx.query([2.0, 0.5, 12.5, 11.5, np.nan, 1e9], [2.0, 0.5, 0.5, 0.5, 1.0, 0.0])
    assert got.tolist() == [-1, 0, 1, -1, -1, -1]


def test_near_mask_marks_cells_around_lines():
    """Points next to a polygon boundary are near; points deep inside are not."""
    idx = GridIndex([box(0, 0, 1, 1), box(1, 0, 2, 1)], cell_size=(0.01, 0.01))
    near = idx.near_mask(np.array([1.005, 0.5, 1.5, 0.99]), np.array([0.5, 0.5, 0.5, 0.5]), 2)
    assert near.tolist() == [True, False, False, True]
