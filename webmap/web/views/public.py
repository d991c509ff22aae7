"""Public disclosure without login: ``/public`` (map, progress, 公示 notices), its data, objections.

``/public`` draws a map of the public issues from ``/api/public/issues?f=map`` (the same public
query, in the column form ``static/map.js`` draws), over county boundaries and the county progress
choropleth; popups read ``/api/public/issues/<number>`` and link to ``/public/issues/<number>``.
Only issues marked public, and of them only ``PUBLIC_FIELDS``, leave the server here: internal
notes, descriptions, exact place text, measures, responsibility reasons, complainant details and
accountability internals are never selected. Issues marked sensitive are shown at the
representative point of their township (or of their county when no township polygon is loaded).
Filters are limited to public fields, so a free-text search cannot probe internal text.
Objections are taken only while the 公示 period is open (from its sign-off date for
``PUBLICITY_DAYS`` days); they are stored for the city office, rate-limited per client address
(salted hash, counted in the database so restarts do not reset it).
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import replace
from datetime import date, timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from webmap.ledger import db, workflow
from webmap.ledger.events import record_event
from webmap.ledger.models import Issue, Objection, SignOff, utcnow
from webmap.ledger.query import MAX_LIMIT, IssueQuery, QueryError, Scope
from webmap.render import maps
from webmap.web.context import get_layers
from webmap.web.security import neutralise_cell
from webmap.web.views.api import json_response, today

bp = Blueprint("public", __name__)

PUBLIC_FIELDS = ("number", "title", "source_type", "batch", "category", "county_code",
                 "county_name",
                 "township_name", "deadline_class", "due_date", "lead_unit", "status",
                 "progress", "is_sample")  # fmt: skip
LABELS = {"number": "编号", "title": "问题", "source_type": "来源", "batch": "批次",
          "category": "类别", "county_code": "县区代码", "county_name": "县（市、区）",
          "township_name": "乡镇（街道）", "deadline_class": "整改时限", "due_date": "完成时间",
          "lead_unit": "牵头单位", "status": "整改状态", "progress": "进度（%）",
          "is_sample": "示例", "rag": "预警"}  # fmt: skip
PUBLIC_FILTERS = ("county", "source", "status", "deadline", "rag", "category", "page", "limit")
FINISHED = ("已完成待销号", "初审", "公示", "申请", "核查", "已销号")
DISPLAY_ARGS = ("sent",)  # the page's "objection received" note, not a filter
PAGING_ARGS = ("page", "limit")
FORMATS = ("json", "geojson", "map")
OBJECTION_MAX_CHARS = 2000
# what a 公示 notice says about its period; objections are taken only while it is "open"
PUBLICITY_STATES = {"open": "公示中", "ended": "公示期已满", "upcoming": "公示尚未开始",
                    "unknown": "公示起始日期未登记"}  # fmt: skip
POPUP_FIELDS = [["county_name", "县（市、区）"], ["township_name", "乡镇（街道）"],
                ["lead_unit", "牵头单位"], ["due_date", "完成时间"], ["status", "整改状态"],
                ["progress", "进度（%）"], ["source_type", "来源"]]  # fmt: skip


def public_query(args: MultiDict) -> IssueQuery:
    """Build the public query: public scope, public filters only (others are a 400)."""
    args = MultiDict((k, v) for k, v in args.items(multi=True) if k not in DISPLAY_ARGS)
    extra = [k for k in args if k not in PUBLIC_FILTERS]
    if extra:
        abort(400, f"公开查询不支持参数：{'、'.join(extra)}；可用 {'、'.join(PUBLIC_FILTERS)}")
    try:
        return IssueQuery.from_args(args, scope=Scope.public())
    except QueryError as exc:
        abort(400, str(exc))


def _select_public(query: IssueQuery):
    """Return the statement selecting only public columns (plus what generalising needs)."""
    cols = [getattr(Issue, f) for f in PUBLIC_FIELDS]
    extra = (Issue.sensitive, Issue.township_code, Issue.lon, Issue.lat)
    return query.apply(select(*cols, *extra).select_from(Issue)).order_by(Issue.number)


def _point_of(layer, code: str | None):
    """Return (lon, lat) of the representative point of a layer feature by code, or None."""
    if layer is None or not code or "code" not in layer.frame:
        return None
    cache = layer.cache.setdefault("public_points", {})
    if code not in cache:
        rows = layer.frame[layer.frame["code"] == code]
        point = rows.geometry.iloc[0].representative_point() if len(rows) else None
        cache[code] = (round(point.x, 4), round(point.y, 4)) if point is not None else None
    return cache[code]


def public_point(row) -> tuple[float, float] | None:
    """Return the coordinates to publish: exact, or generalised for sensitive issues."""
    if not row.sensitive:
        return None if row.lon is None else (round(row.lon, 6), round(row.lat, 6))
    layers = get_layers()
    return _point_of(layers.townships, row.township_code) or _point_of(
        layers.counties, row.county_code
    )


def public_record(row, day) -> dict:
    """Return one issue's public fields, with its RAG class and a ``generalised`` flag."""
    props = {f: getattr(row, f) for f in PUBLIC_FIELDS}
    props["due_date"] = row.due_date.isoformat() if row.due_date else None
    props["rag"] = workflow.rag(
        row.status, row.due_date, day, current_app.config.get("AMBER_DAYS", 30)
    )
    props["generalised"] = bool(row.sensitive)
    return props


