"""``/api``: issues as GeoJSON, paged the pygeoapi way (limit, offset, numberMatched, next link).

The filter arguments go through the same ``IssueQuery`` that backs the map page and the exports,
so ``/api/issues?<query>`` holds exactly the issues the page ``/?<query>`` shows. Paging and output
arguments (``limit``, ``offset``, ``after``, ``properties``, ``coords``, ``f``) are taken off
before the query reads the rest.

Pages are ordered by issue number. ``offset`` works as in pygeoapi; the ``next`` link carries a
keyset cursor instead (``after=<last number>``), so following it costs the same on page 100 as on
page 1. ``f=map`` returns the compact column form the map page draws (number, status, RAG, display
point, plus the shapes of lines and polygons) rather than GeoJSON.
"""

from __future__ import annotations

import gzip
import json
from datetime import date

import numpy as np
import shapely.geometry
from flask import Blueprint, Response, abort, current_app, g, request, url_for
from sqlalchemy import and_, case, func, or_, select
from werkzeug.datastructures import MultiDict

from geo.crs import wgs84_to_gcj02
from webmap.ledger import db, workflow
from webmap.ledger.models import Issue
from webmap.ledger.query import IssueQuery, QueryError, Scope
from webmap.render.maps import shift_geometry

bp = Blueprint("api", __name__, url_prefix="/api")

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10000
MAP_MAX_LIMIT = 50000  # compact rows are ~40 bytes: bigger pages, fewer round trips for the map
OUTPUT_ARGS = ("limit", "offset", "after", "properties", "coords", "f")
FORMATS = ("json", "geojson", "map")
GEOJSON = "application/geo+json"

# every property an issue feature may carry; internal notes and complainant data never leave here
PROPERTIES = (
    "number", "title", "source_type", "batch", "category", "county_code", "county_name",
    "township_name", "protected_area", "zone", "location_text", "lead_unit", "partner_units",
    "deadline_class", "due_date", "status", "progress", "rag", "is_sample",
)  # fmt: skip
COLUMNS = tuple(p for p in PROPERTIES if p != "rag")


def today() -> date:
    """Return the day deadlines are judged against (``TODAY`` in config pins it for tests)."""
    pinned = current_app.config.get("TODAY")
    return date.fromisoformat(pinned) if isinstance(pinned, str) else (pinned or date.today())


def request_scope() -> Scope:
    """Return what the current request may see: ``g.scope`` once accounts set it, else everything.

    Access control (issue 8) sets ``g.scope``; every page, API and export read goes through
    ``issue_query`` and so through ``IssueQuery.apply``, where the scope is enforced.
    """
    return g.get("scope") or Scope.everything()


def issue_query(args: MultiDict) -> IssueQuery:
    """Build the shared ``IssueQuery`` from filter arguments; bad values become a Chinese 400."""
    try:
        return IssueQuery.from_args(args, scope=request_scope())
    except QueryError as exc:
        abort(400, str(exc))


def display_transform(coords: str | None):
    """Return the coordinate shift for display: None (WGS84) or WGS84 -> GCJ-02 for AMap tiles."""
    if coords in (None, "", "wgs84"):
        return None
    if coords == "gcj02":
        return wgs84_to_gcj02
    abort(400, f"参数 coords 只能是 wgs84 或 gcj02，收到“{coords}”")


def rag_of(status: str | None, due_date, day: date, amber_days: int | None = None) -> str:
    """Return the workflow's red/amber/green/done/none class of one issue on ``day``."""
    if amber_days is None:
        amber_days = current_app.config.get("AMBER_DAYS", 30)
    return workflow.rag(status, due_date, day, amber_days)


def _geometry(row, geom, to_display) -> dict | None:
    """Return the GeoJSON geometry of a row: its shape when it has extent, else its point."""
    if geom is not None:
        shape = shift_geometry(geom, to_display)
        return shapely.geometry.mapping(shape)
    if row.lon is None or row.lat is None:
        return None
    lon, lat = (row.lon, row.lat) if to_display is None else to_display(row.lon, row.lat)
    return {"type": "Point", "coordinates": [round(float(lon), 6), round(float(lat), 6)]}


