"""Map snapshots: picture size and content, PDF text, glyphs, offline drawing, export = view."""

from __future__ import annotations

import http.server
import io
import socket
import subprocess
import threading
from datetime import date
from urllib.parse import parse_qsl

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from werkzeug.datastructures import MultiDict

from tests.webmap.helpers import COUNTY_NAMES, make_sample_app
from tests.webmap.helpers import pdf_text as pdf_file_text
from webmap.ledger.query import IssueQuery
from webmap.web import context as webctx

LOOPBACK = ("127.0.0.1", "::1", "localhost")


@pytest.fixture(scope="module")
def sample_app(tmp_path_factory, sqlite_template):
    """Return an app on a SQLite copy holding the sample ledger (read-only use; module scope)."""
    app = make_sample_app(tmp_path_factory.mktemp("sample"), sqlite_template, TODAY="2024-12-31")
    yield app
    app.extensions["db"]["engine"].dispose()


def logged_in(app):
    """Return a test client logged in as admin when the app has a login wall, else a plain one."""
    client = app.test_client()
    if "auth" not in app.blueprints:
        return client
    from webmap.ledger.models import User
    from webmap.web.auth import password_fingerprint

    with app.app_context():
        session = webctx.get_session()
        user = session.query(User).filter_by(username="snapshot-admin").first()
        if user is None:
            user = User(username="snapshot-admin", role="admin", password_hash="scrypt:test")
            session.add(user)
            session.commit()
        uid, pwv = user.id, password_fingerprint(user)
    with client.session_transaction() as sess:
        sess["uid"], sess["pwv"] = uid, pwv
    return client