def fetch_public(query: IssueQuery, *, paged: bool = True) -> list:
    """Return the public rows of a query (one page, or all for exports)."""
    stmt = _select_public(query)
    if paged:
        stmt = query.paginate(stmt)
    return db.get_session().execute(stmt).all()


def county_progress(query: IssueQuery) -> list[dict]:
    """Return per-county totals, finished, signed-off and overdue counts of public issues."""
    day = today()
    overdue = workflow.rag_clause("red", day, current_app.config.get("AMBER_DAYS", 30))
    stmt = select(Issue.county_code, Issue.county_name, func.count(Issue.id),
                  func.count(Issue.id).filter(Issue.status.in_(FINISHED)),
                  func.count(Issue.id).filter(Issue.status == workflow.DONE),
                  func.count(Issue.id).filter(overdue)).select_from(Issue)  # fmt: skip
    stmt = query.apply(stmt.group_by(Issue.county_code, Issue.county_name))
    rows = [
        {
            "code": c,
            "name": n or c or "未定位",
            "total": t,
            "finished": f,
            "done": d,
            "overdue": o,
            "rate": f / t if t else 0,
        }
        for c, n, t, f, d, o in db.get_session().execute(stmt)
    ]
    return sorted(rows, key=lambda r: r["code"] or "")


def publicity_window(start: date | None, day: date) -> dict:
    """Return a 公示 period's start, last day and state on ``day`` (open/ended/upcoming/unknown).

    The period runs from the 公示 sign-off date for ``PUBLICITY_DAYS`` days, the same rule that
    lets the issue move on to 申请 (``workflow.publicity_end``).
    """
    if start is None:
        return {"start": None, "last": None, "state": "unknown"}
    end = workflow.publicity_end(start)
    state = "upcoming" if day < start else "open" if day < end else "ended"
    return {"start": start, "last": end - timedelta(days=1), "state": state}


def publicity_notices(day: date, number: str | None = None) -> list[dict]:
    """Return the public issues now in 公示 (or just ``number``), each with its period's state."""
    latest = (select(SignOff.issue_id, func.max(SignOff.date).label("start"))
              .where(SignOff.stage == "公示").group_by(SignOff.issue_id).subquery())  # fmt: skip
    stmt = (select(Issue.number, Issue.title, Issue.county_name, latest.c.start)
            .outerjoin(latest, latest.c.issue_id == Issue.id)
            .where(Scope.public().clause(), Issue.status == "公示")
            .order_by(Issue.number))  # fmt: skip
    if number is not None:
        stmt = stmt.where(Issue.number == number)
    notices = []
    for row in db.get_session().execute(stmt):
        window = publicity_window(row.start, day)
        notices.append({"number": row.number, "title": row.title, "county_name": row.county_name,
                        **window, "label": PUBLICITY_STATES[window["state"]]})  # fmt: skip
    return notices


def refuse_reason(number: str, notice: dict) -> str | None:
    """Return why an objection to an issue in 公示 is refused now (Chinese), or None when open."""
    state = notice["state"]
    if state == "open":
        return None
    if state == "ended":
        return (f"问题 {number} 的公示期已于 {notice['last']} 届满（{notice['start']} 起公示），"
                "不再受理异议")  # fmt: skip
    if state == "upcoming":
        return f"问题 {number} 的公示自 {notice['start']} 开始，届时方可提交异议"
    return f"问题 {number} 未登记公示起始日期，暂不能在线提交异议，请与市督察办联系"


