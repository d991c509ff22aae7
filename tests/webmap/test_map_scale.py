"""The map at scale: grid counts computed in the database, keyset pages on indexes, migration 0008.

The grid (``/api/issues/grid``, ``/api/public/issues/grid``) must agree with the plain items of
the same query cell by cell, keep the reader's scope, and never place a public sensitive issue at
its exact point. Both backends run (the ``app`` fixture is parametrised over SQLite and PostGIS).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import date

import pytest
from sqlalchemy import inspect, text

from webmap.ledger import db
from webmap.ledger.clusters import cell_size

PLACES = [(111.31 + 0.037 * (i % 9), 25.02 + 0.053 * (i // 3)) for i in range(24)]
DUE = (date(2022, 5, 1), date(2022, 6, 20), date(2023, 1, 1), None)


@pytest.fixture
def ledger(app, make_issue):
    """24 issues over the city in two counties, mixed deadlines; judged on 2022-06-01."""
    app.config["TODAY"] = "2022-06-01"
    for i, (lon, lat) in enumerate(PLACES):
        county = ("431103", "冷水滩区") if i % 2 else ("431102", "零陵区")
        make_issue(f"G-{i:02d}", county_code=county[0], county_name=county[1],
                   geometry={"type": "Point", "coordinates": [lon, lat]},
                   due_date=DUE[i % len(DUE)])  # fmt: skip
    make_issue("G-99", geometry=None, location_text="地点不详")


def _all_items(client, url: str) -> list[dict]:
    """Return every feature of a collection URL, following next links."""
    features = []
    while url:
        body = client.get(url).get_json()
        features += body["features"]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    return features


def _binned(features: list[dict], cell: float) -> dict:
    """Return (cell x, cell y) -> Counter of RAG classes for located features (plain Python)."""
    out: dict = defaultdict(Counter)
    for f in features:
        if f["geometry"]:
            lon, lat = f["geometry"]["coordinates"]
            out[(math.floor(lon / cell), math.floor(lat / cell))][f["properties"]["rag"]] += 1
    return out


def _cells(body: dict) -> dict:
    """Return (cell x, cell y) -> Counter of RAG classes from a grid answer."""
    out = {}
    for lon, lat, count, rags in zip(body["lon"], body["lat"], body["count"], body["rags"],
                                     strict=True):  # fmt: skip
        key = (math.floor(lon / body["cell"]), math.floor(lat / body["cell"]))
        out[key] = Counter({r: n for r, n in zip(body["codes"]["rag"], rags, strict=True) if n})
        assert sum(rags) == count
    return out


@pytest.mark.parametrize("zoom", [9, 12])
def test_grid_counts_equal_the_items_per_cell(logged_in_client, ledger, zoom):
    """Every cell holds the issues (and RAG split) the plain items put there; totals agree."""
    client = logged_in_client("viewer")
    body = client.get(f"/api/issues/grid?zoom={zoom}").get_json()
    assert body["cell"] == cell_size(zoom, 60)
    assert _cells(body) == _binned(_all_items(client, "/api/issues?limit=7"), body["cell"])
    assert body["numberMatched"] == 25 and body["numberLocated"] == 24


def test_grid_keeps_the_filters_and_the_view(logged_in_client, ledger):
    """A filter and a view box narrow the grid exactly as bbox narrows the items."""
    client = logged_in_client("viewer")
    box = "111.3,25.0,111.42,25.2"
    body = client.get(f"/api/issues/grid?zoom=12&rag=red&view={box}").get_json()
    items = _all_items(client, f"/api/issues?rag=red&bbox={box}")
    assert 0 < body["numberLocated"] == len(items) < 24
    assert _cells(body) == _binned(items, body["cell"])


def test_county_editors_grid_holds_only_their_county(logged_in_client, ledger):
    """A county editor's grid counts the issues of their county and nothing else."""
    client = logged_in_client("county", county_code="431103")
    body = client.get("/api/issues/grid?zoom=10").get_json()
    own = _all_items(client, "/api/issues")
    assert {f["properties"]["county_code"] for f in own} == {"431103"}
    assert body["numberMatched"] == len(own) == 13  # G-99, unlocated, is theirs too
    assert body["numberLocated"] == 12
    assert _cells(body) == _binned(own, body["cell"])


def test_staff_grid_needs_a_login(anon_client, ledger):
    """An anonymous reader gets no staff grid (the public one is theirs)."""
    assert anon_client.get("/api/issues/grid?zoom=9").status_code == 401
    assert anon_client.get("/api/public/issues/grid?zoom=9").status_code == 200


