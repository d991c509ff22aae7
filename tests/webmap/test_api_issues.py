"""``/api/issues``: GeoJSON of exactly the page's issues, pygeoapi-style paging, Chinese errors."""

from __future__ import annotations

import gzip
import json

import pytest

from tests.webmap.helpers import add_two_county_ledger


@pytest.fixture
def client(logged_in_client):
    """Internal pages need a login (issue 8): a viewer, who reads everything internal."""
    return logged_in_client("viewer")


@pytest.fixture
def ledger(app, make_issue):
    """Five issues in two counties: one line, one overdue, one done, one without a deadline."""
    add_two_county_ledger(app, make_issue, script_title="<script>alert(1)</script>",
                          ht03_geometry={"type": "LineString",
                                         "coordinates": [[111.5, 25.5], [111.6, 25.6]]})
    make_issue("HT-05", due_date=None, deadline_class="持续推进")


def test_collection_has_every_issue_with_paging_fields(client, ledger):
    """Without filters every issue is returned with numberMatched and numberReturned."""
    body = client.get("/api/issues").get_json()
    assert body["type"] == "FeatureCollection"
    assert body["numberMatched"] == body["numberReturned"] == 5
    assert [f["id"] for f in body["features"]] == ["HT-01", "HT-02", "HT-03", "HT-04", "HT-05"]


def test_geometry_is_lon_lat_and_lines_stay_lines(client, ledger):
    """Points come back as [lon, lat]; a line issue keeps its line."""
    feats = {f["id"]: f for f in client.get("/api/issues").get_json()["features"]}
    assert feats["HT-01"]["geometry"] == {"type": "Point", "coordinates": [111.6, 26.4]}
    assert feats["HT-03"]["geometry"]["type"] == "LineString"


def test_rag_is_computed_for_the_configured_day(client, ledger):
    """On 2022-06-01: 2021 deadline is red, due in 19 days amber, 2023 green, no deadline none."""
    features = client.get("/api/issues").get_json()["features"]
    feats = {f["id"]: f["properties"]["rag"] for f in features}
    assert feats == {"HT-01": "red", "HT-02": "amber", "HT-03": "red", "HT-04": "green",
                     "HT-05": "none"}


def test_paging_follows_next_links_to_the_end(client, ledger):
    """limit=2 gives three pages whose next links cover every issue exactly once."""
    url, seen = "/api/issues?limit=2", []
    while url:
        body = client.get(url).get_json()
        assert body["numberMatched"] == 5
        seen += [f["id"] for f in body["features"]]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    assert seen == ["HT-01", "HT-02", "HT-03", "HT-04", "HT-05"]


def test_filter_is_kept_in_next_link(client, ledger):
    """A filtered page's next link carries the filter and continues after the page's last number."""
    body = client.get("/api/issues?county=431103&limit=1").get_json()
    assert body["numberMatched"] == 3
    nxt = next(link["href"] for link in body["links"] if link["rel"] == "next")
    assert "county=431103" in nxt and "after=HT-01" in nxt and "offset" not in nxt


def test_offset_paging_still_works_for_gis_clients(client, ledger):
    """offset/limit select the same rows as before, with prev and a cursor next link."""
    body = client.get("/api/issues?limit=2&offset=2").get_json()
    assert [f["id"] for f in body["features"]] == ["HT-03", "HT-04"]
    links = {link["rel"]: link["href"] for link in body["links"]}
    assert "offset=0" in links["prev"] and "after=HT-04" in links["next"]
    assert "offset=2" in links["self"]
    last = client.get("/api/issues?limit=2&offset=4").get_json()
    assert [f["id"] for f in last["features"]] == ["HT-05"]
    assert "next" not in {link["rel"] for link in last["links"]}


def test_cursor_pages_end_exactly_without_empty_page(client, ledger):
    """A page that ends on the last issue has no next link, even when it is full."""
    body = client.get("/api/issues?after=HT-03&limit=2").get_json()
    assert [f["id"] for f in body["features"]] == ["HT-04", "HT-05"]
    assert body["numberMatched"] == 5 and body["numberReturned"] == 2
    assert "next" not in {link["rel"] for link in body["links"]}
    assert "after=HT-03" in next(lk["href"] for lk in body["links"] if lk["rel"] == "self")


def test_map_format_holds_the_same_issues_as_geojson(client, ledger):
    """f=map pages list the GeoJSON numbers, statuses, RAG and points in compact columns."""
    geo = {f["id"]: f for f in client.get("/api/issues").get_json()["features"]}
    url, numbers = "/api/issues?f=map&limit=2", []
    while url:
        resp = client.get(url)
        assert resp.mimetype == "application/json"
        body = resp.get_json()
        assert body["type"] == "IssuePoints" and body["numberMatched"] == 5
        codes = body["codes"]
        for i, number in enumerate(body["number"]):
            props = geo[number]["properties"]
            assert codes["status"][body["status"][i]] == props["status"]
            assert codes["rag"][body["rag"][i]] == props["rag"]
            if geo[number]["geometry"]["type"] == "Point":
                assert [body["lon"][i], body["lat"][i]] == geo[number]["geometry"]["coordinates"]
        numbers += body["number"]
        url = next((lk["href"] for lk in body["links"] if lk["rel"] == "next"), None)
    assert numbers == list(geo)


