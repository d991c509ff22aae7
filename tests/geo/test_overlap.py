"""Overlap of sites with protected-area zones, checked against pyproj.Geod (GRS80)."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import LineString, Point, box

from geo.boundaries import Layer, load_shipped
from geo.crs import geodesic_area_m2, geodesic_length_m
from geo.errors import GeoError
from geo.models import LayerInfo
from geo.overlap import COLUMNS, overlap_issue_geometries, overlap_sites

GEOD = Geod(ellps="GRS80")
STEP = 1e-4  # densify so straight lines in degrees and in metres describe the same shape
# a reserve whose core zone sits on its eastern edge (lon 111.94), near 双牌 in Yongzhou
CORE = box(111.90, 25.90, 111.94, 25.93)
BUFFER_BOX = box(111.86, 25.86, 111.94, 25.97)
EXPERIMENT_BOX = box(111.82, 25.82, 111.94, 26.01)


def _dense(geom):
    """Return the geometry with vertices every STEP degrees."""
    return shapely.segmentize(geom, STEP)


def _reserve_layer(version: str = "import:2024-01-01:test") -> Layer:
    """Return a three-zone authoritative reserve layer in WGS84."""
    zones = [
        _dense(CORE),
        _dense(BUFFER_BOX.difference(CORE)),
        _dense(EXPERIMENT_BOX.difference(BUFFER_BOX)),
    ]
    frame = gpd.GeoDataFrame(
        {
            "pa_code": ["T1"] * 3,
            "name": ["测试保护区"] * 3,
            "level": ["国家级"] * 3,
            "pa_type": ["自然保护区"] * 3,
            "zone": ["核心区", "缓冲区", "实验区"],
            "zone_scheme": ["reserve3"] * 3,
            "authoritative": [True] * 3,
        },
        geometry=zones,
        crs="EPSG:4326",
    )
    info = LayerInfo(
        name="protected_areas",
        kind="protected_area",
        vintage="2024-01-01",
        authoritative=True,
        zone_scheme="reserve3",
        version=version,
    )
    return Layer(info=info, frame=frame)


def _sites(geoms, **cols) -> gpd.GeoDataFrame:
    """Return a WGS84 site frame with ids s1, s2, ..."""
    data = {"site_id": [f"s{i + 1}" for i in range(len(geoms))], **cols}
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs="EPSG:4326")


def _row(df, site_id, zone):
    """Return the single row for a site and zone."""
    hit = df[(df.site_id == site_id) & (df.zone == zone)]
    assert len(hit) == 1, hit
    return hit.iloc[0]


def test_half_in_core_site_share_matches_geodesic_truth():
    """Must show: a site half in the core zone is partly inside, share within 0.1% of truth."""
    site = _dense(box(111.935, 25.91, 111.945, 25.92))
    df = overlap_sites(_sites([site]), _reserve_layer())
    core = _row(df, "s1", "核心区")
    truth_in = geodesic_area_m2(_dense(box(111.935, 25.91, 111.94, 25.92)))
    truth_share = truth_in / geodesic_area_m2(site)
    assert core.relation == "partly inside"
    assert abs(core.overlap_share - truth_share) / truth_share < 1e-3
    # the correction to the ellipsoid makes it much better than required
    assert abs(core.overlap_share - truth_share) / truth_share < 1e-5
    assert core.overlap_m2 == pytest.approx(truth_in, rel=1e-5)
    assert core.distance_m == 0
    assert core.boundary_distance_m == 0  # it crosses the reserve's edge
    assert core.boundary_version == "import:2024-01-01:test"
    assert "不得建设任何生产设施" in core.rule and "第三十二条" in core.rule_source


def test_distance_to_other_zone_matches_geodesic():
    """The gap from the site to the buffer zone north of the core equals the meridian arc."""
    site = _dense(box(111.935, 25.91, 111.945, 25.92))
    df = overlap_sites(_sites([site]), _reserve_layer())
    buffer_zone = _row(df, "s1", "缓冲区")
    _, _, truth = GEOD.inv(111.937, 25.92, 111.937, 25.93)
    assert buffer_zone.relation == "within buffer 5000 m"
    assert buffer_zone.distance_m == pytest.approx(truth, abs=0.05)
    assert buffer_zone.overlap_share == 0
    assert "环境质量" in buffer_zone.rule  # the perimeter rule, not the buffer zone's own


def test_point_line_and_polygon_relations():
    """Point in the core: inside; line: its length share; far site: one outside row."""
    line = _dense(LineString([(111.93, 25.915), (111.95, 25.915)]))
    far = Point(111.60, 26.40)
    inner = _dense(box(111.91, 25.91, 111.92, 25.92))
    df = overlap_sites(_sites([Point(111.92, 25.915), line, far, inner]), _reserve_layer())
    point = _row(df, "s1", "核心区")
    assert (point.relation, point.overlap_share, point.overlap_m2) == ("inside", 1.0, 0.0)
    core_line = _row(df, "s2", "核心区")
    truth = geodesic_length_m(_dense(LineString([(111.93, 25.915), (111.94, 25.915)])))
    assert core_line.relation == "partly inside"
    assert core_line.overlap_length_m == pytest.approx(truth, rel=1e-5)
    assert core_line.overlap_share == pytest.approx(truth / geodesic_length_m(line), rel=1e-5)
    outside = df[df.site_id == "s3"]
    assert len(outside) == 1 and outside.iloc[0].relation == "outside"
    assert outside.iloc[0].protected_area == "测试保护区" and outside.iloc[0].distance_m > 30_000
    deep = _row(df, "s4", "核心区")
    assert deep.relation == "inside" and deep.overlap_m2 == pytest.approx(
        geodesic_area_m2(inner), rel=1e-5
    )
    # inside the core, 0.02 deg of longitude from the reserve's eastern edge
    _, _, east = GEOD.inv(111.92, 25.915, 111.94, 25.915)
    assert deep.boundary_distance_m == pytest.approx(east, rel=1e-3)
    assert list(df.columns) == COLUMNS


def test_buffers_choose_the_smallest_that_holds():
    """A site 300 m east of the reserve is within the 500 m buffer, not the 1000 m one."""
    lon = 111.94 + 300 / 100_200  # ~300 m east at 25.9N
    site = _dense(box(lon, 25.91, lon + 0.002, 25.912))
    df = overlap_sites(_sites([site]), _reserve_layer(), buffers=(0, 500, 1000))
    assert _row(df, "s1", "核心区").relation == "within buffer 500 m"
    only_inside = overlap_sites(_sites([site]), _reserve_layer(), buffers=(0,))
    assert only_inside.relation.tolist() == ["outside"]


def test_category_rule_and_issue_geometries():
    """A mine in the core gets the mining rule; issue numbers become site ids."""
    df = overlap_issue_geometries(
        {17: Point(111.92, 25.915), 18: None},
        _reserve_layer(),
        names={17: "采石场"},
        categories={17: "mine"},
    )
    core = _row(df, "17", "核心区")
    assert core.site_name == "采石场" and "开矿" in core.rule and core.rule_confidence == "high"
    assert set(df.site_id) == {"17"}


def test_ledger_categories_get_their_zone_rules():
    """Ledger categories resolve through the category map; an unknown one says it fell back."""
    df = overlap_issue_geometries(
        {"XS-01": Point(111.92, 25.915), "XS-02": Point(111.921, 25.916)},
        _reserve_layer(),
        categories={"XS-01": "小水电清理整改", "XS-02": "噪声扰民"},
    )
    hydro = _row(df, "XS-01", "核心区")
    assert hydro.rule_category == "hydropower" and "水电站" in hydro.rule
    assert hydro.rule_note == "类别“小水电清理整改”→ hydropower（类别对照表：精确匹配）"
    other = _row(df, "XS-02", "核心区")
    assert other.rule_category == "*" and "不在类别对照表中" in other.rule_note
    assert other.rule != hydro.rule
    # beyond the reserve the buffer row holds the perimeter rule (no hydropower row there)
    near = _row(df, "XS-01", "缓冲区")
    assert near.relation.startswith("within buffer") and near.rule_category == "*"
    assert "没有该类专门规则" in near.rule_note


def test_illustrative_layer_is_labelled():
    """Results on the shipped illustrative layer say 示意 and name its version."""
    shipped = load_shipped().protected_areas
    df = overlap_sites(_sites([Point(111.9, 26.08)]), shipped)
    assert (df.boundary_note == "示意（非权威边界）").all()
    assert not df.boundary_authoritative.any()
    assert (df.boundary_version == shipped.info.version).all()


def test_bad_input_named():
    """A missing CRS or column is a clear error."""
    with pytest.raises(GeoError, match="没有坐标系"):
        overlap_sites(gpd.GeoDataFrame(geometry=[Point(0, 0)]), _reserve_layer())
    with pytest.raises(GeoError, match="site_name_col='名称'"):
        overlap_sites(_sites([Point(111.92, 25.915)]), _reserve_layer(), site_name_col="名称")
