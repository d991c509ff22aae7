"""``/ogcapi``: OGC API - Features documents, paging, CRS, datetime, CQL2 and exceptions.

Runs on both backends (the ``app`` fixture). CQL2 and property filters are checked against
``/api/issues`` with the equivalent map filter: the items of a collection are what the map shows.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from pyproj import Transformer
from sqlalchemy import update

from webmap.ledger import db
from webmap.ledger.models import Issue
from webmap.web import context as webctx

BASE = "http://localhost/ogcapi"
GK = "http://www.opengis.net/def/crs/EPSG/0/4546"
CGCS = "http://www.opengis.net/def/crs/EPSG/0/4490"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
# (number, county, status, progress, lon, lat, public)
ISSUES = [
    ("OG-01", "431103", "整改中", 10, 111.60, 26.40, True),
    ("OG-02", "431103", "整改中", 60, 111.62, 26.42, True),
    ("OG-03", "431103", "已完成待销号", 100, 111.64, 26.44, True),
    ("OG-04", "431124", "整改中", 30, 111.55, 25.50, True),
    ("OG-05", "431124", "未启动", 0, 111.57, 25.52, False),
    ("OG-06", "431124", "已完成待销号", 100, 111.59, 25.54, True),
]
NAMES = {"431103": "冷水滩区", "431124": "道县"}


@pytest.fixture
def ledger(app, make_issue):
    """Six point issues in two counties; OG-05 is not public; OG-02 last changed in May 2021."""
    app.config["TODAY"] = "2022-06-01"
    for number, county, status, progress, lon, lat, public in ISSUES:
        make_issue(number, county_code=county, county_name=NAMES[county], status=status,
                   progress=progress, public=public, location_text=f"{number} 内部地址",
                   geometry={"type": "Point", "coordinates": [lon, lat]})  # fmt: skip
    with app.app_context():
        session = webctx.get_session()
        with db.transaction(session):
            session.execute(update(Issue).where(Issue.number == "OG-02")
                            .values(updated_at=datetime(2021, 5, 1, 8, tzinfo=UTC)))  # fmt: skip


@pytest.fixture
def staff(logged_in_client):
    """A signed-in admin (reads every issue)."""
    return logged_in_client("admin")


def _ids(body: dict) -> list[str]:
    """Return the feature ids of a collection body."""
    return [f["id"] for f in body["features"]]


def _items(client, sid: str = "issues", **args) -> dict:
    """GET a collection's items (JSON) and return the body, checking 200."""
    resp = client.get(f"/ogcapi/collections/{sid}/items", query_string={"f": "json", **args})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def _error(client, url: str, status: int = 400, **args) -> dict:
    """GET a URL expected to fail; check the OGC exception JSON and return it."""
    resp = client.get(url, query_string=args)
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/json"
    body = resp.get_json()
    assert body["code"] and body["description"]
    return body


# ---- documents and HTML -----------------------------------------------------------------


def test_landing_conformance_and_collections(staff, ledger):
    """The landing page links the API, conformance and data; conformance names Parts 1-3."""
    landing = staff.get("/ogcapi?f=json").get_json()
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "conformance", "data"} <= rels
    assert all(link["href"].startswith(BASE) for link in landing["links"])
    conf = staff.get("/ogcapi/conformance?f=json").get_json()["conformsTo"]
    for part in ("ogcapi-features-1/1.0/conf/core", "ogcapi-features-2/1.0/conf/crs",
                 "ogcapi-features-3/1.0/conf/filter", "cql2/1.0/conf/cql2-text"):  # fmt: skip
        assert any(part in c for c in conf), part
    found = staff.get("/ogcapi/collections?f=json").get_json()["collections"]
    ids = {c["id"] for c in found}
    assert {"issues", "public-issues", "counties", "protected-areas", "overlap"} <= ids
    pa = next(c for c in found if c["id"] == "protected-areas")
    assert {"vintage", "version", "authoritative", "mark"} <= set(pa["yzmap:layer"])
    assert set(pa["crs"]) == {CRS84, CGCS, GK}


