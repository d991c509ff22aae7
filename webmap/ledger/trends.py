"""The ledger through time: trend points rebuilt from the event log, and what changed between
two days (the briefing's "since the last briefing" page).

A trend point is the ledger as ``ledger_as_of`` rebuilds it on that day (``ledger_on_days``
replays the log once for all the days), counted with ``figures`` like every other door, so the
last point of a trend ending today is the dashboard's figure for today. Points fall on month
ends from the first recorded day, plus the trend's last day.

Per point: each county's total, finished, signed off (销号) and overdue, the number of its issues
whose deadline had passed by then (what should have been closed), the look-back problems closed
against the plan's cumulative 20/5/5 targets (20 by end-2021, 25 by end-2022, 30 by end-2023),
and the median days from assignment (the day the issue entered the ledger) to 销号 among the
issues signed off by then.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webmap.ledger import figures
from webmap.ledger.events import ledger_as_of, ledger_on_days
from webmap.ledger.models import AccountabilityAction, Event, Issue, SignOff
from webmap.ledger.query import IssueQuery
from webmap.ledger.vocabulary import DONE, LOOKBACK_SOURCE, LOOKBACK_TARGETS

# the day each look-back deadline class falls due (the plan: end-2021, 2022, 2023)
CLASS_DEADLINES = {"2021年底前": date(2021, 12, 31), "2022年": date(2022, 12, 31),
                   "2023年及以后": date(2023, 12, 31)}  # fmt: skip


@dataclass
class CountyPoint:
    """One county on one day."""

    code: str
    name: str
    total: int = 0
    finished: int = 0
    signed_off: int = 0
    overdue: int = 0
    due_by_then: int = 0  # issues whose deadline had passed (or fell) by that day


@dataclass
class TrendPoint:
    """The ledger's figures on one day of a trend."""

    day: date
    counties: dict[str, CountyPoint] = field(default_factory=dict)
    overdue: int = 0
    signed_off: int = 0
    lookback_closed: int = 0
    lookback_target: int = 0
    median_days_to_close: float | None = None


