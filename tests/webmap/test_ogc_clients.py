"""Real OGC clients against a served app: GDAL's OAPIF driver (pyogrio) and OWSLib.

A 10,000-issue ledger (SQLite: bulk inserts keep it to seconds; the PostGIS path of the same
query layer is covered by test_ogcapi.py) read whole through HTTP Basic with a token.
"""

from __future__ import annotations

import time

import pytest
from pyproj import Transformer

from tests.browser.conftest import serve_in_thread
from tests.webmap.ogc_ledger import add_user_with_token, bulk_issues
from webmap.web.app import create_app

N = 10_000


@pytest.fixture(scope="module")
def served(tmp_path_factory, sqlite_template):
    """Serve an app with a 10,000-issue ledger; yield (base URL, tokens, per-county counts)."""
    import shutil

    folder = tmp_path_factory.mktemp("ogc")
    shutil.copy(sqlite_template, folder / "db.sqlite")
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite'}",
                      "SECRET_KEY": "test", "INSTANCE_PATH": str(folder),
                      "TOKEN_MAX_PER_MINUTE": 100000, "TODAY": "2021-06-30"})  # fmt: skip
    per = bulk_issues(app, N)
    toks = {"admin": add_user_with_token(app, "gis", "admin"),
            "county": add_user_with_token(app, "lingling", "county", "431102")}  # fmt: skip
    base, server = serve_in_thread(app)
    yield base, toks, per
    server.close()
    app.extensions["db"]["engine"].dispose()


GDAL_SCRIPT = """
import sys, time, pyogrio
base, user, token, crs, out = sys.argv[1:6]
pyogrio.set_gdal_config_options({"GDAL_HTTP_USERPWD": f"{user}:{token}"})
start = time.perf_counter()
frame = pyogrio.read_dataframe(f"OAPIF:{base}/ogcapi", layer="issues",
                               **({"CRS": crs} if crs else {}))
seconds = time.perf_counter() - start
frame["x"], frame["y"] = frame.geometry.x, frame.geometry.y
frame.drop(columns="geometry").to_pickle(out)
print(seconds)
"""


