"""The audit page: every change made through the app shows with who, when, what, before, after."""

from __future__ import annotations

import html as htmlmod
import re
from datetime import date, datetime

import pytest
from sqlalchemy import select

from webmap.ledger import db
from webmap.ledger.models import Event, Issue, SignOff
from webmap.ledger.vocabulary import EVENT_KIND_LABELS
from webmap.render.captions import BEIJING
from webmap.web import context as webctx


@pytest.fixture
def changes(app, make_issue, logged_in_client, anon_client):
    """Make one change of every kind through the web: progress, status, disclosure, objection."""
    app.config["TODAY"] = "2022-06-01"
    make_issue("AU-1", status="公示", actor="导入员")
    make_issue("AU-2", county_code="431124", county_name="道县", actor="导入员")
    county = logged_in_client("county", username="县填报员")
    admin = logged_in_client("admin", username="督察办")
    assert (
        county.post("/issues/AU-1/progress", data={"percent": "80", "text": "清淤完成"}).status_code
        == 302
    )
    assert (
        county.post(
            "/issues/AU-1/transition", data={"to_status": "整改中", "note": "异议成立"}
        ).status_code
        == 302
    )
    assert county.post("/issues/AU-2/progress", data={"percent": "10"}).status_code == 404
    assert (
        admin.post("/issues/AU-2/disclosure", data={"public": "1", "sensitive": "1"}).status_code
        == 302
    )
    assert anon_client.post("/public/issues/AU-1/objection", data={"text": "x"}).status_code == 400
    return admin


def _rows(html: str) -> list[str]:
    """Return the text of each event row of the audit page."""
    rows = re.findall(r'<tr class="event"[^>]*>(.*?)</tr>', html, re.S)
    return [htmlmod.unescape(re.sub(r"<[^>]+>", " ", r)) for r in rows]


def test_every_change_is_in_the_audit_log_with_before_and_after(app, changes):
    """Each event in the database is listed on /audit with actor, kind, before and after."""
    page = changes.get("/audit").get_data(as_text=True)
    with app.app_context():
        events = webctx.get_session().scalars(select(Event).order_by(Event.id.desc())).all()
    rows = _rows(page)
    assert len(rows) == len(events) and int(
        re.search(r'id="audit-count">(\d+)<', page).group(1)
    ) == len(events)
    for event, row in zip(events, rows, strict=True):
        assert event.actor in row and EVENT_KIND_LABELS[event.kind] in row
        assert event.kind not in row  # the page speaks Chinese
    kinds = {e.kind: e for e in events}
    assert {
        "issue.created",
        "progress.reported",
        "status.changed",
        "disclosure.changed",
        "auth.login",
    } <= set(kinds)
    assert kinds["status.changed"].before == {"status": "公示"}
    assert kinds["status.changed"].after["status"] == "整改中"
    assert kinds["status.changed"].actor == "县填报员"
    assert kinds["disclosure.changed"].before == {"sensitive": False}
    assert kinds["disclosure.changed"].after == {"sensitive": True}
    progress = next(r for r in rows if "报送进展" in r)
    assert "县填报员" in progress and "进度（%） ： 0  → 80" in progress and "清淤完成" in progress
    status = next(r for r in rows if "变更整改状态" in r)
    assert "整改状态 ： 公示  → 整改中" in status and "异议成立" in status
    # the refused change (another county) left no trace
    assert not [e for e in events if e.issue_number == "AU-2" and e.kind == "progress.reported"]


def test_audit_filters_by_user_issue_and_date(app, changes):
    """user=, issue= and from/to narrow the list; bad dates are a Chinese 400."""
    by_user = _rows(changes.get("/audit?user=县填报员").get_data(as_text=True))
    assert by_user and all("县填报员" in r for r in by_user)
    by_issue = _rows(changes.get("/audit?issue=AU-2").get_data(as_text=True))
    assert len(by_issue) == 2 and all("AU-2" in r for r in by_issue)
    today = datetime.now(BEIJING).date().isoformat()  # the filter's days are Beijing days
    assert len(_rows(changes.get(f"/audit?from={today}&to={today}").get_data(as_text=True))) > 5
    assert _rows(changes.get("/audit?to=2000-01-01").get_data(as_text=True)) == []
    resp = changes.get("/audit?from=yesterday")
    assert resp.status_code == 400 and "yesterday" in resp.get_data(as_text=True)


def test_objections_are_found_by_issue(app, changes, anon_client, make_issue):
    """An objection event (kept off the issue's own chain) is still listed under its issue."""
    make_issue("AU-3", status="公示")
    with app.app_context():  # 公示 is dated by its sign-off stage; objections need an open period
        session = webctx.get_session()
        with db.transaction(session):
            issue = session.scalar(select(Issue).where(Issue.number == "AU-3"))
            issue.signoffs.append(SignOff(stage="公示", signer="city", date=date(2022, 5, 30)))
    assert (
        anon_client.post("/public/issues/AU-3/objection", data={"text": "异议"}).status_code == 302
    )
    rows = _rows(changes.get("/audit?issue=AU-3").get_data(as_text=True))
    assert any("公示异议提交" in r and "public" in r for r in rows)


@pytest.mark.parametrize("role", ["county", "department", "viewer", "city-leader", "reserve"])
def test_only_the_city_office_reads_the_audit_log(role, logged_in_client, client):
    """Every role but admin gets 403; anonymous users are sent to the login page."""
    assert logged_in_client(role).get("/audit").status_code == 403
    assert client.get("/audit").status_code == 302


def test_audit_pages_by_fifty_and_hides_server_paths(app, session, changes, make_issue):
    """50 rows a page with a pager; a stage's evidence shows its file name, never its path."""
    from webmap.ledger import workflow

    issue = make_issue("AU-9")
    with db.transaction(session):
        workflow.record_progress(session, issue, percent=100, date=date(2022, 5, 1), actor="t")
        workflow.transition(session, issue, "已完成待销号", actor="t", date=date(2022, 5, 2),
                            publicity_days=7)
        evidence = workflow.Evidence("整改完成材料", filename="验收报告.pdf", sha256="ab" * 32,
                                     stored_path="/srv/yzmap/instance/uploads/evidence/x/ab.pdf")
        workflow.transition(session, issue, "初审", actor="t", date=date(2022, 5, 3),
                            evidence=[evidence], publicity_days=7)
        for n in range(60):
            workflow.record_progress(session, issue, percent=100, date=date(2022, 5, 3),
                                     actor="t", text=f"第{n}次")
    page = changes.get("/audit").get_data(as_text=True)
    assert len(_rows(page)) == 50 and "第 1 / 2 页" in page and 'rel="next"' in page
    last = changes.get("/audit?page=2").get_data(as_text=True)
    stage = next(r for r in _rows(last) if "销号环节" in r)
    assert "验收报告.pdf" in stage and "abababababab…" in stage
    assert "/srv/" not in last and "instance/uploads" not in last and "stored_path" not in last
