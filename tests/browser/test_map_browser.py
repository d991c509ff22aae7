"""The issue map in headless chromium with every outside host blocked."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.browser.conftest import PageWatch, add_viewer, log_in, serve_in_thread

pytestmark = pytest.mark.browser

# issues held by the canvas layer, and the sum of what its last paint drew (glyphs + cluster counts)
DRAWN_JS = "() => window.yzmap && window.yzmap.issues ? window.yzmap.issues.count() : -1"
PAINTED_JS = "() => window.yzmap.state.rendered"


def _api_count(page, base: str, qs: str) -> tuple[int, int]:
    """Return (numberMatched, features with a geometry) from the API for a query string."""
    matched, located, url = None, 0, f"{base}/api/issues?{qs}&limit=10000"
    while url:
        body = json.loads(page.request.get(url).text())
        matched = body["numberMatched"]
        located += sum(1 for f in body["features"] if f["geometry"])
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        url = base + nxt[0] if nxt else None
    return matched, located


def _open_map(page, url: str) -> int:
    """Open a map page, wait until every page of data is drawn; return the issues on the canvas.

    The count is checked against what the last paint drew: at the city view every issue is in
    sight, so glyphs plus cluster counts must add up to the same number.
    """
    page.goto(url)
    page.wait_for_selector("body[data-map-ready='1']", state="attached", timeout=20000)
    drawn = page.evaluate(DRAWN_JS)
    assert page.evaluate(PAINTED_JS) == drawn
    return drawn


def _ink(page) -> int:
    """Return how many pixels of the issue canvas are not transparent."""
    return page.evaluate("""() => { const c = document.querySelector("canvas.yz-issues");
        const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }""")


def test_map_draws_what_the_api_reports(page, live_server, tmp_path):
    """Issues on the canvas equal the API's located features; the page count is numberMatched."""
    pg, watch = page
    drawn = _open_map(pg, live_server + "/")
    matched, located = _api_count(pg, live_server, "")
    assert matched >= 60 and drawn == located > 0
    assert _ink(pg) > 1000
    assert int(pg.inner_text("#total-count")) == matched
    assert int(pg.inner_text("#drawn-count")) == drawn
    shot = Path(__file__).resolve().parents[2] / "instance" / "map-screenshot.png"
    shot.parent.mkdir(exist_ok=True)
    pg.screenshot(path=str(shot))
    assert watch.outside == [] and watch.errors == []


def test_filter_changes_map_and_api_alike(page, live_server):
    """Choosing a county in the form changes the drawn markers and the API count the same way."""
    pg, watch = page
    everything = _open_map(pg, live_server + "/")
    pg.select_option("select[name=county]", "431124")
    with pg.expect_navigation():
        pg.click("#filters button[type=submit]")
    pg.wait_for_selector("body[data-map-ready='1']", state="attached", timeout=20000)
    drawn = pg.evaluate(DRAWN_JS)
    assert "county=431124" in pg.url
    matched, located = _api_count(pg, live_server, "county=431124")
    assert drawn == located and 0 < drawn < everything
    assert int(pg.inner_text("#total-count")) == matched
    assert watch.outside == [] and watch.errors == []


def _screen_point(page, i: int = 0) -> dict:
    """Zoom in on issue ``i`` until it is drawn on its own; return its point in the page."""
    page.evaluate("""(i) => { const m = window.yzmap.map;
        m.setView(window.yzmap.issues.latLngOf(i), m.getMaxZoom(), {animate: false}); }""", i)
    page.wait_for_function("() => window.yzmap.state.rendered >= 1")
    return page.evaluate("""(i) => { const m = window.yzmap.map;
        const p = m.latLngToContainerPoint(window.yzmap.issues.latLngOf(i));
        const r = m.getContainer().getBoundingClientRect();
        return {x: r.left + p.x, y: r.top + p.y}; }""", i)


def test_clicking_a_cluster_zooms_in_and_a_glyph_opens_its_popup(page, live_server):
    """A click on a cluster zooms in; a click on a lone issue opens its popup with inert text."""
    pg, watch = page
    _open_map(pg, live_server + "/?county=431103")
    zoom = pg.evaluate("window.yzmap.map.getZoom()")
    big = pg.evaluate("""() => { const it = window.yzmap.issues._items.filter(t => t.cell)
        .sort((a, b) => b.n - a.n)[0]; if (!it) return null;
        const m = window.yzmap.map, o = window.yzmap.issues._origin;
        const p = m.layerPointToContainerPoint(L.point(it.x + o.x, it.y + o.y));
        const r = m.getContainer().getBoundingClientRect();
        return {x: r.left + p.x, y: r.top + p.y}; }""")
    if big is not None:
        pg.mouse.click(big["x"], big["y"])
        # zoomed and the animation over (a setView during it would be dropped)
        pg.wait_for_function(
            f"() => window.yzmap.map.getZoom() > {zoom} && !window.yzmap.map._animatingZoom")
    point = _screen_point(pg, 0)
    pg.mouse.click(point["x"], point["y"])
    pg.wait_for_selector(".leaflet-popup-content a", timeout=10000)
    number = pg.evaluate("window.yzmap.issues._number[0]")
    assert number in pg.inner_text(".leaflet-popup-content")
    assert "查看详情" in pg.inner_text(".leaflet-popup-content")
    assert pg.locator(".leaflet-popup-content script").count() == 0
    assert watch.outside == [] and watch.errors == []


