"""#16 on the web: the issue page and /api/issues list every constraint zone an issue touches."""

from __future__ import annotations

from datetime import date

import pytest

from geo.importer import read_boundary_file
from tests.data.constraint_layers import sites_frame, water_source_frame, write
from webmap.ledger import boundaries as store
from webmap.ledger import db
from webmap.ledger.events import create_issue
from webmap.web import context as webctx


@pytest.fixture
def client(logged_in_client):
    """Return a client of the city office (admin)."""
    return logged_in_client("admin")


@pytest.fixture
def water(app, tmp_path):
    """Import the test water source and put an issue half in its 一级 and half in its 二级 zone."""
    result = read_boundary_file(write(water_source_frame(), tmp_path, "w", "gpkg"),
                                kind="water_source")  # fmt: skip
    site = sites_frame().geometry.iat[0]
    with app.app_context():
        session = webctx.get_session()
        with db.transaction(session):
            store.save_import(session, result, actor="test")
        with db.transaction(session):
            create_issue(session, {"number": "WS-01", "title": "水源地内养殖场",
                                   "source_type": "回头看", "category": "畜禽养殖",
                                   "county_code": "431102",
                                   "county_name": "零陵区", "deadline_class": "2021年底前",
                                   "due_date": date(2021, 12, 31),
                                   "geometry": site.__geo_interface__},
                         actor="tester", date=date(2021, 3, 6))  # fmt: skip
    return result


def test_issue_page_shows_each_constraint_with_rule_and_source(client, water):
    """The detail page names both water-source zones, their rules and legal sources."""
    html = client.get("/issues/WS-01").get_data(as_text=True)
    assert 'id="constraints"' in html
    assert "饮用水水源保护区</strong>：测试水源(潇水) 一级保护区（占比 50.00%）" in html
    assert "二级保护区（占比 50.00%）" in html
    assert "第六十五条" in html and "第六十六条" in html
    assert "未导入 生态保护红线、永久基本农田 图层" in html


def test_api_issues_carries_constraints(client, water):
    """/api/issues gives each feature its constraints (kind, name, zone, share, rule, source)."""
    body = client.get("/api/issues?q=WS-01").get_json()
    (feature,) = [f for f in body["features"] if f["properties"]["number"] == "WS-01"]
    found = {c["zone"]: c for c in feature["properties"]["constraints"]
             if c["layer_kind"] == "water_source"}  # fmt: skip
    assert set(found) == {"一级保护区", "二级保护区"}
    assert found["一级保护区"]["overlap_share"] == pytest.approx(0.5, abs=1e-3)
    assert "第六十五条" in found["一级保护区"]["rule_source"]
    assert found["一级保护区"]["layer_title"] == "饮用水水源保护区"


def test_overlap_page_has_rows_of_every_layer(client, water):
    """The /overlap table lists the water-source rows beside the reserve rows."""
    html = client.get("/overlap?kind=water_source").get_data(as_text=True)
    assert "测试水源(潇水)" in html and "饮用水水源保护区边界版本" in html
    assert "未导入 生态保护红线、永久基本农田 图层" in html
    assert client.get("/overlap?kind=nope").status_code == 400


def test_cached_constraints_equal_fresh_ones(client, water):
    """#19: a second read comes from the LRU and equals a fresh computation, copy for copy."""
    from webmap.ledger import constraints

    def read():
        """Return WS-01's constraints from /api/issues."""
        body = client.get("/api/issues?q=WS-01").get_json()
        return body["features"][0]["properties"]["constraints"]

    constraints.clear_cache()
    fresh = read()
    assert read() == fresh and fresh
    constraints.clear_cache()
    assert read() == fresh


def test_constraints_follow_a_new_layer_load(app, client, water, monkeypatch):
    """#19: the cache key names the loaded layer, so a layer loaded anew is computed anew."""
    from webmap.ledger import constraints

    before = client.get("/api/issues?q=WS-01").get_json()["features"][0]["properties"]
    calls = []
    real = constraints._compute
    monkeypatch.setattr(constraints, "_compute", lambda *a: calls.append(1) or real(*a))
    client.get("/api/issues?q=WS-01")
    assert calls == []  # served from the cache
    store._loaded.clear()  # the version is read again, as after an eviction
    after = client.get("/api/issues?q=WS-01").get_json()["features"][0]["properties"]
    assert calls == [1] and after["constraints"] == before["constraints"]
