"""The OGC collections a reader may see and how their features are fetched.

``issues`` and ``public-issues`` are the ledger's own collections (``webmap.ledger.collections``
STAFF and PUBLIC): the same ``IssueQuery`` (scope included), the same field mask and the same
``fetch_items``, so a page of ``/ogcapi/collections/issues/items?<filter>`` holds exactly what the
map shows for that filter. ``counties``, ``townships`` (when a township layer is in use) and
``protected-areas`` are the boundary layers in use; ``overlap`` is the overlap of the reader's
issues with every constraint layer in use (``geo.constraints``, as ``/overlap`` computes it),
computed on demand and cached per ledger state and layer versions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date, datetime

import pandas as pd
import shapely
from sqlalchemy import func, select

from geo.constraints import active_kinds, missing_kinds
from webmap.ledger import collections, workflow
from webmap.ledger.collections import PUBLIC, STAFF, Collection, Item
from webmap.ledger.items import has_extent
from webmap.ledger.models import Issue
from webmap.ledger.ogc.cql import PythonPredicate, SqlCompiler, coerce
from webmap.ledger.ogc.errors import OgcError, bad_parameter
from webmap.ledger.query import IssueQuery, Scope, bbox_overlaps
from webmap.ledger.vocabulary import CONSTRAINT_TITLES, RAGS

# queryable issue properties and their types (derived ``rag`` is compiled from the workflow)
ISSUE_TYPES = {"number": str, "title": str, "source_type": str, "batch": str, "category": str,
               "county_code": str, "county_name": str, "township_name": str,
               "protected_area": str, "zone": str, "location_text": str, "lead_unit": str,
               "deadline_class": str, "due_date": date, "status": str, "progress": int,
               "rag": str, "is_sample": bool, "updated_at": datetime}  # fmt: skip


@dataclass(frozen=True)
class OgcQuery(IssueQuery):
    """An ``IssueQuery`` with the extra conditions an OGC request adds (CQL2, properties, time)."""

    where: tuple = ()

    def conditions(self, day: date) -> list:
        """Return the query's own conditions and the OGC ones."""
        return [*super().conditions(day), *self.where]


@dataclass
class Source:
    """One OGC collection: id, titles, who may read it, queryables, where features come from."""

    id: str
    title: str
    description: str
    anonymous: bool  # readable without signing in
    kinds: dict  # queryable property -> python type
    collection: Collection | None = None  # the ledger collection behind an issue source
    layer: object | None = None  # geo.boundaries.Layer behind a layer source
    layers: object | None = None  # the geo.boundaries.LayerSet the overlap source checks
    extra: dict = field(default_factory=dict)  # layer metadata shown with the collection


@dataclass
class Page:
    """One page of features: items, how many match, whether more follow."""

    items: list[Item]
    matched: int
    more: bool


def _issue_kinds(collection: Collection) -> dict:
    """Return the queryables of an issue collection: its field mask, typed, plus updated_at."""
    names = [n for n in collection.properties if n in ISSUE_TYPES]
    return {n: ISSUE_TYPES[n] for n in (*names, "updated_at")}


def _frame_kinds(frame) -> dict:
    """Return property -> python type for a layer's attribute columns."""
    kinds = {}
    for name, dtype in frame.dtypes.items():
        if name == frame.geometry.name:
            continue
        kinds[name] = (bool if pd.api.types.is_bool_dtype(dtype)
                       else int if pd.api.types.is_integer_dtype(dtype)
                       else float if pd.api.types.is_float_dtype(dtype) else str)  # fmt: skip
    return kinds


def _layer_source(sid: str, title: str, layer, anonymous: bool) -> Source:
    """Return the source of a boundary layer (its info shown as collection metadata)."""
    info = layer.info
    extra = {"vintage": info.vintage, "version": info.version,
             "authoritative": bool(info.authoritative),
             "mark": "" if info.authoritative else "示意", "source": info.source,
             "licence": info.licence, "zone_scheme": info.zone_scheme}  # fmt: skip
    kinds = _frame_kinds(layer.frame) | {"vintage": str, "version": str, "authoritative": bool,
                                         "illustrative": bool}  # fmt: skip
    desc = f"{title}，版本 {info.version}，年份 {info.vintage}" + ("" if info.authoritative
                                                               else "（示意，非权威边界）")
    return Source(sid, title, desc, anonymous, kinds, layer=layer, extra=extra)