@pytest.mark.parametrize("path", ["/dashboard", "/leaders", "/issues/does-not-exist"])
def test_other_pages_load_offline(page, live_server, path):
    """Dashboard, leader list and a 404 page load with no outside request and no script error."""
    pg, watch = page
    pg.goto(live_server + path)
    assert watch.outside == [] and watch.errors == [] or path.startswith("/issues")
    assert watch.outside == []


BIG = 3000  # issues of the big ledger, six times its MAP_POINTS_LIMIT
STATE_JS = "() => window.yzmap.state"


@pytest.fixture(scope="module")
def big_server(tmp_path_factory, browser):
    """Serve a ledger of 3,000 synthetic issues with MAP_POINTS_LIMIT lowered to 500."""
    from sqlalchemy import insert

    from webmap import create_app
    from webmap.ledger import db
    from webmap.ledger.models import Issue
    from webmap.web import context as webctx

    path = tmp_path_factory.mktemp("big") / "yzmap.sqlite"
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{path}", "TODAY": "2023-06-01",
                      "PROPAGATE_TEST_ERRORS": False, "MAP_POINTS_LIMIT": 500})  # fmt: skip
    rng = random.Random(15)
    rows = []
    for i in range(BIG):
        lon, lat = rng.uniform(111.3, 112.2), rng.uniform(24.9, 26.6)
        rows.append({"number": f"B-{i:05d}", "source_type": "省日常交办", "title": f"问题 {i}",
                     "county_code": "431103", "county_name": "冷水滩区", "status": "整改中",
                     "due_date": date(2022, 1, 1) + timedelta(days=rng.randint(0, 900)),
                     "lon": lon, "lat": lat, "minx": lon, "miny": lat, "maxx": lon, "maxy": lat,
                     "geometry": {"type": "Point", "coordinates": [lon, lat]},
                     "partner_units": [], "public": True, "sensitive": False})  # fmt: skip
    with app.app_context():
        db.upgrade_db(webctx.get_engine(app))
        with webctx.session_scope(app) as session:
            session.execute(insert(Issue), rows)
    add_viewer(app)
    base, server = serve_in_thread(app)
    yield base
    server.close()


def test_big_ledger_shows_server_cells_then_points_when_zoomed_in(browser, big_server):
    """Beyond MAP_POINTS_LIMIT the first view is the server's grid; zoomed in, the view's points.

    The grid holds every issue; a zoomed-in view loads exactly the issues the grid counted there,
    and zooming out again goes back to the grid, all without an outside request.
    """
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
    watch = PageWatch(big_server)
    context.route("**/*", watch.route)
    log_in(context.request, big_server)
    pg = context.new_page()
    pg.on("pageerror", lambda exc: watch.errors.append(str(exc)))
    try:
        pg.goto(big_server + "/")
        pg.wait_for_selector("body[data-map-ready='1']", state="attached", timeout=20000)
        state = pg.evaluate(STATE_JS)
        assert state["mode"] == "grid" and state["drawn"] == BIG == state["rendered"]
        assert pg.evaluate("window.yzmap.issues.count()") == 0  # no point was sent
        assert "按网格汇总" in pg.inner_text("#drawn-count") and _ink(pg) > 500
        pg.evaluate("window.yzmap.map.setView([25.7, 111.7], 13, {animate: false})")
        pg.wait_for_function("() => window.yzmap.state.mode === 'view-points' "
                             "&& window.yzmap.state.done", timeout=20000)  # fmt: skip
        state = pg.evaluate(STATE_JS)
        loaded = pg.evaluate("window.yzmap.issues.count()")
        assert 0 < loaded == state["matched"] == state["drawn"] <= 500
        assert pg.inner_text("#drawn-count") == str(loaded)
        pg.evaluate("window.yzmap.map.setView([25.7, 111.7], 9, {animate: false})")
        pg.wait_for_function("() => window.yzmap.state.mode === 'grid'", timeout=20000)
        assert pg.evaluate("window.yzmap.issues.cellCount()") > loaded
        assert watch.outside == [] and watch.errors == []
    finally:
        context.close()


def test_big_public_map_stays_on_server_cells(browser, big_server):
    """The public map of a big ledger draws server cells and, zoomed in, asks the grid again."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
    watch = PageWatch(big_server)
    context.route("**/*", watch.route)
    pg = context.new_page()
    pg.on("pageerror", lambda exc: watch.errors.append(str(exc)))
    grids = []
    pg.on("request", lambda r: grids.append(r.url) if "/api/public/issues/grid" in r.url else None)
    try:
        pg.goto(big_server + "/public")
        pg.wait_for_selector("body[data-map-ready='1']", state="attached", timeout=20000)
        assert pg.evaluate(STATE_JS)["mode"] == "grid"
        pg.evaluate("window.yzmap.map.setView([25.7, 111.7], 13, {animate: false})")
        pg.wait_for_function(f"() => window.yzmap.state.drawn < {BIG}", timeout=20000)
        assert pg.evaluate(STATE_JS)["mode"] == "grid"  # no bbox on the public items: cells
        assert pg.evaluate("window.yzmap.issues.count()") == 0
        assert any("view=" in url for url in grids)
        assert watch.outside == [] and watch.errors == []
    finally:
        context.close()
