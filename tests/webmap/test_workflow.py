"""Workflow rules: transitions, evidence, 公示 period, RAG, escalation, and each refusal."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial

import pytest
from sqlalchemy import select

from webmap.ledger import db, workflow
from webmap.ledger.models import Event, Issue, SignOff
from webmap.ledger.workflow import (
    STATUSES,
    TRANSITIONS,
    Evidence,
    WorkflowError,
    evidence_from_file,
    propose_escalation,
    record_action,
    record_progress,
)

# the shipped defaults, passed explicitly as every caller does (a LedgerContext's values)
PUBLICITY_DAYS, AMBER_DAYS = 7, 30
check_transition = partial(workflow.check_transition, publicity_days=PUBLICITY_DAYS)
transition = partial(workflow.transition, publicity_days=PUBLICITY_DAYS)
rag = partial(workflow.rag, amber_days=AMBER_DAYS)
rag_clause = partial(workflow.rag_clause, amber_days=AMBER_DAYS)

ALL_EVIDENCE = [
    Evidence(k, filename=f"{k}.pdf")
    for k in ("整改完成材料", "公示截图", "销号申请表", "核查意见", "备案文件")
]
FAR_PAST = date(2020, 1, 1)


def _issue(status: str, progress: int = 100) -> Issue:
    """Return an unsaved issue in ``status`` whose 公示 started long ago."""
    issue = Issue(number="T-1", status=status, progress=progress)
    issue.signoffs = [SignOff(stage="公示", signer="x", date=FAR_PAST)]
    return issue


@pytest.mark.parametrize("src", STATUSES)
@pytest.mark.parametrize("dst", STATUSES)
def test_transition_table(src, dst):
    """Exactly the moves listed in TRANSITIONS pass when every other condition is met."""
    issue = _issue(src)
    allowed = dst in TRANSITIONS.get(src, ())
    kwargs = {"when": date(2021, 6, 1), "evidence": ALL_EVIDENCE, "note": "理由"}
    if allowed:
        check_transition(issue, dst, **kwargs)
    else:
        with pytest.raises(WorkflowError) as err:
            check_transition(issue, dst, **kwargs)
        assert err.value.field == "status" and err.value.value == dst
        assert src in err.value.message


def test_unknown_status_is_named():
    """An unknown target status is refused with its value."""
    with pytest.raises(WorkflowError, match="未知状态：完成了") as err:
        check_transition(_issue("整改中"), "完成了", when=date(2021, 6, 1))
    assert err.value.field == "status"


def test_future_date_refused():
    """A move dated after today is refused."""
    tomorrow = date.today() + timedelta(days=1)
    with pytest.raises(WorkflowError) as err:
        check_transition(_issue("未启动"), "整改中", when=tomorrow)
    assert err.value.field == "date"


def test_send_back_needs_a_reason():
    """Sending an issue back to 整改中 (from sign-off or after 销号) needs a note."""
    for src in ("初审", "公示", "已销号"):
        with pytest.raises(WorkflowError) as err:
            check_transition(_issue(src), "整改中", when=date(2021, 6, 1), note="  ")
        assert err.value.field == "note"
        check_transition(_issue(src), "整改中", when=date(2021, 6, 1), note="群众异议属实")


def test_completion_needs_full_progress():
    """已完成待销号 is refused below 100% progress, naming the progress."""
    with pytest.raises(WorkflowError, match="80%") as err:
        check_transition(_issue("整改中", progress=80), "已完成待销号", when=date(2021, 6, 1))
    assert (err.value.field, err.value.value) == ("progress", 80)


@pytest.mark.parametrize(
    ("src", "dst", "needed"),
    [
        ("已完成待销号", "初审", "整改完成材料"),
        ("初审", "公示", "公示截图或公示链接"),
        ("公示", "申请", "销号申请表"),
        ("申请", "核查", "核查意见"),
        ("核查", "已销号", "备案文件"),
    ],
)
def test_each_stage_requires_its_evidence(src, dst, needed):
    """Each sign-off stage names the evidence it lacks; the wrong kind does not count."""
    wrong = [Evidence("其他材料", filename="x.pdf")]
    with pytest.raises(WorkflowError) as err:
        check_transition(_issue(src), dst, when=date(2021, 6, 1), evidence=wrong)
    assert (err.value.field, err.value.value) == ("evidence", needed)


def test_evidence_without_file_or_link_does_not_count():
    """An evidence entry with neither a file nor a URL is not evidence."""
    with pytest.raises(WorkflowError):
        check_transition(
            _issue("已完成待销号"),
            "初审",
            when=date(2021, 6, 1),
            evidence=[Evidence("整改完成材料")],
        )


def test_publicity_link_is_enough():
    """公示 accepts a link instead of a screenshot."""
    link = [Evidence("公示链接", url="https://example.gov.cn/gs/1")]
    check_transition(_issue("初审"), "公示", when=date(2021, 6, 1), evidence=link)


@pytest.mark.parametrize(("days_after", "ok"), [(6, False), (7, True), (8, True)])
def test_publicity_period_before_application(days_after, ok):
    """申请 is refused until PUBLICITY_DAYS (7) days after the 公示 start."""
    issue = _issue("公示")
    issue.signoffs = [SignOff(stage="公示", signer="x", date=date(2021, 6, 1))]
    when = date(2021, 6, 1) + timedelta(days=days_after)
    form = [Evidence("销号申请表", filename="sq.pdf")]
    if ok:
        check_transition(issue, "申请", when=when, evidence=form)
    else:
        with pytest.raises(WorkflowError, match="公示期未满") as err:
            check_transition(issue, "申请", when=when, evidence=form)
        assert err.value.field == "date"


def test_publicity_days_from_config(app, make_issue, session, logged_in_client):
    """The app's PUBLICITY_DAYS reaches the workflow: 申请 on day 9 of a 10-day 公示 is refused."""
    app.config.update(PUBLICITY_DAYS=10, TODAY="2021-06-10")
    issue = make_issue("HT-01")
    with db.transaction(session):
        issue.status = "公示"  # direct set: this test is about the period only
        issue.signoffs = [SignOff(stage="公示", signer="x", date=date(2021, 6, 1))]
    client = logged_in_client("admin")
    form = {"to_status": "申请", "evidence_url": "https://example.gov.cn/sq",
            "evidence_kind": "销号申请表"}  # fmt: skip
    refused = client.post("/issues/HT-01/transition", data=form)
    assert refused.status_code == 400 and "公示期未满" in refused.get_data(as_text=True)
    app.config["TODAY"] = "2021-06-11"
    assert client.post("/issues/HT-01/transition", data=form).status_code == 302


