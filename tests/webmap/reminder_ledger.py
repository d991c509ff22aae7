"""A constructed ledger for the reminder, delivery and escalation tests, with known answers.

``build(app, make_issue, make_user)`` pins the day to 2022-06-01 and writes, with the defaults
(``STALL_DAYS`` 30, ``REMIND_CATCHUP_DAYS`` 7, ``AMBER_DAYS`` 30, ``PUBLICITY_DAYS`` 7), one
issue per notice kind (``EXPECTED``: number -> kinds due on 2022-06-01), the accounts that
should and should not receive them, and a roster with a hand-over in 道县 on 2022-05-30.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from webmap.ledger import db
from webmap.ledger.models import Issue, LeaderAssignment, Objection, SignOff
from webmap.ledger.workflow import record_progress
from webmap.web import context as webctx

DAY = date(2022, 6, 1)
LSJ, DAO = "431103", "431124"  # 冷水滩区 (make_issue's default), 道县
LEAD = "冷水滩区生态环境分局"
EXPECTED = {
    "DUE-1": {"due_soon"},  # due 2022-06-20: within the amber window
    "LATE-1": {"overdue"},  # due 2022-05-28: overdue for 4 days
    "OLD-1": {"stalled"},  # no progress since it was created on 2021-03-06
    "PUB-1": {"publicity_ending", "objection"},  # 公示 from 05-26: its last day is 06-01
    "PUB-2": {"publicity_ended"},  # 公示 from 05-20: ended on 05-26
    "HO-1": {"handover"},  # 道县 changes city leader on 2022-05-30
}
# accounts: (username, role, fields)
ACCOUNTS = (
    ("lsj-editor", "county", {"county_code": LSJ}),
    ("dao-editor", "county", {"county_code": DAO}),
    ("lsj-unit", "department", {"unit": LEAD}),
    ("other-unit", "department", {"unit": "道县水利局"}),
    ("leader-jia", "city-leader", {"unit": "市领导甲"}),
    ("office", "admin", {}),
)


def _progress(session, number: str, day: date) -> None:
    """Report 50% progress on ``day``."""
    issue = session.scalar(select(Issue).where(Issue.number == number))
    record_progress(session, issue, percent=50, date=day, actor="tester")


def _publicity(session, number: str, start: date) -> None:
    """Record the 公示 sign-off stage that starts an issue's period."""
    issue = session.scalar(select(Issue).where(Issue.number == number))
    issue.signoffs.append(SignOff(stage="公示", signer="office", date=start))


def build(app, make_issue, make_user) -> None:
    """Write the constructed ledger, its accounts and its roster (see the module docstring)."""
    app.config["TODAY"] = DAY.isoformat()
    for username, role, fields in ACCOUNTS:
        make_user(username, role, **fields)
    lead = {"lead_unit": LEAD}
    make_issue("DUE-1", due_date=date(2022, 6, 20), day=date(2022, 5, 20), **lead)
    make_issue("LATE-1", due_date=date(2022, 5, 28), day=date(2022, 5, 1), **lead)
    make_issue("OLD-1", due_date=date(2021, 12, 31), **lead)
    for number in ("PUB-1", "PUB-2"):
        make_issue(number, due_date=date(2023, 12, 31), status="公示", progress=100,
                   day=date(2022, 5, 1), **lead)  # fmt: skip
    make_issue("HO-1", county_code=DAO, county_name="道县", due_date=date(2023, 12, 31),
               day=date(2022, 5, 20), lead_unit="道县水利局")  # fmt: skip
    with app.app_context():
        session = webctx.get_session()
        with db.transaction(session):
            _progress(session, "DUE-1", date(2022, 5, 25))
            _progress(session, "LATE-1", date(2022, 5, 20))
            _publicity(session, "PUB-1", date(2022, 5, 26))
            _publicity(session, "PUB-2", date(2022, 5, 20))
            session.add(Objection(issue_number="PUB-1", text="整改不到位，仍有异味",
                                  client_hash="h", state="new",
                                  created_at=datetime(2022, 5, 31, 3, tzinfo=UTC)))  # fmt: skip
            session.add_all([
                LeaderAssignment(kind="city_leader", name="市领导甲", county_code=LSJ,
                                 valid_from=date(2021, 1, 1)),
                LeaderAssignment(kind="city_leader", name="市领导丙", county_code=DAO,
                                 valid_from=date(2021, 1, 1), valid_to=date(2022, 5, 29)),
                LeaderAssignment(kind="city_leader", name="市领导乙", county_code=DAO,
                                 valid_from=date(2022, 5, 30)),
                LeaderAssignment(kind="county_leader", name="县领导子", issue_number="DUE-1",
                                 valid_from=date(2021, 1, 1)),
            ])  # fmt: skip
