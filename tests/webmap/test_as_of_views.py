"""``as_of`` on every view equals the event-log rebuild (``yzmap ledger status --as-of``):
the API, the map page's date field and stamp, the dashboard, exports and snapshots."""

from __future__ import annotations

import csv
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from tests.webmap.helpers import make_sample_app
from webmap.cli import main
from webmap.ledger import db
from webmap.ledger.models import Issue
from webmap.ledger.query import IssueQuery
from webmap.ledger.workflow import record_progress, transition
from webmap.render.ledger_status import ledger_status
from webmap.web import context as webctx

TODAY = date(2022, 6, 1)
DAYS = (date(2021, 3, 6), date(2021, 6, 30), date(2021, 12, 31), date(2022, 3, 31), TODAY)


@pytest.fixture
def ledger(app, make_issue):
    """Three issues whose status and warning class change over the year; returns the app."""
    app.config["TODAY"] = TODAY.isoformat()
    make_issue("T-1", due_date=date(2021, 12, 31))  # started 04-01, finished 2022-02-01
    make_issue("T-2", due_date=date(2021, 7, 15), county_code="431124", county_name="道县")
    make_issue("T-3", due_date=date(2022, 12, 31), day=date(2021, 9, 1))  # appears in September
    with app.app_context():
        session = webctx.get_session()
        with db.transaction(session):
            t1 = session.scalar(select(Issue).where(Issue.number == "T-1"))
            record_progress(session, t1, percent=30, date=date(2021, 4, 1), actor="t")
            record_progress(session, t1, percent=100, date=date(2022, 2, 1), actor="t")
            transition(session, t1, "已完成待销号", actor="t", date=date(2022, 2, 1),
                       publicity_days=7, today=TODAY)  # fmt: skip
    return app


def _rebuilt(app, day: date) -> dict[str, tuple]:
    """Return number -> (status, rag) as ``yzmap ledger status --as-of`` computes them."""
    with app.app_context():
        query = IssueQuery(as_of=day, today=TODAY, amber_days=30)
        return {r.number: (r.status, r.rag) for r in ledger_status(webctx.get_session(), query)}


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_api_as_of_equals_the_rebuild(ledger, logged_in_client, day):
    """``/api/issues?as_of=DAY`` holds the issues, statuses and RAG of the rebuild, one by one."""
    body = logged_in_client("admin").get(f"/api/issues?as_of={day}").get_json()
    got = {f["properties"]["number"]: (f["properties"]["status"], f["properties"]["rag"])
           for f in body["features"]}  # fmt: skip
    assert got == _rebuilt(ledger, day) and body["timeStamp"] == day.isoformat()


def test_known_answers_through_the_year(ledger):
    """The rebuild itself, against answers worked out by hand."""
    assert _rebuilt(ledger, date(2021, 6, 30)) == {"T-1": ("整改中", "green"),
                                                   "T-2": ("未启动", "amber")}  # fmt: skip
    assert _rebuilt(ledger, date(2021, 12, 31)) == {
        "T-1": ("整改中", "amber"), "T-2": ("未启动", "red"), "T-3": ("未启动", "green")}
    assert _rebuilt(ledger, TODAY)["T-1"] == ("已完成待销号", "red")


def test_map_page_has_a_date_field_and_the_stamp(ledger, logged_in_client):
    """The map page carries ``as_of`` in its date field, its count and its stamp (截至 DATE)."""
    client = logged_in_client("admin")
    page = client.get("/?as_of=2021-06-30").get_data(as_text=True)
    assert 'name="as_of" id="as-of" value="2021-06-30"' in page
    assert "截至 2021-06-30（由事件日志重建的当日台账）" in page
    assert '<strong id="total-count">2</strong>' in page and "as_of=2021-06-30" in page
    assert "截至 2022-06-01" in client.get("/").get_data(as_text=True)
    bad = client.get("/?as_of=2021-13-01")
    assert bad.status_code == 400 and "as_of" in bad.get_data(as_text=True)


def test_dashboard_as_of_counts_the_rebuild(ledger, logged_in_client):
    """The dashboard's county table on a past day counts that day's ledger."""
    page = logged_in_client("admin").get("/dashboard?as_of=2021-12-31").get_data(as_text=True)
    assert "截至 2021-12-31" in page and 'value="2021-12-31"' in page
    assert "冷水滩区：已销号 0，应完成 1，逾期 0" in page  # T-1 due that very day: not yet late
    assert "道县：已销号 0，应完成 1，逾期 1" in page


def test_snapshot_as_of_draws_that_days_issues(ledger, logged_in_client):
    """The export button's picture of a past day holds that day's issues."""
    resp = logged_in_client("admin").get("/snapshot.png?as_of=2021-06-30")
    assert resp.status_code == 200 and resp.headers["X-Yzmap-Issue-Count"] == "2"


def test_export_as_of_writes_that_days_rows(ledger, database_url, tmp_path, monkeypatch):
    """``export-ledger --as-of`` writes each issue as it stood that day, judged on that day."""
    monkeypatch.setenv("YZMAP_DATABASE_URL", database_url)
    monkeypatch.setenv("YZMAP_TODAY", TODAY.isoformat())
    out = tmp_path / "past.csv"
    result = CliRunner().invoke(main, ["export-ledger", "--format", "csv", "--out", str(out),
                                       "--as-of", "2021-12-31"])  # fmt: skip
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    got = {r["编号"]: (r["完成情况"], r["完成进度"], r["预警"]) for r in rows}
    assert got == {"T-1": ("整改中", "30", "临期"), "T-2": ("未启动", "0", "逾期"),
                   "T-3": ("未启动", "0", "正常")}  # fmt: skip


@pytest.mark.slow
def test_sample_api_matches_ledger_status_issue_by_issue(tmp_path, sqlite_template, monkeypatch):
    """On the sample ledger ``/api/issues?as_of=2022-06-30`` prints what ``yzmap ledger status
    --as-of 2022-06-30`` prints, issue by issue (status and warning class)."""
    from tests.webmap.conftest_auth import arm_csrf, login
    from webmap.ledger.vocabulary import RAG_LABELS
    from webmap.web.auth import hash_password

    app = make_sample_app(tmp_path, sqlite_template)
    try:
        with app.app_context():
            from webmap.ledger.models import User

            session = webctx.get_session()
            with db.transaction(session):
                session.add(User(username="admin", role="admin",
                                 password_hash=hash_password("correct-horse-9")))  # fmt: skip
        client = app.test_client()
        login(client, "admin", "correct-horse-9")
        body = arm_csrf(client).get("/api/issues?as_of=2022-06-30&limit=1000").get_json()
        api = {f["properties"]["number"]: (f["properties"]["status"],
                                           RAG_LABELS[f["properties"]["rag"]])
               for f in body["features"]}  # fmt: skip
    finally:
        app.extensions["db"]["engine"].dispose()
    monkeypatch.setenv("YZMAP_DATABASE_URL", app.config["DATABASE_URL"])
    printed = CliRunner().invoke(main, ["ledger", "status", "--as-of", "2022-06-30"]).output
    cli = {}
    for line in printed.splitlines()[2:]:
        parts = line.split()
        if len(parts) >= 5 and parts[0] in api:
            cli[parts[0]] = (parts[2], parts[4])
    assert len(api) == 64 and cli == api
