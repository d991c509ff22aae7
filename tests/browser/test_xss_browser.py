"""A script payload imported into a title never runs in chromium (pages, map, public, audit).

The payload goes in the way officials' data does: the sample ledger is exported to CSV with
``yzmap export-ledger``, one title is replaced by the payload, and the file is imported into a
fresh database with ``yzmap import-ledger``. The app is then served and browsed as the admin.
"""

from __future__ import annotations

import csv
import os

import pytest
from click.testing import CliRunner

from tests.browser.conftest import CHROMIUM, PageWatch, serve_in_thread
from webmap import create_app
from webmap.cli import main
from webmap.web import context as webctx

pytestmark = pytest.mark.browser

PAYLOAD = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
ADMIN, PASSWORD = "xss-admin", "xss-admin-pw-9"


def _cli(url: str, *args: str):
    """Run ``yzmap`` against a database; fail loudly on a non-zero exit."""
    result = CliRunner().invoke(main, list(args), env={"YZMAP_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def poisoned_server(tmp_path_factory):
    """Serve an app whose ledger was imported from a CSV with a script in one title."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} not installed")
    tmp = tmp_path_factory.mktemp("xss")
    sample_url, url = f"sqlite:///{tmp / 'sample.sqlite'}", f"sqlite:///{tmp / 'xss.sqlite'}"
    _cli(sample_url, "init", "--sample")
    _cli(sample_url, "export-ledger", "--format", "csv", "--out", str(tmp / "ledger.csv"))
    with open(tmp / "ledger.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    title = rows[0].index("问题名称")
    number = rows[1][0]
    rows[1][title] = PAYLOAD
    with open(tmp / "poisoned.csv", "w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(rows)
    _cli(url, "init")
    _cli(url, "import-ledger", str(tmp / "poisoned.csv"))
    _cli(url, "users", "add", ADMIN, "--role", "admin", "--password", PASSWORD)
    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": "xss-test", "PROPAGATE_TEST_ERRORS": False}
    )
    base, server = serve_in_thread(app)
    yield base, number
    server.close()
    webctx.get_engine(app).dispose()


def test_imported_script_title_never_runs(browser, poisoned_server):
    """Map, detail, dashboard, public and audit pages show the payload as text; nothing runs."""
    base, number = poisoned_server
    context = browser.new_context(locale="zh-CN")
    watch = PageWatch(base)
    context.route("**/*", watch.route)
    dialogs = []
    page = context.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("console", watch.console)
    page.on("pageerror", lambda exc: watch.errors.append(str(exc)))
    page.goto(f"{base}/login")
    page.fill("input[name=username]", ADMIN)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.wait_for_selector("body[data-map-ready='1']", state="attached", timeout=20000)
    assert page.evaluate("() => window.__pwned") is None
    for path in (
        f"/issues/{number}",
        "/dashboard",
        "/public",
        f"/audit?issue={number}",
        f"/?q={number}",
    ):
        page.goto(base + path)
        page.wait_for_load_state("load")
        assert page.evaluate("() => window.__pwned") is None, path
        if path.startswith("/issues/"):
            assert PAYLOAD in page.inner_text("main"), "the payload shows as text"
    assert dialogs == []
    assert watch.errors == [], watch.errors  # no CSP violation: nothing even tried to run
    assert watch.outside == []
    context.close()