def test_map_format_gives_lines_their_shape_and_centre(client, ledger):
    """A line issue comes with its geometry in shapes and the centre of its box as its point."""
    body = client.get("/api/issues?f=map&county=431124").get_json()
    i = body["number"].index("HT-03")
    assert body["shapes"] == [[i, {"type": "LineString",
                                   "coordinates": [[111.5, 25.5], [111.6, 25.6]]}]]
    assert body["lon"][i] == pytest.approx(111.55) and body["lat"][i] == pytest.approx(25.55)


def test_map_format_follows_the_filters_and_gcj02(client, ledger):
    """f=map counts what the filters match and shifts points for AMap like GeoJSON does."""
    body = client.get("/api/issues?f=map&rag=red").get_json()
    assert body["numberMatched"] == 2 and sorted(body["number"]) == ["HT-01", "HT-03"]
    geo = client.get("/api/issues?coords=gcj02&limit=1").get_json()["features"][0]
    compact = client.get("/api/issues?f=map&coords=gcj02&limit=1").get_json()
    assert [compact["lon"][0], compact["lat"][0]] == geo["geometry"]["coordinates"]


def test_properties_selects_fields(client, ledger):
    """properties=number,rag returns only those properties."""
    feat = client.get("/api/issues?properties=number,rag").get_json()["features"][0]
    assert set(feat["properties"]) == {"number", "rag"}


def test_gcj02_display_coordinates_are_shifted(client, ledger):
    """coords=gcj02 moves points by the GCJ-02 offset (about +0.005 lon, -0.003 lat here)."""
    feats = client.get("/api/issues?coords=gcj02").get_json()["features"]
    lon, lat = feats[0]["geometry"]["coordinates"]
    assert 0.003 < lon - 111.6 < 0.008 and -0.006 < lat - 26.4 < 0.0


def test_large_pages_are_gzipped_for_clients_that_accept_it(client, ledger):
    """The body is gzip-compressed when asked for and decodes to the same JSON."""
    plain = client.get("/api/issues").get_json()
    resp = client.get("/api/issues", headers={"Accept-Encoding": "gzip"})
    assert resp.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(resp.data)) == plain


def test_single_issue_and_missing_number(client, ledger):
    """An existing number returns its feature; a missing one a Chinese JSON 404."""
    feat = client.get("/api/issues/HT-02").get_json()
    assert feat["properties"]["title"] == "<script>alert(1)</script>"
    resp = client.get("/api/issues/NOPE-9")
    assert resp.status_code == 404
    assert resp.get_json()["ok"] is False and "NOPE-9" in resp.get_json()["error"]


BAD_ARGUMENTS = [("limit=abc", "limit"), ("limit=0", "limit"), ("limit=100000", "limit"),
                 ("offset=-1", "offset"), ("properties=internal_notes", "properties"),
                 ("coords=bd09", "coords"), ("county=999999", "county"),
                 ("status=不存在的状态", "status"), ("f=xml", "f"),
                 ("after=HT-01&offset=2", "after"),
                 ("f=map&limit=50001", "limit"), ("after=" + "9" * 41, "after"),
                 ("page=0", "page"), ("page=x", "page"), ("page=2&offset=5", "page"),
                 ("after=HT-01&page=2", "after")]  # fmt: skip


@pytest.mark.parametrize(("query", "name"), BAD_ARGUMENTS)
@pytest.mark.parametrize("path", ["/api/issues", "/api/public/issues"])
def test_bad_arguments_are_json_400_in_chinese(client, ledger, query, name, path):
    """Malformed or unknown values give a JSON 400 that names the argument, no traceback;
    both collections answer the same way (one items handler)."""
    resp = client.get(f"{path}?{query}")
    assert resp.status_code == 400, (path, query)
    body = resp.get_json()
    assert body["ok"] is False and body["status"] == 400
    assert name in body["error"], body["error"]
    assert "Traceback" not in resp.get_data(as_text=True)


def test_internal_notes_never_leave(client, make_issue, app):
    """A marker in internal_notes appears in no API response."""
    make_issue("HT-09", internal_notes="INTERNAL-MARKER-7")
    assert "INTERNAL-MARKER-7" not in client.get("/api/issues").get_data(as_text=True)
    assert "INTERNAL-MARKER-7" not in client.get("/api/issues/HT-09").get_data(as_text=True)
