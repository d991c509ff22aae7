"""Constraint layers (#16): water-source, red-line and farmland imports, one overlap check."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from pyproj import Geod

from geo.boundaries import load_shipped, make_layer
from geo.constraints import (
    format_constraints,
    missing_kinds,
    overlap_constraints,
    touched,
    zones_at_points,
)
from geo.errors import ImportFileError
from geo.importer import read_boundary_file
from geo.models import LayerInfo
from tests.data.constraint_layers import (
    farmland_frame,
    redline_frame,
    sites_frame,
    water_source_frame,
    write,
)

FRAMES = {"water_source": water_source_frame, "redline": redline_frame, "farmland": farmland_frame}
GEOD = Geod(ellps="GRS80")


def _layers(tmp_path, kinds=("water_source", "redline")):
    """Return the shipped layers with the test constraint layers imported from GeoPackages."""
    layers = load_shipped()
    for kind in kinds:
        path = write(FRAMES[kind](), tmp_path, kind, "gpkg")
        layers = layers.replace(read_boundary_file(path, kind=kind).layer)
    return layers


@pytest.mark.parametrize("kind", sorted(FRAMES))
@pytest.mark.parametrize("fmt", ["shp", "gpkg"])
@pytest.mark.parametrize("crs", ["EPSG:4546", "EPSG:4326"])
def test_each_kind_imports_from_shapefile_zip_and_geopackage(tmp_path, kind, fmt, crs):
    """Every new kind reads from a zipped Shapefile and a GeoPackage in Gauss-Kruger and WGS84."""
    path = write(FRAMES[kind](crs), tmp_path, kind, fmt)
    result = read_boundary_file(path, kind=kind)
    frame, info = result.layer.frame, result.layer.info
    assert info.kind == kind and info.name == kind and info.zone_scheme == kind
    assert result.report.crs == crs and not result.report.crs_guessed
    assert frame.crs.equals("EPSG:4326") and set(frame["zone_scheme"]) == {kind}
    expected = FRAMES[kind]("EPSG:4326")
    # the polygons come back where they were written (Shapefiles reorder rings: compare shapes)
    got, want = frame.geometry.values[0], expected.geometry.values[0]
    assert shapely.hausdorff_distance(got, want) < 1e-7  # degrees: about a centimetre
    if kind == "water_source":
        assert list(frame["zone"]) == ["一级保护区", "二级保护区", "准保护区"]
        assert result.report.field_map == {"name": "SYDMC", "zone": "BHQJB", "river": "STMC",
                                           "serves": "GSDX", "approval": "PFWH"}  # fmt: skip
        assert set(frame["river"]) == {"潇水"} and set(frame["serves"]) == {"零陵区城区"}
    elif kind == "redline":
        assert list(frame["zone"]) == ["生态保护红线"]
        assert frame["unit_code"].iat[0] == "431102-TEST-01"
        assert frame["redline_type"].iat[0] == "水源涵养"
    else:
        assert list(frame["zone"]) == ["永久基本农田"] and frame["pa_code"].iat[0] == "JBNT-0001"


def test_a_bad_water_zone_names_feature_field_and_value(tmp_path):
    """A zone value outside 一级/二级/准保护区 is refused with the feature, field and value."""
    frame = water_source_frame()
    frame.loc[1, "BHQJB"] = "三级保护区"
    path = write(frame, tmp_path, "bad", "gpkg")
    with pytest.raises(ImportFileError, match=r"要素 #2（测试水源.*'BHQJB' 值 '三级保护区'"):
        read_boundary_file(path, kind="water_source")


def test_a_water_file_without_zone_column_is_refused(tmp_path):
    """The zone is required for water sources: the message says which field is missing."""
    path = write(water_source_frame().drop(columns="BHQJB"), tmp_path, "nozone", "gpkg")
    with pytest.raises(ImportFileError, match="找不到字段 zone"):
        read_boundary_file(path, kind="water_source")


def _geodesic_area(geom) -> float:
    """Area in m² on GRS80 of a WGS84 polygon."""
    return abs(GEOD.geometry_area_perimeter(geom)[0])


def test_site_half_in_first_and_half_in_second_zone_shares_match_the_geodesic(tmp_path):
    """Each zone gets a row with area and share that agree with pyproj.Geod, rule and source."""
    layers = _layers(tmp_path)
    sites = sites_frame()
    rows = overlap_constraints(sites.iloc[[0]], layers, category_col="category")
    water = touched(rows[rows["layer_kind"] == "water_source"]).set_index("zone")
    assert set(water.index) == {"一级保护区", "二级保护区"}
    site = sites.geometry.iat[0]
    zones = layers.water_source.frame.set_index("zone").geometry
    for zone in ("一级保护区", "二级保护区"):
        expected = _geodesic_area(site.intersection(zones[zone]))
        assert water.at[zone, "overlap_m2"] == pytest.approx(expected, rel=1e-4)
        assert water.at[zone, "overlap_share"] == pytest.approx(
            expected / _geodesic_area(site), abs=1e-4)
        assert water.at[zone, "relation"] == "partly inside"
    assert water.at["一级保护区", "overlap_share"] == pytest.approx(0.5, abs=1e-3)
    # 畜禽养殖 resolves to the livestock rows, each with its legal source
    assert "第六十五条" in water.at["一级保护区", "rule_source"]
    assert "第六十六条" in water.at["二级保护区", "rule_source"]
    assert water["rule"].str.contains("畜禽养殖场").all()
    assert "河流/水库：潇水" in water.at["一级保护区", "detail"]


def test_site_in_a_reserve_and_a_water_source_gets_both_rows_and_rules(tmp_path):
    """One site, two layers: a reserve's core zone and a 二级保护区 row, each with its own rule."""
    water = water_source_frame("EPSG:4326")
    core = water.geometry.iat[1].buffer(0.001)  # the reserve's core covers the whole 二级 ring
    reserve = gpd.GeoDataFrame({"pa_code": ["T-1"], "name": ["测试保护区"], "level": ["县级"],
                                "pa_type": ["自然保护区"], "zone": ["核心区"],
                                "zone_scheme": ["reserve3"]}, geometry=[core], crs="EPSG:4326")
    info = LayerInfo(name="protected_areas", kind="protected_area", vintage="2024",
                     authoritative=True, source="test", source_crs="EPSG:4326",
                     zone_scheme="reserve3",
                     version="test:reserve")  # fmt: skip
    layers = _layers(tmp_path, ("water_source",)).replace(make_layer(reserve, info))
    site = sites_frame().iloc[[0]]
    rows = touched(overlap_constraints(site, layers, category_col="category"))
    kinds = dict(zip(rows["layer_kind"] + "/" + rows["zone"], rows["rule_source"], strict=True))
    assert "自然保护区条例" in kinds["protected_area/核心区"] or "畜禽" in kinds[
        "protected_area/核心区"]
    assert "第六十六条" in kinds["water_source/二级保护区"]
    assert "第六十五条" in kinds["water_source/一级保护区"]
    assert set(rows["boundary_version"]) == {"test:reserve", layers.water_source.info.version}


def test_without_imported_layers_the_check_runs_and_names_what_is_missing():
    """Only the shipped protected areas are checked; the three imported-only kinds are missing."""
    layers = load_shipped()
    assert missing_kinds(layers) == ["water_source", "redline", "farmland"]
    rows = overlap_constraints(sites_frame(), layers)
    assert set(rows["layer_kind"]) == {"protected_area"}
    assert len(set(rows["site_index"])) == 3  # every site has at least its "outside" row


def test_points_list_every_zone_they_lie_in(tmp_path):
    """The locate path: a point in the 一级 zone and a wetland zone, one in the red line."""
    layers = _layers(tmp_path)
    points = sites_frame().geometry.representative_point()
    found = zones_at_points(layers, points.x, points.y)
    assert ("water_source", "测试水源(潇水)", "一级保护区") in found[0]
    assert any(k == "protected_area" for k, _, _ in found[0])
    assert format_constraints(found[1]) == "redline:测试红线单元:生态保护红线"
    assert found[2] == []
