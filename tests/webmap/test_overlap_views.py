"""Overlap page, exports and per-site sheets: ledger issues and uploaded sites against the zones."""

from __future__ import annotations

import io
import json
import re
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from tests.webmap.helpers import OUTSIDE, file_bytes, pdf_text, reserve_frame, upload
from webmap.ledger import db
from webmap.ledger.events import create_issue
from webmap.web import context as webctx

ROW = re.compile(r'<tr data-site="([^"]*)">(.*?)</tr>', re.S)
CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)


@pytest.fixture
def app(app, tmp_path):
    """Return the test app with its boundary store in the test's temporary folder, on 2022-06-01."""
    app.config.update(BOUNDARY_STORE_DIR=str(tmp_path / "store"), TODAY="2022-06-01")
    return app


@pytest.fixture
def client(logged_in_client):
    """Return a client of the city office (admin: sees every ledger issue)."""
    return logged_in_client("admin")


@pytest.fixture
def reserve(client, tmp_path):
    """Upload the three-zone test reserve as GeoJSON in WGS84; return the version in use."""
    resp = upload(
        client,
        file_bytes(reserve_frame(), tmp_path, "r.geojson", "GeoJSON"),
        "r.geojson",
        vintage="2024-05-01",
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return re.search(r"新版本 <strong>([^<]+)</strong>", resp.get_data(as_text=True)).group(1)


@pytest.fixture
def ledger(app):
    """Three issues: a point in the core, a polygon half in the core, one far away.

    Made in a short-lived app context (not the ``session`` fixture's long one), so the test
    client's requests each get their own ``g`` and the logged-in user is looked up per request.
    """
    base = {
        "source_type": "回头看",
        "category": "水污染",
        "county_code": "431103",
        "county_name": "冷水滩区",
        "deadline_class": "2021年底前",
        "due_date": date(2021, 12, 31),
    }
    issues = [
        {
            "number": "HT-01",
            "title": "核心区内养殖场",
            "protected_area": "上传测试保护区",
            "geometry": {"type": "Point", "coordinates": [111.92, 25.915]},
        },
        {
            "number": "HT-02",
            "title": "跨界采石场",
            "county_code": "431123",
            "county_name": "双牌县",
            "protected_area": "上传测试保护区",
            "geometry": box(111.935, 25.91, 111.945, 25.92).__geo_interface__,
        },
        {
            "number": "HT-03",
            "title": "城区问题",
            "geometry": {"type": "Point", "coordinates": [111.6, 26.4]},
        },
    ]
    with app.app_context():
        session = webctx.get_session()
        for values in issues:
            with db.transaction(session):
                create_issue(session, base | values, actor="tester", date=date(2021, 3, 6))


def table_rows(html: str) -> list[tuple[str, list[str]]]:
    """Return (site id, cell texts) of the overlap table rows in a page."""
    return [
        (
            site,
            [
                re.sub(r"<[^>]+>", " ", c).split()[0] if c.strip() else ""
                for c in CELL.findall(body)
            ],
        )
        for site, body in ROW.findall(html)
    ]


def sites_file(tmp_path: Path) -> bytes:
    """Return a GeoJSON of three sites: a quarry straddling the core edge, a road, a far point."""
    frame = gpd.GeoDataFrame(
        {
            "编号": ["K1", "K2", "K3"],
            "名称": ["采石场甲", "林道乙", "城区丙"],
            "类别": ["mine", None, None],
        },
        geometry=[
            box(111.935, 25.91, 111.945, 25.92),
            LineString([(111.92, 25.915), (111.92, 25.94)]),
            Point(111.61, 26.42),
        ],
        crs="EPSG:4326",
    )
    return file_bytes(frame, tmp_path, "sites.geojson", "GeoJSON")


def upload_sites(client, data: bytes, name: str, **form):
    """POST a site file to the overlap upload form."""
    payload = {**form, "file": (io.BytesIO(data), name)}
    return client.post("/overlap/upload-sites", data=payload, content_type="multipart/form-data")


def test_ledger_overlap_uses_the_uploaded_layer(client, reserve, ledger):
    """Issues are related to the imported zones; rows name that version and no 示意 shows."""
    html = client.get("/overlap").get_data(as_text=True)
    rows = table_rows(html)
    by_key = {(site, cells[3]): cells for site, cells in rows}
    assert by_key[("HT-01", "核心区")][4] == "完全在内"
    assert by_key[("HT-02", "核心区")][4] == "部分在内"
    assert 0.49 < float(by_key[("HT-02", "核心区")][6]) < 0.51
    assert [cells[4] for site, cells in rows if site == "HT-03"] == ["在外"]
    assert all(cells[9] == f"imported:{reserve}" for _, cells in rows)
    assert 'id="illustrative"' not in html and "上传测试保护区" in html


def test_filters_stay_in_the_url_and_the_export_matches(client, reserve, ledger):
    """Filtered table == filtered CSV, XLSX and GeoJSON (same rows, same numbers)."""
    args = "?relation=partly&zone=%E6%A0%B8%E5%BF%83%E5%8C%BA"  # zone=核心区
    html = client.get("/overlap" + args).get_data(as_text=True)
    rows = table_rows(html)
    assert [(s, c[3], c[4]) for s, c in rows] == [("HT-02", "核心区", "部分在内")]
    assert '<option value="partly" selected>' in html and "<option selected>核心区</option>" in html
    assert "/overlap/export.csv?relation=partly&amp;zone=" in html
    csv = pd.read_csv(
        io.BytesIO(client.get("/overlap/export.csv" + args).data), dtype={"site_id": str}
    )
    assert csv[["site_id", "zone", "relation"]].values.tolist() == [
        ["HT-02", "核心区", "partly inside"]
    ]
    assert f"{csv.overlap_m2.iloc[0]:.2f}" == rows[0][1][5]
    assert f"{csv.overlap_share.iloc[0]:.6f}" == rows[0][1][6]
    xlsx = pd.read_excel(
        io.BytesIO(client.get("/overlap/export.xlsx" + args).data),
        sheet_name=None,
        dtype={"site_id": str},
        engine="openpyxl",
    )
    pd.testing.assert_frame_equal(xlsx["重叠分析"], csv, check_dtype=False)
    assert f"imported:{reserve}" in " ".join(xlsx["说明"]["内容"].astype(str))
    doc = json.loads(client.get("/overlap/export.geojson" + args).data)
    assert [f["properties"]["site_id"] for f in doc["features"]] == ["HT-02"]
    assert doc["features"][0]["geometry"]["type"] == "Polygon"
    everything = pd.read_csv(io.BytesIO(client.get("/overlap/export.csv").data))
    assert len(everything) == len(table_rows(client.get("/overlap").get_data(as_text=True))) > 1


def test_ledger_filters_go_through_issue_query(client, reserve, ledger):
    """County and other ledger filters narrow the issues; a bad relation is a Chinese 400."""
    rows = table_rows(client.get("/overlap?county=双牌县").get_data(as_text=True))
    assert {s for s, _ in rows} == {"HT-02"}
    csv = pd.read_csv(io.BytesIO(client.get("/overlap/export.csv?county=双牌县").data))
    assert set(csv.site_id) == {"HT-02"} and len(csv) == len(rows)
    resp = client.get("/overlap?relation=nearby")
    assert resp.status_code == 400 and "relation" in resp.get_data(as_text=True)
    assert client.get("/overlap?county=火星").status_code == 400


def test_reserve_scope_applies_to_the_overlap(app, logged_in_client, reserve, ledger):
    """The reserve team sees only issues its scope allows, on the page and in sheets."""
    client = logged_in_client("reserve")
    sites = {s for s, _ in table_rows(client.get("/overlap").get_data(as_text=True))}
    assert "HT-03" not in sites  # not attributed to a protected area
    assert client.get("/overlap/issues/HT-03/sheet").status_code == 404
    assert logged_in_client("county").get("/overlap").status_code == 403


def test_uploaded_sites_page_export_and_sheet(client, reserve, tmp_path):
    """A site layer upload leads to its own page; the sheet PDF holds the site name as text."""
    resp = upload_sites(
        client,
        sites_file(tmp_path),
        "站点.geojson",
        col_site_id="编号",
        col_site_name="名称",
        col_category="类别",
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)
    page = resp.headers["Location"]
    html = client.get(page).get_data(as_text=True)
    rows = table_rows(html)
    core = next(c for s, c in rows if s == "K1" and c[3] == "核心区")
    assert core[4] == "部分在内" and "开矿" in html
    csv = pd.read_csv(io.BytesIO(client.get(page + "/export.csv?relation=outside").data))
    assert csv.site_id.tolist() == ["K3"]
    sheet = client.get(page + "/0/sheet").get_data(as_text=True)
    assert "采石场甲" in sheet and "核心区" in sheet and f"imported:{reserve}" in sheet
    assert "站点.geojson" in sheet and "距最近保护地边界" in sheet
    pdf = client.get(page + "/0/sheet.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    path = tmp_path / "sheet.pdf"
    path.write_bytes(pdf.data)
    text = pdf_text(path)
    assert "采石场甲" in text and "核心区" in text and f"imported:{reserve}" in text
    assert "示意" not in text
    assert client.get(page + "/9/sheet").status_code == 404
    for url in (page, page + "/0/sheet", "/overlap", "/boundaries", "/boundaries/upload"):
        assert OUTSIDE.findall(client.get(url).get_data(as_text=True)) == [], url


def test_illustrative_layer_is_marked(client, tmp_path):
    """Without an import the shipped layer is used and every output says 示意."""
    frame = gpd.GeoDataFrame(
        {"名称": ["阳明山旁站点"]}, geometry=[Point(111.9, 26.08)], crs="EPSG:4326"
    )
    resp = upload_sites(client, file_bytes(frame, tmp_path, "p.geojson", "GeoJSON"), "p.geojson")
    page = resp.headers["Location"]
    html = client.get(page).get_data(as_text=True)
    assert 'id="illustrative"' in html and "（示意）" in html and "阳明山" in html
    assert 'id="illustrative"' in client.get(page + "/0/sheet").get_data(as_text=True)
    path = tmp_path / "sheet.pdf"
    path.write_bytes(client.get(page + "/0/sheet.pdf").data)
    text = pdf_text(path)
    assert "阳明山旁站点" in text and "示意" in text


def test_issue_sheet(client, reserve, ledger, tmp_path):
    """An issue's sheet lists its zones and rules; its PDF holds the issue title."""
    html = client.get("/overlap/issues/HT-02/sheet").get_data(as_text=True)
    assert "跨界采石场" in html and "缓冲区" in html and "自然保护区条例" in html
    path = tmp_path / "issue.pdf"
    path.write_bytes(client.get("/overlap/issues/HT-02/sheet.pdf").data)
    text = pdf_text(path)
    assert "跨界采石场" in text and "HT-02" in text
    assert client.get("/overlap/issues/NOPE/sheet").status_code == 404


def test_site_csv_in_gauss_kruger_asks_for_confirmation(client, reserve, tmp_path):
    """X/Y metres without a CRS: a confirmation step, then the site page."""
    xy = gpd.GeoSeries([Point(111.92, 25.915)], crs="EPSG:4326").to_crs("EPSG:4525")
    data = f"name,x,y\n测点,{xy.x.iloc[0]:.3f},{xy.y.iloc[0]:.3f}\n".encode()
    resp = upload_sites(client, data, "测点.csv")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'value="EPSG:4525" checked' in html
    action = re.search(r'<form method="post" action="([^"]+)"', html).group(1)
    resp = client.post(action, data={"crs": "EPSG:4525"})
    assert resp.status_code == 302
    rows = table_rows(client.get(resp.headers["Location"]).get_data(as_text=True))
    assert ("核心区", "完全在内") in [(c[3], c[4]) for _, c in rows]


def test_bad_site_file_names_the_problem(client, reserve):
    """A CSV with a non-numeric coordinate names row, field and value; nothing is kept."""
    resp = upload_sites(client, b"lon,lat\n111.9,25.9\nabc,25.9\n", "bad.csv")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "bad.csv" in html and "第 3 行" in html and "abc" in html
    resp = upload_sites(client, b"{}", "s.geojson", col_site_id="不存在")
    assert resp.status_code == 400


def test_sample_issue_in_a_reserve_shows_its_specific_rule(app, client):
    """A sample 自然保护区内违规建设 issue in a core zone gets the construction rule, not ``*``."""
    from geo.rules import load_zone_rules
    from webmap.ledger.sample import load_sample
    from webmap.web.context import get_layers

    with app.app_context():
        load_sample(webctx.make_session(app), get_layers())
    rules = load_zone_rules()
    specific = rules.rule_for("reserve3", "核心区", "自然保护区内违规建设")
    assert specific.site_category == "construction"
    assert specific.rule != rules.rule_for("reserve3", "核心区").rule
    html = client.get("/overlap?zone=核心区&relation=inside").get_data(as_text=True)
    rule_cells = {
        site: re.search(r'<td class="rule">(.*?)</td>', body, re.S).group(1)
        for site, body in ROW.findall(html)
        if site.startswith("ZXD-")
    }
    assert "ZXD-01" in rule_cells  # placed in 都庞岭's core zone by the sample
    assert set(rule_cells.values()) == {specific.rule}
