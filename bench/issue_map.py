"""Benchmark the issue map: server time and bytes for the page and its data, time to a drawn map.

Run: ``.venv/bin/python bench/webmap.py [1000 10000 100000]``. Each size gets a fresh SQLite
database filled with synthetic point issues spread over the city (bulk insert, no event log: this
measures reading and drawing, not ledger writes). Server figures come from Flask's test client with
``Accept-Encoding: gzip``, following the page's own data URL (``f=map`` compact pages) through its
``next`` links; the drawn time is from navigation start to every data page being painted on the
issue canvas in headless Debian chromium, served by waitress on a loopback port. When the app has
a login wall the bench logs in as a read-only viewer first (not timed).
Targets (issue 5): 10,000 issues < 1 s server, < 3 MB, drawn < 3 s; 100,000 drawn < 10 s.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

# this file is named like the package it measures: keep bench/ off the path, add the harness
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent / "tests" / "browser"))

STATUSES = ("未启动", "整改中", "已完成待销号", "公示", "已销号", "持续推进")
COUNTIES = (("431102", "零陵区"), ("431103", "冷水滩区"), ("431124", "道县"), ("431126", "宁远县"))


def issue_rows(n: int, seed: int = 5) -> list[dict]:
    """Return ``n`` synthetic point issues inside the city's box with varied status and deadline."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        lon, lat = rng.uniform(111.3, 112.2), rng.uniform(24.9, 26.6)
        code, name = rng.choice(COUNTIES)
        due = date(2021, 12, 31) + timedelta(days=rng.randint(0, 1500))
        rows.append({"number": f"B-{i:06d}", "source_type": "省日常交办", "title": f"基准问题 {i}",
                     "county_code": code, "county_name": name, "status": rng.choice(STATUSES),
                     "due_date": due, "deadline_class": "2022年", "progress": rng.randint(0, 100),
                     "lon": lon, "lat": lat, "minx": lon, "miny": lat, "maxx": lon, "maxy": lat,
                     "geometry": {"type": "Point", "coordinates": [lon, lat]},
                     "partner_units": [], "public": True, "sensitive": False, "is_sample": False})
    return rows


def make_app(n: int, workdir: Path):
    """Create an app over a new SQLite database holding ``n`` synthetic issues and a viewer."""
    import conftest as harness
    from sqlalchemy import insert

    from webmap import create_app
    from webmap.ledger import db
    from webmap.ledger.models import Issue
    from webmap.web import context as webctx

    app = create_app({"DATABASE_URL": f"sqlite:///{workdir / f'bench{n}.sqlite'}",
                      "TODAY": "2023-06-01"})
    with app.app_context():
        db.upgrade_db(webctx.get_engine(app))
        rows = issue_rows(n)
        with webctx.session_scope(app) as session:
            for start in range(0, n, 5000):
                session.execute(insert(Issue), rows[start:start + 5000])
    harness.add_viewer(app)
    return app


def measure_server(app) -> dict:
    """Time the map page and every page of its data; count the bytes sent (gzip where accepted)."""
    import gzip
    import json

    import conftest as harness

    client = app.test_client()
    harness.log_in(client, "")
    headers = {"Accept-Encoding": "gzip"}
    t0 = time.perf_counter()
    page = client.get("/", headers=headers)
    page_s = time.perf_counter() - t0
    html = page.get_data(as_text=True)
    url = html.split('"dataUrl": "', 1)[1].split('"', 1)[0].replace("\\u0026", "&")
    data_bytes, pages, t1 = 0, 0, time.perf_counter()
    while url:
        resp = client.get(url, headers=headers)
        assert resp.status_code == 200, (url, resp.status_code)
        data_bytes += len(resp.data)
        pages += 1
        body = json.loads(gzip.decompress(resp.data) if resp.headers.get("Content-Encoding")
                          else resp.data)
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        url = nxt[0] if nxt else None
    data_s = time.perf_counter() - t1
    return {"page_s": page_s, "data_s": data_s, "page_bytes": len(page.data),
            "data_bytes": data_bytes, "pages": pages}


def measure_drawn(app) -> float | None:
    """Return seconds from navigation to a drawn map in headless chromium (None: no chromium)."""
    import conftest as harness
    from playwright.sync_api import sync_playwright

    if not Path(harness.CHROMIUM).exists():
        return None
    base, server = harness.serve_in_thread(app)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=harness.CHROMIUM,
                                         args=harness.CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1280, "height": 860})
            harness.log_in(context.request, base)
            page = context.new_page()
            t0 = time.perf_counter()
            page.goto(base + "/")
            page.wait_for_selector("body[data-map-ready='1']", state="attached", timeout=120000)
            drawn_s = time.perf_counter() - t0
            browser.close()
    finally:
        server.close()
    return drawn_s


def main(sizes: list[int]) -> None:
    """Print one line of figures per size."""
    import logging

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "queue depth" notes, not results
    print(f"{'issues':>8} {'page s':>7} {'data s':>7} {'server s':>8} {'page KB':>8} "
          f"{'data KB':>8} {'pages':>5} {'drawn s':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            app = make_app(n, Path(tmp))
            s = measure_server(app)
            drawn = measure_drawn(app)
            print(f"{n:>8} {s['page_s']:>7.2f} {s['data_s']:>7.2f} "
                  f"{s['page_s'] + s['data_s']:>8.2f} {s['page_bytes'] / 1024:>8.0f} "
                  f"{s['data_bytes'] / 1024:>8.0f} {s['pages']:>5} "
                  f"{'n/a' if drawn is None else f'{drawn:.2f}':>8}", flush=True)
            app.extensions["db"]["engine"].dispose()


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000, 10000, 100000])
