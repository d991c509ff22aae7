"""The 公示 (public notice) period of an issue in sign-off, and whether objections are taken.

The period runs from the 公示 sign-off date for ``PUBLICITY_DAYS`` days — the same rule that lets
the issue move on to 申请 (``workflow.publicity_end``). Objections from the public are taken only
while it is open.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from webmap.ledger import workflow
from webmap.ledger.models import Issue, SignOff
from webmap.ledger.query import Scope
from webmap.ledger.vocabulary import PUBLICITY_STATUS

# what a 公示 notice says about its period; objections are taken only while it is "open"
PUBLICITY_STATES = {"open": "公示中", "ended": "公示期已满", "upcoming": "公示尚未开始",
                    "unknown": "公示起始日期未登记"}  # fmt: skip


def publicity_window(start: date | None, day: date, days: int) -> dict:
    """Return a 公示 period's start, last day and state on ``day`` (open/ended/upcoming/unknown).

    >>> publicity_window(date(2024, 5, 1), date(2024, 5, 7), 7)["state"]
    'open'
    >>> publicity_window(date(2024, 5, 1), date(2024, 5, 8), 7)["last"]
    datetime.date(2024, 5, 7)
    """
    if start is None:
        return {"start": None, "last": None, "state": "unknown"}
    end = workflow.publicity_end(start, days)
    state = "upcoming" if day < start else "open" if day < end else "ended"
    return {"start": start, "last": end - timedelta(days=1), "state": state}


def publicity_notices(session, day: date, days: int, number: str | None = None) -> list[dict]:
    """Return the public issues now in 公示 (or just ``number``), each with its period's state."""
    latest = (select(SignOff.issue_id, func.max(SignOff.date).label("start"))
              .where(SignOff.stage == PUBLICITY_STATUS).group_by(SignOff.issue_id)
              .subquery())  # fmt: skip
    stmt = (select(Issue.number, Issue.title, Issue.county_name, latest.c.start)
            .outerjoin(latest, latest.c.issue_id == Issue.id)
            .where(Scope.public().clause(), Issue.status == PUBLICITY_STATUS)
            .order_by(Issue.number))  # fmt: skip
    if number is not None:
        stmt = stmt.where(Issue.number == number)
    notices = []
    for row in session.execute(stmt):
        window = publicity_window(row.start, day, days)
        notices.append({"number": row.number, "title": row.title, "county_name": row.county_name,
                        **window, "label": PUBLICITY_STATES[window["state"]]})  # fmt: skip
    return notices


def refuse_reason(number: str, notice: dict) -> str | None:
    """Return why an objection to an issue in 公示 is refused now (Chinese), or None when open."""
    state = notice["state"]
    if state == "open":
        return None
    if state == "ended":
        return (f"问题 {number} 的公示期已于 {notice['last']} 届满（{notice['start']} 起公示），"
                "不再受理异议")  # fmt: skip
    if state == "upcoming":
        return f"问题 {number} 的公示自 {notice['start']} 开始，届时方可提交异议"
    return f"问题 {number} 未登记公示起始日期，暂不能在线提交异议，请与市督察办联系"
