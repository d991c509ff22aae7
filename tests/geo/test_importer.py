"""Importer tests on real files written here: zipped Shapefile, GeoPackage, GeoJSON, KML, KMZ."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import Polygon, box

from geo.crs import geodesic_area_m2
from geo.errors import CRSNeedsConfirmation, ImportFileError
from geo.importer import read_boundary_file, read_sites_file
from geo.importing.archive import extract_archive

GEOD = Geod(ellps="GRS80")
CORE = box(111.90, 25.90, 111.94, 25.93)
BUFFER = box(111.88, 25.88, 111.96, 25.95).difference(CORE)
EXPERIMENT = box(111.86, 25.86, 111.98, 25.97).difference(box(111.88, 25.88, 111.96, 25.95))


def _reserve(**columns) -> gpd.GeoDataFrame:
    """Return the three-zone test reserve in WGS84 with survey-style column names."""
    data = {
        "BHQMC": ["阳明山测试保护区"] * 3,
        "GNFQ": ["核心区", "缓冲区", "实验区"],
        "JB": ["国家级"] * 3,
    }
    data.update(columns)
    geoms = [shapely.segmentize(g, 0.002) for g in (CORE, BUFFER, EXPERIMENT)]
    return gpd.GeoDataFrame(data, geometry=geoms, crs="EPSG:4326")


def _zip_shapefile(
    frame: gpd.GeoDataFrame,
    tmp: Path,
    *,
    crs: str,
    keep_prj: bool,
    name: str = "reserve",
    encoding: str = "GBK",
) -> Path:
    """Write ``frame`` as a Shapefile in ``crs`` (GBK, no .cpg) and zip it, with or without .prj."""
    folder = tmp / f"{name}_shp"
    folder.mkdir()
    frame.to_crs(crs).to_file(folder / f"{name}.shp", encoding=encoding)
    (folder / f"{name}.cpg").unlink()  # Chinese survey files rarely carry one
    if not keep_prj:
        (folder / f"{name}.prj").unlink()
    out = tmp / f"{name}.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, f.name)
    return out


def _max_vertex_gap_m(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> float:
    """Return the largest geodesic gap from a vertex of ``a`` to the nearest vertex of ``b``.

    Writers may reorder rings (Shapefiles want clockwise exteriors), so vertices are matched by
    proximity within each feature rather than by position.
    """
    worst = 0.0
    assert len(a) == len(b)
    for ga, gb in zip(a.geometry, b.geometry, strict=False):
        ca, cb = shapely.get_coordinates(ga), shapely.get_coordinates(gb)
        assert len(np.unique(ca, axis=0)) == len(np.unique(cb, axis=0))
        nearest = cb[np.argmin(((ca[:, None, :] - cb[None, :, :]) ** 2).sum(axis=2), axis=1)]
        _, _, dist = GEOD.inv(ca[:, 0], ca[:, 1], nearest[:, 0], nearest[:, 1])
        worst = max(worst, float(np.max(dist)))
    return worst


def test_zipped_shapefile_without_prj_needs_confirmation(tmp_path):
    """EPSG:4525 metres (zone prefix 37) without .prj: guessed, so confirmation is required."""
    path = _zip_shapefile(_reserve(), tmp_path, crs="EPSG:4525", keep_prj=False)
    with pytest.raises(CRSNeedsConfirmation, match="EPSG:4525") as err:
        read_boundary_file(path, kind="protected_area")
    assert err.value.guess == "EPSG:4525"
    result = read_boundary_file(path, kind="protected_area", confirm_crs=True, vintage="2023-06-30")
    report = result.report
    assert (report.crs, report.crs_guessed) == ("EPSG:4525", True)
    assert "推断" in report.crs_method
    assert report.field_map == {"name": "BHQMC", "level": "JB", "zone": "GNFQ"}
    frame = result.layer.frame
    assert frame.zone.tolist() == ["核心区", "缓冲区", "实验区"]
    assert set(frame.name) == {"阳明山测试保护区"}  # GBK attributes decoded without a .cpg
    assert result.layer.info.authoritative and result.layer.info.vintage == "2023-06-30"
    assert result.layer.info.zone_scheme == "reserve3"


def test_gauss_kruger_lines_up_with_wgs84_kml(tmp_path):
    """Must show: Gauss-Kruger boundaries line up with the same ones in WGS84 within 0.05 m."""
    shp = read_boundary_file(
        _zip_shapefile(_reserve(), tmp_path, crs="EPSG:4525", keep_prj=False),
        kind="protected_area",
        crs="EPSG:4525",
    )
    kml_path = tmp_path / "reserve.kml"
    _reserve().to_file(kml_path, driver="KML")
    kml = read_boundary_file(kml_path, kind="protected_area")
    assert kml.report.crs == "EPSG:4326" and not kml.report.crs_guessed
    assert kml.layer.frame.zone.tolist() == ["核心区", "缓冲区", "实验区"]
    assert _max_vertex_gap_m(shp.layer.frame, kml.layer.frame) < 0.05
    for a, b in zip(shp.layer.frame.geometry, kml.layer.frame.geometry, strict=False):
        assert geodesic_area_m2(a) == pytest.approx(geodesic_area_m2(b), rel=1e-7)


def test_geopackage_in_epsg_4546(tmp_path):
    """A GeoPackage in EPSG:4546 with Chinese columns is declared, mapped and reprojected."""
    path = tmp_path / "reserve.gpkg"
    frame = _reserve().rename(columns={"BHQMC": "保护区名称", "GNFQ": "功能区", "JB": "级别"})
    frame.to_crs("EPSG:4546").to_file(path, layer="zones", driver="GPKG")
    result = read_boundary_file(path, kind="protected_area")
    assert result.report.crs == "EPSG:4546" and "GeoPackage" in result.report.crs_method
    assert result.report.layer == "zones"
    assert _max_vertex_gap_m(result.layer.frame, _reserve()) < 0.01
    truth = geodesic_area_m2(shapely.segmentize(CORE, 0.002))
    assert geodesic_area_m2(result.layer.frame.geometry.iloc[0]) == pytest.approx(truth, rel=1e-6)


def test_geopackage_with_two_layers_needs_a_choice(tmp_path):
    """Two layers in one GeoPackage: the error lists them; naming one works."""
    path = tmp_path / "two.gpkg"
    _reserve().to_file(path, layer="zones_2019", driver="GPKG")
    _reserve().to_file(path, layer="zones_2023", driver="GPKG")
    with pytest.raises(ImportFileError, match="zones_2019.*zones_2023|zones_2023.*zones_2019"):
        read_boundary_file(path, kind="protected_area")
    assert (
        read_boundary_file(path, kind="protected_area", layer="zones_2023").report.layer
        == "zones_2023"
    )


def test_kmz_and_field_map(tmp_path):
    """A KMZ with unusual column names imports once the fields are mapped explicitly."""
    kml = tmp_path / "doc.kml"
    _reserve().rename(columns={"BHQMC": "保护地", "GNFQ": "区划"}).to_file(kml, driver="KML")
    kmz = tmp_path / "reserve.kmz"
    with zipfile.ZipFile(kmz, "w") as zf:
        zf.write(kml, "doc.kml")
    with pytest.raises(ImportFileError, match="--field name="):
        read_boundary_file(kmz, kind="protected_area")
    result = read_boundary_file(
        kmz, kind="protected_area", field_map={"name": "保护地", "zone": "区划"}
    )
    assert result.report.format == "KMZ" and result.layer.frame.zone.iloc[0] == "核心区"
    with pytest.raises(ImportFileError, match="'区划区'.*不存在"):
        read_boundary_file(kmz, kind="protected_area", field_map={"zone": "区划区"})


def test_bow_tie_polygon_is_repaired_and_reported(tmp_path):
    """A self-intersecting ring is made valid; the report names the feature and shapely's reason."""
    bow_tie = Polygon([(111.90, 25.90), (111.94, 25.93), (111.94, 25.90), (111.90, 25.93)])
    frame = gpd.GeoDataFrame(
        {"name": ["蝴蝶结保护区"], "zone": ["核心保护区"]}, geometry=[bow_tie], crs=4326
    )
    path = tmp_path / "bowtie.geojson"
    frame.to_file(path, driver="GeoJSON")
    result = read_boundary_file(path, kind="protected_area")
    (repair,) = result.report.repairs
    assert "要素 #1" in repair.feature and "蝴蝶结保护区" in repair.feature
    assert repair.reason.startswith("Self-intersection")
    geom = result.layer.frame.geometry.iloc[0]
    assert geom.is_valid and geom.geom_type == "MultiPolygon"
    # two triangles, each a quarter of the box
    assert geodesic_area_m2(geom) == pytest.approx(
        geodesic_area_m2(box(111.90, 25.90, 111.94, 25.93)) / 2, rel=1e-3
    )
    assert result.layer.info.zone_scheme == "reform2"