def test_anonymous_collections_are_the_public_ones(client, ledger):
    """Anonymous readers list public-issues and counties only; issues answers 401 + Basic."""
    ids = {c["id"] for c in client.get("/ogcapi/collections?f=json").get_json()["collections"]}
    assert "public-issues" in ids and "counties" in ids
    assert not ids & {"issues", "protected-areas", "overlap"}
    resp = client.get("/ogcapi/collections/issues/items?f=json")
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Basic")
    assert resp.get_json()["code"] == "NotAuthorized"
    assert _items(client, "public-issues")["numberMatched"] == 5


@pytest.mark.parametrize("path", ["", "/conformance", "/openapi", "/collections",
                                  "/collections/issues", "/collections/issues/queryables",
                                  "/collections/issues/items", "/collections/issues/items/OG-01",
                                  "/collections/counties/items"])  # fmt: skip
def test_html_views(staff, ledger, path):
    """Every resource has an HTML page (f=html, or a browser's Accept header)."""
    resp = staff.get(f"/ogcapi{path}?f=html")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    browser = staff.get(f"/ogcapi{path}", headers={"Accept": "text/html,*/*;q=0.8"})
    assert browser.mimetype == "text/html"


def test_openapi_document(staff, ledger):
    """The OpenAPI document is served with its media type and names the items operation."""
    resp = staff.get("/ogcapi/openapi?f=json")
    assert resp.status_code == 200 and "openapi" in resp.mimetype
    doc = json.loads(resp.get_data())
    assert doc["openapi"].startswith("3.0") and doc["servers"][0]["url"] == BASE
    assert "/collections/{collectionId}/items" in doc["paths"]


def test_queryables(staff, client, ledger):
    """Queryables list the collection's fields; the public ones omit the hidden fields."""
    staff_q = staff.get("/ogcapi/collections/issues/queryables?f=json").get_json()["properties"]
    public_q = client.get("/ogcapi/collections/public-issues/queryables?f=json").get_json()
    assert {"location_text", "progress", "geometry"} <= set(staff_q)
    assert staff_q["progress"]["type"] == "integer"
    assert "location_text" not in public_q["properties"]


# ---- paging, bbox, datetime, properties ---------------------------------------------------


def test_paging_has_absolute_links_and_counts(staff, ledger):
    """limit=2: three pages, absolute next/prev links, numberMatched and numberReturned."""
    seen, url, pages = [], f"{BASE}/collections/issues/items?f=json&limit=2", 0
    while url:
        assert url.startswith(BASE)
        body = staff.get(url).get_json()
        pages += 1
        assert body["numberMatched"] == 6 and body["numberReturned"] == len(body["features"])
        seen += _ids(body)
        url = next((lk["href"] for lk in body["links"] if lk["rel"] == "next"), None)
    assert pages == 3 and seen == [n for n, *_ in ISSUES]
    second = _items(staff, limit=2, offset=2)
    assert _ids(second) == ["OG-03", "OG-04"]
    prev = next(lk["href"] for lk in second["links"] if lk["rel"] == "prev")
    assert prev.startswith(BASE) and "offset=0" in prev
    assert _ids(staff.get(prev).get_json()) == ["OG-01", "OG-02"]


def test_bbox_and_bbox_crs(staff, ledger):
    """bbox in CRS84 and the same box in EPSG:4546 (northing/easting order) select alike."""
    box = (111.58, 26.38, 111.63, 26.43)
    assert _ids(_items(staff, bbox=",".join(map(str, box)))) == ["OG-01", "OG-02"]
    tr = Transformer.from_crs("OGC:CRS84", "EPSG:4546", always_xy=True)
    e0, n0 = tr.transform(box[0], box[1])
    e1, n1 = tr.transform(box[2], box[3])
    gk = _items(staff, bbox=f"{n0},{e0},{n1},{e1}", **{"bbox-crs": "EPSG:4546"})
    assert _ids(gk) == ["OG-01", "OG-02"]
    api = staff.get("/api/issues", query_string={"bbox": ",".join(map(str, box))}).get_json()
    assert _ids(api) == ["OG-01", "OG-02"]


