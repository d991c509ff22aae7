"""The issue collections readers page through: the staff collection and the public one.

Both are the same ``IssueQuery`` read the same way (ordered by number, ``limit`` + ``offset`` or
the keyset cursor ``after``, live rows or, with ``as_of``, the states rebuilt from the event log);
they differ only in what a reader may see. The public collection has its field mask (no internal
notes, descriptions, exact place text, units' partners or zones), its own filter list, and its
points: lines and polygons are published as their display point, and sensitive issues at the
representative point of their township (else county) of the boundary layers in use.

``fetch_items`` returns features' contents (``Item``) and ``fetch_columns`` the compact column
form the map draws; ``webmap.render.features`` writes either as JSON, ``webmap.web.items`` serves
them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
import shapely
from shapely.geometry import Point
from sqlalchemy import Text, case, func, select

from webmap.ledger import workflow
from webmap.ledger.constraints import issue_constraints
from webmap.ledger.context import LedgerContext
from webmap.ledger.items import has_extent, has_extent_clause
from webmap.ledger.models import Issue
from webmap.ledger.query import IssueQuery
from webmap.ledger.vocabulary import RAGS, STATUSES

STAFF_PROPERTIES = (
    "number", "title", "source_type", "batch", "category", "county_code", "county_name",
    "township_name", "protected_area", "zone", "location_text", "lead_unit", "partner_units",
    "deadline_class", "due_date", "status", "progress", "rag", "is_sample", "constraints",
)  # fmt: skip
PUBLIC_FIELDS = (
    "number", "title", "source_type", "batch", "category", "county_code", "county_name",
    "township_name", "deadline_class", "due_date", "lead_unit", "status", "progress", "is_sample",
)  # fmt: skip
PUBLIC_FILTERS = ("county", "source", "status", "deadline", "rag", "category", "as_of")
# what the ledger keeps beside the properties to place an issue on a map
PLACE_COLUMNS = ("lon", "lat", "minx", "miny", "maxx", "maxy", "sensitive", "township_code")
DERIVED = ("rag", "generalised", "constraints")  # computed, not stored
DATE_PROPERTIES = frozenset({"due_date"})  # sent as ISO text
JSON_LISTS = frozenset({"partner_units"})  # stored as JSON lists


@dataclass(frozen=True)
class Collection:
    """An issue collection as one kind of reader sees it."""

    name: str
    properties: tuple[str, ...]  # the field mask: every property a feature may carry
    filters: tuple[str, ...] | None  # filter parameters accepted (None: every IssueQuery filter)
    public: bool  # public scope and public points (generalised, no shapes)
    missing: str  # what a 404 says, with {number}
    # what a reader gets without ``properties`` (None: the whole mask); the public collection
    # leaves out ``constraints``, a spatial check per issue, unless asked for by name
    defaults: tuple[str, ...] | None = None

    def unsupported_filters(self, names) -> list[str]:
        """Return the filter parameters among ``names`` this collection does not take."""
        return [] if self.filters is None else [n for n in names if n not in self.filters]

    def unknown_properties(self, names) -> list[str]:
        """Return the property names among ``names`` outside the field mask."""
        return [n for n in names if n not in self.properties]


STAFF = Collection("issues", STAFF_PROPERTIES, None, False, "问题编号“{number}”不存在")
PUBLIC = Collection("public-issues", (*PUBLIC_FIELDS, *DERIVED), PUBLIC_FILTERS, True,
                    "公开问题“{number}”不存在", (*PUBLIC_FIELDS, "rag", "generalised"))  # fmt: skip


@dataclass
class Item:
    """One issue as a collection publishes it: id, masked properties, WGS84 geometry."""

    number: str
    properties: dict
    geometry: object | None  # shapely, in WGS84 (the display shift is the renderer's)


@dataclass
class Columns:
    """One page in the map's column form (parallel lists; shapes as (row, geometry) pairs)."""

    number: list = field(default_factory=list)
    status: list = field(default_factory=list)
    rag: list = field(default_factory=list)  # indexes into RAGS
    lon: list = field(default_factory=list)
    lat: list = field(default_factory=list)
    shapes: list = field(default_factory=list)