def month_ends(start: date, end: date) -> list[date]:
    """Return the last day of each month from ``start``'s month up to ``end``, then ``end``.

    >>> month_ends(date(2021, 11, 15), date(2022, 1, 10))
    [datetime.date(2021, 11, 30), datetime.date(2021, 12, 31), datetime.date(2022, 1, 10)]
    """
    out, year, month = [], start.year, start.month
    while True:
        nxt = date(year + month // 12, month % 12 + 1, 1)
        last = nxt - timedelta(days=1)
        if last >= end:
            break
        out.append(last)
        year, month = nxt.year, nxt.month
    return [*out, end]


def lookback_target(day: date) -> int:
    """Return how many look-back problems the plan wants closed by ``day`` (cumulative 20/5/5).

    >>> lookback_target(date(2021, 12, 31)), lookback_target(date(2023, 1, 1))
    (20, 25)
    """
    return sum(LOOKBACK_TARGETS[c] for c, due in CLASS_DEADLINES.items() if due <= day)


def _first_day(session: Session) -> date | None:
    """Return the earliest effective date in the event log."""
    return session.scalar(select(func.min(Event.effective_date)))


def _created_on(session: Session) -> dict[str, date]:
    """Return issue number -> the day it entered the ledger (its first event)."""
    stmt = select(Event.issue_number, func.min(Event.effective_date)).where(
        Event.issue_number.is_not(None)).group_by(Event.issue_number)
    return dict(session.execute(stmt).all())


def _closed_on(session: Session) -> dict[str, list[date]]:
    """Return issue number -> the days it moved to 已销号, ascending."""
    stmt = (select(Event.issue_number, Event.effective_date, Event.after)
            .where(Event.kind == "status.changed").order_by(Event.effective_date, Event.id))
    out: dict[str, list[date]] = {}
    for number, day, after in session.execute(stmt):
        if (after or {}).get("status") == DONE:
            out.setdefault(number, []).append(day)
    return out


def _first_signoff(session: Session) -> dict[str, date]:
    """Return issue number -> its first sign-off stage date (what ``figures`` calls finished)."""
    stmt = (select(Issue.number, func.min(SignOff.date))
            .join(SignOff, SignOff.issue_id == Issue.id).group_by(Issue.number))
    return dict(session.execute(stmt).all())


def _point(day: date, states, query: IssueQuery, finished_on, created, closed) -> TrendPoint:
    """Count one day's rebuilt states into a trend point."""
    facts = []
    for s in states:
        first = finished_on.get(s.number)
        # figures' "finished on": the first sign-off stage on or before the day
        facts.append(figures._facts(s, day, query.amber_days,
                                    first if first and first <= day else None))  # fmt: skip
    counted = figures.Figures(day, figures.groups_of(facts))
    point = TrendPoint(day)
    for c in counted.counties():
        point.counties[c.code] = CountyPoint(c.code, c.name, c.total, c.finished, c.signed_off,
                                             c.overdue)  # fmt: skip
    for s in states:
        if s.due_date is not None and s.due_date <= day:
            point.counties[s.county_code or ""].due_by_then += 1
    total = counted.total
    point.overdue, point.signed_off = total.overdue, total.signed_off
    point.lookback_closed = sum(1 for f in facts
                                if f.source_type == LOOKBACK_SOURCE and f.signed_off)  # fmt: skip
    point.lookback_target = lookback_target(day)
    spans = []
    for f in facts:
        done = [d for d in closed.get(f.number, []) if d <= day]
        if f.signed_off and done and f.number in created:
            spans.append((done[-1] - created[f.number]).days)
    point.median_days_to_close = statistics.median(spans) if spans else None
    return point


def trend(session: Session, query: IssueQuery, start: date | None = None) -> list[TrendPoint]:
    """Return the query's trend points from ``start`` (the first event) to the query's day."""
    end = query.day
    start = start or _first_day(session)
    if start is None or start > end:
        return []
    finished_on, created, closed = (_first_signoff(session), _created_on(session),
                                    _closed_on(session))  # fmt: skip
    points = []
    for day, states in ledger_on_days(session, month_ends(start, end)):
        chosen = [s for s in states if query.matches(s, day, session)]
        points.append(_point(day, chosen, query, finished_on, created, closed))
    return points


@dataclass
class Change:
    """One issue's change between two days."""

    number: str
    title: str
    county_name: str | None
    what: str  # the Chinese description of the change


@dataclass
class Changes:
    """What changed in the ledger between two days (both rebuilt from the event log)."""

    start: date
    end: date
    new: list[Change] = field(default_factory=list)
    closed: list[Change] = field(default_factory=list)
    newly_overdue: list[Change] = field(default_factory=list)
    moved: list[Change] = field(default_factory=list)
    actions: list[Change] = field(default_factory=list)

    def sections(self) -> list[tuple[str, list[Change]]]:
        """Return the titled sections in the order a briefing shows them."""
        return [("新增问题", self.new), ("新销号", self.closed), ("新逾期", self.newly_overdue),
                ("状态变化", self.moved), ("问责措施", self.actions)]  # fmt: skip


def changes_between(session: Session, query: IssueQuery, start: date, end: date) -> Changes:
    """Return what changed between the end of ``start`` and the end of ``end`` for a query."""
    from webmap.ledger.workflow import rag

    before = {s.number: s for s in ledger_as_of(session, start)
              if query.matches(s, start, session)}  # fmt: skip
    after = {s.number: s for s in ledger_as_of(session, end) if query.matches(s, end, session)}
    out = Changes(start, end)
    for number, s in after.items():
        old = before.get(number)

        def item(what: str, s=s) -> Change:
            """Describe this issue's change."""
            return Change(s.number, s.title, s.county_name, what)

        if old is None:
            out.new.append(item(f"新增，状态 {s.status}"))
            continue
        if s.status == DONE and old.status != DONE:
            out.closed.append(item(f"{old.status} → 已销号"))
        elif s.status != old.status:
            progress = f"进度 {old.progress}% → {s.progress}%"
            out.moved.append(item(f"{old.status} → {s.status}，{progress}"))
        was = rag(old.status, old.due_date, start, query.amber_days)
        now = rag(s.status, s.due_date, end, query.amber_days)
        if now == "red" and was != "red":
            out.newly_overdue.append(item(f"整改时限 {s.due_date}，{s.status}"))
    stmt = (select(AccountabilityAction, Issue.number, Issue.title, Issue.county_name)
            .join(Issue, Issue.id == AccountabilityAction.issue_id)
            .where(AccountabilityAction.state == "applied", AccountabilityAction.date > start,
                   AccountabilityAction.date <= end)
            .order_by(AccountabilityAction.date, Issue.number))  # fmt: skip
    for action, number, title, county in session.execute(stmt):
        if number in after:
            out.actions.append(Change(number, title, county,
                                      f"{action.date} {action.kind}（{action.unit or '—'}）"))
    return out
