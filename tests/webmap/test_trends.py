"""Trends rebuilt from the event log: equal to ``ledger_as_of`` day by day, ending on the
dashboard's figures; and the briefing's "since the last briefing" changes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from webmap.ledger import db, figures, trends
from webmap.ledger.events import ledger_as_of, ledger_on_days
from webmap.ledger.models import Issue
from webmap.ledger.query import IssueQuery
from webmap.ledger.workflow import Evidence, record_action, record_progress, transition
from webmap.web import context as webctx

TODAY = date(2022, 6, 1)
KINDS = ("整改完成材料", "公示链接", "销号申请表", "核查意见", "备案文件")
SIGN_OFF = (("已完成待销号", 0), ("初审", 2), ("公示", 4), ("申请", 12), ("核查", 14),
            ("已销号", 16))


def _sign_off(session, number: str, start: date) -> None:
    """Finish an issue on ``start`` and walk it to 已销号 16 days later."""
    issue = session.scalar(select(Issue).where(Issue.number == number))
    record_progress(session, issue, percent=100, date=start, actor="t")
    for status, offset in SIGN_OFF:
        transition(session, issue, status, actor="t", date=start + timedelta(days=offset),
                   evidence=[Evidence(k, url="http://x") for k in KINDS], publicity_days=7,
                   today=TODAY)  # fmt: skip


@pytest.fixture
def ledger(app, make_issue):
    """Four look-back issues in two counties with known closing days; returns the app."""
    app.config["TODAY"] = TODAY.isoformat()
    make_issue("A-1", due_date=date(2021, 12, 31))  # closed 2021-11-01 .. 11-17 (256 days)
    make_issue("A-2", due_date=date(2021, 12, 31))  # never closed: overdue from 2022-01-01
    make_issue("B-1", county_code="431124", county_name="道县", due_date=date(2021, 9, 30))
    make_issue("B-2", county_code="431124", county_name="道县", due_date=date(2022, 12, 31),
               day=date(2022, 2, 1))  # fmt: skip
    with app.app_context():
        session = webctx.get_session()
        with db.transaction(session):
            _sign_off(session, "A-1", date(2021, 11, 1))
            _sign_off(session, "B-1", date(2022, 3, 1))  # late: closed 2022-03-17 (376 days)
            a2 = session.scalar(select(Issue).where(Issue.number == "A-2"))
            record_action(session, a2, "警示约谈", actor="t", date=date(2022, 2, 1))
    return app


def test_one_pass_equals_asking_day_by_day(ledger):
    """``ledger_on_days`` gives exactly ``ledger_as_of`` on every day asked for."""
    days = [date(2021, 3, 5), date(2021, 3, 6), date(2021, 11, 10), date(2022, 1, 31), TODAY]
    with ledger.app_context():
        session = webctx.get_session()
        got = list(ledger_on_days(session, days))
        assert [d for d, _ in got] == days
        for day, states in got:
            assert states == ledger_as_of(session, day), day
        assert got[0][1] == [] and len(got[-1][1]) == 4


def test_trend_points_have_known_values_and_end_on_the_dashboard(ledger, logged_in_client):
    """Month-end points count closures, overdue and the median days to 销号 as they stood."""
    with ledger.app_context():
        session = webctx.get_session()
        query = IssueQuery(today=TODAY, amber_days=30)
        points = {p.day: p for p in trends.trend(session, query)}
        assert min(points) == date(2021, 3, 31) and max(points) == TODAY
        nov, jan = points[date(2021, 11, 30)], points[date(2022, 1, 31)]
        mar = points[date(2022, 3, 31)]
        assert (nov.lookback_closed, nov.overdue, nov.median_days_to_close) == (1, 1, 256)
        assert (jan.lookback_closed, jan.overdue, jan.lookback_target) == (1, 2, 20)
        assert (mar.lookback_closed, mar.overdue, mar.median_days_to_close) == (2, 1, 316)
        assert jan.counties["431124"].due_by_then == 1 and jan.counties["431103"].due_by_then == 2
        last = points[TODAY]
        for county in figures.figures(session, query).counties():
            p = last.counties[county.code]
            assert (p.total, p.finished, p.signed_off, p.overdue) == (
                county.total, county.finished, county.signed_off, county.overdue)
    page = logged_in_client("admin").get("/dashboard").get_data(as_text=True)
    assert 'id="trends"' in page and "回头看问题销号与方案目标" in page
    assert "道县：已销号 1，应完成 1，逾期 0" in page
    assert "冷水滩区：已销号 1，应完成 2，逾期 1" in page


def test_dashboard_trend_as_of_ends_that_day(ledger, logged_in_client):
    """With ``as_of`` the trend stops on that day, and the stamp says 截至 that day."""
    page = logged_in_client("admin").get("/dashboard?as_of=2022-01-31").get_data(as_text=True)
    assert "截至 2022-01-31" in page and "冷水滩区：已销号 1，应完成 2，逾期 1" in page
    assert "道县：已销号 0，应完成 1，逾期 1" in page


def test_changes_between_two_days(ledger):
    """New, closed, newly overdue, moved and actions between two days, each where it belongs."""
    with ledger.app_context():
        session = webctx.get_session()
        query = IssueQuery(today=TODAY, amber_days=30)
        got = trends.changes_between(session, query, date(2021, 12, 1), date(2022, 3, 31))
        names = {t: [c.number for c in items] for t, items in got.sections()}
        assert names == {"新增问题": ["B-2"], "新销号": ["B-1"], "新逾期": ["A-2"],
                         "状态变化": [], "问责措施": ["A-2"]}  # fmt: skip


def test_month_ends_and_targets():
    """Month ends run to the last day; the look-back target is cumulative 20/25/30."""
    assert trends.month_ends(date(2021, 12, 31), date(2021, 12, 31)) == [date(2021, 12, 31)]
    assert trends.lookback_target(date(2021, 12, 30)) == 0
    assert trends.lookback_target(date(2024, 1, 1)) == 30


def test_briefing_pack_has_the_since_page(ledger, tmp_path):
    """``build_pack(since=...)`` adds the changes page, counted as ``changes_between`` counts."""
    from tests.webmap.helpers import pdf_text
    from webmap.ledger.context import LedgerContext
    from webmap.render.briefing.pack import build_pack
    from webmap.web.context import get_layers

    out = tmp_path / "pack.pdf"
    with ledger.app_context():
        ctx = LedgerContext.from_settings(ledger.config)
        pack = build_pack(webctx.get_session(), get_layers(), out, ctx=ctx,
                          as_of=date(2022, 3, 31), since=date(2021, 12, 1))  # fmt: skip
    assert [c.number for c in pack.changes.closed] == ["B-1"]
    text = pdf_text(out, layout=True)
    assert "上次汇报以来的变化" in text and "2021-12-01 至 2022-03-31" in text
    assert "新增问题 1，新销号 1，新逾期 1，状态变化 0，问责措施 1" in text