def public_map(filters: dict, counties: list[dict]) -> tuple[dict, dict]:
    """Build the public map (boundaries, county choropleth, issue layer); return parts and legend.

    The issue layer loads ``/api/public/issues?f=map`` with the page's filters (every page of it,
    not only the table's), so the map shows exactly the public issues the API lists.
    """
    shapes = maps.status_shapes(workflow.STATUSES)
    options = {
        "dataUrl": url_for("public.issues", f="map", **filters),
        "itemUrl": url_for("public.issue", number="__NUMBER__"),
        "detailUrl": url_for("public.issue_page", number="__NUMBER__"),
        "statusShapes": shapes,
        "ragColors": maps.RAG_COLORS,
        "countElement": "drawn-count",
        "popupFields": POPUP_FIELDS,
    }
    stats = {c["code"]: c for c in counties if c["code"]}
    m = maps.build_issue_map(layers=get_layers(), issue_options=options, county_stats=stats)
    return maps.map_parts(m), maps.legend_items(shapes)


@bp.route("/public")
def index():
    """The public map, progress per county and per issue, and the 公示 notices."""
    query = public_query(request.args)
    rows = fetch_public(query)
    day = today()
    args = MultiDict((k, v) for k, v in request.args.items(multi=True) if k not in DISPLAY_ARGS)
    filters = args.to_dict(flat=False)
    counties = county_progress(query)
    map_filters = {k: v for k, v in filters.items() if k not in PAGING_ARGS}
    parts, legend = public_map(map_filters, counties)
    layers = get_layers()
    illustrative = any(
        lay is not None and not lay.info.authoritative
        for lay in (layers.counties, layers.townships, layers.protected_areas)
    )
    return render_template(
        "public/index.html", counties=counties, notices=publicity_notices(day),
        issues=[public_record(r, day) for r in rows], total=query.count(db.get_session()),
        query=query, labels=LABELS, csv_url=url_for("public.issues_csv", **filters),
        api_url=url_for("public.issues", **filters), map=parts, legend=legend,
        illustrative=illustrative, sent=request.args.get("sent"))  # fmt: skip


def public_feature(row, day) -> dict:
    """Return one public row as a GeoJSON Feature (point generalised when sensitive)."""
    point = public_point(row)
    geometry = {"type": "Point", "coordinates": list(point)} if point else None
    return {"type": "Feature", "id": row.number, "geometry": geometry,
            "properties": public_record(row, day)}  # fmt: skip


def map_points(rows, day) -> dict:
    """Return public rows in the column form ``static/map.js`` draws (public points, no shapes).

    Lines and polygons are not published, so ``shapes`` stays empty and every issue is its
    published point, generalised for sensitive issues exactly as in the GeoJSON.
    """
    amber = current_app.config.get("AMBER_DAYS", 30)
    statuses = {s: i for i, s in enumerate(workflow.STATUSES)}
    rags = {r: i for i, r in enumerate(workflow.RAGS)}
    body = {"number": [], "status": [], "rag": [], "lon": [], "lat": [], "shapes": []}
    for row in rows:
        lon, lat = public_point(row) or (None, None)
        body["number"].append(row.number)
        body["status"].append(statuses.setdefault(row.status, len(statuses)))
        body["rag"].append(rags[workflow.rag(row.status, row.due_date, day, amber)])
        body["lon"].append(lon)
        body["lat"].append(lat)
    return {"codes": {"status": list(statuses), "rag": list(workflow.RAGS)}, **body}


def next_links(args: MultiDict, query: IssueQuery, matched: int, fmt: str) -> list[dict]:
    """Return the ``next`` link of a public page when more issues follow (page-number paging)."""
    if query.page * query.limit >= matched:
        return []
    rest = {k: v for k, v in args.to_dict(flat=False).items() if k not in PAGING_ARGS}
    extra = {} if fmt == "json" else {"f": fmt}
    href = url_for("public.issues", **rest, **extra, page=query.page + 1, limit=query.limit)
    return [{"rel": "next", "title": "next", "href": href}]


@bp.route("/api/public/issues")
def issues():
    """GeoJSON of public issues with public fields only (sensitive ones generalised).

    ``f=map`` returns the same issues in the map's column form, 10,000 a page unless ``limit``
    says otherwise; both forms carry a ``next`` link while more pages follow.
    """
    args = MultiDict(request.args)
    fmt = args.pop("f", "json") or "json"
    if fmt not in FORMATS:
        abort(400, f"参数 f 只能是 {'、'.join(FORMATS)}，收到“{fmt}”")
    query = public_query(args)
    if fmt == "map" and not args.get("limit"):
        query = replace(query, limit=MAX_LIMIT)
    day = today()
    rows = fetch_public(query)
    matched = query.count(db.get_session())
    if fmt == "map":
        body, mimetype = {"type": "IssuePoints", **map_points(rows, day)}, "application/json"
    else:
        features = [public_feature(row, day) for row in rows]
        body, mimetype = {"type": "FeatureCollection", "features": features}, "application/geo+json"
    body |= {"numberMatched": matched, "numberReturned": len(rows),
             "links": next_links(args, query, matched, fmt)}  # fmt: skip
    return json_response(body, mimetype=mimetype)


