"""``/api``: issues as GeoJSON, paged the pygeoapi way (limit, offset, numberMatched, next link).

The filter arguments go through the same ``IssueQuery`` that backs the map page and the exports,
so ``/api/issues?<query>`` holds exactly the issues the page ``/?<query>`` shows. Paging and output
arguments (``limit``, ``offset``, ``properties``, ``coords``) are taken off before the query reads
the rest.
"""

from __future__ import annotations

import gzip
import json
from datetime import date

import shapely.geometry

from flask import Blueprint, Response, abort, current_app, g, request, url_for
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from geo.crs import wgs84_to_gcj02
from webmap import db, workflow
from webmap.maps import shift_geometry
from webmap.models import Issue
from webmap.query import IssueQuery, QueryError, Scope

bp = Blueprint("api", __name__, url_prefix="/api")

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10000
OUTPUT_ARGS = ("limit", "offset", "properties", "coords", "f")
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


def select_features(session, query, *, limit: int, offset: int, properties=None,
                    to_display=None, today: date) -> list[dict]:
    """Return one page of features; only lines and polygons load their stored geometry."""
    names = properties or PROPERTIES
    wanted = {"number", "status", "due_date", *(n for n in names if n != "rag")}
    cols = [getattr(Issue, c) for c in COLUMNS if c in wanted]
    stmt = select(*cols, Issue.lon, Issue.lat, Issue.minx, Issue.miny, Issue.maxx, Issue.maxy)
    stmt = query.apply(stmt.select_from(Issue), session).order_by(Issue.number).limit(limit).offset(offset)
    rows = session.execute(stmt).all()
    amber = current_app.config.get("AMBER_DAYS", 30)
    extended = [r.number for r in rows if r.minx is not None and (r.minx, r.miny) != (r.maxx, r.maxy)]
    shapes = {}
    if extended:
        shapes = dict(session.execute(
            select(Issue.number, Issue.geometry).where(Issue.number.in_(extended))).all())
    return [{"type": "Feature", "id": row.number,
             "geometry": _geometry(row, shapes.get(row.number), to_display),
             "properties": _properties(row, names, today, amber)} for row in rows]


def issue_feature(issue: Issue, *, today: date, to_display=None) -> dict:
    """Return one issue as a GeoJSON Feature with every public property."""
    geom = issue.geometry if issue.geometry is not None and issue.geometry.geom_type != "Point" else None
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


def json_response(body: dict, status: int = 200, mimetype: str = GEOJSON) -> Response:
    """Serialise ``body`` compactly, gzip it when the client accepts that (large pages)."""
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str).encode()
    resp = Response(data, status=status, mimetype=mimetype)
    if len(data) > 2048 and "gzip" in request.headers.get("Accept-Encoding", ""):
        resp.set_data(gzip.compress(data, compresslevel=5))
        resp.headers["Content-Encoding"] = "gzip"
        resp.headers["Vary"] = "Accept-Encoding"
    return resp


def page_links(filters: MultiDict, output: MultiDict, limit: int, offset: int, matched: int):
    """Return pygeoapi-style self/next/prev links that keep the filters and output options."""

    def link(rel: str, new_offset: int) -> dict:
        """Build one link at another offset."""
        args = MultiDict(filters)
        for key, value in output.items(multi=True):
            if key not in ("limit", "offset"):
                args.add(key, value)
        args["limit"], args["offset"] = str(limit), str(new_offset)
        return {"rel": rel, "type": GEOJSON, "title": rel,
                "href": url_for("api.issues", **args.to_dict(flat=False))}

    links = [link("self", offset)]
    if offset + limit < matched:
        links.append(link("next", offset + limit))
    if offset > 0:
        links.append(link("prev", max(offset - limit, 0)))
    return links


@bp.route("/issues")
def issues():
    """GeoJSON FeatureCollection of the issues a page with the same query string shows."""
    filters, output = split_args(request.args)
    query = issue_query(filters)
    limit = parse_int(output, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = parse_int(output, "offset", 0, 0)
    props = parse_properties(output)
    to_display = display_transform(output.get("coords"))
    session = db.get_session()
    matched = session.scalar(query.apply(select(func.count(Issue.id)).select_from(Issue), session))
    features = select_features(session, query, limit=limit, offset=offset, properties=props,
                               to_display=to_display, today=today())
    body = {
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": matched,
        "numberReturned": len(features),
        "timeStamp": date.today().isoformat(),
        "links": page_links(filters, output, limit, offset, matched),
    }
    return json_response(body)


@bp.route("/issues/<number>")
def issue(number):
    """One issue as a GeoJSON Feature (404 when absent or outside the caller's scope)."""
    query = issue_query(MultiDict())
    to_display = display_transform(request.args.get("coords"))
    session = db.get_session()
    found = session.scalars(query.apply(select(Issue).where(Issue.number == number), session)).first()
    if found is None:
        abort(404, f"问题编号“{number}”不存在")
    feature = issue_feature(found, today=today(), to_display=to_display)
    return json_response(feature)