def _properties(row, names, day: date, amber_days: int | None = None) -> dict:
    """Return the chosen properties of a row, with the RAG class computed for ``day``."""
    amber_days = current_app.config.get("AMBER_DAYS", 30) if amber_days is None else amber_days
    props = {}
    for name in names:
        if name == "rag":
            props["rag"] = rag_of(row.status, row.due_date, day, amber_days)
        else:
            value = getattr(row, name)
            props[name] = value.isoformat() if isinstance(value, date) else value
    return props


def page_statement(session, query, columns, *, limit: int, offset: int = 0,
                   after: str | None = None):
    """Return SELECT ``columns`` for a page by number, one row past ``limit`` to see if more follow.

    ``after`` is the keyset cursor of the ``next`` link (numbers are unique and indexed), so a
    late page is an index range scan rather than a rescan of every row before it.
    """
    stmt = query.apply(select(*columns).select_from(Issue), session)
    if after is not None:
        stmt = stmt.where(Issue.number > after)
    return stmt.order_by(Issue.number).limit(limit + 1).offset(offset)


def fetch_page(session, stmt, limit: int) -> tuple[list, bool]:
    """Run a page statement over plain columns; return (rows, whether another page follows)."""
    rows = session.connection().execute(stmt).all()
    return rows[:limit], len(rows) > limit


def load_shapes(session, rows) -> dict:
    """Return number -> stored geometry for the rows whose bbox has extent (lines, polygons)."""
    extended = [r.number for r in rows
                if r.minx is not None and (r.minx, r.miny) != (r.maxx, r.maxy)]
    if not extended:
        return {}
    return dict(session.execute(
        select(Issue.number, Issue.geometry).where(Issue.number.in_(extended))).all())


BBOX = (Issue.lon, Issue.lat, Issue.minx, Issue.miny, Issue.maxx, Issue.maxy)


def select_features(session, query, *, limit: int, offset: int = 0, after: str | None = None,
                    properties=None, to_display=None, today: date) -> tuple[list[dict], bool]:
    """Return a page of features and whether more follow; only lines/polygons load shapes."""
    names = properties or PROPERTIES
    wanted = {"number", "status", "due_date", *(n for n in names if n != "rag")}
    cols = [getattr(Issue, c) for c in COLUMNS if c in wanted]
    stmt = page_statement(session, query, [*cols, *BBOX], limit=limit, offset=offset, after=after)
    rows, more = fetch_page(session, stmt, limit)
    amber = current_app.config.get("AMBER_DAYS", 30)
    shapes = load_shapes(session, rows)
    return [{"type": "Feature", "id": row.number,
             "geometry": _geometry(row, shapes.get(row.number), to_display),
             "properties": _properties(row, names, today, amber)} for row in rows], more


def rag_code(day: date, amber_days: int):
    """Return a SQL CASE giving each issue's index in ``workflow.RAGS`` on ``day``.

    Built from ``workflow.rag_clause`` (the SQL twin of ``workflow.rag``), so the map's colours
    and the ``rag`` filter agree, without turning 100,000 dates into Python objects.
    """
    whens = [(workflow.rag_clause(name, day, amber_days), i)
             for i, name in enumerate(workflow.RAGS) if name != "green"]
    return case(*whens, else_=workflow.RAGS.index("green"))


def _display_points(lon: list, lat: list, to_display) -> tuple[list, list]:
    """Shift and round whole columns of lon/lat at once; missing points stay None."""
    x = np.array([np.nan if v is None else v for v in lon], dtype=float)
    y = np.array([np.nan if v is None else v for v in lat], dtype=float)
    shifted = np.isfinite(x) & np.isfinite(y)
    if to_display is not None and shifted.any():
        x[shifted], y[shifted] = (np.asarray(c, dtype=float)
                                  for c in to_display(x[shifted], y[shifted]))
    x, y = np.round(x, 6), np.round(y, 6)
    return ([None if v != v else v for v in x.tolist()],
            [None if v != v else v for v in y.tolist()])


