"""Browser-test harness: the app under waitress on a loopback port, Debian chromium headless.

Every request the page makes to a host other than the test server is aborted and recorded, so a
test can assert that nothing leaves the server (the isolated-network requirement).
"""

from __future__ import annotations

import os
import re
import socket
import threading
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
USER, PASSWORD = "browser-viewer", "browser-viewer-pw-9"  # read-only account of the whole city
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def pytest_collection_modifyitems(config, items):
    """Mark every test here as a browser test and skip them when chromium is missing."""
    skip = pytest.mark.skip(reason=f"{CHROMIUM} not installed")
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            if not os.path.exists(CHROMIUM):
                item.add_marker(skip)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_in_thread(app) -> tuple[str, object]:
    """Start ``app`` under waitress on a free loopback port; return (base URL, server)."""
    from waitress.server import create_server

    port = free_port()
    server = create_server(app, host="127.0.0.1", port=port, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{port}", server


def add_viewer(app) -> None:
    """Create the read-only account the browser logs in with (issue 8's login wall)."""
    from werkzeug.security import generate_password_hash

    from webmap.ledger.models import User
    from webmap.web import context as webctx

    with webctx.session_scope(app) as session:
        session.add(User(username=USER, role="viewer", disabled=False,
                         password_hash=generate_password_hash(PASSWORD)))


def log_in(request, base: str) -> None:
    """Log an HTTP client (playwright ``context.request`` or a Flask test client) in as the viewer.

    Does nothing when the app has no login page, so the harness works with and without accounts.
    """
    flask = not hasattr(request, "fetch")
    resp = request.get(("" if flask else base) + "/login")
    status = resp.status_code if flask else resp.status
    if status != 200:
        return
    html = resp.get_data(as_text=True) if flask else resp.text()
    token = re.search(r'name="csrf_token" value="([^"]*)"', html)
    form = {"username": USER, "password": PASSWORD, "csrf_token": token.group(1) if token else ""}
    if flask:
        request.post("/login", data=form)
    else:
        request.post(base + "/login", form=form)


def make_sample_app(tmp_path_factory):
    """Create an app over a fresh SQLite file holding the sample ledger."""
    from webmap import create_app
    from webmap.ledger import db
    from webmap.ledger.sample import load_sample
    from webmap.web import context as webctx

    path = tmp_path_factory.mktemp("browser") / "yzmap.sqlite"
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{path}",
                      "PROPAGATE_TEST_ERRORS": False})
    with app.app_context():
        db.upgrade_db(webctx.get_engine(app))
        with webctx.session_scope(app) as session:
            load_sample(session)
    add_viewer(app)
    return app


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """Serve the sample app for the whole browser session; yield its base URL."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} not installed")
    app = make_sample_app(tmp_path_factory)
    base, server = serve_in_thread(app)
    yield base
    server.close()


class PageWatch:
    """What a page did: outside requests it tried (aborted) and console errors it logged."""

    def __init__(self, base: str):
        """Remember the only host the page may talk to."""
        self.host = urlsplit(base).netloc
        self.outside: list[str] = []
        self.errors: list[str] = []

    def route(self, route):
        """Let requests to the test server through; abort and record all others."""
        url = route.request.url
        if urlsplit(url).scheme in ("data", "blob") or urlsplit(url).netloc == self.host:
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def console(self, msg):
        """Record console errors."""
        if msg.type == "error":
            self.errors.append(msg.text)


@pytest.fixture
def page(browser, live_server):
    """A fresh page whose outside requests are blocked; yields (page, watch)."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
    watch = PageWatch(live_server)
    context.route("**/*", watch.route)
    log_in(context.request, live_server)
    pg = context.new_page()
    pg.on("console", watch.console)
    pg.on("pageerror", lambda exc: watch.errors.append(str(exc)))
    yield pg, watch
    context.close()