def representative_point(layer, code: str | None) -> tuple[float, float] | None:
    """Return (lon, lat) of the representative point of a layer feature by code, or None."""
    if layer is None or not code or "code" not in layer.frame:
        return None
    cache = layer.cache.setdefault("public_points", {})
    if code not in cache:
        rows = layer.frame[layer.frame["code"] == code]
        point = rows.geometry.iloc[0].representative_point() if len(rows) else None
        cache[code] = (round(point.x, 4), round(point.y, 4)) if point is not None else None
    return cache[code]


def published_point(row, layers) -> tuple[float, float] | None:
    """Return the point to publish: exact, or generalised to township/county when sensitive."""
    if not row.sensitive:
        return None if row.lon is None else (round(row.lon, 6), round(row.lat, 6))
    return (representative_point(layers.townships, row.township_code)
            or representative_point(layers.counties, row.county_code))  # fmt: skip


def _page_properties(rows, names, day: date, amber_days: int, *, live: bool) -> list[dict]:
    """Return the masked properties of a page's rows, RAG judged on ``day``.

    Live rows (SQL rows, their JSON lists as stored text) are read by position, looked up once
    per page: a page of 10,000 rows spent most of its time in ``getattr`` and type checks. As-of
    states are read by attribute.
    """
    if not rows:
        return []
    if live:
        index = {name: i for i, name in enumerate(rows[0]._fields)}
    else:
        index = {name: name for name in (*names, "status", "due_date") if name not in DERIVED}
    status, due = index["status"], index["due_date"]
    plan = [(n, index.get(n), n in DATE_PROPERTIES, live and n in JSON_LISTS) for n in names]
    out = []
    for row in rows:
        props = {}
        for name, key, is_date, is_list in plan:
            if key is not None:
                value = row[key] if live else getattr(row, key)
                if is_list:
                    value = _json_list(value)
                elif is_date and value is not None:
                    value = value.isoformat()
                props[name] = value
            elif name == "rag":
                row_status = row[status] if live else getattr(row, status)
                row_due = row[due] if live else getattr(row, due)
                props["rag"] = workflow.rag(row_status, row_due, day, amber_days)
            elif name == "generalised":
                props["generalised"] = bool(row.sensitive)
            else:  # constraints: filled for the whole page by ``_add_constraints``
                props[name] = []
        out.append(props)
    return out


def _points(rows) -> list:
    """Return each row's display point as shapely (None when unlocated), made in one call."""
    lon = np.array([np.nan if r.lon is None else r.lon for r in rows], dtype=float)
    lat = np.array([np.nan if r.lat is None else r.lat for r in rows], dtype=float)
    points = shapely.points(lon, lat)
    return [None if x != x else p for x, p in zip(lon.tolist(), points, strict=True)]


def _is_extended(row) -> bool:
    """Say whether a live row is drawn as its shape (``items.has_extent`` of its bbox)."""
    return has_extent(row.minx, row.miny, row.maxx, row.maxy)


def _state_shape(state):
    """Return a rebuilt state's geometry as shapely (None when it has none)."""
    return shapely.from_geojson(json.dumps(state.geometry)) if state.geometry else None


def count(session, query: IssueQuery) -> int:
    """Return how many issues the query matches (all pages; as-of states when ``as_of``)."""
    if query.as_of is not None:
        return len(query.states(session))
    return query.count(session)


def count_unlocated(session, query: IssueQuery) -> int:
    """Return how many of the query's issues have no place to draw (as they stood on its day)."""
    if query.as_of is not None:
        return sum(1 for s in query.states(session) if s.lon is None)
    stmt = query.apply(select(func.count(Issue.id)).select_from(Issue).where(Issue.lon.is_(None)))
    return session.scalar(stmt)


def _state_page(session, query, *, limit: int | None, offset: int,
                after: str | None) -> tuple[list, bool]:  # fmt: skip
    """Return one page of as-of states (all from ``offset`` when ``limit`` is None), more or not."""
    states = [s for s in query.states(session) if after is None or s.number > after]
    if limit is None:
        return states[offset:], False
    page = states[offset : offset + limit + 1]
    return page[:limit], len(page) > limit


