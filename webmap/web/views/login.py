"""``/login`` and ``/logout``: starting and ending a session (rate-limited, logged)."""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from webmap.ledger.db import transaction
from webmap.ledger.events import record_event
from webmap.ledger.models import User
from webmap.web.auth import client_address, current_user, password_fingerprint
from webmap.web.context import get_session

bp = Blueprint("auth", __name__)

# a real hash to check against when the username is unknown, so timing does not tell
_DUMMY_HASH = generate_password_hash("yzmap-no-such-user")


def _safe_next(target: str | None) -> str:
    """Return a local path to go to after login (never another host)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("pages.index")


def _limits(username: str) -> dict[str, int]:
    """Return the limiter keys of this attempt with their configured limits."""
    cfg = current_app.config
    return {f"user:{username.lower()}": cfg["LOGIN_MAX_PER_USER"],
            f"ip:{client_address()}": cfg["LOGIN_MAX_PER_IP"]}  # fmt: skip


def _record(kind: str, actor: str, **after) -> None:
    """Append an account event (login, logout) to the audit log."""
    s = get_session()
    with transaction(s):
        record_event(s, kind, actor=actor, effective=date.today(), after=after or None)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form; on success start a fresh session and go to ``next``."""
    if request.method == "GET":
        return render_template("auth/login.html", next=request.args.get("next", ""))
    username = (request.form.get("username") or "").strip()
    password = request.form.get("password") or ""
    limiter = current_app.extensions["login_limiter"]
    limits = _limits(username)
    wait = limiter.retry_after(limits, current_app.config["LOGIN_WINDOW_SECONDS"])
    if wait:
        page = render_template("auth/login.html", next=request.form.get("next", ""),
                               username=username,
                               error=f"登录失败次数过多，请 {wait} 秒后再试")  # fmt: skip
        return page, 429, {"Retry-After": str(wait)}
    user = get_session().scalar(select(User).where(User.username == username))
    get_session().commit()  # end the read: SQLite's write lock is not held while hashing
    ok = check_password_hash(user.password_hash if user and user.password_hash else _DUMMY_HASH,
                             password)  # fmt: skip
    if not ok or user is None or user.disabled:
        limiter.fail(*limits)
        # the username stays in the form: most failures are a mistyped password
        return render_template("auth/login.html", next=request.form.get("next", ""),
                               username=username, error="用户名或密码错误"), 401  # fmt: skip
    limiter.clear(f"user:{username.lower()}")
    session.clear()  # a new session on login: no fixation
    session["uid"], session["pwv"] = user.id, password_fingerprint(user)
    session.permanent = True
    _record("auth.login", user.username, address=client_address())
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/logout", methods=["POST"])
def logout():
    """End the session (POST with a CSRF token, so a link cannot log anyone out)."""
    user = current_user()
    if user is not None:
        _record("auth.logout", user.username)
    session.clear()
    flash("已退出登录")
    return redirect(url_for("auth.login"))


logout.required_action = "session"  # any logged-in user may end their own session
