"""Answer OGC API - Features requests without a web framework (pygeoapi's ``api/`` shape).

Each function takes an ``OgcRequest`` (arguments, the absolute base URL, who asks) and returns an
``OgcResponse``; errors are ``OgcError`` (status + OGC exception body). Items of the issue
collections come from ``webmap.ledger.collections.fetch_items`` through the same ``IssueQuery``
the map uses, with the reader's scope and the collection's field mask.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from urllib.parse import urlencode

from webmap.ledger.ogc import sources
from webmap.ledger.ogc.cql import parse_filter
from webmap.ledger.ogc.crs import CRS84, bbox_to_storage, content_crs, parse_crs
from webmap.ledger.ogc.errors import OgcError, bad_parameter
from webmap.ledger.query import LIST_PARAMS, Scope
from webmap.render.ogc import documents
from webmap.render.ogc.documents import GEOJSON, JSON, OPENAPI
from webmap.render.ogc.openapi import DEFAULT_LIMIT, MAX_LIMIT, openapi

ITEM_ARGS = ("f", "limit", "offset", "after", "bbox", "bbox-crs", "crs", "datetime", "filter",
             "filter-lang", "filter-crs")  # fmt: skip
# the map page's own filters an issue collection accepts as they are (comma lists allowed)
PAGE_FILTERS = (*LIST_PARAMS, "leader", "q")


@dataclass
class OgcRequest:
    """What the adapter read from the HTTP request."""

    args: list[tuple[str, str]]  # query arguments in order, repeats kept
    base: str  # absolute URL of the API root, no trailing slash
    signed_in: bool
    scope: Scope
    fmt: str = "json"  # json | html (from ``f`` or the Accept header)

    def get(self, name: str) -> str | None:
        """Return the single value of an argument (a 400 when repeated)."""
        found = [v for k, v in self.args if k == name]
        if len(found) > 1:
            raise bad_parameter(name, ",".join(found), "只能给一个值")
        return found[0] if found else None


@dataclass
class OgcResponse:
    """A status, a JSON body (or the page data), its media type and extra headers."""

    body: dict
    mimetype: str = JSON
    status: int = 200
    headers: dict = field(default_factory=dict)
    template: str | None = None  # the HTML template showing ``body``


@dataclass
class ItemsRequest:
    """The parsed arguments of an items request."""

    filters: dict  # page filters -> values (IssueQuery's own parameters)
    properties: dict  # property name -> value (equality)
    bbox: tuple | None  # in CRS84
    datetime: tuple | None  # (start, end), either None for open
    cql: object | None
    filter_crs: str
    crs: str
    limit: int
    offset: int
    after: str | None


def _int(req: OgcRequest, name: str, default: int, low: int, high: int) -> int:
    """Read an integer argument within bounds."""
    raw = req.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_parameter(name, raw, "应为整数") from None
    if not low <= value <= high:
        raise bad_parameter(name, raw, f"应在 {low}–{high} 之间")
    return value


def _bbox(req: OgcRequest) -> tuple | None:
    """Read ``bbox`` (4 numbers) in ``bbox-crs`` and return it in CRS84."""
    raw = req.get("bbox")
    if raw is None or raw == "":
        return None
    try:
        numbers = tuple(float(v) for v in raw.split(","))
    except ValueError:
        raise bad_parameter("bbox", raw, "应为 4 个数：minx,miny,maxx,maxy") from None
    if len(numbers) != 4 or any(n != n or abs(n) == float("inf") for n in numbers):
        raise bad_parameter("bbox", raw, "应为 4 个有限数：minx,miny,maxx,maxy")
    crs = parse_crs("bbox-crs", req.get("bbox-crs"))
    if crs == CRS84 and not (-180 <= numbers[0] <= 180 and -90 <= numbers[1] <= 90
                             and -180 <= numbers[2] <= 180 and -90 <= numbers[3] <= 90):
        raise bad_parameter("bbox", raw, "经度应在 ±180、纬度在 ±90 之内")  # fmt: skip
    if numbers[0] > numbers[2] or numbers[1] > numbers[3]:
        raise bad_parameter("bbox", raw, "最小值不能大于最大值")
    try:
        box = bbox_to_storage(numbers, crs)
    except Exception:  # noqa: BLE001 - pyproj rejects points far outside the projection
        raise bad_parameter("bbox", raw, f"无法从 {crs} 转换") from None
    if any(v != v or abs(v) == float("inf") for v in box):
        raise bad_parameter("bbox", raw, f"超出 {crs} 的有效范围")
    return tuple(box)


def _instant(text: str, end: bool) -> datetime | None:
    """Parse one end of a ``datetime`` value ('..' or empty: open)."""
    if text in ("..", ""):
        return None
    try:
        if "T" not in text and len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day, time.max if end else time.min, tzinfo=UTC)
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise bad_parameter("datetime", text, "应为 RFC 3339 时间、日期或区间 a/b") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _datetime(req: OgcRequest) -> tuple | None:
    """Read ``datetime``: an instant (or a day) or an interval ``start/end``."""
    raw = req.get("datetime")
    if raw is None or raw == "":
        return None
    if "/" in raw:
        a, b = raw.split("/", 1)
        start, end = _instant(a, False), _instant(b, True)
        if start and end and start > end:
            raise bad_parameter("datetime", raw, "开始晚于结束")
        return start, end
    return _instant(raw, False), _instant(raw, True)


def parse_items(req: OgcRequest, source) -> ItemsRequest:
    """Check and split the arguments of an items request; a 400 names the first bad one."""
    filters, props = {}, {}
    allowed = PAGE_FILTERS if source.collection is not None else ()
    if source.collection is not None and source.collection.filters is not None:
        allowed = tuple(f for f in source.collection.filters if f != "as_of")
    for name, value in req.args:
        if name in ITEM_ARGS:
            continue
        if name in allowed:
            filters.setdefault(name, []).append(value)
        elif name in source.kinds:
            if name in props:
                raise bad_parameter(name, value, "只能给一个值")
            props[name] = value
        else:
            raise bad_parameter(name, value, "未知参数或不可查询的属性")
    text, lang = req.get("filter"), req.get("filter-lang")
    if lang is not None and not text:
        parse_filter("", lang)  # checks the language name
    return ItemsRequest(
        filters=filters, properties=props, bbox=_bbox(req), datetime=_datetime(req),
        cql=parse_filter(text, lang) if text else None,
        filter_crs=parse_crs("filter-crs", req.get("filter-crs")),
        crs=parse_crs("crs", req.get("crs")),
        limit=_int(req, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        offset=_int(req, "offset", 0, 0, 10_000_000), after=_after(req),
    )  # fmt: skip


def _after(req: OgcRequest) -> str | None:
    """Read the keyset cursor ``after`` (an id), not combined with an offset."""
    after = req.get("after")
    if not after:
        return None
    if len(after) > 40:
        raise bad_parameter("after", after, "应为要素编号（不超过 40 字）")
    if req.get("offset") not in (None, "", "0"):
        raise bad_parameter("after", after, "不能与 offset 同时使用")
    return after


def _url(path: str, args: list[tuple[str, str]]) -> str:
    """Return ``path`` with arguments."""
    return f"{path}?{urlencode(args)}" if args else path


def landing(req: OgcRequest) -> OgcResponse:
    """Return the landing page."""
    return OgcResponse(documents.landing(req.base), template="ogcapi/landing.html")


def conformance(req: OgcRequest) -> OgcResponse:
    """Return the conformance declaration."""
    return OgcResponse(documents.conformance(req.base), template="ogcapi/conformance.html")


def openapi_doc(req: OgcRequest, ctx) -> OgcResponse:
    """Return the OpenAPI document (collections the reader may see in the id enum)."""
    ids = list(sources.sources_for(ctx, req.signed_in))
    return OgcResponse(openapi(req.base, ids), mimetype=OPENAPI, template="ogcapi/openapi.html")


def collections(req: OgcRequest, ctx) -> OgcResponse:
    """Return the collections the reader may see."""
    found = sources.sources_for(ctx, req.signed_in).values()
    return OgcResponse(documents.collections_doc(req.base, found),
                       template="ogcapi/collections.html")  # fmt: skip


def collection(req: OgcRequest, ctx, sid: str) -> OgcResponse:
    """Return one collection's description."""
    source = sources.find_source(ctx, sid, req.signed_in)
    return OgcResponse(documents.collection(req.base, source), template="ogcapi/collection.html")


