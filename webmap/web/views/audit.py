"""``/audit``: the append-only event log, filterable by user, issue and date (city office only);
``/objections``: objections the public raised during 公示, and marking them handled.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

from flask import Blueprint, abort, redirect, render_template, request, url_for
from sqlalchemy import Text, func, or_, select

from webmap.ledger.db import transaction
from webmap.ledger.events import record_event
from webmap.ledger.models import Event, Objection, utcnow
from webmap.ledger.vocabulary import EVENT_KIND_LABELS
from webmap.render.audit_view import describe
from webmap.render.captions import BEIJING
from webmap.web.auth import current_user, requires
from webmap.web.context import get_session
from webmap.web.forms import FormError, read_day

bp = Blueprint("audit", __name__)

PAGE_SIZE = 50


def _day(name: str) -> date | None:
    """Read a YYYY-MM-DD argument, or abort 400 naming it and its value."""
    try:
        return read_day(request.args, name, f"参数 {name} 的值")
    except FormError as exc:
        abort(400, exc.message)


def _start_of(day: date) -> datetime:
    """Return midnight of a Beijing day (what users pick), for ``recorded_at`` kept in UTC."""
    return datetime.combine(day, time.min, tzinfo=BEIJING)


def issue_condition(number: str):
    """Events of an issue: its own chain, plus events that refer to it (objections)."""
    ref = '"issue_ref": ' + json.dumps(number, ensure_ascii=False)
    like = "%" + ref.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
    return or_(Event.issue_number == number, Event.after.cast(Text).like(like, escape="\\"))


def audit_filters() -> tuple[dict, list]:
    """Return the filter values shown in the form and the SQL conditions they make."""
    values = {k: (request.args.get(k) or "").strip() for k in ("user", "issue", "kind")}
    since, until = _day("from"), _day("to")
    values |= {"from": since.isoformat() if since else "", "to": until.isoformat() if until else ""}
    conds = []
    if values["user"]:
        conds.append(Event.actor == values["user"])
    if values["issue"]:
        conds.append(issue_condition(values["issue"]))
    if values["kind"]:
        conds.append(Event.kind == values["kind"])
    if since:
        conds.append(Event.recorded_at >= _start_of(since))
    if until:
        conds.append(Event.recorded_at < _start_of(until + timedelta(days=1)))
    return values, conds


@bp.route("/audit")
@requires("audit.read")
def audit():
    """The event log, newest first, with who, when, what, before and after."""
    values, conds = audit_filters()
    page = request.args.get("page", "1")
    if not (page.isascii() and page.isdigit()) or len(page) > 100 or int(page) < 1:
        abort(400, f"参数 page 的值“{page}”不是正整数")
    session = get_session()
    total = session.scalar(select(func.count(Event.id)).where(*conds))
    page = min(int(page), max(1, -(-total // PAGE_SIZE)))  # past the end: the last page
    events = session.scalars(select(Event).where(*conds).order_by(Event.id.desc())
                             .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()  # fmt: skip
    actors = sorted(session.scalars(select(Event.actor).distinct()))
    kinds = sorted(session.scalars(select(Event.kind).distinct()),
                   key=lambda k: (k not in EVENT_KIND_LABELS, EVENT_KIND_LABELS.get(k, k)))
    lines = [(e, describe(e.kind, e.before, e.after)) for e in events]
    return render_template(
        "audit/index.html", lines=lines, total=total, values=values, actors=actors,
        kinds=[(k, EVENT_KIND_LABELS.get(k, f"其他（{k}）")) for k in kinds], page=page,
        pages=max(1, -(-total // PAGE_SIZE)), page_size=PAGE_SIZE,
    )  # fmt: skip


@bp.route("/objections")
@requires("objection.review")
def objections():
    """Objections from the public, newest first, with the submitter's contact."""
    state = request.args.get("state") or "new"
    if state not in ("new", "handled", "all"):
        abort(400, f"参数 state 只能是 new、handled 或 all，收到“{state}”")
    stmt = select(Objection).order_by(Objection.id.desc())
    if state != "all":
        stmt = stmt.where(Objection.state == state)
    rows = get_session().scalars(stmt).all()
    return render_template("audit/objections.html", objections=rows, state=state)


@bp.route("/objections/<int:objection_id>/handle", methods=["POST"])
@requires("objection.review")
def handle_objection(objection_id):
    """Mark an objection handled with the office's note (logged with before and after)."""
    session = get_session()
    obj = session.get(Objection, objection_id)
    if obj is None:
        abort(404, f"异议 {objection_id} 不存在")
    note = (request.form.get("note") or "").strip()
    if not note:
        abort(400, "处理意见（note）不能为空")
    before = {"state": obj.state, "handled_note": obj.handled_note}
    with transaction(session):
        obj.state, obj.handled_note, obj.handled_by = "handled", note, current_user().username
        record_event(session, "objection.handled", actor=current_user().username,
                     effective=utcnow().date(), before=before,
                     after={"issue_ref": obj.issue_number, "objection": obj.id,
                            "state": "handled", "handled_note": note})  # fmt: skip
    return redirect(url_for("audit.objections"))
