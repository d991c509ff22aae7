"""``/tokens``: a signed-in user creates and revokes their own access tokens (for QGIS/GDAL)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, redirect, render_template, request, url_for

from webmap.ledger import tokens
from webmap.ledger.db import transaction
from webmap.web.auth import current_user, requires
from webmap.web.context import get_session, today

bp = Blueprint("tokens", __name__)


def _actor() -> str:
    """Return the audit actor of a web change."""
    return f"web:{current_user().username}"


@bp.route("/tokens")
@requires("session")
def index():
    """List the user's tokens and the form to create one."""
    rows = tokens.list_tokens(get_session(), current_user())
    return render_template("tokens/index.html", rows=rows, state=tokens.state, day=today(),
                           new_token=None)  # fmt: skip


@bp.route("/tokens", methods=["POST"])
@requires("session")
def create():
    """Create a read-only token for the signed-in user and show it once."""
    raw = (request.form.get("expires") or "").strip()
    try:
        expires = date.fromisoformat(raw) if raw else None
    except ValueError:
        abort(400, f"参数 expires 的值“{raw[:20]}”无效：应为 YYYY-MM-DD")
    session = get_session()
    try:
        with transaction(session):
            new = tokens.create_token(session, current_user(), name=request.form.get("name", ""),
                                      actor=_actor(), expires_on=expires, today=today())
    except tokens.TokenError as exc:
        abort(400, str(exc))
    rows = tokens.list_tokens(session, current_user())
    return render_template("tokens/index.html", rows=rows, state=tokens.state, day=today(),
                           new_token=new.text)  # fmt: skip


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@requires("session")
def revoke(token_id):
    """Revoke one of the signed-in user's tokens."""
    session = get_session()
    try:
        with transaction(session):
            tokens.revoke_token(session, token_id, actor=_actor(), user=current_user(),
                                today=today())  # fmt: skip
    except tokens.TokenError as exc:
        abort(404, str(exc))
    return redirect(url_for("tokens.index"))
