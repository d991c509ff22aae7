"""Public disclosure without login: ``/public``, ``/api/public/issues``, a CSV, objections in 公示.

Only issues marked public, and of them only ``PUBLIC_FIELDS``, leave the server here: internal
notes, descriptions, exact place text, measures, responsibility reasons, complainant details and
accountability internals are never selected. Issues marked sensitive are shown at the
representative point of their township (or of their county when no township polygon is loaded).
Filters are limited to public fields, so a free-text search cannot probe internal text.
Objections to an issue in its 公示 period are stored for the city office, rate-limited per
client address (salted hash, counted in the database so restarts do not reset it).
"""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import timedelta

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

from webmap import db, workflow
from webmap.api import json_response, today
from webmap.events import record_event
from webmap.layers import get_layers
from webmap.models import Issue, Objection, utcnow
from webmap.query import IssueQuery, QueryError, Scope
from webmap.security import neutralise_cell

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
OBJECTION_MAX_CHARS = 2000


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


def publicity_notices() -> list[dict]:
    """Return the public issues now in 公示, with the day the period ends."""
    session = db.get_session()
    issues = session.scalars(select(Issue).where(Issue.public.is_(True), Issue.status == "公示")
                             .order_by(Issue.number)).all()  # fmt: skip
    notices = []
    for issue in issues:
        start = workflow.latest_stage_date(issue, "公示")
        end = workflow.publicity_end(start) if start else None
        notices.append({"number": issue.number, "title": issue.title,
                        "county_name": issue.county_name, "start": start,
                        "end": end - timedelta(days=1) if end else None})  # fmt: skip
    return notices


@bp.route("/public")
def index():
    """Progress per county and per issue, and the 公示 notices with an objection form."""
    query = public_query(request.args)
    rows = fetch_public(query)
    day = today()
    filters = {k: v for k, v in request.args.items() if k not in DISPLAY_ARGS}
    return render_template(
        "public/index.html", counties=county_progress(query), notices=publicity_notices(),
        issues=[public_record(r, day) for r in rows], total=query.count(db.get_session()),
        query=query, labels=LABELS, csv_url=url_for("public.issues_csv", **filters),
        api_url=url_for("public.issues", **filters),
        sent=request.args.get("sent"))  # fmt: skip


@bp.route("/api/public/issues")
def issues():
    """GeoJSON of public issues with public fields only (sensitive ones generalised)."""
    query = public_query(request.args)
    day = today()
    features = []
    for row in fetch_public(query):
        point = public_point(row)
        geometry = {"type": "Point", "coordinates": list(point)} if point else None
        features.append({"type": "Feature", "id": row.number, "geometry": geometry,
                         "properties": public_record(row, day)})  # fmt: skip
    return json_response({"type": "FeatureCollection", "features": features,
                          "numberMatched": query.count(db.get_session()),
                          "numberReturned": len(features)})  # fmt: skip


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
    """Store an objection to an issue in 公示 (anonymous; CSRF-checked; rate-limited)."""
    session = db.get_session()
    issue = session.scalar(select(Issue).where(Issue.number == number, Issue.public.is_(True)))
    if issue is None:
        abort(404, f"公开问题“{number}”不存在")
    if issue.status != "公示":
        abort(400, f"问题 {number} 当前不在公示期（状态：{issue.status}），不能提交异议")
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