def select_points(session, query, *, limit: int, offset: int = 0, after: str | None = None,
                  to_display=None, today: date) -> tuple[dict, bool]:
    """Return one page in the map's column form and whether more follow.

    ``number``, ``status``, ``rag``, ``lon``, ``lat`` are parallel lists (status and RAG as
    indexes into ``codes``; lon/lat null when the issue has no location; for a line or polygon
    the centre of its box); ``shapes`` holds [row index, GeoJSON geometry] of lines and polygons.
    """
    amber = current_app.config.get("AMBER_DAYS", 30)
    extended = and_(Issue.minx.is_not(None),
                    or_(Issue.minx != Issue.maxx, Issue.miny != Issue.maxy))
    cols = (Issue.number, Issue.status, rag_code(today, amber), Issue.lon, Issue.lat,
            case((extended, 1), else_=0))
    stmt = page_statement(session, query, cols, limit=limit, offset=offset, after=after)
    rows, more = fetch_page(session, stmt, limit)
    columns = [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in cols]
    numbers, status_names, rags, lon, lat, ext = columns
    statuses = {s: i for i, s in enumerate(workflow.STATUSES)}
    status = [statuses.setdefault(name, len(statuses)) for name in status_names]
    lon, lat = _display_points(lon, lat, to_display)
    drawn = []
    wanted = {numbers[i]: i for i, flag in enumerate(ext) if flag}
    if wanted:
        stored = select(Issue.number, Issue.geometry).where(Issue.number.in_(list(wanted)))
        for number, geom in session.execute(stored):
            i, shape = wanted[number], shift_geometry(geom, to_display)
            drawn.append([i, shapely.geometry.mapping(shape)])
            minx, miny, maxx, maxy = shape.bounds
            lon[i], lat[i] = round((minx + maxx) / 2, 6), round((miny + maxy) / 2, 6)
        drawn.sort(key=lambda item: item[0])
    body = {"codes": {"status": list(statuses), "rag": list(workflow.RAGS)}, "number": numbers,
            "status": status, "rag": rags, "lon": lon, "lat": lat, "shapes": drawn}
    return body, more


def issue_feature(issue: Issue, *, today: date, to_display=None) -> dict:
    """Return one issue as a GeoJSON Feature with every public property."""
    geom = issue.geometry
    geom = geom if geom is not None and geom.geom_type != "Point" else None
    return {"type": "Feature", "id": issue.number,
            "geometry": _geometry(issue, geom, to_display),
            "properties": _properties(issue, PROPERTIES, today)}


def split_args(args: MultiDict) -> tuple[MultiDict, MultiDict]:
    """Split request arguments into (filter arguments, paging/output arguments)."""
    filters, output = MultiDict(), MultiDict()
    for key, value in args.items(multi=True):
        (output if key in OUTPUT_ARGS else filters).add(key, value)
    return filters, output


def parse_int(args: MultiDict, name: str, default: int, low: int, high: int | None = None) -> int:
    """Read one integer argument within bounds, or abort with a Chinese 400 naming it."""
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        abort(400, f"参数 {name} 应为整数，收到“{raw}”")
    if value < low or (high is not None and value > high):
        bound = f"{low}–{high}" if high is not None else f"不小于 {low}"
        abort(400, f"参数 {name} 超出范围（{bound}），收到 {value}")
    return value


def parse_properties(args: MultiDict) -> tuple[str, ...] | None:
    """Read ``properties=a,b`` (pygeoapi) into a tuple of known property names, or None for all."""
    raw = args.get("properties")
    if not raw:
        return None
    names = tuple(p.strip() for p in raw.split(",") if p.strip())
    unknown = [p for p in names if p not in PROPERTIES]
    if unknown:
        abort(400, f"参数 properties 含未知字段：{'，'.join(unknown)}")
    return names


def parse_format(args: MultiDict) -> str:
    """Read ``f`` (json/geojson as in pygeoapi, or map for the page's compact form)."""
    fmt = args.get("f") or "json"
    if fmt not in FORMATS:
        abort(400, f"参数 f 只能是 {'、'.join(FORMATS)}，收到“{fmt}”")
    return fmt


