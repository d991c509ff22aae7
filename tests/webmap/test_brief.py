"""Briefing pack and weekly dispatch notice: pages, text, as-of, the three dispatch lists."""

from __future__ import annotations

import subprocess
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from tests.webmap.helpers import COUNTY_NAMES, make_sample_app, pdf_text
from webmap import create_app
from webmap.ledger import briefs
from webmap.ledger.context import LedgerContext
from webmap.ledger.items import IssueItem
from webmap.ledger.models import Event
from webmap.render.briefing import dispatch
from webmap.web import context as webctx


@pytest.fixture(scope="module")
def sample_url(tmp_path_factory, sqlite_template):
    """Return the URL of a SQLite copy holding the sample ledger (module scope, read-only)."""
    app = make_sample_app(tmp_path_factory.mktemp("sample"), sqlite_template)
    app.extensions["db"]["engine"].dispose()
    return app.config["DATABASE_URL"]


def pdf_pages(path) -> int:
    """Return the page count of a PDF (pdfinfo)."""
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def run_brief(url: str, monkeypatch, *args):
    """Run ``yzmap brief`` against ``url`` and return the click result."""
    from webmap.cli import main

    monkeypatch.setenv("YZMAP_DATABASE_URL", url)
    return CliRunner().invoke(main, ["brief", *args])


def test_brief_writes_pack_and_dispatch_notice(sample_url, tmp_path, monkeypatch):
    """The pack has the city map, 11 county pages, the overdue list and the look-back page."""
    out = tmp_path / "pack.pdf"
    res = run_brief(sample_url, monkeypatch, "--out", str(out))
    assert res.exit_code == 0, res.output
    text = pdf_text(out)
    assert "永州市生态环境问题整改汇报材料·全市概览" in text
    for name in COUNTY_NAMES:
        assert f"{name}：整改问题情况" in text, name
    assert "逾期问题清单" in text and "包联领导" in text
    assert "2021年底前" in text and "方案目标" in text
    assert 14 <= pdf_pages(out) <= 16
    docx_path = tmp_path / "pack-调度通报.docx"
    notice_pdf = tmp_path / "pack-调度通报.pdf"
    from docx import Document

    doc_text = "\n".join(p.text for p in Document(str(docx_path)).paragraphs)
    assert "永州市生态环境问题整改调度通报" in doc_text
    for name in COUNTY_NAMES:
        assert name in doc_text
    assert "逾期未完成" in doc_text and "本周新销号" in doc_text and "一周内到期" in doc_text
    assert "调度通报" in pdf_text(notice_pdf) and "江华瑶族自治县" in pdf_text(notice_pdf)


def test_brief_as_of_rebuilds_the_past(sample_url, tmp_path, monkeypatch):
    """--as-of shows the ledger of that day: its cut-off, fewer overdue, issues due that week."""
    out = tmp_path / "old.pdf"
    res = run_brief(
        sample_url,
        monkeypatch,
        "--out",
        str(out),
        "--as-of",
        "2021-12-27",
        "--dispatch-out",
        str(tmp_path / "n" / "notice.docx"),
    )
    assert res.exit_code == 0, res.output
    assert "数据截至 2021-12-27 24:00（回看）" in pdf_text(out)
    notice = pdf_text(tmp_path / "n" / "notice.pdf")
    assert "2021年12月21日" in notice and "2021年12月27日" in notice
    assert "一周内到期" in notice
    assert "HKT-" in notice  # look-back issues fall due on 2021-12-31, within the week


def test_brief_refuses_bad_paths(sample_url, tmp_path, monkeypatch):
    """A pack must be a .pdf and the dispatch notice a .docx; nothing is written otherwise."""
    res = run_brief(sample_url, monkeypatch, "--out", str(tmp_path / "p.docx"))
    assert res.exit_code != 0 and ".pdf" in res.output
    res = run_brief(
        sample_url,
        monkeypatch,
        "--out",
        str(tmp_path / "p.pdf"),
        "--dispatch-out",
        str(tmp_path / "n.pdf"),
    )
    assert res.exit_code != 0 and ".docx" in res.output
    assert list(tmp_path.iterdir()) == []


def _item(number, county, rag, due, status="整改中") -> IssueItem:
    """Return an issue item for the dispatch list tests."""
    return IssueItem(
        number=number,
        title=f"{number} 问题",
        county_code=county,
        status=status,
        rag=rag,
        due_date=due,
        lon=111.6,
        lat=26.0,
        geometry=None,
        is_sample=False,
    )


def test_dispatch_lists_due_overdue_and_closed():
    """Due means open and falling due within 7 days from the day; closed comes from the events."""
    import geopandas as gpd

    counties = gpd.GeoDataFrame(
        {"code": ["A", "B"], "name": ["甲县", "乙县"]}, geometry=[None, None]
    )
    day = date(2022, 6, 27)
    items = [
        _item("1", "A", "amber", date(2022, 6, 27)),
        _item("2", "A", "amber", date(2022, 7, 3)),
        _item("3", "A", "amber", date(2022, 7, 4)),
        _item("4", "B", "red", date(2022, 6, 1)),
        _item("5", "B", "done", date(2022, 6, 30), "已销号"),
    ]
    out = briefs.dispatch_counties(items, counties, {"5"}, day, horizon_days=7)
    assert [i.number for i in out[0].due] == ["1", "2"]
    assert [i.number for i in out[1].overdue] == ["4"] and [i.number for i in out[1].closed] == [
        "5"
    ]
    assert out[0].overdue == [] and out[1].due == []


def test_notice_counts_issues_signed_off_that_week(sample_url):
    """An issue moved to 已销号 in the week ending on the as-of day is listed as newly closed."""
    from webmap.web.context import get_layers

    app = create_app({"TESTING": True, "DATABASE_URL": sample_url, "SECRET_KEY": "t"})
    with app.app_context():
        session = webctx.get_session()
        events = session.execute(
            select(Event.issue_number, Event.effective_date, Event.after).where(
                Event.kind == "status.changed"
            )
        ).all()
        number, day = next((n, d) for n, d, after in events if after.get("status") == "已销号")
        ctx = LedgerContext.from_settings(app.config)
        notice = dispatch.build_notice(session, get_layers(), ctx=ctx, as_of=day)
        closed = [i.number for c in notice.counties for i in c.closed]
        assert number in closed
        before = dispatch.build_notice(session, get_layers(), ctx=ctx, as_of=date(2021, 3, 10))
        assert before.totals()[2] == 0
    app.extensions["db"]["engine"].dispose()
