"""Screenshot the main pages at a phone (390x844) and a desktop (1366x800) size, with figures.

Serves the sample ledger from a throw-away SQLite file under waitress, signs in as an admin in
Debian's chromium (playwright, never a downloaded browser) and, for each page and size, saves a
PNG and prints the page's width against the screen's and the map's share of the screen.

    .venv/bin/python scripts/screenshots.py docs/screenshots/after
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, serve_in_thread  # noqa: E402

PAGES = {"map": "/", "public": "/public", "issue": "/issues/HKT-24", "overlap": "/overlap",
         "dashboard": "/dashboard", "audit": "/audit"}  # fmt: skip
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 800}}
USER, PASSWORD = "shot-admin", "shot-admin-pw-9"
MEASURE = """() => {
  const map = document.querySelector('.folium-map, .leaflet-container');
  const box = map ? map.getBoundingClientRect() : null;
  return {page: document.documentElement.scrollWidth, screen: window.innerWidth,
          mapWidth: box ? box.width / window.innerWidth : null,
          mapHeight: box ? box.height / window.innerHeight : null};
}"""


def sample_app(folder: Path):
    """Return an app over a fresh SQLite sample ledger with one admin account."""
    from webmap import create_app
    from webmap.ledger import db
    from webmap.ledger.models import User
    from webmap.ledger.sample import load_sample
    from webmap.web import context as webctx
    from webmap.web.auth import hash_password

    app = create_app({"DATABASE_URL": f"sqlite:///{folder / 'yzmap.sqlite'}",
                      "INSTANCE_PATH": str(folder), "TODAY": "2022-06-30"})  # fmt: skip
    with app.app_context():
        db.upgrade_db(webctx.get_engine(app))
    with webctx.session_scope(app) as session:
        load_sample(session)
        session.add(User(username=USER, role="admin", disabled=False,
                         password_hash=hash_password(PASSWORD)))  # fmt: skip
    return app


def main(out: Path) -> None:
    """Take every screenshot into ``out`` and print the figures."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        base, server = serve_in_thread(sample_app(Path(tmp)))
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for size, viewport in SIZES.items():
                context = browser.new_context(locale="zh-CN", viewport=viewport,
                                              is_mobile=size == "phone", has_touch=size == "phone")
                page = context.new_page()
                page.goto(base + "/login")
                page.fill("input[name=username]", USER)
                page.fill("input[name=password]", PASSWORD)
                page.click("button[type=submit]")
                for name, path in PAGES.items():
                    page.goto(base + path)
                    page.wait_for_load_state("networkidle")
                    m = page.evaluate(MEASURE)
                    page.screenshot(path=str(out / f"{name}-{size}.png"))
                    share = (f"map {m['mapWidth']:.0%} x {m['mapHeight']:.0%}"
                             if m["mapWidth"] is not None else "no map")  # fmt: skip
                    width = f"page {m['page']} px / screen {m['screen']} px"
                    print(f"{size:8} {name:10} {width}, {share}")
                context.close()
            browser.close()
        server.close()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
