"""A page's constraints answered per (zones, category) equal the spatial join's for each issue."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo.boundaries import load_shipped
from webmap.ledger import constraints
from webmap.ledger.point_constraints import page_constraints


@pytest.fixture(scope="module")
def layers():
    """Return the shipped layers (illustrative protected areas with their zones)."""
    return load_shipped()


def _page(layers):
    """Return lon, lat, shapes, categories: points in, on the edge of, near zones; a polygon."""
    zones = layers.constraint_layers()["protected_area"].frame.geometry
    rng = np.random.default_rng(16)
    points = []
    for zone in list(zones)[:6]:
        minx, miny, maxx, maxy = zone.bounds
        vertex = shapely.get_coordinates(zone)[0]  # on the zone's edge
        points += [zone.representative_point(), shapely.Point(vertex)]
        points += list(shapely.points(rng.uniform(minx, maxx, 8), rng.uniform(miny, maxy, 8)))
    lon = np.array([p.x for p in points] + [np.nan, 111.0])
    lat = np.array([p.y for p in points] + [np.nan, 24.0])
    box = shapely.box(*zones.iloc[0].bounds)
    shapes = {len(lon): box}
    lon, lat = np.append(lon, 0.0), np.append(lat, 0.0)
    categories = [("畜禽养殖", "小水电清理整改", None)[i % 3] for i in range(len(lon))]
    return lon, lat, shapes, categories


def _one_by_one(lon, lat, shapes, categories, layers) -> list:
    """Return each row's constraints from ``issue_constraints`` alone (the reference)."""
    rows = enumerate(zip(lon, lat, strict=True))
    geoms = {str(i): shapes.get(i, shapely.Point(x, y)) for i, (x, y) in rows
             if i in shapes or x == x}  # fmt: skip
    cats = {str(i): c for i, c in enumerate(categories)}
    found = constraints.issue_constraints(geoms, layers, cats)
    return [found.get(str(i), []) for i in range(len(lon))]


def test_page_equals_the_join_per_issue(layers):
    """Every row gets exactly the entries the join gives it alone, again from the cache."""
    lon, lat, shapes, categories = _page(layers)
    want = _one_by_one(lon, lat, shapes, categories, layers)
    assert sum(1 for w in want if w) > 20  # the page does meet zones
    for _ in range(2):  # the second time the stand-in points are cached
        got = page_constraints(lon, lat, shapes, categories, layers)
        assert [list(g) for g in got] == want


def test_rows_do_not_share_entries(layers):
    """Two issues in the same zone get equal, separate entry dicts."""
    zone = layers.constraint_layers()["protected_area"].frame.geometry.iloc[0]
    p = zone.representative_point()
    got = page_constraints(np.array([p.x, p.x]), np.array([p.y, p.y]), {}, [None, None], layers)
    assert got[0] == got[1] and got[0]
    got[0][0]["detail"] = "changed"
    assert got[1][0]["detail"] != "changed"
