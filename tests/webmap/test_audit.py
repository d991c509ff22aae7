"""The audit page: every change made through the app shows with who, when, what, before, after."""

from __future__ import annotations

import html as htmlmod
import re
from datetime import date

import pytest
from sqlalchemy import select

from webmap.ledger import db
from webmap.ledger.models import Event, Issue, SignOff
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
        assert event.actor in row and event.kind in row
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
    progress = next(r for r in rows if "progress.reported" in r)
    assert "县填报员" in progress and '"progress": 80' in progress and "清淤完成" in progress
    # the refused change (another county) left no trace
    assert not [e for e in events if e.issue_number == "AU-2" and e.kind == "progress.reported"]


def test_audit_filters_by_user_issue_and_date(app, changes):
    """user=, issue= and from/to narrow the list; bad dates are a Chinese 400."""
    by_user = _rows(changes.get("/audit?user=县填报员").get_data(as_text=True))
    assert by_user and all("县填报员" in r for r in by_user)
    by_issue = _rows(changes.get("/audit?issue=AU-2").get_data(as_text=True))
    assert len(by_issue) == 2 and all("AU-2" in r for r in by_issue)
    today = date.today().isoformat()
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
    assert any("objection.submitted" in r and "public" in r for r in rows)


@pytest.mark.parametrize("role", ["county", "department", "viewer", "city-leader", "reserve"])
def test_only_the_city_office_reads_the_audit_log(role, logged_in_client, client):
    """Every role but admin gets 403; anonymous users are sent to the login page."""
    assert logged_in_client(role).get("/audit").status_code == 403
    assert client.get("/audit").status_code == 302
