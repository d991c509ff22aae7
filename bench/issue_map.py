"""Benchmark the issue map and API at scale: first map view, API pages, full paging, dashboard.

Run: ``.venv/bin/python bench/issue_map.py [--backend postgis|sqlite] [--reuse] [SIZES...]``
(default: postgis, 100000 1000000). PostGIS uses ``YZMAP_TEST_POSTGRES_URL`` (``eval "$(bash
scripts/start-postgres.sh)"``), one schema ``yzbench_<size>`` per size (``--reuse`` keeps a filled
one from an earlier run, as loading a million rows takes a minute); SQLite a temporary file.
Synthetic point issues spread over the city are bulk-loaded outside the app (COPY on PostGIS,
executemany on SQLite, no event log): this measures reading and drawing, not ledger writes.

Server figures come from Flask's test client (``Accept-Encoding: gzip``, a read-only viewer logged
in, not timed): a page of ``/api/issues`` (GeoJSON, 1000 issues) at the start and at random keyset
cursors through the ledger (p50 and max), following ``next`` links through the first 100,000
issues (GeoJSON pages of 1000 with every property, constraints included, and the map's compact
``f=map`` pages of 50,000), the city-wide grid (zoom 9), the map page and the dashboard.
The first map view is timed in headless Debian chromium, served by waitress on a loopback port,
from navigation to ``data-map-ready`` (points drawn, or the server's grid cells when the view
holds more than ``MAP_POINTS_LIMIT`` issues).
Targets (issue 15): first map view < 3 s, any API page < 300 ms, full paging of 100,000 < 3 s.

A page's time is the server's (its response, not decoding it); full paging is timed end to end,
so it includes decoding the bodies (gunzip and JSON, by orjson as a fast client would): that is
the client's cost, and ``paging decode s`` prints the part of ``paging 100k s`` it took. Client
and server share this one process and its garbage collector: ``paging gc s`` is the part the
collector ran, mostly full collections of the app's whole heap (~0.1 s each) that the decoded
pages (6 dicts and lists per feature) set off; the server alone sets off about one per 100
pages, and a client of its own would walk only its own small heap. Collections during decoding
are counted in ``paging decode s`` too.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson

# the browser harness of the tests (launching Debian chromium) is reused
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "browser"))

STATUSES = ("未启动", "整改中", "已完成待销号", "公示", "已销号", "持续推进")
COUNTIES = (("431102", "零陵区"), ("431103", "冷水滩区"), ("431124", "道县"), ("431126", "宁远县"))
PAGE = 1000  # issues per API page (the collection's default limit)
PAGED = 100_000  # issues the full-paging figure walks through
TARGETS = {"first view s": 3.0, "api p50 ms": 300, "api max ms": 300, "paging 100k s": 3.0,
           "map paging 100k s": 3.0}
COLUMNS = ("number", "source_type", "title", "county_code", "county_name", "status", "due_date",
           "deadline_class", "progress", "lon", "lat", "minx", "miny", "maxx", "maxy",
           "partner_units", "public", "sensitive", "is_sample", "created_at", "updated_at")


def number(i: int) -> str:
    """Return the synthetic issue number of row ``i`` (fixed width, so text order is row order)."""
    return f"B-{i:07d}"


def issue_chunks(n: int, seed: int = 5, chunk: int = 100_000):
    """Yield lists of row tuples (``COLUMNS`` order, geometry last) for ``n`` synthetic issues."""
    rng = np.random.default_rng(seed)
    base = np.datetime64("2021-12-31")
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        lon, lat = rng.uniform(111.3, 112.2, m), rng.uniform(24.9, 26.6, m)
        county, status = rng.integers(0, len(COUNTIES), m), rng.integers(0, len(STATUSES), m)
        due, progress = base + rng.integers(0, 1500, m), rng.integers(0, 101, m)
        lon, lat, due = lon.tolist(), lat.tolist(), due.astype(str).tolist()  # plain Python values
        yield [(number(start + k), "省日常交办", f"基准问题 {start + k}", *COUNTIES[county[k]],
                STATUSES[status[k]], due[k], "2022年", int(progress[k]), lon[k], lat[k],
                lon[k], lat[k], lon[k], lat[k], "[]", True, False, False,
                "2023-01-01 00:00:00+00", "2023-01-01 00:00:00+00",
                f"SRID=4326;POINT({lon[k]!r} {lat[k]!r})") for k in range(m)]  # fmt: skip


def load_postgis(url: str, n: int, reuse: bool) -> str:
    """Fill schema ``yzbench_<n>`` with ``n`` issues by COPY (kept when ``reuse`` finds it full)."""
    from urllib.parse import quote

    from webmap.ledger import db

    schema = f"yzbench_{n}"
    sep = "&" if "?" in url else "?"
    schema_url = f"{url}{sep}options={quote(f'-csearch_path={schema},public')}"
    admin = db.make_engine(url)
    with admin.begin() as conn:
        found = conn.exec_driver_sql(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s "
            "AND table_name = 'issues'", (schema,)).scalar()  # fmt: skip
        if found and reuse:
            rows = conn.exec_driver_sql(f"SELECT count(*) FROM {schema}.issues").scalar()
            if rows == n:
                admin.dispose()
                _upgrade(schema_url)
                return schema_url
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    admin.dispose()
    _upgrade(schema_url)
    engine = db.make_engine(schema_url)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        columns = ", ".join((*COLUMNS, "geometry"))
        with cur.copy(f"COPY issues ({columns}) FROM STDIN") as copy:
            for rows in issue_chunks(n):
                for row in rows:
                    copy.write_row(row)
        raw.commit()
        raw.driver_connection.autocommit = True
        # the visibility map lets PostgreSQL answer counts from indexes alone
        raw.driver_connection.execute("VACUUM ANALYZE issues")
    finally:
        raw.close()
        engine.dispose()
    return schema_url


def _upgrade(url: str) -> None:
    """Migrate the database at ``url`` to the code's head revision."""
    from webmap.ledger import db

    engine = db.make_engine(url)
    db.upgrade_db(engine)
    engine.dispose()