def parse_after(args: MultiDict) -> str | None:
    """Read the ``after`` cursor (an issue number); it cannot be combined with an offset."""
    after = args.get("after")
    if after is None or after == "":
        return None
    if len(after) > 40:
        abort(400, f"参数 after 应为问题编号（不超过 40 字），收到“{after[:20]}…”")
    if args.get("offset") not in (None, "", "0"):
        abort(400, "参数 after 与 offset 不能同时使用")
    return after


def json_response(body: dict, status: int = 200, mimetype: str = GEOJSON) -> Response:
    """Serialise ``body`` compactly, gzip it when the client accepts that (large pages)."""
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str).encode()
    resp = Response(data, status=status, mimetype=mimetype)
    if len(data) > 2048 and "gzip" in request.headers.get("Accept-Encoding", ""):
        resp.set_data(gzip.compress(data, compresslevel=5))
        resp.headers["Content-Encoding"] = "gzip"
        resp.headers["Vary"] = "Accept-Encoding"
    return resp


def page_links(filters: MultiDict, output: MultiDict, *, limit: int, offset: int,
               last: str | None, more: bool, mimetype: str = GEOJSON) -> list[dict]:
    """Return pygeoapi-style self/next/prev links that keep the filters and output options.

    ``next`` continues after the last number of this page (keyset); ``prev`` is only given for
    offset paging, as a cursor cannot walk backwards.
    """

    def link(rel: str, **paging) -> dict:
        """Build one link with other paging arguments."""
        args = MultiDict(filters)
        for key, value in output.items(multi=True):
            if key not in ("limit", "offset", "after"):
                args.add(key, value)
        args["limit"] = str(limit)
        for key, value in paging.items():
            args[key] = str(value)
        return {"rel": rel, "type": mimetype, "title": rel,
                "href": url_for("api.issues", **args.to_dict(flat=False))}

    cursor = {"after": output["after"]} if output.get("after") else {"offset": offset}
    links = [link("self", **cursor)]
    if more and last is not None:
        links.append(link("next", after=last))
    if offset > 0 and not output.get("after"):
        links.append(link("prev", offset=max(offset - limit, 0)))
    return links


@bp.route("/issues")
def issues():
    """GeoJSON FeatureCollection (``f=map``: columns) of the issues the same page query shows."""
    filters, output = split_args(request.args)
    query = issue_query(filters)
    fmt = parse_format(output)
    high = MAP_MAX_LIMIT if fmt == "map" else MAX_LIMIT
    limit = parse_int(output, "limit", DEFAULT_LIMIT, 1, high)
    offset = parse_int(output, "offset", 0, 0)
    after = parse_after(output)
    props = parse_properties(output)
    to_display = display_transform(output.get("coords"))
    session = db.get_session()
    matched = session.scalar(query.apply(select(func.count(Issue.id)).select_from(Issue), session))
    paging = {"limit": limit, "offset": offset, "after": after}
    if fmt == "map":
        body, more = select_points(session, query, **paging, to_display=to_display, today=today())
        numbers, mimetype = body["number"], "application/json"
        returned, last = len(numbers), numbers[-1] if numbers else None
        body = {"type": "IssuePoints", **body}
    else:
        features, more = select_features(session, query, **paging, properties=props,
                                         to_display=to_display, today=today())
        returned, last, mimetype = len(features), features[-1]["id"] if features else None, GEOJSON
        body = {"type": "FeatureCollection", "features": features}
    body |= {
        "numberMatched": matched,
        "numberReturned": returned,
        "timeStamp": date.today().isoformat(),
        "links": page_links(filters, output, limit=limit, offset=offset, last=last, more=more,
                            mimetype=mimetype),
    }
    return json_response(body, mimetype=mimetype)


@bp.route("/issues/<number>")
def issue(number):
    """One issue as a GeoJSON Feature (404 when absent or outside the caller's scope)."""
    query = issue_query(MultiDict())
    to_display = display_transform(request.args.get("coords"))
    session = db.get_session()
    stmt = query.apply(select(Issue).where(Issue.number == number), session)
    found = session.scalars(stmt).first()
    if found is None:
        abort(404, f"问题编号“{number}”不存在")
    feature = issue_feature(found, today=today(), to_display=to_display)
    return json_response(feature)
