"""Reminders: each kind on a constructed ledger, the right recipients, never twice; the inbox."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from tests.webmap.reminder_ledger import DAY, EXPECTED, build
from webmap.cli import main
from webmap.commands.remind import daily_job, parse_daily, start_daily
from webmap.ledger import db, reminders
from webmap.ledger.context import LedgerContext
from webmap.ledger.models import Notice, NoticeRecipient
from webmap.web import context as webctx


@pytest.fixture
def ledger(app, make_issue, make_user):
    """The constructed ledger of ``reminder_ledger``; returns the app."""
    build(app, make_issue, make_user)
    return app


def _run(app, day: date = DAY):
    """Make the notices of ``day`` in the app's database (committed); return the report."""
    with app.app_context():
        session = webctx.get_session()
        with db.transaction(session):
            report = reminders.make_notices(session, LedgerContext.from_settings(app.config), day)
        return report, [(n.issue_number, n.kind, sorted(r.name for r in n.recipients))
                        for n in report.created]  # fmt: skip


def test_each_kind_once_on_the_constructed_ledger(ledger):
    """2022-06-01 calls for exactly the expected kinds per issue; a second run makes none."""
    report, made = _run(ledger)
    got: dict[str, set] = {}
    for number, kind, _ in made:
        got.setdefault(number, set()).add(kind)
    assert got == EXPECTED
    again, _ = _run(ledger)
    assert again.created == [] and again.existing == len(made) == 7
    with ledger.app_context():
        assert webctx.get_session().scalar(select(func.count(Notice.id))) == 7


def test_recipients_follow_the_role_scopes(ledger):
    """County editors of the issue's county, its lead unit, the leaders that day, the office."""
    _, made = _run(ledger)
    by_issue = {(n, k): names for n, k, names in made}
    assert by_issue[("DUE-1", "due_soon")] == sorted(
        ["lsj-editor", "lsj-unit", "leader-jia", "县领导子", "office"])
    # the hand-over notice goes to the new city leader (no account: by roster name), not the old
    assert by_issue[("HO-1", "handover")] == sorted(
        ["dao-editor", "other-unit", "市领导乙", "office"])
    for names in by_issue.values():
        assert "office" in names


def test_the_next_day_only_brings_what_is_new(ledger):
    """On 06-02 PUB-1's 公示 has ended (new); nothing made on 06-01 is made again."""
    _run(ledger)
    ledger.config["TODAY"] = "2022-06-02"
    report, made = _run(ledger, DAY + timedelta(days=1))
    assert [(n, k) for n, k, _ in made] == [("PUB-1", "publicity_ended")]


def test_a_longer_silence_is_a_repeated_stall(ledger):
    """Each further ``STALL_DAYS`` of silence makes one more stalled notice."""
    _run(ledger)
    _, made = _run(ledger, DAY + timedelta(days=30))
    assert ("OLD-1", "stalled") in [(n, k) for n, k, _ in made]
    with ledger.app_context():
        keys = webctx.get_session().scalars(select(Notice.key).where(
            Notice.kind == "stalled", Notice.issue_number == "OLD-1")).all()
    assert len(keys) == 2 and len(set(keys)) == 2


def test_a_past_day_is_judged_on_the_ledger_of_that_day(ledger):
    """On 2022-05-10 LATE-1 was due within the window (amber), not overdue."""
    ledger.config["TODAY"] = "2022-05-10"
    _, made = _run(ledger, date(2022, 5, 10))
    kinds = {(n, k) for n, k, _ in made}
    assert ("LATE-1", "due_soon") in kinds and ("LATE-1", "overdue") not in kinds
    assert not any(n == "DUE-1" for n, _ in kinds)  # not yet in the ledger on 05-10


def test_inbox_unread_count_mark_read_and_link(ledger, logged_in_client):
    """The navigation counts unread notices; marking one read lowers it; opening links the issue."""
    _run(ledger)
    client = logged_in_client("county", username="lsj-editor")
    page = client.get("/inbox").get_data(as_text=True)
    assert "【临期提醒】DUE-1" in page and "HO-1" not in page
    with ledger.app_context():
        session = webctx.get_session()
        rows = session.scalars(select(NoticeRecipient).where(
            NoticeRecipient.username == "lsj-editor").order_by(NoticeRecipient.id)).all()
        first, count = rows[0].id, len(rows)
    assert count == 6  # DUE-1, LATE-1, OLD-1, PUB-1 twice, PUB-2: all in 冷水滩区
    assert f'<span class="badge" title="未读提醒">{count}</span>' in client.get("/").get_data(
        as_text=True)
    resp = client.post(f"/inbox/{first}/read", data={"open": "1"})
    assert resp.status_code == 302 and "/issues/" in resp.headers["Location"]
    assert f'title="未读提醒">{count - 1}</span>' in client.get("/inbox").get_data(as_text=True)
    other = logged_in_client("county", username="dao-editor")
    assert other.post(f"/inbox/{first}/read").status_code == 404  # not its notice
    client.post("/inbox/read-all")
    assert 'title="未读提醒"' not in client.get("/inbox").get_data(as_text=True)


def test_remind_command_runs_twice_without_repeating(ledger, database_url, monkeypatch):
    """``yzmap remind --date`` prints the new notices; the second run makes none."""
    monkeypatch.setenv("YZMAP_DATABASE_URL", database_url)
    monkeypatch.setenv("YZMAP_TODAY", DAY.isoformat())
    runner = CliRunner()
    first = runner.invoke(main, ["remind", "--date", "2022-06-01", "--no-send"])
    assert first.exit_code == 0, first.output
    assert "新增提醒 7 条" in first.output and "临期提醒 1" in first.output
    second = runner.invoke(main, ["remind", "--date", "2022-06-01", "--no-send"])
    assert "新增提醒 0 条，此前已生成 7 条" in second.output
    late = runner.invoke(main, ["remind", "--date", "2022-06-02"])
    assert late.exit_code == 2 and "晚于今天" in late.output


def test_the_daily_job_makes_the_days_notices(ledger):
    """The job the scheduler runs makes (and would send) the notices of its day, once."""
    daily_job(dict(ledger.config))
    daily_job(dict(ledger.config))
    with ledger.app_context():
        assert webctx.get_session().scalar(select(func.count(Notice.id))) == 7


def test_daily_run_is_off_by_default_and_checked():
    """No scheduler without ``REMINDERS_DAILY_AT``; a malformed time is a clear error."""
    assert start_daily({"REMINDERS_DAILY_AT": None}) is None
    assert parse_daily("07:30") == (7, 30)
    with pytest.raises(Exception, match="REMINDERS_DAILY_AT 应为 HH:MM，收到“7点”"):
        parse_daily("7点")


def test_daily_run_schedules_one_job():
    """With ``REMINDERS_DAILY_AT`` the serve process gets one daily cron job at that time."""
    scheduler = start_daily({"REMINDERS_DAILY_AT": "06:45", "DATABASE_URL": "sqlite://"})
    try:
        (job,) = scheduler.get_jobs()
        assert str(job.trigger) == "cron[hour='6', minute='45']"
    finally:
        scheduler.shutdown(wait=False)
