"""Attribution of points, lines and polygons on the synthetic layers."""

from __future__ import annotations

import numpy as np
import pytest
from shapely import LineString, Point, box

from geo.lookup import CLEAR_MAJORITY, attribute_geometry, attribute_points, point_attribution


def test_points_get_county_township_and_zone(synthetic_layers):
    """Points inside each area get its row; zones win over the unzoned reserve outline."""
    lon = np.array([111.52, 111.58, 111.61, 111.651, 111.665, 111.675, 111.69, 112.5])
    lat = np.array([26.05, 26.05, 26.05, 26.05, 26.05, 26.05, 26.095, 26.05])
    res = attribute_points(synthetic_layers, lon, lat)
    assert res.county.tolist() == [0, 0, 1, 1, 1, 1, 1, -1]
    assert res.township.tolist() == [0, 1, 2, 3, 3, 3, 3, -1]
    zones = synthetic_layers.protected_areas.frame["zone"]
    got = [zones.iat[p] if p >= 0 else "-" for p in res.protected_area]
    assert got == ["-", "-", "-", "核心区", "缓冲区", "实验区", "-", "-"]
    assert res.outside_city.tolist() == [False] * 7 + [True]


def test_point_on_county_line_is_near_border_not_outside(synthetic_layers):
    """A point exactly on the shared line goes to the first county, flagged near_border at 0 m."""
    res = attribute_points(synthetic_layers, np.array([111.6]), np.array([26.05]))
    att = point_attribution(synthetic_layers, res, 0, 111.6, 26.05)
    assert (att.county_code, att.flags) == ("900001", ["near_border"])
    assert att.candidates == ["甲县", "乙县"]
    assert att.confidence == 0.5
    assert "距甲县/乙县界线约 0 米（图层精度 200 米），请核实" in att.evidence
    assert att.evidence[0] == "坐标落在县界图层（版本 test:counties）的甲县范围内"


@pytest.mark.parametrize(("dlon", "near"), [(0.0015, True), (0.0025, False)])
def test_near_border_uses_layer_accuracy(synthetic_layers, dlon, near):
    """Near border means within the county layer's positional accuracy (200 m here, ~0.002 deg)."""
    res = attribute_points(synthetic_layers, np.array([111.6 + dlon]), np.array([26.05]))
    assert bool(res.near_border[0]) is near
    if near:
        assert 140 < res.border_distance_m[0] < 160
        assert res.neighbour[0] == 0
        att = point_attribution(synthetic_layers, res, 0)
        assert 0.5 < att.confidence < 0.98
        assert att.evidence[1].startswith("距乙县/甲县界线约 15")


def test_outside_point_near_city_edge(synthetic_layers):
    """A point just outside the city is outside_city with no county, and near the outer line."""
    res = attribute_points(synthetic_layers, np.array([111.499]), np.array([26.05]))
    att = point_attribution(synthetic_layers, res, 0)
    assert att.county_code is None and att.confidence == 0.0
    assert att.flags == ["outside_city", "near_border"]
    assert att.evidence[1].startswith("距市界（甲县外沿）约 ")


def test_line_across_two_counties_70_30(synthetic_layers):
    """A line 70% in 甲县 and 30% in 乙县 gets both shares, 甲县 as county, not ambiguous."""
    att = attribute_geometry(synthetic_layers, LineString([(111.53, 26.05), (111.63, 26.05)]))
    shares = {s.name: s.share for s in att.county_shares}
    assert shares == pytest.approx({"甲县": 0.7, "乙县": 0.3}, abs=0.002)
    assert att.county_code == "900001" and att.candidates == ["甲县", "乙县"]
    assert "ambiguous" not in att.flags and "near_border" in att.flags
    assert att.confidence == pytest.approx(0.98 * 0.7, abs=0.01)


def test_polygon_split_evenly_is_ambiguous(synthetic_layers):
    """A polygon 50/50 across the line has no clear majority (< CLEAR_MAJORITY)."""
    att = attribute_geometry(synthetic_layers, box(111.59, 26.01, 111.61, 26.02))
    assert max(s.share for s in att.county_shares) < CLEAR_MAJORITY
    assert "ambiguous" in att.flags


def test_polygon_in_reserve_zones(synthetic_layers):
    """A polygon over three zones names the zone with the largest overlap."""
    att = attribute_geometry(synthetic_layers, box(111.655, 26.045, 111.675, 26.055))
    assert (att.county_name, att.township_name) == ("乙县", "乙东乡")
    assert (att.protected_area, att.zone) == ("示例自然保护区", "缓冲区")
    pa = [e for e in att.evidence if e.startswith("与自然保护地重叠")][0]
    assert "示意" in pa and "核心区 25%" in pa and "缓冲区 50%" in pa and "实验区 25%" in pa
    assert att.flags == []


def test_geometry_outside_and_partly_outside(synthetic_layers):
    """Wholly outside: outside_city, no county; partly outside: the outside share is stated."""
    att = attribute_geometry(synthetic_layers, box(112.0, 26.0, 112.1, 26.1))
    assert att.flags == ["outside_city"] and att.county_code is None
    att = attribute_geometry(synthetic_layers, box(111.45, 26.04, 111.55, 26.06))
    assert att.county_name == "甲县" and att.county_shares[0].share == pytest.approx(0.5, abs=0.01)
    assert "50%的面积位于永州市以外" in att.evidence


def test_point_geometry_and_empty(synthetic_layers):
    """A Point geometry is attributed like a coordinate pair; an empty geometry is an error."""
    att = attribute_geometry(synthetic_layers, Point(111.52, 26.05))
    assert (att.county_name, att.township_name, att.precision) == ("甲县", "甲西镇", "coordinates")
    assert att.confidence == 0.98
    assert attribute_geometry(synthetic_layers, Point()).error