def _page_statement(query: IssueQuery, columns, *, limit: int | None, offset: int,
                    after: str | None):  # fmt: skip
    """Return SELECT ``columns`` for a page by number, one row past ``limit`` to see if more follow.

    ``limit`` None reads every row from ``offset`` on (a whole export).

    ``after`` is the keyset cursor of the ``next`` link (numbers are unique and indexed), so a
    late page is an index range scan rather than a rescan of every row before it.
    """
    stmt = query.apply(select(*columns).select_from(Issue))
    if after is not None:
        stmt = stmt.where(Issue.number > after)
    stmt = stmt.order_by(Issue.number).offset(offset)
    return stmt if limit is None else stmt.limit(limit + 1)


def _page_column(name: str):
    """Return the column a page selects for a property (JSON lists as their stored text)."""
    if name in JSON_LISTS:
        # nearly every list is empty: read as text, "[]" skips a JSON decode per row
        return getattr(Issue, name).cast(Text).label(name)
    return getattr(Issue, name)


def _json_list(text: str | None) -> list:
    """Return a JSON list column's value from its stored text."""
    return [] if text is None or text == "[]" else json.loads(text)


def _live_page(session, query, names, *, limit, offset, after) -> tuple[list, bool]:
    """Return one page of live rows with the columns ``names`` need, and whether more follow."""
    wanted = {"number", "status", "due_date", "county_code", *names, *PLACE_COLUMNS}
    cols = [_page_column(c) for c in (*STAFF_PROPERTIES, *PLACE_COLUMNS)
            if c in wanted and c not in DERIVED]  # fmt: skip
    stmt = _page_statement(query, cols, limit=limit, offset=offset, after=after)
    rows = session.connection().execute(stmt).all()
    if limit is None:
        return rows, False
    return rows[:limit], len(rows) > limit


def _shapes(session, numbers) -> dict:
    """Return number -> stored geometry for live issues (lines and polygons)."""
    if not numbers:
        return {}
    stmt = select(Issue.number, Issue.geometry).where(Issue.number.in_(list(numbers)))
    return dict(session.execute(stmt).all())


def _geometry(collection, row, shape, layers, point):
    """Return the geometry an item is published with (``point``: the row's display point)."""
    if collection.public:
        published = published_point(row, layers)
        return Point(published) if published else None
    if shape is not None and shape.geom_type != "Point":
        return shape
    return point


def fetch_items(session, collection: Collection, query: IssueQuery, ctx: LedgerContext, *,
                limit: int | None, offset: int = 0, after: str | None = None,
                properties=None) -> tuple[list[Item], bool]:  # fmt: skip
    """Return one page of items (``limit`` None: all of them) and whether another page follows."""
    names = properties or collection.defaults or collection.properties
    day = query.day
    if query.as_of is not None:
        rows, more = _state_page(session, query, limit=limit, offset=offset, after=after)
        shapes = {s.number: _state_shape(s) for s in rows}
    else:
        rows, more = _live_page(session, query, names, limit=limit, offset=offset, after=after)
        extended = [] if collection.public else [r.number for r in rows if _is_extended(r)]
        shapes = _shapes(session, extended)
    layers = ctx.layers if collection.public and any(r.sensitive for r in rows) else None
    props = _page_properties(rows, names, day, query.amber_days, live=query.as_of is None)
    points = [None] * len(rows) if collection.public else _points(rows)
    items = [Item(r.number, p, _geometry(collection, r, shapes.get(r.number), layers, point))
             for r, p, point in zip(rows, props, points, strict=True)]  # fmt: skip
    if "constraints" in names and ctx.load_layers is not None:  # a context without layers: none
        _add_constraints(items, rows, ctx)
    return items, more


def _add_constraints(items: list[Item], rows, ctx: LedgerContext) -> None:
    """Fill each item's ``constraints``: the protected zones it touches, each with its rule."""
    near = _near_constraints([i.geometry for i in items], ctx.layers)
    found = issue_constraints({i.number: i.geometry for i, n in zip(items, near, strict=True) if n},
                              ctx.layers, {r.number: getattr(r, "category", None) for r in rows})
    for item in items:
        item.properties["constraints"] = found.get(item.number, [])


