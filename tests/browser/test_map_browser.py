"""The issue map in headless chromium with every outside host blocked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

DRAWN_JS = "() => window.yzmap && window.yzmap.cluster ? window.yzmap.cluster.getLayers().length : -1"


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
    """Open a map page, wait until every page of data is drawn; return the clustered marker count."""
    page.goto(url)
    page.wait_for_selector("body[data-map-ready='1']", state="attached", timeout=20000)
    return page.evaluate(DRAWN_JS)


def test_map_draws_what_the_api_reports(page, live_server, tmp_path):
    """Markers in the cluster equal the API's located features; the page count equals numberMatched."""
    pg, watch = page
    drawn = _open_map(pg, live_server + "/")
    matched, located = _api_count(pg, live_server, "")
    assert matched >= 60 and drawn == located > 0
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


def test_popup_text_is_inert(page, live_server):
    """Opening a popup shows the issue's text as text, and the detail link works."""
    pg, watch = page
    _open_map(pg, live_server + "/?county=431103")
    pg.evaluate("""() => { const ms = []; window.yzmap.cluster.eachLayer(m => ms.push(m));
        window.yzmap.cluster.zoomToShowLayer(ms[0], () => ms[0].openPopup()); }""")
    pg.wait_for_selector(".leaflet-popup-content a", timeout=10000)
    assert "查看详情" in pg.inner_text(".leaflet-popup-content")
    assert watch.outside == [] and watch.errors == []


@pytest.mark.parametrize("path", ["/dashboard", "/leaders", "/issues/does-not-exist"])
def test_other_pages_load_offline(page, live_server, path):
    """Dashboard, leader list and a 404 page load with no outside request and no script error."""
    pg, watch = page
    pg.goto(live_server + path)
    assert watch.outside == [] and watch.errors == [] or path.startswith("/issues")
    assert watch.outside == []
