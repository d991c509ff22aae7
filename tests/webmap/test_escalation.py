"""The escalation queue: proposals from each threshold, and the city office's decisions recorded
(audit log, issue page, and the public page for 公开通报)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from webmap.ledger import db, escalation
from webmap.ledger.context import LedgerContext
from webmap.ledger.models import AccountabilityAction, EscalationProposal, Event, Issue, Notice
from webmap.ledger.workflow import Evidence, record_action, record_progress, transition
from webmap.web import context as webctx

DAY = date(2022, 6, 1)


@pytest.fixture
def ledger(app, make_issue):
    """Issues with known answers on 2022-06-01 (see each test); returns the app."""
    app.config["TODAY"] = DAY.isoformat()
    make_issue("LATE-35", due_date=DAY - timedelta(days=35))  # 35 days overdue
    make_issue("LATE-5", due_date=DAY - timedelta(days=5), lead_unit="冷水滩区水利局")
    make_issue("ON-TIME", due_date=date(2022, 12, 31))
    make_issue("QUIET", due_date=date(2022, 12, 31))  # will have two stalled notices
    make_issue("OBJECTED", due_date=date(2022, 12, 31), status="公示", progress=100)
    with app.app_context():
        session = webctx.get_session()
        with db.transaction(session):
            late = _issue(session, "LATE-35")
            record_action(session, late, "警示约谈", actor="office", date=DAY - timedelta(days=20))
            for n in (1, 2):
                session.add(Notice(key=f"stalled:QUIET:x:{n}", kind="stalled", issue_number="QUIET",
                                   day=DAY - timedelta(days=30 * n), title="t", body="b"))
            # an upheld objection sends the issue back from 公示 to 整改中
            transition(session, _issue(session, "OBJECTED"), "整改中", actor="office",
                       date=date(2022, 5, 20), note="公示异议属实，重新整改", publicity_days=7,
                       today=DAY)  # fmt: skip
    return app


def _issue(session, number: str) -> Issue:
    """Return the live issue ``number``."""
    return session.scalar(select(Issue).where(Issue.number == number))


def _propose(app, day: date = DAY) -> dict[str, tuple]:
    """Run the proposals of ``day``; return number -> (kind, reason) of the new ones."""
    with app.app_context():
        session = webctx.get_session()
        with db.transaction(session):
            new = escalation.propose(session, LedgerContext.from_settings(app.config), day)
        return {p.issue_number: (p.kind, p.reason) for p in new}


def test_each_threshold_proposes_the_next_step_once(ledger):
    """Overdue days, repeated stalls and an upheld objection each propose; none twice."""
    made = _propose(ledger)
    assert made == {
        "LATE-35": ("公开通报", "逾期 35 天（≥30 天）"),  # 警示约谈 already applied
        "LATE-5": ("警示约谈", "逾期 5 天（≥1 天）"),
        "QUIET": ("警示约谈", "已 2 次进展停滞"),
        "OBJECTED": ("警示约谈", "公示异议成立 1 次"),
    }
    assert _propose(ledger) == {}


def test_confirmation_is_recorded_and_shown(ledger, logged_in_client, anon_client):
    """Confirming 公开通报 applies it: audit log, issue page and the public page show it."""
    _propose(ledger)
    admin = logged_in_client("admin")
    page = admin.get("/escalation").get_data(as_text=True)
    assert "LATE-35" in page and "公开通报" in page and "逾期 35 天" in page
    with ledger.app_context():
        pid = webctx.get_session().scalar(select(EscalationProposal.id).where(
            EscalationProposal.issue_number == "LATE-35"))
    resp = admin.post(f"/escalation/{pid}/decide",
                      data={"decision": "confirm", "note": "市政府同意"})
    assert resp.status_code == 302
    with ledger.app_context():
        session = webctx.get_session()
        action = session.scalar(select(AccountabilityAction).where(
            AccountabilityAction.kind == "公开通报"))
        assert (action.state, action.date, action.actor) == ("applied", DAY, "admin-user")
        event = session.scalar(select(Event).where(Event.kind == "action.applied",
                                                   Event.issue_number == "LATE-35",
                                                   Event.effective_date == DAY))
        assert event.after["action"] == "公开通报" and "市政府同意" in event.after["note"]
        assert session.get(EscalationProposal, pid).state == "confirmed"
    detail = admin.get("/issues/LATE-35").get_data(as_text=True)
    assert "公开通报" in detail and "已确认" in detail and "市政府同意" in detail
    assert "公开通报" in admin.get("/audit?issue=LATE-35").get_data(as_text=True)
    public = anon_client.get("/public").get_data(as_text=True)
    assert 'id="reprimands"' in public and "LATE-35" in public.split('id="reprimands"')[1]
    assert "予以公开通报" in anon_client.get("/public/issues/LATE-35").get_data(as_text=True)
    # the office's note stays internal
    assert "市政府同意" not in public
    again = admin.post(f"/escalation/{pid}/decide", data={"decision": "confirm"})
    assert again.status_code == 400


def test_change_and_decline_need_a_reason(ledger, logged_in_client):
    """Changing or declining without a reason is refused and changes nothing; with one, logged."""
    _propose(ledger)
    admin = logged_in_client("admin")
    with ledger.app_context():
        ids = dict(webctx.get_session().execute(select(EscalationProposal.issue_number,
                                                       EscalationProposal.id)).all())
    refused = admin.post(f"/escalation/{ids['QUIET']}/decide", data={"decision": "decline"})
    assert refused.status_code == 400 and "须填写理由" in refused.get_data(as_text=True)
    bad = admin.post(f"/escalation/{ids['QUIET']}/decide", data={"decision": "maybe"})
    assert bad.status_code == 400 and "maybe" in bad.get_data(as_text=True)
    ok = admin.post(f"/escalation/{ids['QUIET']}/decide",
                    data={"decision": "decline", "note": "已补报进展，暂不约谈"})
    assert ok.status_code == 302
    changed = admin.post(f"/escalation/{ids['OBJECTED']}/decide",
                         data={"decision": "change", "kind": "依规问责", "note": "虚假整改"})
    assert changed.status_code == 302
    # a step out of ladder order is refused by the workflow, with its reason
    skip = admin.post(f"/escalation/{ids['LATE-5']}/decide",
                      data={"decision": "change", "kind": "挂牌督办", "note": "从严"})
    assert skip.status_code == 400 and "须先实施警示约谈" in skip.get_data(as_text=True)
    with ledger.app_context():
        session = webctx.get_session()
        kinds = {p.issue_number: (p.state, p.decided_kind)
                 for p in session.scalars(select(EscalationProposal))}
        assert kinds["QUIET"] == ("declined", "警示约谈")
        assert kinds["OBJECTED"] == ("changed", "依规问责")
        assert kinds["LATE-5"] == ("proposed", None)  # the refused change left it waiting
        declined = session.scalar(select(Event).where(Event.kind == "escalation.declined"))
        assert declined.issue_number == "QUIET" and declined.after["note"] == "已补报进展，暂不约谈"
        assert [a.kind for a in _issue(session, "OBJECTED").actions] == ["依规问责"]
        assert _issue(session, "QUIET").actions == []
    assert _propose(ledger) == {}  # a declined step is not proposed again


def test_only_the_city_office_decides(ledger, logged_in_client):
    """County editors and leaders cannot see the queue or decide."""
    _propose(ledger)
    for role in ("county", "city-leader", "viewer"):
        client = logged_in_client(role)
        assert client.get("/escalation").status_code == 403
        assert client.post("/escalation/1/decide", data={"decision": "confirm"}).status_code == 403


def test_a_signed_off_issue_gets_no_proposal(ledger):
    """An issue signed off by the day is out of the ladder, however late it was."""
    with ledger.app_context():
        session = webctx.get_session()
        with db.transaction(session):
            issue = _issue(session, "LATE-5")
            record_progress(session, issue, percent=100, date=date(2022, 5, 1), actor="office")
            kinds = ("整改完成材料", "公示链接", "销号申请表", "核查意见", "备案文件")
            steps = (("已完成待销号", 1), ("初审", 5), ("公示", 8), ("申请", 16), ("核查", 20),
                     ("已销号", 25))  # fmt: skip
            for status, day in steps:
                evidence = [Evidence(k, url="http://x") for k in kinds]
                transition(session, issue, status, actor="office", date=date(2022, 5, day),
                           evidence=evidence, publicity_days=7, today=DAY)
    assert "LATE-5" not in _propose(ledger)
