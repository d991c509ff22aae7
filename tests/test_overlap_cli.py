"""``yzmap overlap`` on real site files, against an imported and the illustrative layer."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import LineString, Point, box

from geo.importer import read_boundary_file
from tests.webmap.helpers import ledger_session
from webmap.cli import main
from webmap.ledger import boundaries as boundary_store
from webmap.ledger.db import transaction

CORE = box(111.90, 25.90, 111.94, 25.93)
BUFFER = box(111.88, 25.88, 111.96, 25.95).difference(CORE)


@pytest.fixture()
def store(cli_database):
    """Point the commands at a fresh database; return its URL (the boundary store is in it)."""
    return cli_database


@pytest.fixture()
def imported(tmp_path, store):
    """Import a two-zone reserve (GeoPackage in EPSG:4546); return its stored version."""
    frame = gpd.GeoDataFrame(
        {"名称": ["叠加测试保护区"] * 2, "功能区": ["核心区", "缓冲区"], "级别": ["省级"] * 2},
        geometry=[shapely.segmentize(g, 0.002) for g in (CORE, BUFFER)],
        crs=4326,
    )
    path = tmp_path / "reserve.gpkg"
    frame.to_crs("EPSG:4546").to_file(path, driver="GPKG")
    result = read_boundary_file(path, kind="protected_area", vintage="2024-05-01")
    with ledger_session(store) as session, transaction(session):
        return boundary_store.save_import(session, result, actor="test")


def _sites_file(tmp_path) -> str:
    """Write three sites (a mine straddling the core edge, a line, a far point) as GeoJSON."""
    frame = gpd.GeoDataFrame(
        {
            "编号": ["K1", "K2", "K3"],
            "名称": ["采石场", "林道", "城区"],
            "类别": ["mine", None, None],
        },
        geometry=[
            box(111.935, 25.91, 111.945, 25.92),
            LineString([(111.92, 25.915), (111.92, 25.94)]),
            Point(111.61, 26.42),
        ],
        crs=4326,
    )
    path = tmp_path / "sites.geojson"
    frame.to_file(path, driver="GeoJSON")
    return str(path)


def _run(*args, input=None):
    """Invoke the yzmap CLI and return the result."""
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def test_overlap_to_xlsx_against_imported_layer(tmp_path, imported):
    """The report has the issue's columns, the version, the mining rule and a notes sheet."""
    out = tmp_path / "report.xlsx"
    result = _run(
        "overlap",
        _sites_file(tmp_path),
        "--out",
        str(out),
        "--site-id-col",
        "编号",
        "--site-name-col",
        "名称",
        "--category-col",
        "类别",
    )
    assert result.exit_code == 0, result.output
    assert f"imported:{imported.version}" in result.output
    rows = pd.read_excel(out, sheet_name="重叠分析", engine="openpyxl")
    for col in (
        "site_id",
        "site_name",
        "protected_area",
        "level",
        "zone",
        "relation",
        "overlap_m2",
        "overlap_share",
        "distance_m",
        "rule",
        "boundary_version",
    ):
        assert col in rows.columns
    core = rows[(rows.site_id == "K1") & (rows.zone == "核心区")].iloc[0]
    assert core.relation == "partly inside" and 0.49 < core.overlap_share < 0.51
    assert "开矿" in core.rule and core.boundary_version == f"imported:{imported.version}"
    line = rows[(rows.site_id == "K2") & (rows.zone == "缓冲区")].iloc[0]
    assert line.relation == "partly inside" and line.overlap_length_m > 0
    far = rows[rows.site_id == "K3"]
    assert far.relation.tolist() == ["outside"] and far.protected_area.iloc[0] == "叠加测试保护区"
    notes = pd.read_excel(out, sheet_name="说明", engine="openpyxl")
    assert "EPSG:4546" in " ".join(notes["内容"].astype(str))


def test_overlap_geojson_and_csv_outputs(tmp_path, imported):
    """GeoJSON rows carry the site geometry; CSV is UTF-8 with BOM; --buffers is honoured."""
    sites = _sites_file(tmp_path)
    gj = tmp_path / "report.geojson"
    assert _run("overlap", sites, "--out", str(gj), "--buffers", "0,1000").exit_code == 0
    doc = json.loads(gj.read_text(encoding="utf-8"))
    first = doc["features"][0]
    assert first["geometry"]["type"] == "Polygon" and first["properties"]["site_id"] == "1"
    assert not any("5000" in f["properties"]["relation"] for f in doc["features"])
    csv = tmp_path / "report.csv"
    assert _run("overlap", sites, "--out", str(csv)).exit_code == 0
    assert csv.read_bytes().startswith(b"\xef\xbb\xbf")


def test_csv_sites_on_shipped_illustrative_layer(tmp_path, store):
    """Without an import the shipped illustrative reserves are used and the report says 示意."""
    sites = tmp_path / "sites.csv"
    sites.write_text("site_id,site_name,lon,lat\nP1,阳明山脚,111.9,26.08\n", encoding="utf-8")
    out = tmp_path / "report.csv"
    result = _run("overlap", str(sites), "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(out, encoding="utf-8-sig")
    assert (rows.boundary_note == "示意（非权威边界）").all()
    assert rows.boundary_version.str.startswith("illustrative").all()


def test_bad_input_never_touches_the_output(tmp_path, imported):
    """A bad site file or output name is an error; an existing report is left as it was."""
    out = tmp_path / "report.csv"
    out.write_text("old", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("lon,lat\n111.9,北\n", encoding="utf-8")
    result = _run("overlap", str(bad), "--out", str(out))
    assert result.exit_code == 1 and "第 2 行 字段 'lat'" in result.output
    assert out.read_text(encoding="utf-8") == "old"
    wrong = _run("overlap", _sites_file(tmp_path), "--out", str(tmp_path / "report.pdf"))
    assert wrong.exit_code == 2 and ".xlsx" in wrong.output
    buffers = _run("overlap", _sites_file(tmp_path), "--out", str(out), "--buffers", "0,abc")
    assert buffers.exit_code == 2 and "--buffers" in buffers.output
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".report")] == []