def test_public_grid_places_sensitive_issues_at_their_published_point(anon_client, make_issue,
                                                                       app):  # fmt: skip
    """A sensitive issue is counted at its township's point, never at its exact place."""
    exact = (111.605, 26.405)
    make_issue("S-1", geometry={"type": "Point", "coordinates": list(exact)}, sensitive=True,
               township_code="431103001")  # fmt: skip
    make_issue("S-2", geometry={"type": "Point", "coordinates": [111.35, 25.1]})
    published = anon_client.get("/api/public/issues/S-1").get_json()["geometry"]["coordinates"]
    assert published != list(exact)
    for zoom in (8, 14, 18):
        body = anon_client.get(f"/api/public/issues/grid?zoom={zoom}").get_json()
        places = list(zip(body["lon"], body["lat"], strict=True))
        assert tuple(published) in places and exact not in places
        assert body["numberLocated"] == 2
    # a view around the exact place (away from the published point) does not reveal it
    near = f"{exact[0] - 0.001},{exact[1] - 0.001},{exact[0] + 0.001},{exact[1] + 0.001}"
    body = anon_client.get(f"/api/public/issues/grid?zoom=16&view={near}").get_json()
    assert body["numberLocated"] == 0


def test_grid_refuses_as_of_too_fine_a_grid_and_bad_arguments(logged_in_client, ledger, app):
    """as_of, a grid beyond MAP_GRID_MAX_CELLS, a bad zoom or view: each a 400 naming it."""
    client = logged_in_client("viewer")
    resp = client.get("/api/issues/grid?zoom=9&as_of=2022-05-01")
    assert resp.status_code == 400 and "as_of" in resp.get_json()["error"]
    app.config["MAP_GRID_MAX_CELLS"] = 5
    resp = client.get("/api/issues/grid?zoom=16")
    assert resp.status_code == 400 and "网格过细" in resp.get_json()["error"]
    assert client.get("/api/issues/grid?zoom=9.5").status_code == 400
    resp = client.get("/api/issues/grid?view=1,2,3")
    assert resp.status_code == 400 and "view" in resp.get_json()["error"]


def test_map_page_hands_the_grid_and_limit_to_the_map(logged_in_client, ledger, app):
    """The map page gives map.js the grid URL with the page's filters, and the points limit."""
    app.config["MAP_POINTS_LIMIT"] = 123
    html = logged_in_client("viewer").get("/?county=431103").get_data(as_text=True)
    assert '"gridUrl": "/api/issues/grid?county=431103"' in html
    assert '"pointsLimit": 123' in html
    past = logged_in_client("viewer").get("/?as_of=2022-05-01").get_data(as_text=True)
    assert '"gridUrl": null' in past  # a past ledger has no grid: its points are drawn


NEW_INDEXES = {"ix_issues_county_number", "ix_issues_status_number", "ix_issues_public_number",
               "ix_issues_unlocated"}  # fmt: skip


def test_migration_0008_adds_and_removes_the_paging_indexes(database_url):
    """Upgrading to head creates the 0008 indexes; downgrading to 0007 drops them."""
    engine = db.make_engine(database_url)
    try:
        names = {i["name"] for i in inspect(engine).get_indexes("issues")}
        assert NEW_INDEXES <= names
        _downgrade(engine, "0007")
        names = {i["name"] for i in inspect(engine).get_indexes("issues")}
        assert not NEW_INDEXES & names
        db.upgrade_db(engine)
        names = {i["name"] for i in inspect(engine).get_indexes("issues")}
        assert NEW_INDEXES <= names
    finally:
        engine.dispose()


def _downgrade(engine, revision: str) -> None:
    """Downgrade the schema with alembic (the app itself only ever upgrades)."""
    from alembic import command

    with engine.begin() as conn:
        command.downgrade(db._alembic_config(conn), revision)


@pytest.mark.postgis
def test_keyset_page_uses_the_number_index_on_postgis(postgis_url):
    """A late page by cursor under a county filter reads (county, number) in order: no sort."""
    from webmap.ledger.models import Issue

    engine = db.make_engine(postgis_url)
    # a county of 1 %: walking the number index alone would filter out 99 % of what it reads
    rows = [{"number": f"K-{i:05d}", "source_type": "回头看", "title": "t", "status": "整改中",
             "county_code": "431103" if i % 100 == 0 else "431102"}
            for i in range(20000)]  # fmt: skip
    try:
        with engine.begin() as conn:
            conn.execute(Issue.__table__.insert(), rows)
            conn.execute(text("ANALYZE issues"))
            # 200 rows of the county are cheaper to sort than to walk in order; at scale (bench,
            # 250,000 rows a county) the planner takes this index itself, here it is made to
            conn.execute(text("SET LOCAL enable_sort = off"))
            plan = "\n".join(r[0] for r in conn.execute(text(
                "EXPLAIN SELECT number FROM issues WHERE county_code = '431103' "
                "AND number > 'K-15000' ORDER BY number LIMIT 1001")))  # fmt: skip
    finally:
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE issues CASCADE"))
        engine.dispose()
    assert "ix_issues_county_number" in plan and "Sort" not in plan


@pytest.mark.postgis
def test_unlocated_count_reads_the_partial_index_on_postgis(postgis_url):
    """The map page's count of issues without a place reads the small partial index."""
    engine = db.make_engine(postgis_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(r[0] for r in conn.execute(text(
                "EXPLAIN SELECT count(id) FROM issues WHERE lon IS NULL")))  # fmt: skip
    finally:
        engine.dispose()
    assert "ix_issues_unlocated" in plan
