"""The figures every door shows, computed in one place: per county, per source, look-back, ranking.

``issue_facts(session, query)`` reads what each issue of a query was on the query's day: the live
rows, or with ``as_of`` the states rebuilt from the event log; its warning class judged on that
day; whether its rectification was finished and when (its first sign-off stage on or before that
day). The dashboard, the briefing pack, the public progress table and the leader pages all count
these facts with the functions below, so for the same query and day they give the same numbers.

Words: ``finished`` counts 已完成整改 (已完成待销号 and every sign-off stage), ``signed_off``
counts 已销号, ``due`` the issues whose deadline has passed or that are finished (the
denominator of the on-time rate), ``on_time`` those finished by their deadline.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from webmap.ledger import workflow
from webmap.ledger.models import Issue, SignOff
from webmap.ledger.query import IssueQuery
from webmap.ledger.vocabulary import (
    DONE,
    FINISHED,
    LOOKBACK_SOURCE,
    LOOKBACK_TARGETS,
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
    due_soon: int = 0
    due: int = 0
    on_time: int = 0

    def add(self, facts: IssueFacts) -> None:
        """Count one issue."""
        self.total += 1
        self.finished += facts.finished
        self.signed_off += facts.signed_off
        self.overdue += facts.rag == "red"
        self.due_soon += facts.rag == "amber"
        self.due += facts.due
        self.on_time += facts.on_time

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
class Figures:
    """Everything a dashboard or a briefing counts, for one query on one day."""

    day: date
    facts: list[IssueFacts] = field(default_factory=list)

    @property
    def total(self) -> Tally:
        """Return the counts over every issue."""
        return tally(self.facts)

    def counties(self) -> list[CountyTally]:
        """Return the per-county counts, ranked."""
        return rank_counties(by_county(self.facts))

    def sources(self) -> dict[str, Tally]:
        """Return the counts per source type."""
        return by_key(self.facts, "source_type")

    def lookback(self) -> list[LookbackRow]:
        """Return the look-back plan's targets against what was done."""
        return lookback(self.facts)


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
    """Return the facts of every issue the query matches, judged on the query's day."""
    day = query.day
    if query.as_of is not None:
        rows = query.states(session)
    else:
        rows = session.execute(query.apply(select(*FACT_COLUMNS).select_from(Issue))).all()
    finished_on = finished_dates(session, day)
    return [_facts(r, day, query.amber_days, finished_on.get(r.number)) for r in rows]


def figures(session, query: IssueQuery) -> Figures:
    """Return the figures of a query on its day."""
    return Figures(query.day, issue_facts(session, query))


def tally(facts: Iterable[IssueFacts]) -> Tally:
    """Return the counts over ``facts``."""
    out = Tally()
    for f in facts:
        out.add(f)
    return out


def by_county(facts: Iterable[IssueFacts]) -> list[CountyTally]:
    """Return one tally per county present, in code order (issues with no county last)."""
    groups: dict[str, CountyTally] = {}
    for f in facts:
        code = f.county_code or ""
        if code not in groups:
            groups[code] = CountyTally(code=code, name=f.county_name or UNLOCATED_LABEL)
        groups[code].add(f)
    return sorted(groups.values(), key=lambda c: (c.code == "", c.code))


def rank_counties(counties: list[CountyTally]) -> list[CountyTally]:
    """Order counties by the Wilson lower bound of their on-time rate, best first, with ranks.

    A county with few issues is neither punished nor rewarded for one or two of them: the lower
    bound discounts small samples (1 of 1 on time scores about 21%, 18 of 20 about 70%).
    """
    ranked = sorted(counties, key=lambda c: (-c.score, -c.due, c.code))
    for i, county in enumerate(ranked, start=1):
        county.rank = i
    return ranked


def by_key(facts: Iterable[IssueFacts], key: str) -> dict[str, Tally]:
    """Return tallies grouped by one field (``source_type``, ``deadline_class``...)."""
    groups: dict[str, Tally] = defaultdict(Tally)
    for f in facts:
        groups[getattr(f, key) or "未填写"].add(f)
    return dict(groups)


def lookback(facts: Iterable[IssueFacts]) -> list[LookbackRow]:
    """Compare the 20/5/5 look-back targets by deadline class with what was done, and on time."""
    rows = {cls: LookbackRow(deadline_class=cls, target=target)
            for cls, target in LOOKBACK_TARGETS.items()}  # fmt: skip
    for f in facts:
        if f.source_type == LOOKBACK_SOURCE and f.deadline_class in rows:
            rows[f.deadline_class].add(f)
    return list(rows.values())