def queryables(req: OgcRequest, session, ctx, sid: str) -> OgcResponse:
    """Return the queryables of a collection (JSON Schema)."""
    source = sources.find_source(ctx, sid, req.signed_in)
    kinds = source.kinds
    if sid == "overlap":
        kinds = sources.overlap_kinds(sources.overlap_items(session, source, ctx, req.scope))
    return OgcResponse(documents.queryables(req.base, source, kinds),
                       mimetype="application/schema+json",
                       template="ogcapi/queryables.html")  # fmt: skip


def _page(session, ctx, req: OgcRequest, source, items_req: ItemsRequest):
    """Return (items, matched, more) for a source."""
    if source.collection is not None:
        query = sources.issue_query(session, source, ctx, req.scope, items_req)
        page = sources.issue_page(session, source, query, ctx, limit=items_req.limit,
                                  offset=items_req.offset, after=items_req.after)  # fmt: skip
        return page.items, page.matched, page.more
    if source.id == "overlap":
        everything = sources.overlap_items(session, source, ctx, req.scope)
        source.kinds = sources.overlap_kinds(everything)
    else:
        everything = sources.layer_items(source)
    if items_req.properties and any(n not in source.kinds for n in items_req.properties):
        raise bad_parameter("properties", ",".join(items_req.properties), "不可查询的属性")
    chosen = sources.filter_items(everything, source.kinds, items_req)
    if items_req.after is not None:
        ids = [i.number for i in chosen]
        start = ids.index(items_req.after) + 1 if items_req.after in ids else len(ids)
    else:
        start = items_req.offset
    stop = start + items_req.limit
    return chosen[start:stop], len(chosen), stop < len(chosen)