def sources_for(ctx, signed_in: bool) -> dict[str, Source]:
    """Return the collections a reader may list: public ones, and staff ones when signed in."""
    layers = ctx.layers
    out = {}
    if signed_in:
        out["issues"] = Source("issues", "整改问题（本账号可见范围）",
                               "督察整改问题台账，按登录账号的权限范围", False,
                               _issue_kinds(STAFF), collection=STAFF)  # fmt: skip
    out["public-issues"] = Source("public-issues", "公开整改问题",
                                  "向社会公开的整改进展（公开字段，敏感点位已概化）", True,
                                  _issue_kinds(PUBLIC), collection=PUBLIC)  # fmt: skip
    out["counties"] = _layer_source("counties", "县（市、区）边界", layers.counties, True)
    if layers.townships is not None:
        out["townships"] = _layer_source("townships", "乡镇（街道）边界", layers.townships, True)
    if layers.protected_areas is not None and signed_in:
        out["protected-areas"] = _layer_source("protected-areas", "自然保护地功能分区",
                                               layers.protected_areas, False)  # fmt: skip
    if active_kinds(layers) and signed_in:
        out["overlap"] = _overlap_source(layers)
    return out


def _overlap_source(layers) -> Source:
    """Return the overlap source: the reader's issues against every constraint layer (#16)."""
    missing = [CONSTRAINT_TITLES[k] for k in missing_kinds(layers)]
    desc = ("本账号可见问题与管控图层（自然保护地、饮用水水源保护区、生态保护红线、"
            "永久基本农田）的重叠、缓冲区与距离"
            + (f"；未导入：{'、'.join(missing)}" if missing else ""))
    extra = {"versions": layers.versions(), "kinds": active_kinds(layers), "missing": missing}
    return Source("overlap", "问题与管控图层重叠分析（最新）", desc, False, {}, layers=layers,
                  extra=extra)  # fmt: skip


def find_source(ctx, sid: str, signed_in: bool) -> Source:
    """Return a collection by id: 404 when unknown, 401 when it needs a signed-in reader."""
    found = sources_for(ctx, signed_in)
    if sid in found:
        return found[sid]
    if not signed_in and sid in sources_for(ctx, True):
        raise OgcError(401, "NotAuthorized", f"集合“{sid}”需要登录或访问令牌")
    raise OgcError(404, "NotFound", f"集合“{sid}”不存在")


# ---- issue collections -------------------------------------------------------------------


def _column(name: str, query: IssueQuery):
    """Return the SQL expression of a queryable issue property."""
    if name == "rag":
        from sqlalchemy import case

        whens = [(workflow.rag_clause(r, query.day, query.amber_days), r)
                 for r in RAGS if r != "green"]  # fmt: skip
        return case(*whens, else_="green")
    return getattr(Issue, name)


def _spatial(session, source: Source, query: IssueQuery, ctx):
    """Return the callback answering a spatial predicate with the numbers of matching issues."""

    def answer(op: str, geom):
        """Return ``Issue.number IN (...)`` for issues whose published geometry passes ``op``."""
        numbers = set()
        public = source.collection.public
        stmt = select(Issue.number, Issue.lon, Issue.lat, Issue.minx, Issue.miny, Issue.maxx,
                      Issue.maxy, Issue.sensitive, Issue.township_code, Issue.county_code,
                      Issue.geometry)  # fmt: skip
        stmt = stmt.where(query.scope.clause(query.day) if query.scope.kind != "everything"
                          else Issue.id.is_not(None))  # fmt: skip
        if not public and op != "disjoint":
            stmt = stmt.where(bbox_overlaps(*geom.bounds))
        for row in session.execute(stmt):
            if public:
                point = collections.published_point(row, ctx.layers)
                shape = None if point is None else shapely.Point(point)
            elif row.geometry is not None and has_extent(row.minx, row.miny, row.maxx, row.maxy):
                shape = row.geometry
            else:
                shape = None if row.lon is None else shapely.Point(row.lon, row.lat)
            if shape is not None and getattr(shape, op)(geom):
                numbers.add(row.number)
        return Issue.number.in_(sorted(numbers))

    return answer


def issue_query(session, source: Source, ctx, scope: Scope, request) -> OgcQuery:
    """Build the issue query of an OGC request: page filters, properties, time, CQL2, bbox."""
    from webmap.ledger.filters import QueryError

    scope = Scope.public() if source.collection.public else scope
    try:
        base = OgcQuery.from_args(request.filters, scope=scope, context=ctx)
    except QueryError as exc:
        raise bad_parameter(exc.param, exc.value, str(exc).split("：", 1)[-1]) from None
    where = []
    for name, value in request.properties.items():
        where.append(_column(name, base) == coerce(name, value, source.kinds[name]))
    if request.datetime is not None:
        start, end = request.datetime
        if start is not None:
            where.append(Issue.updated_at >= start)
        if end is not None:
            where.append(Issue.updated_at <= end)
    if request.cql is not None:
        columns = {n: (_column(n, base), k) for n, k in source.kinds.items()}
        compiler = SqlCompiler(columns, _spatial(session, source, base, ctx), request.filter_crs)
        where.append(compiler.compile(request.cql))
    return replace(base, where=tuple(where), bbox=request.bbox or base.bbox)


