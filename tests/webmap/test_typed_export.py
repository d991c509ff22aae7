"""Typed exports read back with GDAL: field types, NULL blanks, CRS, names that survive each format.

Every GIS file is read by pyogrio (the bundled GDAL, which has the LIBKML driver); the web export
is checked against the reader's scope. Both backends through the ``app`` fixture.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date

import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner

from webmap.cli import main
from webmap.ledger.io.template import COLUMNS
from webmap.ledger.query import IssueQuery
from webmap.render.ledger_export import export_ledger, read_xlsx_cells
from webmap.render.typed_export import LAYER, SHAPEFILE_NAMES, kml_name, shapefile_name

DAY = date(2021, 6, 30)
FIELDS = [c.field for c in COLUMNS]
LIBKML_OWN = {
    "id",
    "Name",
    "description",
    "timestamp",
    "begin",
    "end",
    "altitudeMode",
    "tessellate",
    "extrude",
    "visibility",
    "drawOrder",
    "icon",
    "snippet",
}
SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [[111.6, 26.4], [111.61, 26.4], [111.61, 26.41], [111.6, 26.41], [111.6, 26.4]]
    ],
}


@pytest.fixture
def ledger(session, make_issue):
    """Three issues: progress 100 and 20 (a text sort swaps them), blanks, a polygon elsewhere."""
    make_issue("T-1", progress=100, batch="第3批", description="长" * 120)
    make_issue("T-2", progress=20, public=False, due_date=None, deadline_class="持续推进")
    make_issue("T-3", geometry=SQUARE, county_code="431124", county_name="道县", progress=5)
    return session


def _export(session, fmt, path):
    """Export every issue of the ledger as ``fmt`` to ``path``; return the row count."""
    return export_ledger(session, IssueQuery(today=DAY), fmt, path)


def _types(path, **kwargs) -> dict[str, str]:
    """Return {field: numpy dtype GDAL reports} of a dataset."""
    info = pyogrio.read_info(path, **kwargs)
    return dict(zip(info["fields"], info["dtypes"], strict=True))


def test_gpkg_has_integer_progress_date_deadlines_and_null_blanks(ledger, tmp_path):
    """GeoPackage: Integer progress, Date deadlines, Boolean flags, NULL (not '') for blanks."""
    path = tmp_path / "l.gpkg"
    assert _export(ledger, "gpkg", path) == 3
    info = pyogrio.read_info(path, layer=LAYER)
    types = _types(path, layer=LAYER)
    assert list(types) == FIELDS and info["crs"] == "EPSG:4326"
    assert types["progress_pct"] == "int32" and types["due_date"] == "datetime64[D]"
    assert types["is_public"] == types["is_sample"] == "bool"
    assert types["lon"] == types["lat"] == "float64"
    frame = pyogrio.read_dataframe(path, layer=LAYER).set_index("number")
    assert frame.sort_values("progress_pct").index.tolist() == ["T-3", "T-2", "T-1"]
    assert frame.loc["T-1", "due_date"].date() == date(2021, 12, 31)
    assert frame["due_date"].isna().tolist() == [False, True, False]
    assert frame["batch"].isna().tolist() == [False, True, True]  # NULL, not ''
    assert frame["is_public"].tolist() == [True, False, True]
    assert frame.loc["T-3"].geometry.geom_type == "Polygon"


def test_gpkg_carries_chinese_headers_as_column_titles(ledger, tmp_path):
    """The Chinese headers are the GeoPackage column titles (gpkg_data_columns)."""
    import sqlite3

    path = tmp_path / "l.gpkg"
    _export(ledger, "gpkg", path)
    with sqlite3.connect(path) as con:
        titles = dict(con.execute("SELECT column_name, title FROM gpkg_data_columns"))
    assert titles == {c.field: c.header for c in COLUMNS}


def test_geojson_is_typed_rfc7946(ledger, tmp_path):
    """GeoJSON: numbers, booleans and nulls typed, dates read back as Date, CRS84 coordinates."""
    import json

    path = tmp_path / "l.geojson"
    _export(ledger, "geojson", path)
    types = _types(path)
    assert types["progress_pct"] == "int32" and types["due_date"] == "datetime64[D]"
    assert pyogrio.read_info(path)["crs"] == "EPSG:4326"
    doc = json.loads(path.read_text("utf-8"))
    assert "crs" not in doc  # RFC 7946: always CRS84 (lon, lat)
    props = {f["properties"]["number"]: f["properties"] for f in doc["features"]}
    assert props["T-1"]["progress_pct"] == 100 and props["T-2"]["batch"] is None
    assert props["T-2"]["is_public"] is False and props["T-1"]["due_date"] == "2021-12-31"
    assert doc["features"][0]["geometry"]["coordinates"] == [111.6, 26.4]


def test_kml_read_by_libkml_keeps_every_field(ledger, tmp_path):
    """LIBKML reads one field per ledger column (plus its own KML fields), typed where KML can."""
    assert "LIBKML" in pyogrio.list_drivers()
    path = tmp_path / "l.kml"
    _export(ledger, "kml", path)
    info = pyogrio.read_info(path, driver="LIBKML")
    assert info["driver"] == "LIBKML" and info["features"] == 3
    ours = [f for f in info["fields"] if f not in LIBKML_OWN]
    assert ours == [kml_name(f) for f in FIELDS], set(FIELDS) ^ set(ours)
    assert len(ours) == len(COLUMNS) == 31
    types = _types(path, driver="LIBKML")
    assert types["progress_pct"] == "int32" and types["lon"] == "float64"
    frame = pyogrio.read_dataframe(path, driver="LIBKML").set_index("number")
    assert frame.loc["T-1", "descr"] == "长" * 120 and frame["description"].isna().all()
    assert frame.loc["T-2", "progress_pct"] == 20 and frame.loc["T-1", "due_date"] == "2021-12-31"
    text = path.read_text("utf-8")
    assert '<SimpleField type="int" name="progress_pct"><displayName>完成进度</displayName>' in text


def test_shapefile_zip_names_cpg_prj_and_mapping(ledger, tmp_path):
    """Shapefile: names within 10 bytes, .cpg says UTF-8, .prj WGS84, fields.csv maps each name."""
    assert all(len(shapefile_name(f).encode()) <= 10 for f in FIELDS)
    assert len({shapefile_name(f) for f in FIELDS}) == len(FIELDS)
    assert set(SHAPEFILE_NAMES) <= set(FIELDS)
    path = tmp_path / "l.zip"
    _export(ledger, "shp", path)
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        assert z.read("issues_point.cpg").decode().strip() == "UTF-8"
        mapping = list(csv.DictReader(io.StringIO(z.read("fields.csv").decode("utf-8-sig"))))
    assert {
        "issues_point.shp",
        "issues_point.dbf",
        "issues_point.prj",
        "issues_polygon.shp",
    } <= names
    assert [(r["field"], r["header"]) for r in mapping] == [(c.field, c.header) for c in COLUMNS]
    points = f"/vsizip/{path}/issues_point.shp"
    types = _types(points)
    assert list(types) == [shapefile_name(f) for f in FIELDS]
    assert pyogrio.read_info(points)["crs"] == "EPSG:4326"
    assert types["progress"] == "int32" and types["due_date"] == "datetime64[D]"
    frame = pyogrio.read_dataframe(points).set_index("number")
    # dBase has no NULL: GDAL writes blanks as empty fields and reads them back as null
    assert pd.isna(frame.loc["T-2", "batch"]) and frame.loc["T-1", "batch"] == "第3批"
    assert pd.isna(frame.loc["T-2", "decl_cnty"]) and frame.loc["T-1", "progress"] == 100
    polygon = pyogrio.read_dataframe(f"/vsizip/{path}/issues_polygon.shp")
    assert polygon["number"].tolist() == ["T-3"] and polygon["county"].tolist() == ["道县"]


def test_xlsx_cells_are_typed_and_csv_reads_typed_in_gdal(ledger, tmp_path):
    """The xlsx holds numbers, dates, booleans and empty blanks; GDAL reads the csv's numbers."""
    _export(ledger, "xlsx", tmp_path / "l.xlsx")
    header, *rows = read_xlsx_cells(tmp_path / "l.xlsx")
    first = dict(zip(header, rows[0], strict=True))
    second = dict(zip(header, rows[1], strict=True))
    assert first["完成进度"] == 100 and first["经度"] == 111.6
    assert first["整改时限"].date() == date(2021, 12, 31)
    assert first["是否公开"] is True and second["是否公开"] is False
    assert second["批次"] is None and second["整改时限"] is None
    _export(ledger, "csv", tmp_path / "l.csv")
    types = _types(tmp_path / "l.csv", AUTODETECT_TYPE="YES")
    assert types["完成进度"] == "int32" and types["经度"] == "float64"


