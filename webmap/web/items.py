"""The one items handler behind ``/api/issues`` and ``/api/public/issues`` (and their items).

Both collections (``webmap.ledger.collections``) are served here with the same paging, formats
and errors, the pygeoapi way: ``limit`` and ``offset`` (``page`` counts pages of ``limit``),
``numberMatched``/``numberReturned``, and ``self``/``next``/``prev`` links; ``next`` carries a
keyset cursor (``after=<last number>``) and the count made on the first page (``matched``), so
following it costs the same on page 100 as on page 1: no page but the first counts the matches.
``f=json|geojson`` gives GeoJSON, ``f=map`` the compact column form the map pages draw;
``properties=a,b`` picks properties (within the collection's field mask), ``coords=gcj02``
shifts coordinates for AMap tiles, and ``as_of=YYYY-MM-DD`` serves the ledger as it stood that
day (rebuilt from the event log). The filter arguments go through the same ``IssueQuery`` as the
pages, so ``/api/issues?<query>`` holds exactly what ``/?<query>`` shows.
"""

from __future__ import annotations

import gzip

from flask import Response, abort, current_app, request, url_for
from werkzeug.datastructures import MultiDict

from webmap.ledger import clusters, collections
from webmap.ledger.collections import Collection
from webmap.ledger.query import IssueQuery, QueryError, Scope
from webmap.render.feature_pages import dumps, feature_page
from webmap.render.features import GEOJSON, feature, grid_body, map_columns
from webmap.web.args import display_transform, issue_query, parse_int, split_args
from webmap.web.context import get_session, ledger_context

OUTPUT_ARGS = ("limit", "offset", "page", "after", "matched", "properties", "coords", "f")
GRID_ARGS = ("zoom", "view", "coords")
FORMATS = ("json", "geojson", "map")
DEFAULT_LIMIT = 1000
MAX_LIMIT = 10000
MAP_DEFAULT_LIMIT = 10000
MAP_MAX_LIMIT = 50000  # compact rows are ~40 bytes: bigger pages, fewer round trips for the map


def collection_query(collection: Collection, filters: MultiDict):
    """Build the collection's query: its own scope and filter list; bad values are a 400."""
    extra = collection.unsupported_filters(list(filters))
    if extra:
        abort(400, f"公开查询不支持参数：{'、'.join(extra)}；可用 {'、'.join(collection.filters)}")
    return issue_query(filters, scope=Scope.public() if collection.public else None)


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
    if args.get("offset") not in (None, "", "0") or args.get("page") not in (None, "", "1"):
        abort(400, "参数 after 与 offset、page 不能同时使用")
    return after


def parse_paging(output: MultiDict, fmt: str) -> dict:
    """Return limit, offset and after; ``page`` is turned into an offset of whole pages."""
    default, high = (MAP_DEFAULT_LIMIT, MAP_MAX_LIMIT) if fmt == "map" else (DEFAULT_LIMIT,
                                                                             MAX_LIMIT)
    limit = parse_int(output, "limit", default, 1, high)
    offset = parse_int(output, "offset", 0, 0)
    page = parse_int(output, "page", 1, 1, 1_000_000)
    if page > 1:
        if offset:
            abort(400, "参数 page 与 offset 不能同时使用")
        offset = (page - 1) * limit
    return {"limit": limit, "offset": offset, "after": parse_after(output)}


def matched_count(session, query, output: MultiDict, paging: dict) -> int:
    """Return numberMatched: counted on a first page, carried by ``matched`` in ``next`` links.

    A count is a scan of every match (~0.1 s at a million issues): once per paging run, not
    per page. Only a cursor page takes ``matched``; it is the count when the run began.
    """
    carried = parse_int(output, "matched", -1, 0)
    if carried >= 0 and paging["after"] is not None:
        return carried
    return collections.count(session, query)


def parse_properties(collection: Collection, args: MultiDict) -> tuple[str, ...] | None:
    """Read ``properties=a,b`` into names within the collection's mask, or None for all."""
    names = tuple(p.strip() for p in (args.get("properties") or "").split(",") if p.strip())
    unknown = collection.unknown_properties(names)
    if unknown:
        abort(400, f"参数 properties 含未知字段：{'，'.join(unknown)}")
    return names or None


def json_response(body: dict, status: int = 200, mimetype: str = GEOJSON) -> Response:
    """Serialise ``body`` compactly (UTF-8), gzip it when the client accepts that (large pages)."""
    data = dumps(body)
    resp = Response(data, status=status, mimetype=mimetype)
    if len(data) > 2048 and "gzip" in request.headers.get("Accept-Encoding", ""):
        # level 1 (nginx's default): half the time of level 5 on a page of 1,000 issues, for
        # ~25% more bytes (48 KB instead of 37 KB)
        resp.set_data(gzip.compress(data, compresslevel=1))
        resp.headers["Content-Encoding"] = "gzip"
        resp.headers["Vary"] = "Accept-Encoding"
    return resp


