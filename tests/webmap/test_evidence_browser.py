"""The phone report page in Debian's chromium at 390x844, on SQLite and PostGIS.

A county editor logs in on a phone-sized touch screen, types a report, shares the device's
location, picks three real photos (at the site, 20 km away, without EXIF), loses the first
upload to a dropped connection, retries without retyping, and reads each photo's verdict; the
verifier then sees the same verdicts on the issue page. Screenshots go to the test's tmp folder.
"""

from __future__ import annotations

import os
from datetime import datetime

import pytest

from tests.browser.conftest import CHROMIUM, PageWatch, serve_in_thread
from tests.photo_files import photo
from webmap import create_app
from webmap.ledger.events import create_issue
from webmap.ledger.models import User
from webmap.web import context as webctx
from webmap.web.auth import hash_password

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} not installed"),
]
PASSWORD = "field-editor-pw-9"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}  # fmt: skip


@pytest.fixture
def field_server(database_url, tmp_path):
    """Serve an app with one 冷水滩区 issue and its county editor; yield the base URL."""
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "t",
                      "UPLOAD_DIR": str(tmp_path / "uploads"), "TODAY": "2022-06-01",
                      "PROPAGATE_TEST_ERRORS": False})  # fmt: skip
    with webctx.session_scope(app) as session:
        create_issue(session, {"number": "FLD-1", "source_type": "回头看",
                               "title": "河道旁堆放垃圾", "county_code": "431103",
                               "county_name": "冷水滩区",
                               "geometry": {"type": "Point", "coordinates": [111.6, 26.4]}},
                     actor="t", date=datetime(2021, 3, 6).date())  # fmt: skip
        for name, role, county in (("lengshuitan", "county", "431103"), ("office", "admin", None)):
            session.add(User(username=name, role=role, county_code=county, disabled=False,
                             password_hash=hash_password(PASSWORD)))  # fmt: skip
    base, server = serve_in_thread(app)
    yield base
    server.close()
    webctx.get_engine(app).dispose()


def open_as(browser, base: str, username: str, **options):
    """Return (context, page, watch) logged in as ``username`` through the login form."""
    context = browser.new_context(locale="zh-CN", **options)
    watch = PageWatch(base)
    context.route("**/*", watch.route)
    page = context.new_page()
    page.on("pageerror", lambda exc: watch.errors.append(str(exc)))
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return context, page, watch


def test_county_editor_reports_from_a_phone(browser, field_server, tmp_path):
    """Typed text survives a failed upload; each photo's verdict is shown; nothing goes outside."""
    files = {"site.jpg": photo(1, lon=111.6002, lat=26.4001, taken=datetime(2022, 5, 30, 9, 0)),
             "far.jpg": photo(2, lon=111.6, lat=26.58, taken=datetime(2022, 5, 30, 9, 30)),
             "screenshot.png": photo(3, fmt="PNG", with_exif=False)}  # fmt: skip
    paths = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        paths.append(str(tmp_path / name))
    context, page, watch = open_as(browser, field_server, "lengshuitan", **PHONE,
                                   permissions=["geolocation"],
                                   geolocation={"longitude": 111.6004, "latitude": 26.4003})
    page.goto(field_server + "/issues/FLD-1/field")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.fill("#percent", "70")
    page.fill("#text", "垃圾已清运，现场复绿")
    page.reload()  # the draft is kept on the phone
    assert page.input_value("#text") == "垃圾已清运，现场复绿"
    page.select_option("#phase", "整改后")
    page.check("#share-location")
    page.wait_for_function("() => document.getElementById('device_lon').value !== ''")
    page.set_input_files("#photos", paths)
    assert page.locator("#previews figure").count() == 3
    dropped = []

    def drop_first(route):
        """Lose the first upload as a dead connection would; let the retry through."""
        if not dropped:
            dropped.append(route.request.url)
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/issues/FLD-1/field", lambda route: drop_first(route)
               if route.request.method == "POST" else route.continue_())  # fmt: skip
    page.click("#field-submit")
    page.wait_for_selector("#field-retry:not([hidden])")
    assert "内容和照片都已保留" in page.inner_text("#form-error")
    assert page.input_value("#text") == "垃圾已清运，现场复绿"
    page.screenshot(path=str(tmp_path / "phone-retry.png"), full_page=True)
    page.click("#field-retry")
    page.wait_for_selector("#field-result figure")
    result = page.inner_text("#field-result")
    assert "已保存进展和 3 张照片" in result
    assert "site.jpg" in result and "拍摄位置距现场" in result
    assert "不符" in result and "19.9 公里" in result
    assert "无法核验" in result and "上传时设备距现场" in result
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(tmp_path / "phone-result.png"), full_page=True)
    assert len(dropped) == 1 and watch.outside == [] and watch.errors == []
    context.close()

    context, page, watch = open_as(browser, field_server, "office",
                                   viewport={"width": 1366, "height": 800})
    page.goto(field_server + "/issues/FLD-1#photos")
    cards = page.locator("#photos ~ .photo-grid figure.photo-card")
    assert cards.count() == 3
    assert page.locator("figure.verdict-flag").first.is_visible()
    for img in page.locator("figure.photo-card img").all():
        assert img.evaluate("i => i.complete && i.naturalWidth > 0")
    text = page.inner_text("main")
    assert "19.9 公里" in text and "无法核验" in text and "70%" in text
    page.screenshot(path=str(tmp_path / "issue-photos.png"), full_page=True)
    assert watch.outside == [] and watch.errors == []
    context.close()