def test_full_signoff_path_in_database(make_issue, session, tmp_path):
    """An issue goes from 未启动 to 已销号; stages, attachments and events are all recorded."""
    pdf = tmp_path / "整改完成材料.pdf"
    pdf.write_bytes(b"%PDF-1.4 test")
    issue = make_issue("HT-01")
    steps = [
        ("已完成待销号", date(2021, 11, 1), []),
        ("初审", date(2021, 11, 5), [evidence_from_file(pdf, "整改完成材料")]),
        ("公示", date(2021, 11, 10), [Evidence("公示链接", url="https://example.gov.cn/1")]),
        ("申请", date(2021, 11, 17), [Evidence("销号申请表", filename="sq.pdf")]),
        ("核查", date(2021, 11, 25), [Evidence("核查意见", filename="hc.pdf")]),
        ("已销号", date(2021, 12, 1), [Evidence("备案文件", filename="ba.pdf")]),
    ]
    with db.transaction(session):
        record_progress(session, issue, percent=100, date=date(2021, 10, 30), actor="县环保局")
        for status, day, evidence in steps:
            transition(session, issue, status, actor="市生态环境局", date=day, evidence=evidence)
    session.expire_all()
    got = session.get(Issue, issue.id)
    assert got.status == "已销号" and got.progress == 100
    assert [s.stage for s in got.signoffs] == ["初审", "公示", "申请", "核查", "备案"]
    att = got.signoffs[0].attachments[0]
    assert att.size == 13 and len(att.sha256) == 64 and att.mime == "application/pdf"
    kinds = session.scalars(select(Event.kind).where(Event.issue_number == "HT-01")).all()
    assert kinds == ["issue.created", "progress.reported"] + ["status.changed"] * 6


def test_refused_transition_writes_nothing(make_issue, session):
    """A refused move leaves the issue, the sign-offs and the event log untouched."""
    issue = make_issue("HT-01")
    events = session.scalars(select(Event)).all()
    with pytest.raises(WorkflowError):
        transition(session, issue, "初审", actor="x", date=date(2021, 6, 1))
    session.rollback()
    session.expire_all()
    assert session.get(Issue, issue.id).status == "未启动"
    assert session.scalars(select(Event)).all() == events


@pytest.mark.parametrize("bad", [-1, 101, 50.5, "50"])
def test_progress_must_be_0_to_100(make_issue, session, bad):
    """A progress report outside 0..100 (or not an integer) is refused."""
    issue = make_issue("HT-01")
    with pytest.raises(WorkflowError) as err:
        record_progress(session, issue, percent=bad, date=date(2021, 6, 1), actor="x")
    assert err.value.field == "progress"


def test_first_progress_starts_work(make_issue, session):
    """The first positive progress report moves 未启动 to 整改中."""
    issue = make_issue("HT-01")
    with db.transaction(session):
        record_progress(session, issue, percent=10, date=date(2021, 5, 1), actor="x", text="开工")
    assert issue.status == "整改中" and issue.updates[0].text == "开工"


TODAY = date(2021, 6, 1)


