"""The figures every door shows, computed in one place: per county, per source, look-back, ranking.

``figures(session, query)`` counts the issues of a query as they were on the query's day: their
warning class judged on that day, whether their rectification was finished and whether on time
(their first sign-off stage on or before that day, by their deadline). The counts are kept per
(county, source, deadline class) group, from which every table is summed. Live queries are
counted in the database (one GROUP BY, so a map of a million issues needs no million Python
objects); with ``as_of`` the states rebuilt from the event log are counted in Python with the
same definitions (``issue_facts``), and a test holds the two equal. The dashboard, the briefing
pack, the public progress table, the map's choropleth and the leader pages all use this module,
so for the same query and day they give the same numbers.

Words: ``finished`` counts 已完成整改 (已完成待销号 and every sign-off stage), ``signed_off``
counts 已销号, ``overdue`` the issues past their deadline and not signed off (red: the deadline
keeps counting through sign-off), ``overdue_open`` those of them whose rectification itself is
not finished (逾期未完成), ``due`` the issues whose deadline has passed or that are finished (the
denominator of the on-time rate), ``on_time`` those finished by their deadline.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, case, func, or_, select

from webmap.ledger import workflow
from webmap.ledger.models import Issue, SignOff
from webmap.ledger.query import IssueQuery
from webmap.ledger.vocabulary import (
    DONE,
    FINISHED,
    LOOKBACK_SOURCE,
    LOOKBACK_TARGETS,
    UNFILLED_LABEL,
    UNLOCATED_LABEL,
)

Z95 = 1.96


@dataclass(frozen=True)
class IssueFacts:
    """What one issue was on the day a figure is made for."""

    county_code: str | None = None
    county_name: str | None = None
    number: str = ""
    source_type: str | None = None
    deadline_class: str | None = None
    status: str = ""
    due_date: date | None = None
    rag: str = "none"
    finished: bool = False
    signed_off: bool = False
    on_time: bool = False
    due: bool = False


def wilson_lower(successes: int, trials: int, z: float = Z95) -> float:
    """Return the lower bound of the Wilson score interval for successes/trials (0 when no trials).

    >>> round(wilson_lower(1, 1), 3), round(wilson_lower(18, 20), 3)
    (0.207, 0.699)
    """
    if trials <= 0:
        return 0.0
    p = successes / trials
    denom = 1 + z * z / trials
    centre = p + z * z / (2 * trials)
    margin = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return (centre - margin) / denom


@dataclass
class Tally:
    """Counts over a group of issues, with the rates made from them."""

    total: int = 0
    finished: int = 0
    signed_off: int = 0
    overdue: int = 0
    overdue_open: int = 0
    due_soon: int = 0
    due: int = 0
    on_time: int = 0

    def add(self, facts: IssueFacts) -> None:
        """Count one issue."""
        late = facts.rag == "red"
        self.merge(Tally(1, facts.finished, facts.signed_off, late, late and not facts.finished,
                         facts.rag == "amber", facts.due, facts.on_time))  # fmt: skip

    def merge(self, other: Tally) -> None:
        """Add another tally's counts to this one."""
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + int(getattr(other, name)))

    @property
    def open(self) -> int:
        """Return how many are not signed off (未销号)."""
        return self.total - self.signed_off

    @property
    def rate(self) -> float | None:
        """Return the completion rate (finished / total), None without issues."""
        return self.finished / self.total if self.total else None

    @property
    def on_time_rate(self) -> float | None:
        """Return the on-time rate (on time / due), None when nothing is due yet."""
        return self.on_time / self.due if self.due else None

    @property
    def score(self) -> float:
        """Return the ranking score: the Wilson lower bound of the on-time rate."""
        return wilson_lower(self.on_time, self.due)


COUNTS = ("total", "finished", "signed_off", "overdue", "overdue_open", "due_soon", "due",
          "on_time")  # fmt: skip


@dataclass
class CountyTally(Tally):
    """One county's counts."""

    code: str = ""
    name: str = ""
    rank: int = 0


@dataclass
class LookbackRow(Tally):
    """One deadline class of the look-back plan: its target and what became of it."""

    deadline_class: str = ""
    target: int = 0


@dataclass
class Group:
    """The counts of the issues sharing a county, a source type and a deadline class."""

    county_code: str | None
    county_name: str | None
    source_type: str | None
    deadline_class: str | None
    tally: Tally = field(default_factory=Tally)


@dataclass
class Figures:
    """Everything a dashboard or a briefing counts, for one query on one day."""

    day: date
    groups: list[Group] = field(default_factory=list)

    @property
    def total(self) -> Tally:
        """Return the counts over every issue."""
        out = Tally()
        for g in self.groups:
            out.merge(g.tally)
        return out

    def counties(self) -> list[CountyTally]:
        """Return the per-county counts, ranked."""
        return rank_counties(by_county(self.groups))

    def sources(self) -> dict[str, Tally]:
        """Return the counts per source type."""
        return by_key(self.groups, "source_type")

    def lookback(self) -> list[LookbackRow]:
        """Return the look-back plan's targets against what was done."""
        return lookback(self.groups)


def finished_dates(session, day: date) -> dict[str, date]:
    """Return issue number -> the day it was finished (its first sign-off stage up to ``day``)."""
    stmt = (select(Issue.number, func.min(SignOff.date)).join(SignOff, SignOff.issue_id == Issue.id)
            .where(SignOff.date <= day).group_by(Issue.number))  # fmt: skip
    return dict(session.execute(stmt).all())


