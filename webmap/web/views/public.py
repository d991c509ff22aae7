"""Public disclosure without login: ``/public`` (map, progress, 公示 notices), its data, objections.

The public collection (``webmap.ledger.collections.PUBLIC``) is what leaves the server here:
issues marked public, only their public fields, sensitive places generalised to their township
(or county). ``/api/public/issues`` is served by the same items handler as the staff API
(``webmap.web.items``); the per-county progress comes from ``webmap.ledger.figures``, as on the
dashboard and in the briefing pack, and ``as_of`` shows the progress as it stood on a past day.
Objections are taken only while the 公示 period is open (``webmap.ledger.publicity``); they are
stored for the city office and rate-limited per client address (salted hash, counted in the
database so restarts do not reset it).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import func, select

from webmap.ledger import collections, escalation, figures, workflow
from webmap.ledger.collections import PUBLIC, PUBLIC_FIELDS
from webmap.ledger.db import transaction
from webmap.ledger.events import record_event
from webmap.ledger.models import Issue, Objection, utcnow
from webmap.ledger.publicity import (
    PUBLICITY_STATUS,
    publicity_notices,
    publicity_window,
    refuse_reason,
)
from webmap.ledger.vocabulary import FIELD_LABELS, RAG_LABELS
from webmap.render.captions import illustrative, layer_lines
from webmap.render.features import items_csv
from webmap.web.args import parse_int, split_args
from webmap.web.context import get_layers, get_session, ledger_context, today
from webmap.web.items import collection_query, grid_response, item_response, items_response
from webmap.web.mapview import issue_map

bp = Blueprint("public", __name__)

PAGE_ARGS = ("page", "limit", "sent")  # the table's paging and the "objection received" note
TABLE_LIMIT, TABLE_MAX = 100, 1000  # rows of the issue table per page (``limit``)
OBJECTION_MAX_CHARS = 2000
POPUP_FIELDS = [[f, FIELD_LABELS[f]] for f in ("county_name", "township_name", "lead_unit",
                                               "due_date", "status", "progress",
                                               "source_type")]  # fmt: skip


@bp.route("/public")
def index():
    """The public map, progress per county and per issue, and the 公示 notices."""
    filters, paging = split_args(request.args, PAGE_ARGS)
    query = collection_query(PUBLIC, filters)
    session, ctx = get_session(), ledger_context()
    page = parse_int(paging, "page", 1, 1, 1_000_000)
    limit = parse_int(paging, "limit", TABLE_LIMIT, 1, TABLE_MAX)
    items, more = collections.fetch_items(session, PUBLIC, query, ctx, limit=limit,
                                          offset=(page - 1) * limit)  # fmt: skip
    counted = figures.figures(session, query)
    shown = filters.to_dict(flat=False)
    parts, legend = issue_map(
        data_url=url_for("public.issues", f="map", **shown),
        item_url=url_for("public.issue", number="__NUMBER__"),
        detail_url=url_for("public.issue_page", number="__NUMBER__"),
        popup_fields=POPUP_FIELDS, counties=counted.counties(), focus=query.county,
        view_points=False)  # fmt: skip
    counties = sorted(counted.counties(), key=lambda c: (c.code == "", c.code))
    return render_template(
        "public/index.html", counties=counties, city=counted.total, day=counted.day,
        as_of=query.as_of, notices=publicity_notices(session, ctx.today, ctx.publicity_days),
        issues=[i.properties for i in items], total=counted.total.total, page=page, more=more,
        labels=FIELD_LABELS, csv_url=url_for("public.issues_csv", **shown),
        api_url=url_for("public.issues", **shown), map=parts, legend=legend,
        illustrative=illustrative(get_layers()), layer_lines=layer_lines(get_layers()),
        sent=paging.get("sent"),
        reprimands=escalation.public_notices(session, counted.day))  # fmt: skip


@bp.route("/api/public/issues")
def issues():
    """A page of public issues (GeoJSON with public fields only, or ``f=map`` columns)."""
    return items_response(PUBLIC, "public.issues")


@bp.route("/api/public/issues/grid")
def issues_grid():
    """Public issues counted per grid cell; sensitive ones at their published point."""
    return grid_response(PUBLIC)


@bp.route("/api/public/issues/<number>")
def issue(number):
    """One public issue as a GeoJSON Feature (what the map's popups read)."""
    return item_response(PUBLIC, number)


def _public_item(number: str):
    """Return one public issue's item, or abort 404 (hidden issues look absent)."""
    query = collection_query(PUBLIC, split_args(request.args, PAGE_ARGS)[0])
    item = collections.fetch_item(get_session(), PUBLIC, query, ledger_context(), number)
    if item is None:
        abort(404, PUBLIC.missing.format(number=number))
    return item


@bp.route("/public/issues/<number>")
def issue_page(number):
    """One public issue's public fields, and its 公示 notice with the objection form while open."""
    item = _public_item(number)
    ctx = ledger_context()
    notices = publicity_notices(get_session(), ctx.today, ctx.publicity_days, number=number)
    return render_template("public/issue.html", issue=item.properties, labels=FIELD_LABELS,
                           fields=PUBLIC_FIELDS, rag_labels=RAG_LABELS,
                           notice=notices[0] if notices else None,
                           generalised=item.properties["generalised"],
                           located=item.geometry is not None,
                           reprimands=escalation.public_notices(get_session(), ctx.today,
                                                                number))  # fmt: skip


@bp.route("/public/issues.csv")
def issues_csv():
    """The public issues of the same query as CSV (UTF-8 with BOM; formula cells neutralised)."""
    filters, _ = split_args(request.args, PAGE_ARGS)
    query = collection_query(PUBLIC, filters)
    items, _ = collections.fetch_items(get_session(), PUBLIC, query, ledger_context(), limit=None)
    names = PUBLIC.defaults
    download = {"Content-Disposition": "attachment; filename=public-issues.csv"}
    return Response(items_csv(items, names, FIELD_LABELS), mimetype="text/csv", headers=download)


def client_hash() -> str:
    """Return a salted hash of the client address (the address itself is not stored)."""
    salt = current_app.config["SECRET_KEY"]
    return hashlib.sha256(f"{salt}|{request.remote_addr}".encode()).hexdigest()


def _check_rate() -> None:
    """Abort 429 when this client sent ``OBJECTION_MAX_PER_HOUR`` objections in the last hour."""
    since = utcnow() - timedelta(hours=1)
    count = get_session().scalar(select(func.count(Objection.id)).where(
        Objection.client_hash == client_hash(), Objection.created_at >= since))  # fmt: skip
    limit = current_app.config["OBJECTION_MAX_PER_HOUR"]
    if count >= limit:
        oldest = get_session().scalar(select(func.min(Objection.created_at)).where(
            Objection.client_hash == client_hash(), Objection.created_at >= since))  # fmt: skip
        g.retry_after = max(1, int((oldest - since).total_seconds()) + 1)  # sent as Retry-After
        abort(429, f"提交过于频繁：每小时最多 {limit} 条异议，请稍后再试")


@bp.route("/public/issues/<number>/objection", methods=["POST"])
def object_to(number):
    """Store an objection to an issue whose 公示 period is open (anonymous; CSRF; rate-limited)."""
    session = get_session()
    issue = session.scalar(select(Issue).where(Issue.number == number, Issue.public.is_(True)))
    if issue is None:
        abort(404, PUBLIC.missing.format(number=number))
    if issue.status != PUBLICITY_STATUS:
        abort(400, f"问题 {number} 当前不在公示期（状态：{issue.status}），不能提交异议")
    start = workflow.latest_stage_date(issue, PUBLICITY_STATUS)
    reason = refuse_reason(number, publicity_window(start, today(),
                                                    ledger_context().publicity_days))  # fmt: skip
    if reason is not None:
        abort(400, reason)
    text = (request.form.get("text") or "").strip()
    if not text or len(text) > OBJECTION_MAX_CHARS:
        abort(400, f"异议内容（text）须为 1 到 {OBJECTION_MAX_CHARS} 字，收到 {len(text)} 字")
    name = (request.form.get("name") or "").strip()[:60] or None
    contact = (request.form.get("contact") or "").strip()[:120] or None
    _check_rate()
    with transaction(session):
        obj = Objection(issue_number=number, text=text, name=name, contact=contact,
                        client_hash=client_hash(), state="new")  # fmt: skip
        session.add(obj)
        session.flush()
        # logged without an issue number: the issue's own event chain (and its dates) stays as is
        after = {"issue_ref": number, "objection": obj.id, "chars": len(text)}
        record_event(session, "objection.submitted", actor="public", effective=utcnow().date(),
                     after=after)  # fmt: skip
    return redirect(url_for("public.index", sent=number) + "#notices")
