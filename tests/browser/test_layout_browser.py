"""Pages as a phone (390x844) and a 1366x800 screen show them, measured in Debian's chromium.

On a phone no page scrolls sideways and the map keeps at least 80% of the width and 60% of the
height; the menu and the filters fold away and open on demand; touch targets are 44 px. On the
desktop the choropleth's colour scale is in view without scrolling.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import make_sample_app, serve_in_thread

ADMIN, PASSWORD = "layout-admin", "layout-admin-pw-9"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
MAP_PAGES = {"map": "/", "public": "/public", "issue": "/issues/HKT-24", "overlap": "/overlap"}
ZOOM = "() => Object.values(window).find(v => v && v._leaflet_id && v.getZoom).getZoom()"
MEASURE = """() => {
  const map = document.querySelector('.folium-map');
  const box = map.getBoundingClientRect();
  return {page: document.documentElement.scrollWidth, width: box.width / innerWidth,
          height: box.height / innerHeight};
}"""


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory):
    """Serve the sample ledger with an admin account; yield the base URL."""
    from webmap.ledger.models import User
    from webmap.web import context as webctx
    from webmap.web.auth import hash_password

    app = make_sample_app(tmp_path_factory)
    with webctx.session_scope(app) as session:
        session.add(User(username=ADMIN, role="admin", disabled=False,
                         password_hash=hash_password(PASSWORD)))  # fmt: skip
    base, server = serve_in_thread(app)
    yield base
    server.close()


def signed_in(browser, base, **options):
    """Return a page signed in as the admin."""
    context = browser.new_context(locale="zh-CN", **options)
    page = context.new_page()
    page.goto(base + "/login")
    page.fill("input[name=username]", ADMIN)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    return page


@pytest.mark.parametrize("name", list(MAP_PAGES))
def test_phone_pages_keep_the_map_and_never_scroll_sideways(browser, admin_server, name, tmp_path):
    """390x844: no sideways scroll, the map at least 80% wide and 60% high."""
    page = signed_in(browser, admin_server, **PHONE)
    page.goto(admin_server + MAP_PAGES[name])
    page.wait_for_load_state("networkidle")
    m = page.evaluate(MEASURE)
    page.screenshot(path=str(tmp_path / f"{name}-phone.png"))
    assert m["page"] <= 390, m
    assert m["width"] >= 0.8 and m["height"] >= 0.6, m
    page.context.close()


def test_phone_menu_filters_and_layers_fold(browser, admin_server):
    """The menu and the filters open on tap; the layer list folds behind its 44 px button."""
    page = signed_in(browser, admin_server, **PHONE)
    page.goto(admin_server + "/")
    page.wait_for_load_state("networkidle")
    assert not page.is_visible("header.site nav")
    assert page.locator(".nav-button").bounding_box()["height"] >= 44
    page.click(".nav-button")
    assert page.is_visible("header.site nav a:has-text('统计看板')")
    page.click(".nav-button")
    assert not page.is_visible("aside.filters")
    page.click(".filters-button")
    assert page.is_visible("aside.filters select[name=county]")
    assert page.locator("aside.filters select[name=county]").bounding_box()["height"] >= 44
    assert not page.is_visible(".leaflet-control-layers-list")
    toggle = page.locator(".leaflet-control-layers-toggle")
    assert toggle.bounding_box()["width"] >= 44
    page.context.close()


def test_county_filter_zooms_and_the_scale_is_in_view(browser, admin_server, tmp_path):
    """1366x800: filtering to 道县 opens the map on it; the colour scale is visible at once."""
    page = signed_in(browser, admin_server, viewport={"width": 1366, "height": 800})
    page.goto(admin_server + "/")
    page.wait_for_load_state("networkidle")
    city_zoom = page.evaluate(ZOOM)
    page.goto(admin_server + "/?county=431124")
    page.wait_for_load_state("networkidle")
    county_zoom = page.evaluate(ZOOM)
    assert county_zoom > city_zoom
    legend = page.locator(".yz-scale-legend")
    box = legend.bounding_box()
    assert legend.is_visible() and box["y"] + box["height"] <= 800
    assert "分县完成率" in legend.inner_text()
    assert page.locator("#issue-list li a").count() >= 1
    assert all("道县" in t for t in page.locator("#issue-list li .note").all_inner_texts())
    page.screenshot(path=str(tmp_path / "map-desktop-daoxian.png"))
    page.context.close()


def test_export_buttons_show_progress_and_failures(browser, admin_server):
    """The PNG export says it is working, then names the file; a failing export says so."""
    page = signed_in(browser, admin_server, viewport={"width": 1366, "height": 800},
                     accept_downloads=True)  # fmt: skip
    page.goto(admin_server + "/?county=431124")
    page.wait_for_load_state("networkidle")
    with page.expect_download() as download:
        page.click("#export-png")
        assert "正在生成" in page.inner_text(".export-status")
    assert download.value.suggested_filename.endswith(".png")
    page.wait_for_function("() => document.querySelector('.export-status').textContent"
                           ".includes('已生成')")  # a function: a bare expression needs eval (CSP)
    page.route("**/snapshot.pdf*", lambda route: route.fulfill(
        status=500, content_type="text/html",
        body='<p class="error-message">服务器处理请求时出错</p>'))  # fmt: skip
    page.click("#export-pdf")
    page.wait_for_function("() => document.querySelectorAll('.export-status.failed').length > 0")
    assert "生成失败：服务器处理请求时出错" in page.inner_text(".export-status.failed")
    page.context.close()