def _facts(row, day: date, amber_days: int, finished_on: date | None) -> IssueFacts:
    """Return the facts of one live row or rebuilt state on ``day``."""
    finished = row.status in FINISHED
    due = row.due_date
    return IssueFacts(
        county_code=row.county_code, county_name=row.county_name, number=row.number,
        source_type=row.source_type, deadline_class=row.deadline_class, status=row.status,
        due_date=due, rag=workflow.rag(row.status, due, day, amber_days), finished=finished,
        signed_off=row.status == DONE,
        on_time=bool(finished and due and finished_on and finished_on <= due),
        due=bool(due and (finished or due < day)),
    )  # fmt: skip


FACT_COLUMNS = (Issue.number, Issue.county_code, Issue.county_name, Issue.source_type,
                Issue.deadline_class, Issue.status, Issue.due_date)  # fmt: skip


def issue_facts(session, query: IssueQuery) -> list[IssueFacts]:
    """Return the facts of every issue the query matches, judged on the query's day (in Python)."""
    day = query.day
    if query.as_of is not None:
        rows = query.states(session)
    else:
        rows = session.execute(query.apply(select(*FACT_COLUMNS).select_from(Issue))).all()
    finished_on = finished_dates(session, day)
    return [_facts(r, day, query.amber_days, finished_on.get(r.number)) for r in rows]


def groups_of(facts: Iterable[IssueFacts]) -> list[Group]:
    """Return the per-group counts of a list of facts."""
    out: dict[tuple, Group] = {}
    for f in facts:
        key = (f.county_code, f.county_name, f.source_type, f.deadline_class)
        out.setdefault(key, Group(*key)).tally.add(f)
    return list(out.values())


def counted_groups(session, query: IssueQuery) -> list[Group]:
    """Count a live query's issues per group in the database (the twin of ``_facts``)."""
    day, amber = query.day, query.amber_days
    first = (select(SignOff.issue_id, func.min(SignOff.date).label("first"))
             .where(SignOff.date <= day).group_by(SignOff.issue_id).subquery())  # fmt: skip
    finished = Issue.status.in_(FINISHED)
    dated = Issue.due_date.is_not(None)
    red = workflow.rag_clause("red", day, amber)
    conditions = (  # in the order of COUNTS after total
        finished,
        Issue.status == DONE,
        red,
        and_(red, ~finished),
        workflow.rag_clause("amber", day, amber),
        and_(dated, or_(finished, Issue.due_date < day)),
        and_(finished, dated, first.c.first <= Issue.due_date),
    )
    keys = (Issue.county_code, Issue.county_name, Issue.source_type, Issue.deadline_class)
    stmt = (select(*keys, func.count(Issue.id),
                   *(func.sum(case((c, 1), else_=0)) for c in conditions))
            .select_from(Issue).outerjoin(first, first.c.issue_id == Issue.id)
            .group_by(*keys))  # fmt: skip
    return [Group(*row[:4], Tally(*(int(v or 0) for v in row[4:])))
            for row in session.execute(query.apply(stmt))]  # fmt: skip


def figures(session, query: IssueQuery) -> Figures:
    """Return the figures of a query on its day (live: counted in the database)."""
    if query.as_of is not None:
        return Figures(query.day, groups_of(issue_facts(session, query)))
    return Figures(query.day, counted_groups(session, query))


def by_county(groups: Iterable[Group]) -> list[CountyTally]:
    """Return one tally per county present, in code order (issues with no county last)."""
    out: dict[str, CountyTally] = {}
    for g in groups:
        code = g.county_code or ""
        if code not in out:
            out[code] = CountyTally(code=code, name=g.county_name or UNLOCATED_LABEL)
        out[code].merge(g.tally)
    return sorted(out.values(), key=lambda c: (c.code == "", c.code))


def rank_counties(counties: list[CountyTally]) -> list[CountyTally]:
    """Order counties by the Wilson lower bound of their on-time rate, best first, with ranks.

    A county with few issues is neither punished nor rewarded for one or two of them: the lower
    bound discounts small samples (1 of 1 on time scores about 21%, 18 of 20 about 70%).
    """
    ranked = sorted(counties, key=lambda c: (-c.score, -c.due, c.code))
    for i, county in enumerate(ranked, start=1):
        county.rank = i
    return ranked


def by_key(groups: Iterable[Group], key: str) -> dict[str, Tally]:
    """Return tallies by one group field (``source_type``, ``deadline_class``...)."""
    out: dict[str, Tally] = defaultdict(Tally)
    for g in groups:
        out[getattr(g, key) or UNFILLED_LABEL].merge(g.tally)
    return dict(out)


def lookback(groups: Iterable[Group]) -> list[LookbackRow]:
    """Compare the 20/5/5 look-back targets by deadline class with what was done, and on time."""
    rows = {cls: LookbackRow(deadline_class=cls, target=target)
            for cls, target in LOOKBACK_TARGETS.items()}  # fmt: skip
    for g in groups:
        if g.source_type == LOOKBACK_SOURCE and g.deadline_class in rows:
            rows[g.deadline_class].merge(g.tally)
    return list(rows.values())
