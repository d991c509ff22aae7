"""The issues a picture or a document lists: one ``IssueItem`` per issue of a query.

``collect_items`` is that list: every issue the query matches (the same statement the
``/api/issues`` pages walk through, or the rebuilt past states when the query has ``as_of``),
in number order, with the RAG class judged on the query's day. Snapshots, the briefing pack and
the dispatch notice all draw and count from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import shapely
from shapely.geometry import shape
from sqlalchemy import and_, or_

from webmap.ledger import workflow
from webmap.ledger.models import Issue
from webmap.ledger.query import IssueQuery


@dataclass(frozen=True)
class IssueItem:
    """One issue as a picture or a table shows it."""

    number: str
    title: str
    county_code: str | None
    status: str
    rag: str
    due_date: date | None
    lon: float | None
    lat: float | None
    geometry: object | None  # shapely geometry in WGS84 when the issue is a line or polygon
    is_sample: bool
    lead_unit: str | None = None
    progress: int = 0
    county_name: str | None = None
    source_type: str | None = None
    deadline_class: str | None = None
    protected_area: str | None = None
    zone: str | None = None
    category: str | None = None

    @property
    def located(self) -> bool:
        """Say whether the issue has a place to draw."""
        return self.lon is not None and self.lat is not None

    @property
    def shape(self):
        """Return the shape to draw: the line or polygon, or the display point (None if none)."""
        if self.geometry is not None:
            return self.geometry
        return shapely.Point(self.lon, self.lat) if self.located else None


def has_extent(minx, miny, maxx, maxy) -> bool:
    """Say whether an issue's box has extent: it is drawn as its shape, not as a point.

    The one rule for every output (the API and map read it from the stored bbox columns, the
    map's page in SQL through ``has_extent_clause``).

    >>> has_extent(111.5, 25.4, 111.6, 25.5), has_extent(111.5, 25.4, 111.5, 25.4)
    (True, False)
    """
    return minx is not None and (minx, miny) != (maxx, maxy)


def has_extent_clause():
    """Return the SQL twin of ``has_extent`` over the stored bbox columns of ``Issue``."""
    return and_(Issue.minx.is_not(None), or_(Issue.minx != Issue.maxx, Issue.miny != Issue.maxy))


def _extent(geom):
    """Return the geometry when it has extent (a line, polygon, spread points), else None."""
    if geom is None or geom.is_empty or not has_extent(*geom.bounds):
        return None
    return geom


def _item(row, day: date, amber_days: int, geometry) -> IssueItem:
    """Build an item from an ``Issue`` row or a rebuilt ``IssueState``."""
    return IssueItem(
        number=row.number, title=row.title or "", county_code=row.county_code,
        status=row.status, rag=workflow.rag(row.status, row.due_date, day, amber_days),
        due_date=row.due_date, lon=row.lon, lat=row.lat, geometry=_extent(geometry),
        is_sample=bool(row.is_sample), lead_unit=row.lead_unit, progress=row.progress or 0,
        county_name=row.county_name, source_type=row.source_type, deadline_class=row.deadline_class,
        protected_area=row.protected_area, zone=row.zone, category=row.category,
    )  # fmt: skip


def collect_items(session, query: IssueQuery) -> list[IssueItem]:
    """Return every issue the query matches (all pages), in number order, judged on its day."""
    day, amber = query.day, query.amber_days
    if query.as_of is not None:
        return [_item(s, day, amber, shape(s.geometry) if s.geometry else None)
                for s in query.states(session)]  # fmt: skip
    return [_item(issue, day, amber, issue.geometry) for issue in session.scalars(query.select())]