def load_sqlite(path: Path, n: int) -> str:
    """Create a SQLite file holding ``n`` issues (executemany in chunks); return its URL."""
    from webmap.ledger import db

    url = f"sqlite:///{path}"
    _upgrade(url)
    engine = db.make_engine(url)
    names = (*COLUMNS, "geometry")
    sql = f"INSERT INTO issues ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    raw = engine.raw_connection()
    try:
        for rows in issue_chunks(n):
            raw.cursor().executemany(sql, [(*r[:-1], _geojson(r)) for r in rows])
        raw.commit()
        raw.cursor().execute("ANALYZE")
    finally:
        raw.close()
        engine.dispose()
    return url


def _geojson(row) -> str:
    """Return a row's point as the GeoJSON text SQLite stores."""
    return f'{{"type":"Point","coordinates":[{row[9]!r},{row[10]!r}]}}'


def make_app(url: str):
    """Create an app over ``url`` with a read-only viewer to log in as."""
    import conftest as harness
    from sqlalchemy import delete

    from webmap import create_app
    from webmap.ledger.models import User
    from webmap.web import context as webctx

    app = create_app({"DATABASE_URL": url, "TODAY": "2023-06-01", "LOG_LEVEL": "WARNING"})
    with webctx.session_scope(app) as session:
        session.execute(delete(User).where(User.username == harness.USER))
    harness.add_viewer(app)
    gc.freeze()  # as yzmap serve does once a worker's app is made
    return app


DECODING = {"s": 0.0}  # seconds spent decoding bodies (the client's share of the figures)


def _get(client, url: str) -> tuple[dict, float]:
    """GET ``url`` as JSON; return the body and the seconds the response took (not decoding)."""
    import gzip

    t0 = time.perf_counter()
    resp = client.get(url, headers={"Accept-Encoding": "gzip"})
    t1 = time.perf_counter()
    assert resp.status_code == 200, (url, resp.status_code, resp.data[:300])
    data = gzip.decompress(resp.data) if resp.headers.get("Content-Encoding") else resp.data
    body = orjson.loads(data)
    t2 = time.perf_counter()
    DECODING["s"] += t2 - t1
    return body, t1 - t0


def _next(body: dict) -> str | None:
    """Return a page's next link, or None."""
    return next((link["href"] for link in body["links"] if link["rel"] == "next"), None)


def _walk(client, url: str, count: int) -> tuple[float, float, float]:
    """Follow ``next`` links from ``url`` until ``count`` issues came back.

    Return the seconds it took, the part of them spent decoding the bodies and the part the
    garbage collector ran (server and client alike: they share this process and its heap).
    """
    collecting = {"s": 0.0, "t0": 0.0}

    def clock(phase: str, info: dict) -> None:
        """Add up the collector's running time (``gc.callbacks`` calls it at start and stop)."""
        if phase == "start":
            collecting["t0"] = time.perf_counter()
        else:
            collecting["s"] += time.perf_counter() - collecting["t0"]

    gc.callbacks.append(clock)
    try:
        t0, seen, decoding = time.perf_counter(), 0, DECODING["s"]
        while url and seen < count:
            body, _ = _get(client, url)
            seen += body["numberReturned"]
            url = _next(body)
        took = time.perf_counter() - t0
    finally:
        gc.callbacks.remove(clock)
    return took, DECODING["s"] - decoding, collecting["s"]


