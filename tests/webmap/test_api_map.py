"""``/api/issues`` for the map page: cursor paging under edits, and ``f=map`` edge cases."""

from __future__ import annotations

from datetime import date

import pytest


@pytest.fixture
def client(logged_in_client):
    """Internal pages need a login (issue 8): a whole-city viewer, who reads everything internal."""
    return logged_in_client("viewer")


@pytest.fixture
def ledger(app, make_issue):
    """Four located issues and one without a location, judged on 2022-06-01."""
    app.config["TODAY"] = "2022-06-01"
    for number in ("HT-01", "HT-02", "HT-03", "HT-04"):
        make_issue(number)
    make_issue("HT-05", geometry=None, location_text="地点不详")


def _next(body: dict) -> str | None:
    """Return the href of a page's next link, or None."""
    return next((link["href"] for link in body["links"] if link["rel"] == "next"), None)


def test_cursor_pages_do_not_repeat_when_an_issue_is_added_meanwhile(client, ledger, make_issue):
    """An issue numbered before the cursor, added between pages, does not shift the next page."""
    first = client.get("/api/issues?limit=2").get_json()
    assert [f["id"] for f in first["features"]] == ["HT-01", "HT-02"]
    make_issue("HT-00")
    second = client.get(_next(first)).get_json()
    assert [f["id"] for f in second["features"]] == ["HT-03", "HT-04"]
    # numberMatched is counted once, when the run of pages began, and carried in next links
    assert second["numberMatched"] == first["numberMatched"] == 5
    assert client.get("/api/issues?limit=2").get_json()["numberMatched"] == 6


def test_only_the_first_page_counts(client, ledger):
    """Next links carry the first page's count; a bad carried count is a 400 naming matched."""
    first = client.get("/api/issues?limit=2&status=未启动").get_json()
    assert f"matched={first['numberMatched']}" in _next(first)
    resp = client.get("/api/issues?limit=2&after=HT-02&matched=-3")
    assert resp.status_code == 400 and "matched" in resp.get_json()["error"]
    # an offset page (no cursor) always counts afresh, whatever it is told
    assert client.get("/api/issues?limit=2&offset=2&matched=99").get_json()["numberMatched"] == 5


def test_map_format_keeps_unlocated_issues_without_a_point(client, ledger):
    """An issue with no location is listed (counts agree) with null lon/lat, also for GCJ-02."""
    for coords in ("wgs84", "gcj02"):
        body = client.get(f"/api/issues?f=map&coords={coords}").get_json()
        i = body["number"].index("HT-05")
        assert body["lon"][i] is None and body["lat"][i] is None
        assert body["numberReturned"] == body["numberMatched"] == 5
        assert all(v is not None for k, v in enumerate(body["lon"]) if k != i)


def test_map_format_of_only_unlocated_issues_and_of_nothing(client, ledger):
    """A page of unlocated issues only, and an empty page, are well formed with no next link."""
    body = client.get("/api/issues?f=map&coords=gcj02&q=地点不详").get_json()
    assert body["number"] == ["HT-05"] and body["lon"] == [None] and _next(body) is None
    empty = client.get("/api/issues?f=map&q=没有这样的问题").get_json()
    assert empty["numberMatched"] == 0 and empty["number"] == [] and empty["shapes"] == []
    assert _next(empty) is None


def test_map_pages_end_at_the_last_issue(client, ledger):
    """Following f=map next links with limit=2 visits every issue once, in number order."""
    url, numbers, pages = "/api/issues?f=map&limit=2", [], 0
    while url:
        body = client.get(url).get_json()
        numbers += body["number"]
        pages += 1
        url = _next(body)
    assert numbers == ["HT-01", "HT-02", "HT-03", "HT-04", "HT-05"] and pages == 3


def test_map_format_rag_matches_the_rag_filter(client, ledger, make_issue):
    """The RAG code computed in SQL agrees with the rag= filter for every class."""
    make_issue("HT-06", due_date=date(2022, 6, 20))
    make_issue("HT-07", due_date=None, deadline_class="持续推进")
    make_issue("HT-08", due_date=date(2024, 1, 1))
    body = client.get("/api/issues?f=map").get_json()
    coded = {n: body["codes"]["rag"][r] for n, r in zip(body["number"], body["rag"], strict=True)}
    for rag in ("red", "amber", "green", "none"):
        filtered = client.get(f"/api/issues?f=map&rag={rag}").get_json()["number"]
        assert filtered and sorted(filtered) == sorted(n for n, c in coded.items() if c == rag)
