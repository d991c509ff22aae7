"""The event log: append-only on both backends, and the ledger rebuilt on past dates."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from webmap.ledger import db
from webmap.ledger.events import (
    LedgerError,
    current_state,
    delete_issue,
    ledger_as_of,
    update_issue,
)
from webmap.ledger.models import AppendOnlyError, Event, Issue
from webmap.ledger.workflow import Evidence, record_progress, transition
from webmap.web import context as webctx


def test_create_logs_full_snapshot(make_issue, session):
    """Creating an issue appends one event whose ``after`` is the whole ledger row."""
    make_issue("HT-01", actor="张三")
    ev = session.scalars(select(Event)).one()
    assert (ev.kind, ev.actor, ev.issue_number) == ("issue.created", "张三", "HT-01")
    assert ev.after["title"] == "HT-01 测试问题" and ev.after["due_date"] == "2021-12-31"
    assert ev.after["geometry"] == {"type": "Point", "coordinates": [111.6, 26.4]}


def test_update_logs_only_changed_fields(make_issue, session):
    """An update records before/after for exactly the fields that changed."""
    issue = make_issue("HT-01")
    with db.transaction(session):
        changed = update_issue(
            session,
            issue,
            {"title": "新标题", "category": "水污染"},
            actor="李四",
            date=date(2021, 4, 1),
        )
    assert changed == {"title": "新标题"}
    ev = session.scalars(select(Event).order_by(Event.id.desc())).first()
    assert (ev.before, ev.after) == ({"title": "HT-01 测试问题"}, {"title": "新标题"})


def test_no_op_update_logs_nothing(make_issue, session):
    """Setting the same values appends no event."""
    issue = make_issue("HT-01")
    with db.transaction(session):
        update_issue(session, issue, {"title": issue.title}, actor="t", date=date(2021, 4, 1))
    assert session.scalar(select(Event.id).where(Event.kind == "issue.updated")) is None


def test_orm_refuses_update_and_delete_of_events(make_issue, session):
    """The ORM guard refuses changing or deleting an event, and bulk statements on the table."""
    make_issue("HT-01")
    ev = session.scalars(select(Event)).one()
    ev.actor = "篡改"
    with pytest.raises(AppendOnlyError):
        session.flush()
    session.rollback()
    session.delete(session.scalars(select(Event)).one())
    with pytest.raises(AppendOnlyError):
        session.flush()
    session.rollback()
    with pytest.raises(AppendOnlyError):
        session.execute(update(Event).values(actor="x"))
    with pytest.raises(AppendOnlyError):
        session.execute(delete(Event))
    session.rollback()
    assert session.scalars(select(Event)).one().actor == "tester"


@pytest.mark.parametrize("sql", ["UPDATE events SET actor = 'x'", "DELETE FROM events"])
def test_database_refuses_raw_sql_on_events(make_issue, app, sql):
    """Triggers refuse raw UPDATE/DELETE on the event log, on SQLite and PostgreSQL alike."""
    make_issue("HT-01")
    with app.app_context():
        engine = webctx.get_engine()
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text(sql))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM events")).scalar() == 1


def test_event_may_not_go_back_in_time(make_issue, session):
    """An event dated before the issue's latest event is refused, naming the date."""
    issue = make_issue("HT-01", day=date(2021, 6, 1))
    with pytest.raises(LedgerError) as err:
        update_issue(session, issue, {"title": "x"}, actor="t", date=date(2021, 5, 1))
    assert err.value.field == "date" and err.value.value == "2021-05-01"


def test_create_refuses_missing_fields_and_duplicates(make_issue, session):
    """Missing required fields and duplicate numbers are refused with the field named."""
    make_issue("HT-01")
    with pytest.raises(LedgerError) as err:
        make_issue("HT-01")
    assert (err.value.field, err.value.value) == ("number", "HT-01")
    with pytest.raises(LedgerError) as err:
        make_issue("HT-02", title="")
    assert err.value.field == "title"


def _build_history(make_issue, session):
    """Give three issues a 2021-2023 history through the real write functions."""
    a = make_issue("HT-01", day=date(2021, 3, 6))
    b = make_issue("HT-02", day=date(2021, 3, 6), due_date=date(2022, 12, 31))
    c = make_issue("HT-03", day=date(2021, 3, 6))
    with db.transaction(session):
        record_progress(session, a, percent=40, date=date(2021, 6, 30), actor="县环保局")
        record_progress(session, b, percent=20, date=date(2021, 9, 30), actor="县环保局")
        record_progress(session, a, percent=100, date=date(2021, 11, 30), actor="县环保局")
        transition(session, a, "已完成待销号", actor="县环保局", date=date(2021, 12, 10),
                   publicity_days=7)
        transition(
            session,
            a,
            "初审",
            actor="市生态环境局",
            date=date(2021, 12, 20),
            evidence=[Evidence("整改完成材料", filename="a.pdf", sha256="0" * 64)],
            publicity_days=7,
        )
        update_issue(
            session, b, {"lead_unit": "东安县人民政府"}, actor="admin", date=date(2022, 1, 5)
        )
        record_progress(session, b, percent=70, date=date(2022, 6, 30), actor="县环保局")
        delete_issue(session, c, actor="admin", date=date(2022, 3, 1), reason="与 HT-02 重复")
    return a, b


def test_ledger_as_of_past_dates(make_issue, session):
    """Past dates show the status, progress and issues as they stood that day."""
    _build_history(make_issue, session)
    before = ledger_as_of(session, date(2021, 3, 5))
    assert before == []
    end_2021 = {s.number: s for s in ledger_as_of(session, date(2021, 12, 31))}
    assert set(end_2021) == {"HT-01", "HT-02", "HT-03"}
    assert (end_2021["HT-01"].status, end_2021["HT-01"].progress) == ("初审", 100)
    assert (end_2021["HT-02"].status, end_2021["HT-02"].progress) == ("整改中", 20)
    assert end_2021["HT-02"].lead_unit is None
    mid_2022 = {s.number: s for s in ledger_as_of(session, date(2022, 7, 1))}
    assert set(mid_2022) == {"HT-01", "HT-02"}  # HT-03 deleted on 2022-03-01
    assert (mid_2022["HT-02"].progress, mid_2022["HT-02"].lead_unit) == (70, "东安县人民政府")
    assert mid_2022["HT-02"].due_date == date(2022, 12, 31)


def test_ledger_as_of_today_matches_live_table(make_issue, session):
    """Replaying the whole log reproduces every live issue field for field."""
    _build_history(make_issue, session)
    today = date.today()
    session.expire_all()
    live = [current_state(i, today) for i in session.scalars(select(Issue).order_by(Issue.number))]
    assert ledger_as_of(session, today) == live


def test_failed_write_leaves_no_event(make_issue, session):
    """A refused write rolls back both the change and its event."""
    issue = make_issue("HT-01")
    count = session.scalar(select(text("count(*)")).select_from(Event))
    with pytest.raises(LedgerError):
        with db.transaction(session):
            update_issue(session, issue, {"title": "改"}, actor="t", date=date(2021, 4, 1))
            update_issue(session, issue, {"number": "HT-99"}, actor="t", date=date(2021, 4, 1))
    session.expire_all()
    assert session.scalar(select(text("count(*)")).select_from(Event)) == count
    assert session.get(Issue, issue.id).title == "HT-01 测试问题"