def _near_constraints(geometries: list, layers) -> np.ndarray:
    """Say per geometry whether its box meets the box of a constraint zone (one index query).

    Only zones an issue lies in or crosses are kept, so an issue no zone's box comes near has
    none; on a city-wide page most issues are such, and skip the spatial join and its cache.
    The boxes are widened by ~0.1 m so rounding in the join's projected CRS cannot matter.
    """
    geoms = np.array(geometries, dtype=object)
    located = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    near = np.zeros(len(geoms), dtype=bool)
    if not located.any():
        return near
    boxes = shapely.box(*(shapely.bounds(geoms[located]) + [-1e-6, -1e-6, 1e-6, 1e-6]).T)
    for layer in layers.constraint_layers().values():
        if layer is not None and len(layer.frame):
            hits, _ = layer.frame.sindex.query(boxes)
            near[np.flatnonzero(located)[hits]] = True
    return near


def fetch_item(session, collection: Collection, query: IssueQuery, ctx: LedgerContext,
               number: str) -> Item | None:  # fmt: skip
    """Return one issue of the collection, or None when absent or outside its scope."""
    one = replace(query, q=None, number=number)
    found, _ = fetch_items(session, collection, one, ctx, limit=1)
    return found[0] if found else None


def rag_code(day: date, amber_days: int):
    """Return a SQL CASE giving each issue's index in ``RAGS`` on ``day``.

    Built from ``workflow.rag_clause`` (the SQL twin of ``workflow.rag``), so the map's colours
    and the ``rag`` filter agree, without turning 100,000 dates into Python objects.
    """
    whens = [(workflow.rag_clause(name, day, amber_days), i)
             for i, name in enumerate(RAGS) if name != "green"]  # fmt: skip
    return case(*whens, else_=RAGS.index("green"))


def fetch_columns(session, collection: Collection, query: IssueQuery, ctx: LedgerContext, *,
                  limit: int, offset: int = 0, after: str | None = None) -> tuple[Columns, bool]:
    """Return one page in the map's column form and whether more follow.

    Lon/lat are the display point (for a line or polygon the centre of its box; for a public
    sensitive issue its generalised point), None when the issue has no location.
    """
    if query.as_of is not None or collection.public:
        return _columns_from_items(session, collection, query, ctx, limit=limit, offset=offset,
                                   after=after)  # fmt: skip
    cols = (Issue.number, Issue.status, rag_code(query.day, query.amber_days), Issue.lon,
            Issue.lat, case((has_extent_clause(), 1), else_=0))  # fmt: skip
    stmt = _page_statement(query, cols, limit=limit, offset=offset, after=after)
    rows = session.connection().execute(stmt).all()
    rows, more = rows[:limit], len(rows) > limit
    out = Columns(*([list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in cols]))
    flags, out.shapes = out.shapes, []
    wanted = {out.number[i]: i for i, flag in enumerate(flags) if flag}
    for number, geom in sorted(_shapes(session, wanted).items(), key=lambda kv: wanted[kv[0]]):
        out.shapes.append((wanted[number], geom))
    return out, more


def _columns_from_items(session, collection, query, ctx, **paging) -> tuple[Columns, bool]:
    """Build the column form from items (as-of states, or the public collection's points)."""
    names = ("number", "status", "rag")
    items, more = fetch_items(session, collection, query, ctx, properties=names, **paging)
    out = Columns()
    for i, item in enumerate(items):
        geom = item.geometry
        point = geom if geom is None or geom.geom_type == "Point" else None
        if geom is not None and point is None:
            out.shapes.append((i, geom))
        out.number.append(item.number)
        out.status.append(item.properties["status"])
        out.rag.append(RAGS.index(item.properties["rag"]))
        out.lon.append(None if point is None else point.x)
        out.lat.append(None if point is None else point.y)
    return out, more


def status_codes(columns: Columns) -> tuple[list[str], list[int]]:
    """Return the status code list (workflow order, then others) and each row's index in it."""
    codes = {s: i for i, s in enumerate(STATUSES)}
    index = [codes.setdefault(name, len(codes)) for name in columns.status]
    return list(codes), index
