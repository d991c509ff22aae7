"""``/inbox``: the signed-in user's reminders (newest first), marking them read, and the count
of unread ones that the navigation shows on every page."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from sqlalchemy import func, select

from webmap.ledger.db import transaction
from webmap.ledger.models import Notice, NoticeRecipient, utcnow
from webmap.ledger.reminders import unread_count
from webmap.ledger.vocabulary import DELIVERY_STATE_LABELS, NOTICE_KINDS, RECIPIENT_ROLES
from webmap.web.auth import current_user, requires
from webmap.web.context import get_session

bp = Blueprint("inbox", __name__)

PAGE_SIZE = 100


@bp.app_context_processor
def inject_unread() -> dict:
    """Give every template the current user's unread notice count (0 when anonymous)."""

    def unread() -> int:
        """Count lazily: only pages that draw the navigation pay for it."""
        user = current_user()
        return unread_count(get_session(), user.username) if user is not None else 0

    return {"unread_notices": unread}


@bp.route("/inbox")
@requires("notice.read")
def inbox():
    """The user's notices, unread first within each day, with a link to each issue."""
    show = request.args.get("show") or "all"
    if show not in ("all", "unread"):
        abort(400, f"参数 show 只能是 all 或 unread，收到“{show}”")
    me = current_user().username
    stmt = (select(NoticeRecipient, Notice).join(Notice, Notice.id == NoticeRecipient.notice_id)
            .where(NoticeRecipient.username == me)
            .order_by(Notice.day.desc(), NoticeRecipient.read_at.is_not(None), Notice.id.desc())
            .limit(PAGE_SIZE))  # fmt: skip
    if show == "unread":
        stmt = stmt.where(NoticeRecipient.read_at.is_(None))
    session = get_session()
    rows = session.execute(stmt).all()
    total = session.scalar(select(func.count(NoticeRecipient.id))
                           .where(NoticeRecipient.username == me))  # fmt: skip
    return render_template("inbox/index.html", rows=rows, show=show, total=total,
                           kinds=NOTICE_KINDS, roles=RECIPIENT_ROLES,
                           delivery_states=DELIVERY_STATE_LABELS)  # fmt: skip


def _mine(recipient_id: int) -> NoticeRecipient:
    """Return one of the current user's inbox rows, or abort 404."""
    row = get_session().get(NoticeRecipient, recipient_id)
    if row is None or row.username != current_user().username:
        abort(404, f"提醒 {recipient_id} 不存在")
    return row


@bp.route("/inbox/<int:recipient_id>/read", methods=["POST"])
@requires("notice.read")
def mark_read(recipient_id):
    """Mark one notice read; ``open=1`` goes on to its issue page."""
    row = _mine(recipient_id)
    with transaction(get_session()):
        row.read_at = row.read_at or utcnow()
    if request.form.get("open") == "1" and row.notice.issue_number:
        return redirect(url_for("pages.issue_detail", number=row.notice.issue_number))
    return redirect(url_for("inbox.inbox"))


@bp.route("/inbox/read-all", methods=["POST"])
@requires("notice.read")
def mark_all_read():
    """Mark every unread notice of the user read."""
    session = get_session()
    rows = session.scalars(select(NoticeRecipient).where(
        NoticeRecipient.username == current_user().username,
        NoticeRecipient.read_at.is_(None))).all()  # fmt: skip
    with transaction(session):
        now = utcnow()
        for row in rows:
            row.read_at = now
    return redirect(url_for("inbox.inbox"))