def page_links(endpoint: str, filters: MultiDict, output: MultiDict, *, paging: dict,
               last: str | None, more: bool, mimetype: str,
               matched: int) -> list[dict]:  # fmt: skip
    """Return self/next/prev links that keep the filters and output options.

    ``next`` continues after the last number of this page (keyset); ``prev`` is only given for
    offset paging, as a cursor cannot walk backwards.
    """
    limit, offset = paging["limit"], paging["offset"]

    def link(rel: str, **cursor) -> dict:
        """Build one link with other paging arguments."""
        args = MultiDict(filters)
        for key, value in output.items(multi=True):
            if key not in ("limit", "offset", "page", "after", "matched"):
                args.add(key, value)
        args["limit"] = str(limit)
        for key, value in cursor.items():
            args[key] = str(value)
        return {"rel": rel, "type": mimetype, "title": rel,
                "href": url_for(endpoint, **args.to_dict(flat=False))}  # fmt: skip

    after = paging["after"]
    links = [link("self", **({"after": after} if after else {"offset": offset}))]
    if more and last is not None:
        links.append(link("next", after=last, matched=matched))
    if offset > 0 and not after:
        links.append(link("prev", offset=max(offset - limit, 0)))
    return links


def items_response(collection: Collection, endpoint: str) -> Response:
    """Answer a request for a page of a collection (GeoJSON or the map's column form)."""
    filters, output = split_args(request.args, OUTPUT_ARGS)
    query = collection_query(collection, filters)
    fmt = parse_format(output)
    paging = parse_paging(output, fmt)
    to_display = display_transform(output.get("coords"))
    session, ctx = get_session(), ledger_context()
    matched = matched_count(session, query, output, paging)
    if fmt == "map":
        columns, more = collections.fetch_columns(session, collection, query, ctx, **paging)
        body, mimetype = map_columns(columns, to_display), "application/json"
        numbers = columns.number
    else:
        props = parse_properties(collection, output)
        page, more = collections.fetch_item_columns(session, collection, query, ctx, **paging,
                                                    properties=props)  # fmt: skip
        body, mimetype = feature_page(page, to_display), GEOJSON
        numbers = page.number
    body |= {
        "numberMatched": matched,
        "numberReturned": len(numbers),
        "timeStamp": query.day.isoformat(),
        # the boundary layers in use (public points are generalised with them)
        "boundaryVersions": ctx.layers.versions(),
        "links": page_links(endpoint, filters, output, paging=paging,
                            last=numbers[-1] if numbers else None, more=more,
                            mimetype=mimetype, matched=matched),  # fmt: skip
    }
    return json_response(body, mimetype=mimetype)


def item_response(collection: Collection, number: str) -> Response:
    """Answer a request for one issue of a collection as a GeoJSON Feature (404 when absent)."""
    filters, output = split_args(request.args, OUTPUT_ARGS)
    query = collection_query(collection, filters)
    to_display = display_transform(output.get("coords"))
    item = collections.fetch_item(get_session(), collection, query, ledger_context(), number)
    if item is None:
        abort(404, collection.missing.format(number=number))
    return json_response(feature(item, to_display))


def parse_view(args: MultiDict) -> tuple[float, float, float, float] | None:
    """Read ``view`` (the map's box, minx,miny,maxx,maxy in WGS84) the way ``bbox`` is read."""
    raw = args.get("view")
    if not raw:
        return None
    try:
        return IssueQuery.from_args(MultiDict({"bbox": raw})).bbox
    except QueryError as exc:
        abort(400, str(QueryError("view", raw, str(exc).split("：", 1)[-1])))


def grid_response(collection: Collection) -> Response:
    """Answer a request for a collection's issues counted on a grid (``zoom``, optional ``view``).

    The same filters, scope and public points as the items of the collection; ``as_of`` is a
    400 (a past ledger is rebuilt issue by issue, its points are the way to draw it).
    """
    filters, output = split_args(request.args, GRID_ARGS)
    query = collection_query(collection, filters)
    zoom = parse_int(output, "zoom", 10, 0, 22)
    cell = clusters.cell_size(zoom, current_app.config["MAP_GRID_PIXELS"])
    session, ctx = get_session(), ledger_context()
    try:
        grid = clusters.grid_cells(session, collection, query, ctx, cell=cell,
                                   view=parse_view(output),
                                   max_cells=current_app.config["MAP_GRID_MAX_CELLS"])  # fmt: skip
    except QueryError as exc:
        abort(400, str(exc))
    body = grid_body(grid, display_transform(output.get("coords"))) | {
        "zoom": zoom, "timeStamp": query.day.isoformat(),
        "boundaryVersions": ctx.layers.versions(),
    }  # fmt: skip
    return json_response(body, mimetype="application/json")