def _gdal_read(base: str, user: str, token: str, crs: str = "", tmp=None):
    """Read the issues collection with GDAL's OAPIF driver (HTTP Basic) in a child process.

    A child process, because pyogrio holds the GIL while GDAL waits for the server, so a server
    thread in this process could never answer. Returns (frame with x/y, seconds).
    """
    import subprocess
    import sys
    import tempfile

    import pandas as pd

    with tempfile.TemporaryDirectory() as folder:
        out = f"{folder}/frame.pkl"
        done = subprocess.run([sys.executable, "-c", GDAL_SCRIPT, base, user, token, crs, out],
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        return pd.read_pickle(out), float(done.stdout.strip().splitlines()[-1])


def test_gdal_reads_all_issues_with_basic_token(served, capsys):
    """GDAL follows every next link: all 10,000 issues of the admin's scope, nothing else."""
    base, toks, _ = served
    frame, seconds = _gdal_read(base, "gis", toks["admin"])
    assert len(frame) == N and frame["number"].is_unique
    assert str(frame["progress"].dtype).startswith("int")
    with capsys.disabled():
        print(f"\nGDAL OAPIF: {len(frame)} issues in {seconds:.1f} s")


def test_gdal_county_token_sees_only_its_county(served):
    """A county editor's token reads exactly its county's issues."""
    base, toks, per = served
    frame, _ = _gdal_read(base, "lingling", toks["county"])
    assert len(frame) == per["431102"] and set(frame["county_code"]) == {"431102"}


def test_gdal_epsg4546(served, capsys):
    """crs=EPSG:4546 through GDAL: coordinates within 0.01 m of pyproj's."""
    base, toks, _ = served
    plain, _ = _gdal_read(base, "gis", toks["admin"])
    gk, _ = _gdal_read(base, "gis", toks["admin"], crs="EPSG:4546")
    assert len(gk) == N
    tr = Transformer.from_crs("OGC:CRS84", "EPSG:4546", always_xy=True)
    plain = plain.set_index("number").sort_index()
    gk = gk.set_index("number").sort_index()
    x, y = tr.transform(plain["x"].values, plain["y"].values)
    # GDAL hands the layer back in its traditional GIS order (easting, northing)
    dx = abs(gk["x"].values - x).max()
    dy = abs(gk["y"].values - y).max()
    assert max(dx, dy) < 0.01, (dx, dy)
    with capsys.disabled():
        print(f"\nGDAL OAPIF EPSG:4546: {len(gk)} issues, max difference from pyproj "
              f"{max(dx, dy):.4f} m")


def _owslib_read_all(api, cid: str, limit: int) -> tuple[list, int, int]:
    """Follow a collection's next links with OWSLib; return (features, numberMatched, pages)."""
    from urllib.parse import parse_qsl, urlsplit

    features, args, pages = [], {"limit": limit}, 0
    while True:
        page = api.collection_items(cid, **args)
        pages += 1
        assert page["numberReturned"] == len(page["features"]), cid
        features += page["features"]
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        if not nxt:
            return features, page["numberMatched"], pages
        assert nxt[0].startswith(f"{api.url.rstrip('/')}/collections/{cid}/items?"), nxt[0]
        args = dict(parse_qsl(urlsplit(nxt[0]).query))


def test_owslib_reads_every_collection(served, capsys):
    """OWSLib (HTTP Basic, as QGIS sends it) pages through issues and reads every collection."""
    from owslib.ogcapi.features import Features
    from owslib.util import Authentication

    base, toks, per = served
    api = Features(f"{base}/ogcapi", auth=Authentication("gis", toks["admin"]))
    ids = [c["id"] for c in api.collections()["collections"]]
    assert {"issues", "public-issues", "counties", "protected-areas", "overlap"} <= set(ids)
    start, pages, got, after = time.perf_counter(), 0, [], None
    while True:
        kw = {"limit": 1000} | ({"after": after} if after else {})
        page = api.collection_items("issues", **kw)
        pages += 1
        assert page["numberMatched"] == N and page["numberReturned"] == len(page["features"])
        got += [f["id"] for f in page["features"]]
        nxt = [link for link in page["links"] if link["rel"] == "next"]
        if not nxt:
            break
        assert nxt[0]["href"].startswith(f"{base}/ogcapi/collections/issues/items?")
        after = nxt[0]["href"].split("after=")[1].split("&")[0]
    seconds = time.perf_counter() - start
    assert len(got) == N == len(set(got)) and pages == 10
    public = api.collection_items("public-issues", limit=10000)
    assert public["numberMatched"] == len(public["features"]) == N - N // 10
    for cid in ids:
        features, matched, _ = _owslib_read_all(api, cid, 10_000)
        assert len(features) == matched > 0, cid
    with capsys.disabled():
        print(f"\nOWSLib (Basic): {len(got)} issues in {pages} pages, {seconds:.1f} s")


def test_overlap_collection_through_owslib(served):
    """The overlap collection answers every issue of the scope against the constraint layers."""
    from owslib.ogcapi.features import Features
    from owslib.util import Authentication

    base, toks, per = served
    api = Features(f"{base}/ogcapi", auth=Authentication("lingling", toks["county"]))
    info = api.collection("overlap")
    assert "protected_area" in info["yzmap:layer"]["kinds"]
    rows, matched, pages = _owslib_read_all(api, "overlap", 1000)
    assert len(rows) == matched and pages > 1
    numbers = {f["properties"]["site_id"] for f in rows}
    # one row per issue x layer at least ("outside" names the nearest zone); county only
    assert len(numbers) == per["431102"] and all(n.startswith("YZ-") for n in numbers)
    assert {f["properties"]["layer_kind"] for f in rows} <= {"protected_area", "water_source",
                                                            "redline", "farmland"}


def test_anonymous_refused_on_issues(served):
    """Anonymous: issues is 401 with a Basic challenge; public-issues works."""
    import requests

    base, _, _ = served
    resp = requests.get(f"{base}/ogcapi/collections/issues/items", timeout=30)
    assert resp.status_code == 401 and "Basic" in resp.headers["WWW-Authenticate"]
    assert resp.json()["code"] == "NotAuthorized"
    ok = requests.get(f"{base}/ogcapi/collections/public-issues/items?limit=5", timeout=30)
    assert ok.status_code == 200 and ok.json()["numberReturned"] == 5
    bad = requests.get(f"{base}/ogcapi/collections/issues/items",
                       auth=("gis", "yzm_wrong"), timeout=30)  # fmt: skip
    assert bad.status_code == 401