@pytest.mark.parametrize("crs", ["EPSG:4546", GK, "EPSG:4490"])
def test_crs_and_content_crs(staff, ledger, crs):
    """crs transforms coordinates (axis order of the CRS) within 0.01 m; Content-Crs says which."""
    resp = staff.get("/ogcapi/collections/issues/items", query_string={"crs": crs, "f": "json"})
    uri = GK if "4546" in crs else CGCS
    assert resp.headers["Content-Crs"] == f"<{uri}>"
    coords = {f["id"]: f["geometry"]["coordinates"] for f in resp.get_json()["features"]}
    tr = Transformer.from_crs("OGC:CRS84", crs.replace(GK, "EPSG:4546"), always_xy=True)
    for number, _, _, _, lon, lat, _ in ISSUES:
        x, y = tr.transform(lon, lat)
        north, east = coords[number]  # both CRSs put the north axis first
        if uri == GK:
            assert abs(east - x) < 0.01 and abs(north - y) < 0.01
        else:
            assert abs(east - x) < 1e-6 and abs(north - y) < 1e-6
    one = staff.get("/ogcapi/collections/issues/items/OG-01?f=json&crs=EPSG:4546")
    assert one.headers["Content-Crs"] == f"<{GK}>"
    plain = staff.get("/ogcapi/collections/issues/items/OG-01?f=json")
    assert plain.headers["Content-Crs"] == f"<{CRS84}>"
    assert plain.get_json()["geometry"]["coordinates"] == [111.6, 26.4]


def test_datetime_is_the_last_change(staff, ledger):
    """datetime selects on the issue's last change: an interval, an open end, a day."""
    assert _ids(_items(staff, datetime="2021-04-01T00:00:00Z/2021-06-01T00:00:00Z")) == ["OG-02"]
    assert _ids(_items(staff, datetime="../2021-12-31")) == ["OG-02"]
    assert _ids(_items(staff, datetime="2021-05-01")) == ["OG-02"]
    assert "OG-02" not in _ids(_items(staff, datetime="2022-01-01/.."))
    assert _items(staff, datetime="2022-01-01/..")["numberMatched"] == 5


def test_property_filters_match_the_map(staff, ledger):
    """Queryable properties and the map's own filters give what /api/issues gives."""
    by_prop = _ids(_items(staff, county_code="431103", status="整改中"))
    by_map = _ids(_items(staff, county="431103", status="整改中"))
    api = _ids(staff.get("/api/issues?county=431103&status=整改中").get_json())
    assert by_prop == by_map == api == ["OG-01", "OG-02"]
    assert _ids(_items(staff, progress="100")) == ["OG-03", "OG-06"]


# ---- CQL2 ---------------------------------------------------------------------------------