@pytest.mark.parametrize(
    ("status", "due", "expected"),
    [
        ("整改中", TODAY - timedelta(days=1), "red"),
        ("整改中", TODAY, "amber"),
        ("整改中", TODAY + timedelta(days=30), "amber"),
        ("整改中", TODAY + timedelta(days=31), "green"),
        ("公示", TODAY - timedelta(days=1), "red"),
        ("已销号", TODAY - timedelta(days=100), "done"),
        ("持续推进", TODAY - timedelta(days=100), "none"),
        ("整改中", None, "none"),
    ],
)
def test_rag_boundaries(status, due, expected):
    """RAG: red after the due date, amber within 30 days (due day included), green beyond."""
    assert rag(status, due, TODAY) == expected


def test_rag_amber_days_configurable(app, make_issue, logged_in_client):
    """The app's AMBER_DAYS reaches every door: due in 10 days is amber, in 11 days green."""
    app.config.update(AMBER_DAYS=10, TODAY=TODAY.isoformat())
    make_issue("HT-10", due_date=TODAY + timedelta(days=10))
    make_issue("HT-11", due_date=TODAY + timedelta(days=11))
    client = logged_in_client("viewer")
    body = client.get("/api/issues?properties=number,rag").get_json()
    assert {f["id"]: f["properties"]["rag"] for f in body["features"]} == {
        "HT-10": "amber", "HT-11": "green"}  # fmt: skip
    amber = client.get("/api/issues?rag=amber").get_json()
    assert [f["id"] for f in amber["features"]] == ["HT-10"]
    assert "10日内到期" in client.get("/dashboard").get_data(as_text=True)


def test_rag_clause_matches_rag(make_issue, session):
    """The SQL form of each RAG value selects exactly the issues ``rag`` classifies so."""
    cases = [
        ("整改中", -1),
        ("整改中", 0),
        ("整改中", 30),
        ("整改中", 31),
        ("持续推进", -5),
        ("未启动", None),
        ("已销号", -3),
    ]
    for n, (status, offset) in enumerate(cases):
        due = None if offset is None else TODAY + timedelta(days=offset)
        issue = make_issue(f"R-{n}", due_date=due)
        with db.transaction(session):
            issue.status = status  # direct set: this test is about classification only
    issues = session.scalars(select(Issue)).all()
    for value in ("red", "amber", "green", "done", "none"):
        expected = {i.number for i in issues if rag(i.status, i.due_date, TODAY) == value}
        got = set(session.scalars(select(Issue.number).where(rag_clause(value, TODAY))))
        assert got == expected, value
    with pytest.raises(WorkflowError):
        rag_clause("purple", TODAY)


def test_escalation_ladder(make_issue, session):
    """The next step depends on days overdue and steps already applied; applying is logged."""
    issue = make_issue("HT-01", due_date=date(2021, 12, 31))
    assert propose_escalation(issue, date(2021, 12, 31)) is None
    assert propose_escalation(issue, date(2022, 1, 1)).kind == "警示约谈"
    with db.transaction(session):
        record_action(
            session,
            issue,
            "警示约谈",
            actor="市督察办",
            date=date(2022, 1, 5),
            unit="冷水滩区人民政府",
        )
    assert propose_escalation(issue, date(2022, 1, 29)) is None  # 29 days: 公开通报 not yet due
    proposal = propose_escalation(issue, date(2022, 1, 30))
    assert proposal.kind == "公开通报" and proposal.days_overdue == 30
    assert propose_escalation(issue, date(2022, 12, 31)).kind == "公开通报"  # in order
    ev = session.scalars(select(Event).where(Event.kind == "action.applied")).one()
    assert ev.after["action"] == "警示约谈" and ev.after["unit"] == "冷水滩区人民政府"


def test_escalation_refusals(make_issue, session):
    """Skipping a step, repeating one, unknown kinds and closed issues are refused."""
    issue = make_issue("HT-01")
    with pytest.raises(WorkflowError, match="须先实施警示约谈"):
        record_action(session, issue, "挂牌督办", actor="x", date=date(2022, 3, 1))
    with pytest.raises(WorkflowError, match="未知问责措施"):
        record_action(session, issue, "罚款", actor="x", date=date(2022, 3, 1))
    with db.transaction(session):
        record_action(session, issue, "警示约谈", actor="x", date=date(2022, 3, 1))
        record_action(
            session, issue, "公开通报", actor="x", date=date(2022, 3, 2), state="proposed"
        )
        record_action(session, issue, "依规问责", actor="x", date=date(2022, 3, 3), note="虚假整改")
    with pytest.raises(WorkflowError, match="已实施警示约谈"):
        record_action(session, issue, "警示约谈", actor="x", date=date(2022, 3, 4))
    with db.transaction(session):
        issue.status = "已销号"
    with pytest.raises(WorkflowError, match="已销号"):
        record_action(session, issue, "公开通报", actor="x", date=date(2022, 3, 5))
    assert [(a.kind, a.state) for a in issue.actions] == [
        ("警示约谈", "applied"),
        ("公开通报", "proposed"),
        ("依规问责", "applied"),
    ]
