"""The issue collections readers page through: the staff collection and the public one.

Both are the same ``IssueQuery`` read the same way (ordered by number, ``limit`` + ``offset`` or
the keyset cursor ``after``, live rows or, with ``as_of``, the states rebuilt from the event log);
they differ only in what a reader may see. The public collection has its field mask (no internal
notes, descriptions, exact place text, units' partners or zones), its own filter list, and its
points: lines and polygons are published as their display point, and sensitive issues at the
representative point of their township (else county) of the boundary layers in use.

``fetch_item_columns`` returns a page of features' contents as columns (``ItemColumns``, which
``webmap.render.feature_pages`` writes as GeoJSON), ``fetch_items`` the same page as ``Item``
objects, and ``fetch_columns`` the compact column form the map draws (``webmap.render.features``);
``webmap.web.items`` serves them. Constraints are looked up for a whole page at once
(``webmap.ledger.point_constraints``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
import shapely
from sqlalchemy import Text, case, func, select

from webmap.ledger import workflow
from webmap.ledger.context import LedgerContext
from webmap.ledger.items import has_extent_clause
from webmap.ledger.models import Issue
from webmap.ledger.point_constraints import page_constraints
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
PLACE_COLUMNS = ("lon", "lat", "sensitive", "township_code")
DERIVED = ("rag", "generalised", "constraints")  # computed, not stored
DATE_PROPERTIES = frozenset({"due_date"})  # sent as ISO text
JSON_LISTS = frozenset({"partner_units"})  # stored as JSON lists
LIST_PROPERTIES = JSON_LISTS | {"constraints"}  # properties whose values are lists


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
class ItemColumns:
    """One page of items as columns: what ``webmap.render.feature_pages`` writes as GeoJSON.

    ``values`` holds one sequence per property of ``names``, in row order, an empty list being
    ``()``: a page holds no dict and no list per issue, so writing 100,000 issues in pages
    leaves the garbage collector little to walk. An item's geometry is its shape when
    ``shapes`` has one for its row, else its point (``lon``, ``lat``; NaN when it has none).
    ``items()`` gives the same page as ``Item`` objects.
    """

    names: tuple[str, ...]
    number: list
    values: list  # one sequence per name
    lon: np.ndarray  # WGS84, the display point (public: the published point)
    lat: np.ndarray
    shapes: dict = field(default_factory=dict)  # row -> shapely line or polygon (WGS84)

    def geometries(self) -> list:
        """Return each row's geometry as shapely (None when it has none)."""
        points = shapely.points(self.lon, self.lat)
        points[np.isnan(self.lon) | np.isnan(self.lat)] = None
        for row, shape in self.shapes.items():
            points[row] = shape
        return points.tolist()

    def items(self) -> list[Item]:
        """Return the page as ``Item`` objects, each with its own property dict and lists."""
        lists = [n for n in self.names if n in LIST_PROPERTIES]
        out = []
        rows = zip(self.number, zip(*self.values, strict=True), self.geometries(), strict=True)
        for number, values, geometry in rows:
            props = dict(zip(self.names, values, strict=True))
            for name in lists:
                if type(props[name]) is tuple:
                    props[name] = list(props[name])
            out.append(Item(number, props, geometry))
        return out


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


def _state_columns(states, names) -> dict:
    """Return name -> the values of as-of states for the columns a page reads."""
    wanted = {*names, *PLACE_COLUMNS, "number", "status", "due_date", "county_code", "category"}
    return {n: [getattr(s, n, None) for s in states] for n in wanted if n not in DERIVED}


def _page_values(columns: dict, names, day: date, amber_days: int, *, size: int, live: bool,
                 constraints: list | None) -> list[list]:  # fmt: skip
    """Return the masked properties of a page as one list per name, RAG judged on ``day``.

    Formatted a column at a time (dates, JSON lists, RAG): a page of 1,000 rows spent most of
    its time in a per-value loop. ``constraints`` holds each row's zones (None: none).
    """
    values = []
    for name in names:
        if name == "rag":
            pairs = zip(columns["status"], columns["due_date"], strict=True)
            values.append([workflow.rag(s, d, day, amber_days) for s, d in pairs])
        elif name == "generalised":
            values.append([bool(v) for v in columns["sensitive"]])
        elif name == "constraints":
            values.append(constraints if constraints is not None else [()] * size)
        elif name in JSON_LISTS and live:
            values.append([_json_list(v) for v in columns[name]])
        elif name in DATE_PROPERTIES:
            values.append([None if v is None else v.isoformat() for v in columns[name]])
        else:
            values.append(columns[name])
    return values


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