def test_file_in_another_province_says_where_it_landed(tmp_path):
    """Boundaries that reproject to Changsha are refused with the place they landed."""
    frame = _reserve().to_crs("EPSG:4546")
    frame["geometry"] = frame.geometry.translate(xoff=100_000, yoff=200_000)  # ~ 113E 27.7N
    path = tmp_path / "elsewhere.gpkg"
    frame.to_file(path, driver="GPKG")
    with pytest.raises(
        ImportFileError, match=r"elsewhere.gpkg.*geometry.*要素 #1.*湖南省(株洲|湘潭|长沙)市附近"
    ):
        read_boundary_file(path, kind="protected_area")


def test_contradictory_crs(tmp_path):
    """A .prj that says geographic over metre coordinates is an error naming the file and field."""
    path = _zip_shapefile(_reserve(), tmp_path, crs="EPSG:4525", keep_prj=False)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("reserve.prj", shapely_prj_wgs84())
    with pytest.raises(
        ImportFileError, match=r"reserve.zip:reserve.shp: 坐标系矛盾（字段 geometry）"
    ):
        read_boundary_file(path, kind="protected_area")


def shapely_prj_wgs84() -> str:
    """Return the ESRI WKT of WGS84, as a .prj file holds it."""
    import pyproj

    return pyproj.CRS("EPSG:4326").to_wkt(pyproj.enums.WktVersion.WKT1_ESRI)