CQL_CASES = [
    # (CQL2 text, the same as CQL2 JSON, the equivalent /api/issues query)
    ("county_code = '431103' AND status = '整改中'",
     {"op": "and", "args": [{"op": "=", "args": [{"property": "county_code"}, "431103"]},
                            {"op": "=", "args": [{"property": "status"}, "整改中"]}]},
     "county=431103&status=整改中"),
    ("status = '已完成待销号' OR status = '未启动'",
     {"op": "or", "args": [{"op": "=", "args": [{"property": "status"}, "已完成待销号"]},
                           {"op": "=", "args": [{"property": "status"}, "未启动"]}]},
     "status=已完成待销号,未启动"),
    ("NOT (county_code = '431124')",
     {"op": "not", "args": [{"op": "=", "args": [{"property": "county_code"}, "431124"]}]},
     "county=431103"),
    ("S_INTERSECTS(geometry, POLYGON((111.5 25.4, 111.7 25.4, 111.7 25.6, 111.5 25.6, "
     "111.5 25.4)))",
     {"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "Polygon", "coordinates":
      [[[111.5, 25.4], [111.7, 25.4], [111.7, 25.6], [111.5, 25.6], [111.5, 25.4]]]}]},
     "bbox=111.5,25.4,111.7,25.6"),
    ("S_WITHIN(geometry, BBOX(111.59, 26.39, 111.63, 26.43)) AND status = '整改中'",
     {"op": "and", "args": [{"op": "s_within", "args": [{"property": "geometry"},
                                                        {"bbox": [111.59, 26.39, 111.63, 26.43]}]},
                            {"op": "=", "args": [{"property": "status"}, "整改中"]}]},
     "bbox=111.59,26.39,111.63,26.43&status=整改中"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "as_json", "map_query"), CQL_CASES)
def test_cql2_text_and_json_match_the_map(staff, ledger, text, as_json, map_query):
    """CQL2 text and JSON compile to the same query as the map's equivalent filter."""
    expected = _ids(staff.get(f"/api/issues?{map_query}").get_json())
    assert expected
    assert _ids(_items(staff, filter=text)) == expected
    json_args = {"filter": json.dumps(as_json), "filter-lang": "cql2-json"}
    assert _ids(_items(staff, **json_args)) == expected


def test_cql2_comparison_operators(staff, ledger):
    """<, >=, BETWEEN, IN, LIKE and IS NULL on typed queryables."""
    assert _ids(_items(staff, filter="progress >= 60")) == ["OG-02", "OG-03", "OG-06"]
    assert _ids(_items(staff, filter="progress < 30")) == ["OG-01", "OG-05"]
    assert _ids(_items(staff, filter="progress BETWEEN 10 AND 30")) == ["OG-01", "OG-04"]
    assert _ids(_items(staff, filter="number IN ('OG-01', 'OG-06')")) == ["OG-01", "OG-06"]
    assert _ids(_items(staff, filter="number LIKE 'OG-0_' AND progress = 0")) == ["OG-05"]
    assert _items(staff, filter="batch IS NULL")["numberMatched"] == 6


def test_cql2_spatial_in_epsg4546(staff, ledger):
    """filter-crs=EPSG:4546: the literal geometry is read as northing/easting."""
    tr = Transformer.from_crs("OGC:CRS84", "EPSG:4546", always_xy=True)
    e0, n0 = tr.transform(111.5, 25.4)
    e1, n1 = tr.transform(111.7, 25.6)
    text = f"S_INTERSECTS(geometry, BBOX({n0}, {e0}, {n1}, {e1}))"
    got = _items(staff, filter=text, **{"filter-crs": "EPSG:4546"})
    assert _ids(got) == ["OG-04", "OG-05", "OG-06"]


def test_public_mask_holds_for_filters(client, ledger):
    """public-issues: only public issues, no hidden field, and filters on hidden fields refused."""
    body = _items(client, "public-issues")
    assert "OG-05" not in _ids(body)
    assert all("location_text" not in f["properties"] for f in body["features"])
    for args in ({"filter": "location_text LIKE 'OG-01%'"}, {"location_text": "OG-01 内部地址"},
                 {"filter": "zone IS NULL"}):  # fmt: skip
        _error(client, "/ogcapi/collections/public-issues/items", **args)
    assert _ids(_items(client, "public-issues", filter="status = '未启动'")) == []
    _error(client, "/ogcapi/collections/public-issues/items/OG-05", 404)


