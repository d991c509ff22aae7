"""Forms that keep what was typed: in-place errors, the status list the workflow allows, login.

On both backends. The values typed into a refused form come back in the page with the message
beside the field, and nothing is stored.
"""

from __future__ import annotations

import io
import re
from datetime import date

from sqlalchemy import func, select

from tests.webmap.conftest_auth import PASSWORD, csrf_from
from webmap.ledger import db, workflow
from webmap.ledger.models import Event, Issue
from webmap.web import context as webctx


def options(html: str) -> list[str]:
    """Return the options of the status list."""
    block = re.search(r'<select name="to_status"[^>]*>(.*?)</select>', html, re.S)
    return re.findall(r"<option[^>]*>([^<]+)</option>", block.group(1)) if block else []


def events(app) -> int:
    """Count the event log's rows."""
    with app.app_context():
        return webctx.get_session().scalar(select(func.count()).select_from(Event))


def test_progress_150_comes_back_with_the_typed_values(app, logged_in_client, make_issue):
    """The message sits beside 进度, the text typed is kept, nothing is stored."""
    make_issue("FM-01")
    client = logged_in_client("county")
    before = events(app)
    resp = client.post("/issues/FM-01/progress", data={"percent": "150", "text": "围挡已拆除一半"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert 'value="150" aria-invalid="true" aria-describedby="percent-error">' in html
    message = "进度应为 0 到 100 的整数，收到“150”"
    assert f'<span class="field-error" id="percent-error" role="alert">{message}</span>' in html
    assert ">围挡已拆除一半</textarea>" in html and "已保留填写的内容" in html
    assert events(app) == before
    with app.app_context():
        issue = webctx.get_session().scalar(select(Issue).where(Issue.number == "FM-01"))
        assert issue.progress == 0


def test_stage_without_evidence_and_an_exe(app, session, logged_in_client, make_issue):
    """初审 with no evidence, then an .exe: each message beside the file field, the note kept."""
    issue = make_issue("FM-02")
    with db.transaction(session):
        workflow.record_progress(session, issue, percent=100, date=date(2021, 5, 1), actor="t")
        workflow.transition(session, issue, "已完成待销号", actor="t", date=date(2021, 5, 2),
                            publicity_days=7)
    client = logged_in_client("county")
    before = events(app)
    resp = client.post("/issues/FM-02/transition", data={"to_status": "初审", "note": "请审核"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and 'id="evidence-error"' in html
    assert "初审缺少材料：整改完成材料" in html and ">请审核</textarea>" in html
    assert "<option selected>初审</option>" in html
    resp = client.post("/issues/FM-02/transition", data={
        "to_status": "初审", "evidence_kind": "整改完成材料", "note": "请审核",
        "evidence": [(io.BytesIO(b"MZ"), "report.exe")]}, content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "不支持的文件类型：“report.exe”" in html
    assert 'id="evidence-error"' in html and "<option selected>整改完成材料</option>" in html
    assert events(app) == before


def test_status_list_offers_only_allowed_moves(app, session, logged_in_client, make_issue):
    """Below 100% no 已完成待销号; no 申请 before 公示 ends; 核查 only for the city."""
    make_issue("FM-03")
    county, admin = logged_in_client("county"), logged_in_client("admin")
    first = options(county.get("/issues/FM-03/edit").get_data(as_text=True))
    assert first == ["整改中", "持续推进"]
    issue = make_issue("FM-04")  # requests share this test's session: write through it
    link = workflow.Evidence
    with db.transaction(session):
        workflow.record_progress(session, issue, percent=100, date=date(2022, 5, 1), actor="t")
        for status, day, ev in (("已完成待销号", date(2022, 5, 2), ()),
                                ("初审", date(2022, 5, 3), (link("整改完成材料", url="https://a"),)),
                                ("公示", date(2022, 5, 4), (link("公示链接", url="https://b"),))):
            workflow.transition(session, issue, status, actor="t", date=day, evidence=ev,
                                publicity_days=7)
    app.config["TODAY"] = "2022-05-06"  # two days into a seven-day 公示
    assert options(county.get("/issues/FM-04/edit").get_data(as_text=True)) == ["整改中"]
    app.config["TODAY"] = "2022-05-11"
    assert options(county.get("/issues/FM-04/edit").get_data(as_text=True)) == ["申请", "整改中"]
    with db.transaction(session):
        workflow.transition(session, issue, "申请", actor="t", date=date(2022, 5, 11),
                            evidence=(workflow.Evidence("销号申请表", url="https://c"),),
                            publicity_days=7, today=date(2022, 5, 11))
    assert options(county.get("/issues/FM-04/edit").get_data(as_text=True)) == ["整改中"]
    assert options(admin.get("/issues/FM-04/edit").get_data(as_text=True)) == ["核查", "整改中"]


def test_failed_login_keeps_the_username(app, make_user):
    """A wrong password brings the form back with the name typed and the password empty."""
    make_user("county-editor", "county")
    client = app.test_client()
    resp = client.post("/login", data={"username": "county-editor", "password": "wrong",
                                       "csrf_token": csrf_from(client)})  # fmt: skip
    html = resp.get_data(as_text=True)
    assert resp.status_code == 401 and 'value="county-editor"' in html
    assert PASSWORD not in html
    assert 'autocomplete="current-password" required autofocus' in html  # the cursor waits there