def test_bad_zone_value_names_file_feature_and_field(tmp_path):
    """A zone that fits no scheme is refused with file, feature, field and value."""
    path = tmp_path / "bad_zone.geojson"
    _reserve(GNFQ=["核心区", "游憩区", "实验区"]).to_file(path, driver="GeoJSON")
    with pytest.raises(
        ImportFileError,
        match=r"bad_zone.geojson: 要素 #2（阳明山测试保护区） 的字段 'GNFQ' 值 '游憩区'",
    ):
        read_boundary_file(path, kind="protected_area")


def test_empty_geometry_is_refused(tmp_path):
    """A feature without geometry is named in the error."""
    path = tmp_path / "empty.geojson"
    doc = json.loads(_reserve().to_json())
    doc["features"][1]["geometry"] = None
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(
        ImportFileError, match=r"empty.geojson: 1 个要素几何为空（字段 geometry）: 要素 #2"
    ):
        read_boundary_file(path, kind="protected_area")


def test_missing_crs_with_unplaceable_numbers(tmp_path):
    """Metre values that fit no Gauss-Kruger system near Hunan ask for --crs."""
    frame = _reserve().to_crs("EPSG:4525")
    frame["geometry"] = frame.geometry.translate(xoff=-37_000_000 + 3_000_000)
    frame = frame.set_crs(None, allow_override=True)
    path = _zip_shapefile(
        frame.set_crs("EPSG:3857", allow_override=True), tmp_path, crs="EPSG:3857", keep_prj=False
    )
    with pytest.raises(ImportFileError, match="缺少坐标系.*--crs"):
        read_boundary_file(path, kind="protected_area")


def test_zip_with_parent_path_is_refused(tmp_path):
    """An entry named ../evil.shp is refused before anything is written."""
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("../evil.shp", b"x")
    with pytest.raises(ImportFileError, match="“..”"):
        read_boundary_file(path, kind="protected_area")
    assert not (tmp_path.parent / "evil.shp").exists()
    abs_zip = tmp_path / "abs.zip"
    with zipfile.ZipFile(abs_zip, "w") as zf:
        zf.writestr("/tmp/abs.shp", b"x")
    with pytest.raises(ImportFileError, match="绝对路径"):
        extract_archive(abs_zip, tmp_path / "out")


