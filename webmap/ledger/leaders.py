"""The leaders in office on a day: each one's counties (市级领导包县) and cases (县级领导包案).

Read from the roster lines valid on the day. Which issues a leader answers for is the
``leader`` filter of ``IssueQuery`` (roster or recorded responsibility), so the leader pages
count them with ``webmap.ledger.figures`` like every other page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from webmap.ledger.models import LeaderAssignment


@dataclass
class LeaderGroup:
    """One leader in office: the first roster line's id and title, counties and cases."""

    id: int
    name: str
    title: str | None
    counties: list[str] = field(default_factory=list)
    cases: list[str] = field(default_factory=list)
    scope: str = "—"


def leaders_on(session, day: date, county_names: Mapping[str, str]) -> list[LeaderGroup]:
    """Group the roster lines valid on ``day`` by leader, naming their counties and cases."""
    rows = session.scalars(select(LeaderAssignment).order_by(LeaderAssignment.id)).all()
    groups: dict[str, LeaderGroup] = {}
    for a in rows:
        if a.valid_from > day or (a.valid_to is not None and a.valid_to < day):
            continue
        g = groups.setdefault(a.name, LeaderGroup(a.id, a.name, a.title))
        if a.issue_number:
            g.cases.append(a.issue_number)
        elif a.county_code:
            g.counties.append(a.county_code)
    for g in groups.values():
        parts = [county_names.get(c, c) for c in g.counties] + [f"案件 {n}" for n in g.cases]
        g.scope = "、".join(parts) or "—"
    return list(groups.values())