def _json_list(text: str | None) -> list | tuple:
    """Return a JSON list column's value from its stored text (``()`` when empty)."""
    return () if text is None or text == "[]" else json.loads(text)


def _live_page(session, query, names, *, limit, offset, after) -> tuple[list, bool]:
    """Return one page of live rows with the columns ``names`` need, and whether more follow.

    ``extended`` says whether an issue is drawn as its shape (``items.has_extent`` in SQL).
    """
    wanted = {"number", "status", "due_date", "county_code", *names, *PLACE_COLUMNS}
    cols = [_page_column(c) for c in (*STAFF_PROPERTIES, *PLACE_COLUMNS)
            if c in wanted and c not in DERIVED]  # fmt: skip
    cols.append(case((has_extent_clause(), 1), else_=0).label("extended"))
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


def _published_xy(rows, layers) -> tuple[np.ndarray, np.ndarray]:
    """Return the published points of public rows as lon and lat arrays (NaN: none)."""
    points = [published_point(r, layers) or (np.nan, np.nan) for r in rows]
    xy = np.array(points, dtype=float).reshape(-1, 2)
    return xy[:, 0], xy[:, 1]


def _extended_shapes(session, numbers, extended) -> dict:
    """Return row -> stored shape of the live rows drawn as their shape (not points)."""
    wanted = [n for n, flag in zip(numbers, extended, strict=True) if flag]
    found = _shapes(session, wanted)
    return {i: found[n] for i, n in enumerate(numbers)
            if n in found and found[n] is not None and found[n].geom_type != "Point"}  # fmt: skip


def fetch_item_columns(session, collection: Collection, query: IssueQuery, ctx: LedgerContext,
                       *, limit: int | None, offset: int = 0, after: str | None = None,
                       properties=None) -> tuple[ItemColumns, bool]:  # fmt: skip
    """Return one page of items as columns (``limit`` None: all of them), and more or not."""
    names = tuple(properties or collection.defaults or collection.properties)
    live = query.as_of is None
    if live:
        rows, more = _live_page(session, query, names, limit=limit, offset=offset, after=after)
        columns = dict(zip(rows[0]._fields, zip(*rows, strict=True), strict=True)) if rows else {}
    else:
        rows, more = _state_page(session, query, limit=limit, offset=offset, after=after)
        columns = _state_columns(rows, names)
    if not rows:
        return ItemColumns(names, [], [[] for _ in names], np.empty(0), np.empty(0)), more
    numbers = list(columns["number"])
    shapes = {}
    if collection.public:
        lon, lat = _published_xy(rows, ctx.layers if any(columns["sensitive"]) else None)
    else:
        lon = np.array(columns["lon"], dtype=float)  # None -> NaN
        lat = np.array(columns["lat"], dtype=float)
        if live:
            shapes = _extended_shapes(session, numbers, columns["extended"])
        else:
            found = [(i, _state_shape(s)) for i, s in enumerate(rows)]
            shapes = {i: g for i, g in found if g is not None and g.geom_type != "Point"}
    constraints = None
    if "constraints" in names and ctx.load_layers is not None:  # a context without layers: none
        categories = columns.get("category") or [None] * len(rows)
        constraints = page_constraints(lon, lat, shapes, list(categories), ctx.layers)
    values = _page_values(columns, names, query.day, query.amber_days, size=len(rows),
                          live=live, constraints=constraints)  # fmt: skip
    return ItemColumns(names, numbers, values, lon, lat, shapes), more


def fetch_items(session, collection: Collection, query: IssueQuery, ctx: LedgerContext, *,
                limit: int | None, offset: int = 0, after: str | None = None,
                properties=None) -> tuple[list[Item], bool]:  # fmt: skip
    """Return one page of items (``limit`` None: all of them) and whether another page follows."""
    page, more = fetch_item_columns(session, collection, query, ctx, limit=limit, offset=offset,
                                    after=after, properties=properties)  # fmt: skip
    return page.items(), more


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
