"""What a snapshot shows, taken from the view's ``IssueQuery``: the render list and its captions.

``collect_items`` is the render list: one ``RenderItem`` per issue the query matches (the same
statement ``/api/issues`` pages through, or the rebuilt past states when the query has
``as_of``), with the RAG class judged on the query's day. The caption helpers describe the
filters in Chinese and give the query a short identifier (hash of its canonical query string).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

import shapely
from shapely.geometry import shape

from webmap.ledger import workflow
from webmap.ledger.query import COUNTIES, IssueQuery

BEIJING = timezone(timedelta(hours=8))
FILTER_LABELS = (
    ("county", "县（市、区）"), ("source", "来源"), ("status", "状态"), ("deadline", "整改时限"),
    ("rag", "预警"), ("category", "类别"), ("protected_area", "自然保护地"),
)  # fmt: skip


@dataclass(frozen=True)
class RenderItem:
    """One issue as the picture draws it."""

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

    @property
    def located(self) -> bool:
        """Say whether the issue has a place to draw."""
        return self.lon is not None and self.lat is not None


def _extent(geom):
    """Return a line or polygon geometry, or None for points (drawn from lon/lat)."""
    if geom is None or geom.is_empty or geom.geom_type in ("Point", "MultiPoint"):
        return None
    return geom


def _item(row, day: date, amber_days: int, geometry) -> RenderItem:
    """Build a render item from an ``Issue`` row or a rebuilt ``IssueState``."""
    return RenderItem(
        number=row.number, title=row.title or "", county_code=row.county_code,
        status=row.status, rag=workflow.rag(row.status, row.due_date, day, amber_days),
        due_date=row.due_date, lon=row.lon, lat=row.lat, geometry=_extent(geometry),
        is_sample=bool(row.is_sample), lead_unit=row.lead_unit, progress=row.progress or 0,
        county_name=row.county_name, source_type=row.source_type, deadline_class=row.deadline_class,
    )  # fmt: skip


def collect_items(
    session, query: IssueQuery, *, today: date, amber_days: int = 30
) -> list[RenderItem]:
    """Return every issue the query matches (all pages), in number order, as render items."""
    query = query if query.today else _with_today(query, today)
    if query.as_of is not None:
        day = query.as_of
        states = sorted(query.states(session), key=lambda s: s.number)
        return [
            _item(s, day, amber_days, shape(s.geometry) if s.geometry else None) for s in states
        ]
    return [
        _item(issue, today, amber_days, issue.geometry)
        for issue in session.scalars(query.select(session))
    ]


def _with_today(query: IssueQuery, today: date) -> IssueQuery:
    """Return the query judged on ``today`` (RAG filters and past states need a fixed day)."""
    from dataclasses import replace

    return replace(query, today=today)


def query_id(query: IssueQuery) -> str:
    """Return a short identifier of the query: 8 hex digits of SHA-256 of its canonical string.

    >>> query_id(IssueQuery())
    'e3b0c442'
    """
    return hashlib.sha256(query.to_args(paging=False).encode("utf-8")).hexdigest()[:8]


def describe_filters(query: IssueQuery) -> str:
    """Return a one-line Chinese description of the filters (全部问题 when there are none).

    >>> describe_filters(IssueQuery(county=("431124",), rag=("red",)))
    '县（市、区）：道县；预警：逾期'
    """
    parts = []
    for name, label in FILTER_LABELS:
        values = getattr(query, name)
        if not values:
            continue
        if name == "county":
            values = [COUNTIES.get(v, v) for v in values]
        elif name == "rag":
            values = [workflow.RAG_LABELS.get(v, v) for v in values]
        parts.append(f"{label}：{'、'.join(values)}")
    if query.leader:
        parts.append(f"包联领导：{query.leader}")
    if query.q:
        parts.append(f"关键词：{query.q}")
    if query.bbox:
        parts.append("范围：" + ",".join(f"{v:g}" for v in query.bbox))
    if query.as_of:
        parts.append(f"回看日期：{query.as_of.isoformat()}")
    return "；".join(parts) or "全部问题"


def cutoff_text(query: IssueQuery, now: datetime | None = None) -> str:
    """Return the data cut-off line: the as-of day, or the time the picture was made (Beijing)."""
    if query.as_of is not None:
        return f"数据截至 {query.as_of.isoformat()} 24:00（回看）"
    now = (now or datetime.now(UTC)).astimezone(BEIJING)
    return f"数据截至 {now:%Y-%m-%d %H:%M}（北京时间）"


def item_geometry(item: RenderItem):
    """Return the shape to draw for an item: its line/polygon, or its display point."""
    if item.geometry is not None:
        return item.geometry
    return shapely.Point(item.lon, item.lat) if item.located else None