def block_outside_hosts(monkeypatch) -> list[str]:
    """Make connections and name lookups to non-loopback hosts fail; return what was refused."""
    refused: list[str] = []
    real_connect, real_lookup = socket.socket.connect, socket.getaddrinfo

    def connect(self, address):
        """Refuse non-loopback connections."""
        if isinstance(address, tuple) and address[0] not in LOOPBACK:
            refused.append(address[0])
            raise ConnectionRefusedError(f"outside host blocked in tests: {address[0]}")
        return real_connect(self, address)

    def getaddrinfo(host, *args, **kwargs):
        """Refuse to resolve names other than loopback."""
        if host is not None and host not in LOOPBACK:
            refused.append(str(host))
            raise socket.gaierror(f"outside host blocked in tests: {host}")
        return real_lookup(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return refused


def pdf_text(data: bytes, tmp_path) -> str:
    """Return the text of PDF bytes as pdftotext (poppler-utils) reads it."""
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    return pdf_file_text(path)


def test_png_is_a4_at_300_dpi_and_not_blank(sample_app):
    """The PNG export is 3508x2480 at 300 dpi with a drawn map (many colours, much ink)."""
    resp = logged_in(sample_app).get("/snapshot.png")
    assert resp.status_code == 200 and resp.mimetype == "image/png"
    img = Image.open(io.BytesIO(resp.data))
    assert img.size == (3508, 2480)
    assert round(img.info["dpi"][0]) == 300
    pixels = np.asarray(img.convert("RGB"))
    ink = (pixels.sum(axis=2) < 600).mean()
    assert ink > 0.02, f"only {ink:.1%} of the picture is not white"
    colours = {tuple(c) for c in pixels[::7, ::7].reshape(-1, 3)}
    for rgb in ("#d7191c", "#2c7bb6"):  # red (overdue) and blue (signed off) markers are drawn
        target = np.array([int(rgb[i : i + 2], 16) for i in (1, 3, 5)])
        assert (np.abs(pixels - target).sum(axis=2) < 30).sum() > 200, rgb
    assert len(colours) > 50
    assert resp.headers["X-Yzmap-Issue-Count"] == "64"


def test_a3_png_size(sample_app):
    """size=A3 gives an A3 landscape page at 300 dpi."""
    resp = logged_in(sample_app).get("/snapshot.png?size=A3&county=431124")
    assert Image.open(io.BytesIO(resp.data)).size == (4961, 3508)


def test_pdf_text_has_title_filters_counties_and_stamps(sample_app, tmp_path):
    """The PDF keeps its text: title, filter line, cut-off, county names, 示意, 示例, query id."""
    resp = logged_in(sample_app).get("/snapshot.pdf?title=测试汇报图")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    text = pdf_text(resp.data, tmp_path)
    assert "测试汇报图" in text and "筛选条件：全部问题" in text and "数据截至" in text
    for name in COUNTY_NAMES:
        assert name in text, name
    assert "（示意）" in text and "示例" in text and "公里" in text and "北" in text
    assert resp.headers["X-Yzmap-Query-Id"] in text
    # vector: the map is drawn as paths, with no embedded raster image
    (tmp_path / "v.pdf").write_bytes(resp.data)
    images = subprocess.run(
        ["pdfimages", "-list", str(tmp_path / "v.pdf")], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert len(images) == 2, images  # header lines only


def test_county_pdf_describes_filters(sample_app, tmp_path):
    """A filtered PDF names its filters in Chinese and is titled for the county."""
    resp = logged_in(sample_app).get("/snapshot.pdf?county=道县&rag=red")
    text = pdf_text(resp.data, tmp_path)
    assert "永州市道县生态环境问题整改分布图" in text
    assert "县（市、区）：道县；预警等级：逾期" in text


def test_every_glyph_drawn_is_in_the_font(sample_app):
    """Every character drawn on snapshot, county and look-back pages has a glyph (no boxes)."""
    import matplotlib
    from matplotlib.text import Text

    from webmap.ledger import briefs
    from webmap.ledger.figures import figures as count_figures
    from webmap.ledger.items import collect_items
    from webmap.render.briefing import pages
    from webmap.render.snapshot import build_spec, draw
    from webmap.render.snapshot.fonts import missing_glyphs, rc_params
    from webmap.web.context import get_layers

    day = date(2024, 12, 31)
    with sample_app.app_context(), matplotlib.rc_context(rc_params()):
        session, layers = webctx.get_session(), get_layers()
        query = IssueQuery.from_args({"rag": "red", "q": "镇"})
        query = IssueQuery(rag=query.rag, q=query.q, today=day)
        items = collect_items(session, query)
        spec = build_spec(query)
        spec.notes.append("底图不可用（未配置或无法连接），仅绘制行政区界")
        everything = IssueQuery(today=day)
        counted = count_figures(session, everything)
        counties = briefs.county_briefs(session, collect_items(session, everything), counted,
                                        layers.counties.frame)  # fmt: skip
        figures = [draw.render_figure(spec, items, layers)]
        figures.append(pages.county_table_page(counted.counties(), counted.total,
                                               cutoff=spec.cutoff))  # fmt: skip
        figures += [pages.county_page(b, layers, day=day, cutoff=spec.cutoff) for b in counties]
        figures.append(pages.lookback_page(counted.lookback(), cutoff=spec.cutoff))
    drawn = "".join(t.get_text() for fig in figures for t in fig.findobj(Text))
    assert "逾期" in drawn and "江华瑶族自治县" in drawn and "示意" in drawn
    assert missing_glyphs(drawn) == []
    assert missing_glyphs("永州\U00017000") == ["\U00017000"]  # a Tangut glyph: the check can fail


def test_snapshot_completes_with_outside_hosts_blocked(sample_app, monkeypatch, tmp_path):
    """Asking for an online basemap with no network still gives a picture, boundaries only."""
    refused = block_outside_hosts(monkeypatch)
    resp = logged_in(sample_app).get("/snapshot.pdf?basemap=osm&county=431102")
    assert resp.status_code == 200
    assert refused, "the basemap was not even tried"
    text = pdf_text(resp.data, tmp_path)
    assert "底图不可用" in text and "审图号" not in text


def test_tianditu_without_key_is_not_tried(sample_app, monkeypatch):
    """天地图 without a configured key is left out without any connection attempt."""
    refused = block_outside_hosts(monkeypatch)
    resp = logged_in(sample_app).get("/snapshot.png?basemap=tianditu_vec&county=431102")
    assert resp.status_code == 200 and refused == []


class _TileHandler(http.server.BaseHTTPRequestHandler):
    """Serve one light-green PNG for every tile path."""

    tile = b""

    def do_GET(self):  # noqa: N802 - http.server's name
        """Send the tile."""
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        self.wfile.write(self.tile)

    def log_message(self, *args):
        """Keep test output quiet."""


def test_reachable_tile_server_draws_basemap_with_review_stamp(sample_app, monkeypatch, tmp_path):
    """A reachable (intranet) tile mirror is drawn, and the source and 审图号 are stamped."""
    buf = io.BytesIO()
    Image.new("RGB", (256, 256), (200, 230, 200)).save(buf, format="PNG")
    _TileHandler.tile = buf.getvalue()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _TileHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    block_outside_hosts(monkeypatch)
    port = server.server_address[1]
    monkeypatch.setitem(
        sample_app.config,
        "SNAPSHOT_TILE_URLS",
        {"tianditu_vec": f"http://127.0.0.1:{port}/{{z}}/{{x}}/{{y}}.png"},
    )
    monkeypatch.setitem(sample_app.config, "TIANDITU_REVIEW_NO", "GS（2024）0568号")
    try:
        client = logged_in(sample_app)
        text = pdf_text(
            client.get("/snapshot.pdf?basemap=tianditu_vec&county=431102").data, tmp_path
        )
        png = client.get("/snapshot.png?basemap=tianditu_vec&county=431102").data
    finally:
        server.shutdown()
        server.server_close()
    assert "审图号：GS（2024）0568号" in text and "天地图" in text
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert (np.abs(pixels - (200, 230, 200)).sum(axis=2) < 12).mean() > 0.2


@pytest.mark.parametrize(
    "qs",
    [
        "",
        "county=道县",
        "rag=red",
        "status=已销号&source=回头看",
        "q=HT-0",
        "as_of=2021-06-01",
        "county=431103&deadline=2022年",
    ],
)
def test_export_equals_view(app, make_issue, qs):
    """The snapshot's render list holds exactly the issues /api/issues gives for the query."""
    from webmap.render.snapshot import render_snapshot
    from webmap.web.context import get_layers

    make_issue("HT-01")
    make_issue(
        "HT-02",
        county_code="431124",
        county_name="道县",
        due_date=date(2022, 6, 30),
        deadline_class="2022年",
        geometry={"type": "Point", "coordinates": [111.6, 25.5]},
    )
    make_issue(
        "HT-03",
        source_type="市交办",
        county_code="431103",
        deadline_class="2022年",
        due_date=date(2099, 1, 1),
        day=date(2021, 7, 1),
    )
    make_issue(
        "HT-04",
        county_code="431124",
        county_name="道县",
        due_date=None,
        deadline_class="持续推进",
        geometry={"type": "LineString", "coordinates": [[111.5, 25.4], [111.6, 25.5]]},
    )
    client = logged_in(app)
    api = client.get(f"/api/issues?{qs}&limit=10000").get_json()
    with app.app_context():
        query = IssueQuery.from_args(MultiDict(parse_qsl(qs)), context=webctx.ledger_context())
        shot = render_snapshot(webctx.get_session(), query, get_layers(), io.BytesIO(), fmt="png")
    assert sorted(shot.numbers) == sorted(f["id"] for f in api["features"])
    resp = client.get(f"/snapshot.png?{qs}")
    assert resp.headers["X-Yzmap-Issue-Count"] == str(api["numberMatched"])


@pytest.mark.parametrize(
    "qs, words",
    [
        ("size=A5", "size"),
        ("rag=purple", "rag"),
        ("basemap=google", "底图"),
        ("county=北京", "county"),
    ],
)
def test_bad_query_is_a_chinese_400(sample_app, qs, words):
    """Unknown sizes, filters and basemaps give a 400 naming the parameter, not a stack trace."""
    resp = logged_in(sample_app).get(f"/snapshot.png?{qs}")
    assert resp.status_code == 400
    assert words in resp.get_data(as_text=True)


def test_cli_snapshot_png_and_pdf(sample_app, tmp_path, monkeypatch):
    """yzmap snapshot writes the PNG and PDF a new user asks for, and refuses other suffixes."""
    from webmap.cli import main

    monkeypatch.setenv("YZMAP_DATABASE_URL", sample_app.config["DATABASE_URL"])
    runner = CliRunner()
    res = runner.invoke(main, ["snapshot", "--out", str(tmp_path / "city.png")])
    assert res.exit_code == 0, res.output
    assert "64 条问题" in res.output
    with Image.open(tmp_path / "city.png") as img:
        assert img.size == (3508, 2480)
    res = runner.invoke(main, ["snapshot", "--county", "蓝山县", "--out", str(tmp_path / "c.pdf")])
    assert res.exit_code == 0, res.output
    assert "蓝山县" in pdf_text((tmp_path / "c.pdf").read_bytes(), tmp_path)
    res = runner.invoke(main, ["snapshot", "--out", str(tmp_path / "city.jpg")])
    assert res.exit_code != 0 and ".png" in res.output
    assert not (tmp_path / "city.jpg").exists()


def test_map_page_export_button_keeps_the_view(sample_app):
    """The map page's PNG/PDF buttons carry its query string; export count = API count."""
    import html
    import re

    client = logged_in(sample_app)
    page = client.get("/?county=道县&rag=red&basemap=none").get_data(as_text=True)
    links = {
        k: html.unescape(v) for k, v in re.findall(r'id="export-(png|pdf)" href="([^"]+)"', page)
    }
    assert set(links) == {"png", "pdf"}
    assert links["png"].startswith("/snapshot.png?") and "rag=red" in links["png"]
    resp = client.get(links["png"])
    api = client.get("/api/issues?county=道县&rag=red").get_json()
    assert resp.status_code == 200
    assert resp.headers["X-Yzmap-Issue-Count"] == str(api["numberMatched"])