def test_cli_exports_every_format(ledger, database_url, tmp_path, monkeypatch):
    """``yzmap export-ledger --format shp|gpkg|kml`` writes the same typed files."""
    ledger.close()
    monkeypatch.setenv("YZMAP_DATABASE_URL", database_url)
    for fmt, name in (("shp", "l.zip"), ("gpkg", "l.gpkg"), ("kml", "l.kml")):
        out = tmp_path / name
        result = CliRunner().invoke(
            main, ["export-ledger", "--format", fmt, "--out", str(out), "--county", "冷水滩区"]
        )
        assert result.exit_code == 0, result.output
        assert "已导出 2 条问题" in result.output
    frame = pyogrio.read_dataframe(tmp_path / "l.gpkg")
    assert sorted(frame["number"]) == ["T-1", "T-2"] and str(frame["progress_pct"].dtype) == "int32"


def test_web_export_obeys_scope(ledger, logged_in_client, tmp_path):
    """A county editor's download holds only their county; the admin's holds all; filters apply."""
    editor = logged_in_client("county", county_code="431103")
    admin = logged_in_client("admin")
    page = admin.get("/?status=未启动").get_data(as_text=True)
    assert "下载本视图数据" in page and 'href="/export.gpkg?status=' in page
    for client, expected in ((editor, ["T-1", "T-2"]), (admin, ["T-1", "T-2", "T-3"])):
        resp = client.get("/export.gpkg")
        assert resp.status_code == 200 and resp.mimetype == "application/geopackage+sqlite3"
        (tmp_path / "w.gpkg").write_bytes(resp.data)
        assert sorted(pyogrio.read_dataframe(tmp_path / "w.gpkg")["number"]) == expected
    resp = editor.get("/export.shp?county=道县")  # outside the editor's scope: nothing
    assert resp.status_code == 200 and resp.headers["X-Yzmap-Issue-Count"] == "0"
    assert resp.headers["Content-Disposition"].endswith(".shp.zip")
    resp = admin.get("/export.csv?county=道县")
    assert resp.get_data(as_text=True).splitlines()[1].lstrip("\ufeff").startswith("T-3,")
    assert admin.get("/export.kml?rag=purple").status_code == 400