def test_layer_collections_filter(staff, ledger):
    """counties and protected-areas filter in Python with the same CQL2."""
    counties = _items(staff, "counties", limit=100)
    assert counties["numberMatched"] == 11
    one = _items(staff, "counties", filter="code = '431103'")
    assert _ids(one) == ["431103"] and one["features"][0]["properties"]["name"] == "冷水滩区"
    pa = _items(staff, "protected-areas", limit=1)
    props = pa["features"][0]["properties"]
    assert {"zone", "vintage", "authoritative", "illustrative"} <= set(props)
    fid = pa["features"][0]["id"]
    assert staff.get(f"/ogcapi/collections/protected-areas/items/{fid}?f=json").status_code == 200


def test_overlap_collection(staff, logged_in_client, ledger):
    """The overlap collection: every located issue of the scope against each constraint layer."""
    body = _items(staff, "overlap", limit=1000)
    sites = {f["properties"]["site_id"] for f in body["features"]}
    assert sites == {n for n, *_ in ISSUES}
    assert {f["properties"]["layer_kind"] for f in body["features"]} == {"protected_area"}
    assert all(f["properties"]["relation"] for f in body["features"])
    county = logged_in_client("county", county_code="431124")
    mine = _items(county, "overlap", limit=1000)
    assert {f["properties"]["site_id"] for f in mine["features"]} == {"OG-04", "OG-05", "OG-06"}
    first = mine["features"][0]["id"]
    assert county.get(f"/ogcapi/collections/overlap/items/{first}?f=json").status_code == 200
    assert _items(county, "overlap", filter="relation = 'outside'")["numberMatched"] >= 0


def test_county_scope_holds(logged_in_client, ledger):
    """A county editor sees its county through issues, items and CQL2 that asks for more."""
    county = logged_in_client("county", county_code="431124")
    assert _ids(_items(county)) == ["OG-04", "OG-05", "OG-06"]
    assert _ids(_items(county, filter="county_code = '431103'")) == []
    _error(county, "/ogcapi/collections/issues/items/OG-01", 404)


# ---- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    {"bbox": "1,2,3"}, {"bbox": "a,b,c,d"}, {"bbox": "10,10,0,0"}, {"bbox": "0,0,200,95"},
    {"bbox": "nan,0,1,1"}, {"crs": "EPSG:3857"}, {"bbox-crs": "EPSG:9999", "bbox": "0,0,1,1"},
    {"filter": "progress >"}, {"filter": "nonsense = 1"}, {"filter": "progress = 'many'"},
    {"filter": "{bad json", "filter-lang": "cql2-json"}, {"filter-lang": "ecql"},
    {"filter": "S_INTERSECTS(geometry, 5)"}, {"limit": "0"}, {"limit": "x"},
    {"limit": "100000"}, {"offset": "-1"}, {"datetime": "yesterday"},
    {"datetime": "2022-01-01/2021-01-01"}, {"unknown": "1"}, {"f": "xml"},
    {"after": "x" * 50}, {"filter-crs": "EPSG:3857", "filter": "progress = 1"},
])  # fmt: skip
def test_bad_inputs_are_ogc_exceptions(staff, ledger, args):
    """Each bad argument is a 400 OGC exception naming it, never a 500."""
    body = _error(staff, "/ogcapi/collections/issues/items", **args)
    assert body["code"] == "InvalidParameterValue"


def test_unknown_collection_and_feature(staff, ledger):
    """Unknown collection or feature: 404 OGC exceptions."""
    assert _error(staff, "/ogcapi/collections/nope", 404)["code"] == "NotFound"
    _error(staff, "/ogcapi/collections/nope/items", 404)
    _error(staff, "/ogcapi/collections/issues/items/NOPE", 404)
    _error(staff, "/ogcapi/collections/counties/items/999999", 404)
    _error(staff, "/ogcapi/collections/issues/items/OG-01", 400, limit="5")


def test_dates_in_properties_are_iso(staff, ledger):
    """Dates travel as ISO text (GDAL types them from the values)."""
    props = _items(staff, limit=1)["features"][0]["properties"]
    assert date.fromisoformat(props["due_date"])
