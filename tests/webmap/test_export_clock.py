"""One clock in exports: every time printed is Beijing time with its zone shown."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from tests.webmap.helpers import make_sample_app, pdf_text
from webmap.ledger.query import IssueQuery
from webmap.render.captions import beijing_time
from webmap.web import context as webctx

MOMENT = datetime(2026, 12, 4, 12, 15, tzinfo=UTC)
SHOWN = "2026-12-04 20:15（北京时间，UTC+8）"
STAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}（北京时间，UTC\+8）")


@pytest.fixture(scope="module")
def sample_app(tmp_path_factory, sqlite_template):
    """Return an app on a SQLite copy holding the sample ledger (read-only use)."""
    app = make_sample_app(tmp_path_factory.mktemp("sample"), sqlite_template)
    yield app
    app.extensions["db"]["engine"].dispose()


@pytest.mark.parametrize("moment", [MOMENT, MOMENT.replace(tzinfo=None)])
def test_beijing_time_shows_the_zone(moment):
    """UTC (aware or naive, as stored) is shown as Beijing time with UTC+8 named."""
    assert beijing_time(moment) == SHOWN
    assert STAMP.fullmatch(beijing_time())


def test_snapshot_prints_beijing_time(sample_app, tmp_path):
    """The snapshot's cut-off line is Beijing time with the zone."""
    from webmap.render.snapshot import render_snapshot

    with sample_app.app_context():
        render_snapshot(webctx.get_session(), IssueQuery(), webctx.get_layers(),
                        tmp_path / "s.pdf", fmt="pdf", now=MOMENT)  # fmt: skip
    assert f"数据截至 {SHOWN}" in pdf_text(tmp_path / "s.pdf")


def test_pack_and_dispatch_print_beijing_time(sample_app, tmp_path):
    """The pack's cut-off and the dispatch notice's making time are Beijing time."""
    from docx import Document

    from webmap.render.briefing import dispatch
    from webmap.render.briefing.pack import build_pack

    with sample_app.app_context():
        session, layers, ctx = webctx.get_session(), webctx.get_layers(), webctx.ledger_context()
        build_pack(session, layers, tmp_path / "p.pdf", ctx=ctx, now=MOMENT)
        notice = dispatch.build_notice(session, layers, ctx=ctx, as_of=date(2021, 12, 27),
                                       now=MOMENT)  # fmt: skip
    assert f"数据截至 {SHOWN}" in pdf_text(tmp_path / "p.pdf")
    dispatch.write_docx(notice, tmp_path / "n.docx")
    dispatch.write_pdf(notice, tmp_path / "n.pdf")
    docx_text = "\n".join(p.text for p in Document(str(tmp_path / "n.docx")).paragraphs)
    assert f"yzmap 生成于 {SHOWN}" in docx_text
    assert SHOWN in pdf_text(tmp_path / "n.pdf").replace("\n", "")


def test_site_sheet_prints_beijing_time():
    """The site sheet's making time carries the zone."""
    import geopandas as gpd
    from shapely.geometry import Point

    from webmap.ledger.boundaries import shipped_layers
    from webmap.render import site_sheet

    site = gpd.GeoDataFrame({"site_id": ["S1"], "site_name": ["甲"]},
                            geometry=[Point(111.6, 26.2)], crs="EPSG:4326")  # fmt: skip
    rows = gpd.pd.DataFrame(columns=["boundary_distance_m", "layer_kind", "rule", "relation"])
    sheet = site_sheet.build_sheet(site, rows, shipped_layers(), {})
    assert STAMP.fullmatch(sheet["generated"])