def test_zip_bomb_like_archive_is_refused(tmp_path):
    """20 MB of zeros compressed ~1000:1 trips the ratio guard; a size cap trips on total size."""
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("reserve.dbf", b"\0" * (20 * 1024 * 1024))
    with pytest.raises(ImportFileError, match="压缩比.*疑似压缩炸弹"):
        read_boundary_file(path, kind="protected_area")
    with pytest.raises(ImportFileError, match="超过上限 1000000 字节"):
        extract_archive(path, tmp_path / "out", max_total_bytes=1_000_000, max_ratio=1e9)
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(5):
            zf.writestr(f"f{i}.txt", b"x")
    with pytest.raises(ImportFileError, match="5 个文件"):
        extract_archive(many, tmp_path / "out2", max_files=4)


def test_truncated_archive_is_refused(tmp_path):
    """A zip cut short in transfer is an unreadable archive, not a crash."""
    good = _zip_shapefile(_reserve(), tmp_path, crs="EPSG:4546", keep_prj=True)
    cut = tmp_path / "cut.zip"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ImportFileError, match="cut.zip"):
        read_boundary_file(cut, kind="protected_area")


def test_township_layer(tmp_path):
    """Townships: 9-digit codes (read as numbers), names, parent county derived from the code."""
    frame = gpd.GeoDataFrame(
        {"XZQDM": [431123100, 431123101], "XZQMC": ["泷泊镇", "江村镇"]},
        geometry=[box(111.60, 25.95, 111.65, 26.00), box(111.65, 25.95, 111.70, 26.00)],
        crs=4326,
    )
    path = tmp_path / "towns.gpkg"
    frame.to_file(path, driver="GPKG")
    result = read_boundary_file(path, kind="township")
    out = result.layer.frame
    assert out.code.tolist() == ["431123100", "431123101"]
    assert out.parent_code.tolist() == ["431123", "431123"] and result.layer.info.kind == "township"
    frame["XZQDM"] = ["4311231", "431123101"]
    frame.to_file(tmp_path / "bad_towns.gpkg", driver="GPKG")
    with pytest.raises(
        ImportFileError, match=r"要素 #1（泷泊镇） 的字段 'XZQDM' 值 '4311231' 不是 9 位或 12 位"
    ):
        read_boundary_file(tmp_path / "bad_towns.gpkg", kind="township")


def test_gcj02_declared_datum(tmp_path):
    """--datum gcj02 moves lon/lat back by the ~500 m offset; it is never applied unasked."""
    from geo.crs import wgs84_to_gcj02

    truth = _reserve()
    shifted = truth.copy()
    shifted["geometry"] = shapely.transform(
        truth.geometry.array, lambda c: np.column_stack(wgs84_to_gcj02(c[:, 0], c[:, 1]))
    )
    path = tmp_path / "amap.geojson"
    shifted.to_file(path, driver="GeoJSON")
    fixed = read_boundary_file(path, kind="protected_area", datum="gcj02")
    assert fixed.report.datum == "gcj02" and _max_vertex_gap_m(fixed.layer.frame, truth) < 0.01
    plain = read_boundary_file(path, kind="protected_area")
    assert 300 < _max_vertex_gap_m(plain.layer.frame, truth) < 800


def test_sites_from_csv(tmp_path):
    """Lon/lat CSV columns declare WGS84; x/y metre columns are guessed and need confirmation."""
    csv = tmp_path / "sites.csv"
    csv.write_text(
        "编号,名称,经度,纬度\nA1,采石场,111.92,25.915\nA2,远处,113.0,28.2\n", encoding="utf-8"
    )
    sites, report = read_sites_file(csv)
    assert (
        len(sites) == 2
        and sites.crs.to_epsg() == 4326
        and "1 个站点不在永州范围内" in report.warnings
    )
    assert not report.crs_guessed
    metres = tmp_path / "metres.csv"
    metres.write_text("id,x,y\nA1,37591000,2865000\n", encoding="utf-8")
    with pytest.raises(CRSNeedsConfirmation, match="EPSG:4525"):
        read_sites_file(metres)
    sites, report = read_sites_file(metres, confirm_crs=True)
    assert report.crs == "EPSG:4525" and 111.9 < sites.geometry.x.iloc[0] < 112.0
    bad = tmp_path / "bad.csv"
    bad.write_text("lon,lat\n111.9,abc\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="第 2 行 字段 'lat' 值 'abc'"):
        read_sites_file(bad)