def fetch_one(number: str):
    """Return the public row of one issue, or abort 404 (hidden issues look absent)."""
    stmt = _select_public(public_query(MultiDict())).where(Issue.number == number)
    row = db.get_session().execute(stmt).first()
    if row is None:
        abort(404, f"公开问题“{number}”不存在")
    return row


@bp.route("/api/public/issues/<number>")
def issue(number):
    """One public issue as a GeoJSON Feature (what the map's popups read)."""
    return json_response(public_feature(fetch_one(number), today()))


@bp.route("/public/issues/<number>")
def issue_page(number):
    """One public issue's public fields, and its 公示 notice with the objection form while open."""
    row = fetch_one(number)
    day = today()
    notices = publicity_notices(day, number=number)
    return render_template("public/issue.html", issue=public_record(row, day), labels=LABELS,
                           fields=PUBLIC_FIELDS, rag_labels=workflow.RAG_LABELS,
                           notice=notices[0] if notices else None,
                           generalised=bool(row.sensitive),
                           located=public_point(row) is not None)  # fmt: skip


@bp.route("/public/issues.csv")
def issues_csv():
    """The public issues of the same query as CSV (UTF-8 with BOM; formula cells neutralised)."""
    query = public_query(request.args)
    day = today()
    names = (*PUBLIC_FIELDS, "rag", "generalised")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([LABELS.get(n, "坐标已模糊") for n in names] + ["经度", "纬度"])
    for row in fetch_public(query, paged=False):
        record = public_record(row, day)
        point = public_point(row) or ("", "")
        writer.writerow([neutralise_cell(record[n]) for n in names] + list(point))
    return Response(
        "\ufeff" + buf.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=public-issues.csv"},
    )


def client_hash() -> str:
    """Return a salted hash of the client address (the address itself is not stored)."""
    salt = current_app.config["SECRET_KEY"]
    return hashlib.sha256(f"{salt}|{request.remote_addr}".encode()).hexdigest()


def _check_rate() -> None:
    """Abort 429 when this client sent ``OBJECTION_MAX_PER_HOUR`` objections in the last hour."""
    since = utcnow() - timedelta(hours=1)
    count = db.get_session().scalar(select(func.count(Objection.id)).where(
        Objection.client_hash == client_hash(), Objection.created_at >= since))  # fmt: skip
    limit = current_app.config.get("OBJECTION_MAX_PER_HOUR", 5)
    if count >= limit:
        abort(429, f"提交过于频繁：每小时最多 {limit} 条异议，请稍后再试")


@bp.route("/public/issues/<number>/objection", methods=["POST"])
def object_to(number):
    """Store an objection to an issue whose 公示 period is open (anonymous; CSRF; rate-limited)."""
    session = db.get_session()
    issue = session.scalar(select(Issue).where(Issue.number == number, Issue.public.is_(True)))
    if issue is None:
        abort(404, f"公开问题“{number}”不存在")
    if issue.status != "公示":
        abort(400, f"问题 {number} 当前不在公示期（状态：{issue.status}），不能提交异议")
    start = workflow.latest_stage_date(issue, "公示")
    reason = refuse_reason(number, publicity_window(start, today()))
    if reason is not None:
        abort(400, reason)
    text = (request.form.get("text") or "").strip()
    if not text or len(text) > OBJECTION_MAX_CHARS:
        abort(400, f"异议内容（text）须为 1 到 {OBJECTION_MAX_CHARS} 字，收到 {len(text)} 字")
    name = (request.form.get("name") or "").strip()[:60] or None
    contact = (request.form.get("contact") or "").strip()[:120] or None
    _check_rate()
    with db.transaction(session):
        obj = Objection(issue_number=number, text=text, name=name, contact=contact,
                        client_hash=client_hash(), state="new")  # fmt: skip
        session.add(obj)
        session.flush()
        # logged without an issue number: the issue's own event chain (and its dates) stays as is
        after = {"issue_ref": number, "objection": obj.id, "chars": len(text)}
        record_event(session, "objection.submitted", actor="public", effective=utcnow().date(),
                     after=after)  # fmt: skip
    return redirect(url_for("public.index", sent=number) + "#notices")