def items(req: OgcRequest, session, ctx, sid: str) -> OgcResponse:
    """Return one page of a collection's features with paging links."""
    source = sources.find_source(ctx, sid, req.signed_in)
    if source.id == "overlap":
        source.kinds = sources.overlap_kinds(sources.overlap_items(session, source, ctx,
                                                                   req.scope))  # fmt: skip
    items_req = parse_items(req, source)
    found, matched, more = _page(session, ctx, req, source, items_req)
    path = f"{req.base}/collections/{sid}/items"
    keep = [(k, v) for k, v in req.args if k not in ("offset", "after", "f", "limit")]
    paging = [("limit", str(items_req.limit))]

    def link(rel: str, mtype: str, fmt: str, extra: list) -> dict:
        """Return a paging link in one format."""
        return documents.link(_url(path, [*keep, ("f", fmt), *paging, *extra]), rel, mtype, rel)

    here = [("after", items_req.after)] if items_req.after else [("offset", str(items_req.offset))]
    links = [link("self", GEOJSON, "json", here), link("alternate", "text/html", "html", here),
             documents.link(f"{req.base}/collections/{sid}?f=json", "collection", JSON,
                            source.title)]  # fmt: skip
    if more and found:
        links.append(link("next", GEOJSON, "json", [("after", found[-1].number)]
                          if source.collection is not None
                          else [("offset", str(items_req.offset + items_req.limit)
                                 if not items_req.after else str(0))]))  # fmt: skip
    if items_req.offset > 0 and not items_req.after:
        prev = max(items_req.offset - items_req.limit, 0)
        links.append(link("prev", GEOJSON, "json", [("offset", str(prev))]))
    body = {
        "type": "FeatureCollection",
        "features": [documents.feature(i, items_req.crs, req.base, sid) for i in found],
        "numberMatched": matched,
        "numberReturned": len(found),
        "timeStamp": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "links": links,
    }
    return OgcResponse(body, mimetype=GEOJSON, headers={"Content-Crs": content_crs(items_req.crs)},
                       template="ogcapi/items.html")  # fmt: skip


def item(req: OgcRequest, session, ctx, sid: str, fid: str) -> OgcResponse:
    """Return one feature (404 when absent or outside the reader's scope)."""
    source = sources.find_source(ctx, sid, req.signed_in)
    for name, value in req.args:
        if name not in ("f", "crs"):
            raise bad_parameter(name, value, "单个要素只接受 f 与 crs")
    crs = parse_crs("crs", req.get("crs"))
    if source.collection is not None:
        scope = Scope.public() if source.collection.public else req.scope
        query = sources.OgcQuery(scope=scope, today=ctx.today, amber_days=ctx.amber_days)
        found = sources.issue_item(session, source, query, ctx, fid) if len(fid) <= 40 else None
    elif source.id == "overlap":
        found = next((i for i in sources.overlap_items(session, source, ctx, req.scope)
                      if i.number == fid), None)  # fmt: skip
    else:
        found = next((i for i in sources.layer_items(source) if i.number == fid), None)
    if found is None:
        raise OgcError(404, "NotFound", f"集合“{sid}”中没有要素“{fid}”（或无权查看）")
    body = documents.feature(found, crs, req.base, sid)
    body["links"].append(documents.link(f"{req.base}/collections/{sid}?f=json", "collection",
                                        JSON, source.title))  # fmt: skip
    return OgcResponse(body, mimetype=GEOJSON, headers={"Content-Crs": content_crs(crs)},
                       template="ogcapi/item.html")  # fmt: skip
