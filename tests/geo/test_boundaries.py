"""The shipped boundary layers in data/boundaries/ and the script that builds them."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import Point

from geo.boundaries import DATA_DIR, load_shipped, read_manifest
from geo.crs import to_metric, wgs84_to_gcj02
from geo.models import LayerInfo

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = {
    "431102": "零陵区", "431103": "冷水滩区", "431122": "东安县", "431123": "双牌县",
    "431124": "道县", "431125": "江永县", "431126": "宁远县", "431127": "蓝山县",
    "431128": "新田县", "431129": "江华瑶族自治县", "431181": "祁阳市",
}
# county seats (government sites, WGS84, to ~0.01 deg) checked against the data
SEATS = [
    ("431102", 111.62, 26.22), ("431103", 111.59, 26.46), ("431124", 111.60, 25.53),
    ("431126", 111.95, 25.57), ("431129", 111.58, 25.18), ("431181", 111.84, 26.58),
    ("431122", 111.31, 26.39), ("431123", 111.66, 25.96), ("431125", 111.34, 25.27),
    ("431127", 112.19, 25.37), ("431128", 112.22, 25.91),
]


def load_script(name: str):
    """Import a module from scripts/ by file path (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def layers():
    """The shipped layer set, loaded once for this module."""
    return load_shipped()


@pytest.fixture(scope="module")
def build():
    """The build script as a module."""
    return load_script("build_boundaries")


def metres(frame):
    """Return a GeoDataFrame's geometries in EPSG:4546 (metres), indexed by code."""
    key = "code" if "code" in frame else "pa_code"
    return frame.set_index(key).to_crs("EPSG:4546").geometry


def test_counties_have_current_codes_and_names(layers):
    """The county layer holds the 11 units under their current codes and official names."""
    frame = layers.counties.frame
    assert dict(zip(frame["code"], frame["name"], strict=True)) == EXPECTED
    assert set(frame["parent_code"]) == {"431100"}
    qiyang = frame.set_index("code").loc["431181"]
    assert qiyang["source_code"] == "431121"  # AMap still files it under 祁阳县's old code
    assert "祁阳县" in qiyang["aliases"].split(";")


def test_tianditu_reference_has_the_same_units(layers):
    """The Tianditu reference layer keys the same units by the same codes."""
    frame = layers.extra["counties_tianditu"].frame
    assert dict(zip(frame["code"], frame["name"], strict=True)) == EXPECTED
    assert layers.extra["counties_tianditu"].info.vintage == "2023-12"


def test_city_outline_covers_the_counties_without_gaps(layers):
    """The city outline covers every county and has the area of all of them together."""
    city = metres(layers.city.frame).iloc[0]
    counties = metres(layers.counties.frame)
    for code, geom in counties.items():
        assert geom.difference(city).area < 1.0, code  # m², i.e. only grid-snapping noise
    assert abs(counties.area.sum() - city.area) / city.area < 1e-6  # no overlaps, no gaps


def test_all_features_are_valid(layers):
    """Every feature of every shipped layer is a valid, non-empty polygon in EPSG:4326."""
    for layer in [layers.city, layers.counties, layers.protected_areas, *layers.extra.values()]:
        frame = layer.frame
        assert frame.crs.to_string() == "EPSG:4326", layer.info.name
        assert frame.is_valid.all() and not frame.is_empty.any(), layer.info.name
        assert set(frame.geom_type) == {"MultiPolygon"}, layer.info.name


@pytest.mark.parametrize(("code", "lon", "lat"), SEATS)
def test_county_seat_falls_in_its_county(layers, code, lon, lat):
    """A county seat lies in its own county, in both the AMap and the Tianditu layers."""
    for layer in (layers.counties, layers.extra["counties_tianditu"]):
        hits = layer.frame[layer.frame.contains(Point(lon, lat))]
        assert list(hits["code"]) == [code], layer.info.name


def test_manifest_entries_match_layerinfo():
    """Every layers.json entry has exactly the LayerInfo fields plus file/fields/description."""
    allowed = set(LayerInfo.__dataclass_fields__) | {"file", "fields", "description"}
    for entry in read_manifest():
        assert set(entry) <= allowed, entry["name"]
        assert (DATA_DIR / entry["file"]).exists()


def boundary_distances(reference, other) -> np.ndarray:
    """Distances from the vertices of ``reference``'s boundary to ``other``'s boundary."""
    return shapely.distance(shapely.points(shapely.get_coordinates(reference.boundary)),
                            other.boundary)


def test_converted_amap_agrees_with_tianditu_better_than_raw_gcj02(layers):
    """Converted AMap shapes match Tianditu closely; put back into GCJ-02 they match worse."""
    amap = layers.counties.frame.set_index("code").geometry
    tdt = metres(layers.extra["counties_tianditu"].frame)
    to_gcj = lambda c: np.column_stack(wgs84_to_gcj02(c[:, 0], c[:, 1]))  # noqa: E731
    with open(DATA_DIR / "amap_vs_tianditu.csv", encoding="utf-8") as fh:
        shipped = {r["code"]: r for r in csv.DictReader(fh)}
    for code, geom in amap.items():
        # AMap's own GCJ-02 shape, recovered with geo's forward formula
        conv, raw = to_metric(geom), to_metric(shapely.transform(geom, to_gcj))
        ref = tdt.loc[code]
        iou_conv = conv.intersection(ref).area / conv.union(ref).area
        iou_raw = raw.intersection(ref).area / raw.union(ref).area
        assert iou_conv > 0.95 and iou_conv > iou_raw + 0.02, code
        median_conv = np.median(boundary_distances(ref, conv))
        median_raw = np.median(boundary_distances(ref, raw))
        assert median_conv < 250 and median_raw > 1.5 * median_conv, code
        # the comparison table shipped with the data is what these files give
        assert abs(float(shipped[code]["iou_converted"]) - iou_conv) < 1e-3, code
        assert abs(float(shipped[code]["iou_raw_gcj02"]) - iou_raw) < 1e-3, code


def test_county_accuracy_is_the_measured_disagreement(layers):
    """The stated accuracy of the county layer is the median AMap-Tianditu vertex distance."""
    amap = metres(layers.counties.frame)
    tdt = metres(layers.extra["counties_tianditu"].frame)
    distances = np.concatenate([boundary_distances(tdt.loc[c], amap.loc[c]) for c in EXPECTED])
    stated = layers.counties.info.positional_accuracy_m
    assert np.median(distances) <= stated < np.median(distances) + 10
    assert layers.extra["counties_tianditu"].info.positional_accuracy_m > stated


def test_illustrative_layer_is_flagged_and_sized_to_published_areas(layers):
    """Illustrative zones say 示意, are never authoritative and add up to the published area."""
    layer = layers.protected_areas
    frame = layer.frame
    assert layer.info.authoritative is False and layer.info.version.startswith("illustrative:")
    assert layer.info.zone_scheme == "mixed"
    assert (frame["authoritative"] == False).all()  # noqa: E712  (a column, not a truth test)
    assert frame["illustrative_note"].str.contains("示意").all()
    areas = metres(frame).area.groupby(level=0).sum() / 1e4
    published = frame.groupby("pa_code")["area_ha_published"].first().dropna()
    assert len(published) == 5  # 都庞岭, 九嶷山, 阳明山, 零陵潇水, 祁阳浯溪
    for pa_code, area_ha in published.items():
        assert abs(areas[pa_code] - area_ha) / area_ha < 0.01, pa_code


def test_illustrative_zones_tile_and_stay_in_their_counties(layers):
    """Zones of one area do not overlap and lie inside the counties the area belongs to."""
    frame = layers.protected_areas.frame
    counties = metres(layers.counties.frame)
    zones = frame.to_crs("EPSG:4546")
    expected = {"reserve3": {"核心区", "缓冲区", "实验区"},
                "wetland": {"保育区", "恢复重建区", "合理利用区"}}
    for pa_code, group in zones.groupby("pa_code"):
        assert set(group["zone"]) == expected[group["zone_scheme"].iloc[0]], pa_code
        geoms = list(group.geometry)
        overlap = sum(a.intersection(b).area for i, a in enumerate(geoms) for b in geoms[i + 1:])
        assert overlap < 1e-6 * sum(g.area for g in geoms), pa_code  # grid-snapping noise only
        codes = group["county_codes"].iloc[0].split(";")
        home = shapely.union_all([counties.loc[c] for c in codes])
        assert shapely.union_all(geoms).difference(home).area < 10.0, pa_code


def test_protected_area_list_marks_shunhuangshan_outside():
    """舜皇山 national reserve is listed as outside Yongzhou and is not drawn."""
    with open(DATA_DIR / "protected_areas.csv", encoding="utf-8") as fh:
        rows = {r["name"]: r for r in csv.DictReader(fh)}
    shs = rows["湖南舜皇山国家级自然保护区"]
    assert shs["in_yongzhou"] == "no" and shs["county_codes"] == "" and shs["illustrative"] == "no"
    drawn = json.loads((DATA_DIR / "protected_areas_illustrative.geojson").read_text("utf-8"))
    assert shs["pa_code"] not in {f["properties"]["pa_code"] for f in drawn["features"]}
    assert rows["湖南都庞岭国家级自然保护区"]["county_codes"] == "431124;431125"


def test_bad_area_in_the_list_names_line_and_field():
    """A malformed area in the compiled list is reported with its line, field and value."""
    ia = load_script("illustrative_areas")
    row = {"name": "湖南九嶷山国家级自然保护区", "counties": "宁远县", "in_yongzhou": "yes",
           "area_ha": "about ten thousand", "level": "国家级", "pa_type": "自然保护区",
           "established": "", "national_year": "", "zoning": "", "published_extent": "",
           "confidence": "", "sources": ""}
    with pytest.raises(ValueError, match=r"line 7: field area_ha: .*'about ten thousand'"):
        ia.normalise_pa_row(7, row, {"宁远县": "431126"})


@pytest.mark.parametrize("name", ["counties.geojson", "counties_tianditu.geojson", "city.geojson",
                                  "protected_areas_illustrative.geojson"])
def test_serialisation_is_canonical(build, name):
    """Re-serialising a shipped file with the build's writer reproduces it byte for byte."""
    text = (DATA_DIR / name).read_text(encoding="utf-8")
    data = json.loads(text)
    features = [(f["properties"], shapely.geometry.shape(f["geometry"])) for f in data["features"]]
    assert build.render_geojson(data["name"], features) == text


@pytest.mark.slow
def test_rebuild_is_byte_identical(build):
    """Rebuilding from the cached wheels gives the shipped files byte for byte."""
    cache = DATA_DIR / ".cache"
    if not all((cache / wheel).exists() for _, wheel, _ in build.WHEELS.values()):
        pytest.skip("wheels not downloaded; run scripts/build_boundaries.py once")
    assert build.check_rebuild(cache) == []
