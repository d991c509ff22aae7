"""The figures behind a briefing pack and a dispatch notice, all read through ``IssueQuery``.

Every list here is the render list of a query (``snapshot.data.collect_items``), so with
``as_of`` the pack shows the ledger as it stood that day (rebuilt from the event log) and the
numbers match the map and dashboard for the same filters.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from sqlalchemy import and_, func, or_, select

from webmap.ledger import figures as stats
from webmap.ledger.models import Event, Issue, LeaderAssignment, Responsibility, SignOff
from webmap.ledger.query import IssueQuery
from webmap.render.snapshot.data import RenderItem, collect_items

# statuses that mean the rectification itself is finished (sign-off may still be running)
FINISHED = ("已完成待销号", "初审", "公示", "申请", "核查", "已销号")
LEADER_KINDS = ("city_leader", "county_leader")


@dataclass
class CountyBrief:
    """One county's page: its issues, the open and overdue ones, and who answers for them."""

    code: str
    name: str
    items: list[RenderItem]
    leaders: list[str] = field(default_factory=list)

    @property
    def open_items(self) -> list[RenderItem]:
        """Return the issues not yet signed off, overdue first, then by due date."""
        rank = {"red": 0, "amber": 1, "green": 2, "none": 3}
        items = [i for i in self.items if i.status != "已销号"]
        return sorted(items, key=lambda i: (rank.get(i.rag, 4), i.due_date or date.max, i.number))

    @property
    def overdue(self) -> list[RenderItem]:
        """Return the overdue issues."""
        return [i for i in self.items if i.rag == "red"]


def base_query(as_of: date | None, today: date) -> IssueQuery:
    """Return the all-issues query of a pack, judged on ``today`` or rebuilt on ``as_of``."""
    return IssueQuery(as_of=as_of, today=as_of or today)


def county_briefs(session, query: IssueQuery, counties, *, day: date, amber_days: int = 30):
    """Return one ``CountyBrief`` per county (in the layer's order) from the query's issues."""
    items = collect_items(session, query, today=day, amber_days=amber_days)
    out = []
    for row in counties.itertuples():
        mine = [i for i in items if i.county_code == row.code]
        out.append(
            CountyBrief(
                row.code,
                row.name,
                mine,
                leaders_for(session, row.code, [i.number for i in mine], day),
            )
        )
    return items, out


def leaders_for(session, county_code: str, numbers: list[str], day: date) -> list[str]:
    """Return the leaders answering for a county on ``day``: roster lines and recorded parties."""
    valid = and_(
        LeaderAssignment.valid_from <= day,
        or_(LeaderAssignment.valid_to.is_(None), LeaderAssignment.valid_to >= day),
    )
    roster = session.scalars(select(LeaderAssignment).where(valid, or_(
        and_(LeaderAssignment.kind == "city_leader", LeaderAssignment.county_code == county_code),
        and_(LeaderAssignment.kind == "county_leader", LeaderAssignment.issue_number.in_(numbers)),
    )).order_by(LeaderAssignment.kind, LeaderAssignment.name)).all()  # fmt: skip
    lines: dict[str, list[str]] = {}
    for a in roster:
        what = "包县督导" if a.kind == "city_leader" else f"包案 {a.issue_number}"
        lines.setdefault(f"{a.name}（{a.title}）" if a.title else a.name, []).append(what)
    recorded = session.execute(
        select(Responsibility.name, Responsibility.party_kind, Issue.number)
        .join(Issue, Responsibility.issue_id == Issue.id)
        .where(Issue.number.in_(numbers), Responsibility.party_kind.in_(LEADER_KINDS),
               Responsibility.overridden.is_(False))).all()  # fmt: skip
    for name, kind, number in recorded:
        known = next((k for k in lines if k.split("（")[0] == name), name)
        what = "包县督导" if kind == "city_leader" else f"包案 {number}"
        if what not in lines.setdefault(known, []):
            lines[known].append(what)
    return [f"{name}：{'、'.join(_compact(whats))}" for name, whats in lines.items()]


def _compact(whats: list[str]) -> list[str]:
    """Merge '包案 A', '包案 B' into '包案 A、B' after the county duty."""
    cases = [w.removeprefix("包案 ") for w in whats if w.startswith("包案 ")]
    rest = [w for w in whats if not w.startswith("包案 ")]
    return rest + ([f"包案 {'、'.join(sorted(cases))}"] if cases else [])


def finished_dates(session, numbers: list[str], day: date) -> dict[str, date]:
    """Return issue number -> the day it was finished (first sign-off stage up to ``day``)."""
    if not numbers:
        return {}
    stmt = (
        select(Issue.number, func.min(SignOff.date))
        .join(SignOff, SignOff.issue_id == Issue.id)
        .where(Issue.number.in_(numbers), SignOff.date <= day)
        .group_by(Issue.number)
    )
    return dict(session.execute(stmt).all())


def lookback_table(session, items: list[RenderItem], day: date) -> list[dict]:
    """Return the 20/5/5 look-back targets by deadline class against what was done, and on time."""
    finished = finished_dates(session, [i.number for i in items], day)
    rows = []
    for i in items:
        done = i.status in FINISHED
        when = finished.get(i.number)
        rows.append(
            {
                "source_type": i.source_type,
                "deadline_class": i.deadline_class,
                "done": done,
                "overdue": i.rag == "red",
                "due_soon": i.rag == "amber",
                "on_time": bool(done and i.due_date and when and when <= i.due_date),
                "due": bool(i.due_date and (done or i.due_date < day)),
            }
        )
    return stats.lookback(rows)


@dataclass
class DispatchCounty:
    """One county's lines in the weekly dispatch notice."""

    code: str
    name: str
    due: list[RenderItem]
    overdue: list[RenderItem]
    closed: list[RenderItem]


def week_of(day: date) -> tuple[date, date]:
    """Return the dispatch week ending on ``day`` (seven days, inclusive)."""
    return day - timedelta(days=6), day


def closed_between(session, start: date, end: date) -> set[str]:
    """Return numbers of issues moved to 已销号 with an effective date in [start, end]."""
    stmt = select(Event.issue_number, Event.after).where(
        Event.kind == "status.changed", Event.effective_date >= start, Event.effective_date <= end
    )
    return {
        number for number, after in session.execute(stmt) if (after or {}).get("status") == "已销号"
    }


def dispatch_counties(
    items: list[RenderItem], counties, closed: set[str], day: date, horizon_days: int = 7
) -> list[DispatchCounty]:
    """Per county: open issues due within ``horizon_days`` from ``day``, overdue, newly closed."""
    end = day + timedelta(days=horizon_days - 1)
    out = []
    for row in counties.itertuples():
        mine = [i for i in items if i.county_code == row.code]
        due = [
            i
            for i in mine
            if i.rag in ("amber", "green") and i.due_date and day <= i.due_date <= end
        ]
        out.append(DispatchCounty(row.code, row.name, sorted(due, key=lambda i: i.due_date),
                                  sorted((i for i in mine if i.rag == "red"), key=_due),
                                  [i for i in mine if i.number in closed]))  # fmt: skip
    return out


def _due(item: RenderItem) -> date:
    """Return an item's due date for sorting (undated last)."""
    return item.due_date or date.max


def with_day(query: IssueQuery, day: date) -> IssueQuery:
    """Return the query judged on ``day``."""
    return replace(query, today=day)