def issue_page(session, source: Source, query: OgcQuery, ctx, *, limit: int, offset: int,
               after: str | None = None) -> Page:  # fmt: skip
    """Return one page of an issue collection (the map's own ``fetch_items``)."""
    matched = collections.count(session, query)
    items, more = collections.fetch_items(session, source.collection, query, ctx, limit=limit,
                                          offset=offset, after=after)  # fmt: skip
    return Page(items, matched, more)


def issue_item(session, source: Source, query: OgcQuery, ctx, fid: str) -> Item | None:
    """Return one feature of an issue collection, None when absent or outside scope."""
    return collections.fetch_item(session, source.collection, query, ctx, fid)


# ---- layer collections -------------------------------------------------------------------


def _plain(value):
    """Return a cell as JSON carries it (NaN as null, numpy scalars as Python ones)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def layer_items(source: Source) -> list[Item]:
    """Return every feature of a layer source as items (id: code, else the row number)."""
    cache = source.layer.cache.setdefault("ogc_items", {})
    if source.id in cache:
        return cache[source.id]
    frame = source.layer.frame
    geom_name = frame.geometry.name
    items = []
    for i, row in enumerate(frame.itertuples(index=False)):
        props = {k: _plain(v) for k, v in row._asdict().items() if k != geom_name}
        props |= {"vintage": source.extra["vintage"], "version": source.extra["version"],
                  "authoritative": source.extra["authoritative"],
                  "illustrative": not source.extra["authoritative"]}  # fmt: skip
        fid = props.get("code") or f"{i + 1}"
        if source.id == "protected-areas":
            fid = f"{props.get('pa_code') or props.get('code') or 'pa'}-{i + 1}"
        items.append(Item(str(fid), props, getattr(row, geom_name, None)))
    cache[source.id] = items
    return items


def overlap_items(session, source: Source, ctx, scope: Scope) -> list[Item]:
    """Return the overlap rows of the reader's issues with every constraint layer in use."""
    from webmap.ledger.overlap import issue_overlap

    query = IssueQuery(scope=scope, today=ctx.today, amber_days=ctx.amber_days)
    state = session.execute(query.apply(select(func.count(Issue.id),
                                               func.max(Issue.updated_at)))).one()  # fmt: skip
    layers = source.layers
    key = (repr(scope), tuple(state), tuple(sorted(layers.versions().items())))
    # the county layer is always in use; a new import gives new versions, so a new key
    cache = layers.counties.cache.setdefault("ogc_overlap", {})
    if key not in cache:
        sites, rows = issue_overlap(session, query, layers)
        shapes = dict(zip(sites["site_id"], sites.geometry, strict=True))
        items = []
        for i, rec in enumerate(rows.to_dict("records")):
            props = {k: _plain(v) for k, v in rec.items() if k != "site_index"}
            items.append(Item(f"{rec['site_id']}-{i + 1}", props, shapes.get(rec["site_id"])))
        cache.clear()  # keep only the latest ledger state
        cache[key] = items
    return cache[key]


def filter_items(items: list[Item], kinds: dict, request) -> list[Item]:
    """Return the items passing bbox, property filters and CQL2 (in Python)."""
    predicate = PythonPredicate(kinds, request.filter_crs)
    if request.cql is not None:
        predicate.check(request.cql)
    wanted = {n: coerce(n, v, kinds[n]) for n, v in request.properties.items()}
    box = shapely.box(*request.bbox) if request.bbox else None
    out = []
    for item in items:
        if any(item.properties.get(n) != v for n, v in wanted.items()):
            continue
        if box is not None and (item.geometry is None or not item.geometry.intersects(box)):
            continue
        if request.cql is not None and not predicate.test(request.cql, item.properties,
                                                          item.geometry):  # fmt: skip
            continue
        out.append(item)
    return out


def overlap_kinds(items: list[Item]) -> dict:
    """Return the queryables of overlap rows, typed from their values."""
    kinds = {}
    for item in items[:50]:
        for k, v in item.properties.items():
            if v is not None and k not in kinds:
                kinds[k] = bool if isinstance(v, bool) else int if isinstance(v, int) else (
                    float if isinstance(v, float) else str)  # fmt: skip
    return kinds