def measure_server(app, n: int) -> dict:
    """Time API pages (first and at random cursors), full paging of 100,000, dashboard, map page."""
    import conftest as harness

    client = app.test_client()
    harness.log_in(client, "")
    _get(client, f"/api/issues?limit={PAGE}")  # warm the pool and caches
    rng, times = random.Random(1), []
    cursors = [None] + [number(rng.randrange(n)) for _ in range(20)]
    for after in cursors:
        url = f"/api/issues?limit={PAGE}" + (f"&after={after}" if after else "")
        times.append(_get(client, url)[1])
    paging, decoding, collecting = _walk(client, f"/api/issues?limit={PAGE}", PAGED)
    out = {"api first ms": times[0] * 1000, "api p50 ms": statistics.median(times) * 1000,
           "api max ms": max(times) * 1000, "paging 100k s": paging,
           "paging decode s": decoding, "paging gc s": collecting,
           "map paging 100k s": _walk(client, "/api/issues?f=map&limit=50000", PAGED)[0],
           "grid city ms": _get(client, "/api/issues/grid?zoom=9")[1] * 1000}  # fmt: skip
    for label, path in (("map page s", "/"), ("dashboard s", "/dashboard")):
        t0 = time.perf_counter()
        assert client.get(path).status_code == 200
        out[label] = time.perf_counter() - t0
    return out


def measure_drawn(app) -> dict:
    """Return seconds from navigation to a drawn first map view in headless chromium, and mode."""
    import conftest as harness
    from playwright.sync_api import sync_playwright

    if not Path(harness.CHROMIUM).exists():
        return {}
    base, server = harness.serve_in_thread(app)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=harness.CHROMIUM,
                                         args=harness.CHROMIUM_ARGS)  # fmt: skip
            context = browser.new_context(viewport={"width": 1280, "height": 860})
            harness.log_in(context.request, base)
            page = context.new_page()
            t0 = time.perf_counter()
            page.goto(base + "/")
            page.wait_for_selector("body[data-map-ready='1']", state="attached", timeout=300000)
            drawn = time.perf_counter() - t0
            mode = page.evaluate("() => window.yzmap.state.mode || 'points'")
            browser.close()
    finally:
        server.close()
    return {"first view s": drawn, "mode": mode}


def report(n: int, backend: str, figures: dict) -> None:
    """Print one size's figures, each with its target and whether it was met."""
    print(f"\n{backend} {n:,} issues")
    for label, value in figures.items():
        if isinstance(value, str):
            print(f"  {label:<18} {value}")
            continue
        target = TARGETS.get(label)
        met = "" if target is None else "ok" if value < target else "MISSED"
        verdict = "" if target is None else f"target < {target:g}  {met}"
        print(f"  {label:<18} {value:>9.2f}  {verdict}", flush=True)


def main(argv=None) -> None:
    """Load each size, measure it, print its figures."""
    import logging

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000, 1_000_000])
    parser.add_argument("--backend", choices=("postgis", "sqlite"), default="postgis")
    parser.add_argument("--reuse", action="store_true", help="keep a filled PostGIS schema")
    parser.add_argument("--no-browser", action="store_true", help="server figures only")
    args = parser.parse_args(argv)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "queue depth" notes, not results
    url = os.environ.get("YZMAP_TEST_POSTGRES_URL")
    if args.backend == "postgis" and not url:
        sys.exit("YZMAP_TEST_POSTGRES_URL is not set: eval \"$(bash scripts/start-postgres.sh)\"")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            t0 = time.perf_counter()
            db_url = (load_postgis(url, n, args.reuse) if args.backend == "postgis"
                      else load_sqlite(Path(tmp) / f"bench{n}.sqlite", n))  # fmt: skip
            print(f"loaded {n:,} issues in {time.perf_counter() - t0:.1f} s", flush=True)
            app = make_app(db_url)
            figures = measure_server(app, n)
            if not args.no_browser:
                figures |= measure_drawn(app)
            report(n, args.backend, figures)
            app.extensions["db"]["engine"].dispose()


if __name__ == "__main__":
    main()
