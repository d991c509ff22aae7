"""What a briefing pack and a weekly dispatch notice report, read through one ``IssueQuery``.

Every list here is the item list of a query (``webmap.ledger.items.collect_items``) and every
count comes from ``webmap.ledger.figures``, so with ``as_of`` the pack shows the ledger as it
stood that day (rebuilt from the event log) and its numbers match the dashboard and the public
page for the same day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, or_, select

from webmap.ledger import figures
from webmap.ledger.context import LedgerContext
from webmap.ledger.items import IssueItem
from webmap.ledger.models import Event, Issue, LeaderAssignment, Responsibility
from webmap.ledger.query import IssueQuery
from webmap.ledger.vocabulary import DONE, LEADER_KINDS


@dataclass
class CountyBrief:
    """One county's page: its issues, their counts, and who answers for them."""

    code: str
    name: str
    items: list[IssueItem]
    tally: figures.Tally
    leaders: list[str] = field(default_factory=list)

    @property
    def open_items(self) -> list[IssueItem]:
        """Return the issues not yet signed off, overdue first, then by due date."""
        rank = {"red": 0, "amber": 1, "green": 2, "none": 3}
        items = [i for i in self.items if i.status != DONE]
        return sorted(items, key=lambda i: (rank.get(i.rag, 4), i.due_date or date.max, i.number))

    @property
    def overdue(self) -> list[IssueItem]:
        """Return the overdue issues."""
        return [i for i in self.items if i.rag == "red"]


def base_query(ctx: LedgerContext, as_of: date | None = None, counties=()) -> IssueQuery:
    """Return a pack's query (all issues, or those of some county codes), judged on the
    context's day or rebuilt on ``as_of``."""
    return IssueQuery(as_of=as_of, today=as_of or ctx.today, amber_days=ctx.amber_days,
                      county=tuple(counties))  # fmt: skip


def county_briefs(session, items: list[IssueItem], counted: figures.Figures,
                  counties) -> list[CountyBrief]:  # fmt: skip
    """Return one ``CountyBrief`` per county (in the layer's order) from a query's items and
    figures (``collect_items`` and ``figures.figures`` of the same query)."""
    tallies = {c.code: c for c in counted.counties()}
    out = []
    for row in counties.itertuples():
        mine = [i for i in items if i.county_code == row.code]
        numbers = [i.number for i in mine]
        out.append(CountyBrief(row.code, row.name, mine, tallies.get(row.code, figures.Tally()),
                               leaders_for(session, row.code, numbers, counted.day)))  # fmt: skip
    return out


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


@dataclass
class DispatchCounty:
    """One county's lines in the weekly dispatch notice."""

    code: str
    name: str
    due: list[IssueItem]
    overdue: list[IssueItem]
    closed: list[IssueItem]


def week_of(day: date) -> tuple[date, date]:
    """Return the dispatch week ending on ``day`` (seven days, inclusive)."""
    return day - timedelta(days=6), day


def closed_between(session, start: date, end: date) -> set[str]:
    """Return numbers of issues moved to 已销号 with an effective date in [start, end]."""
    stmt = select(Event.issue_number, Event.after).where(
        Event.kind == "status.changed", Event.effective_date >= start, Event.effective_date <= end
    )
    return {number for number, after in session.execute(stmt)
            if (after or {}).get("status") == DONE}  # fmt: skip


def dispatch_counties(
    items: list[IssueItem], counties, closed: set[str], day: date, horizon_days: int
) -> list[DispatchCounty]:
    """Per county: open issues due within ``horizon_days`` from ``day``, overdue, newly closed."""
    end = day + timedelta(days=horizon_days - 1)
    out = []
    for row in counties.itertuples():
        mine = [i for i in items if i.county_code == row.code]
        due = [i for i in mine
               if i.rag in ("amber", "green") and i.due_date and day <= i.due_date <= end]
        out.append(DispatchCounty(row.code, row.name, sorted(due, key=lambda i: i.due_date),
                                  sorted((i for i in mine if i.rag == "red"), key=_due),
                                  [i for i in mine if i.number in closed]))  # fmt: skip
    return out


def _due(item: IssueItem) -> date:
    """Return an item's due date for sorting (undated last)."""
    return item.due_date or date.max
