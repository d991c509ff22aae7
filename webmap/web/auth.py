"""Accounts and sessions: login and logout, the current user, and the login wall.

- Passwords are hashed with ``werkzeug.security`` (scrypt); a session stores the user id and a
  fingerprint of the password hash, so resetting a password or disabling an account ends every
  session of that user at its next request.
- Session cookies are HttpOnly and SameSite=Lax, and Secure when ``SESSION_COOKIE_SECURE`` is set
  or the request came over HTTPS (``SecureSessionInterface``).
- Login attempts are rate-limited per username and per client address. The counters live in this
  process's memory (``LoginLimiter``): ``yzmap serve`` runs one waitress process, so that is
  enough; several processes would each count on their own, and a restart forgets them.
- ``enforce_login`` runs before every request: public endpoints pass, everything else needs a
  logged-in, enabled user; the user's read scope is put in ``g.scope`` (where ``api.issue_query``
  picks it up); a state-changing request must reach a view that declared its action with
  ``permissions.requires``, otherwise it is refused.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from datetime import date, timedelta

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from webmap.ledger import db
from webmap.ledger.access import ACTIONS, action_of, can, scope_for
from webmap.ledger.models import Issue, User

bp = Blueprint("auth", __name__)

STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
# endpoints anyone may reach; blueprints listed here are public as a whole
PUBLIC_ENDPOINTS = {"auth.login", "static"}
PUBLIC_BLUEPRINTS = {"public", "assets"}
MIN_PASSWORD = 8
# a real hash to check against when the username is unknown, so timing does not tell
_DUMMY_HASH = generate_password_hash("yzmap-no-such-user")


class SecureSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, marked Secure also when the request itself is HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """Return True when configured, or when serving this request over HTTPS."""
        if app.config.get("SESSION_COOKIE_SECURE"):
            return True
        return bool(request) and request.is_secure


class LoginLimiter:
    """Failed-login counters per key in a sliding window (in memory, thread-safe)."""

    def __init__(self):
        """Start with no failures recorded."""
        self._hits: dict[str, deque] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, window: float, now: float) -> deque:
        """Return the key's failure times inside the window (older ones dropped)."""
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - window:
            hits.popleft()
        return hits

    def blocked(self, keys_limits: dict[str, int], window: float) -> bool:
        """Return True when any key has reached its limit within the window."""
        now = time.monotonic()
        with self._lock:
            return any(len(self._recent(k, window, now)) >= n for k, n in keys_limits.items())

    def fail(self, *keys: str) -> None:
        """Record one failure against each key."""
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._hits.setdefault(key, deque()).append(now)

    def clear(self, key: str) -> None:
        """Forget a key's failures (after a successful login)."""
        with self._lock:
            self._hits.pop(key, None)


def hash_password(password: str) -> str:
    """Return a salted hash of a password; refuse passwords shorter than ``MIN_PASSWORD``."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"密码至少 {MIN_PASSWORD} 位")
    return generate_password_hash(password)


def password_fingerprint(user: User) -> str:
    """Return a short digest of the user's password hash (changes when the password does)."""
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def client_address() -> str:
    """Return the client's address as seen by this server (no proxy headers are trusted)."""
    return request.remote_addr or "unknown"


def current_user() -> User | None:
    """Return the logged-in user of this request, or None for anonymous requests."""
    if "user" not in g:
        g.user = _load_session_user()
    return g.user


def _load_session_user() -> User | None:
    """Return the session's user if it exists, is enabled and its password is unchanged."""
    uid = session.get("uid")
    if uid is None:
        return None
    user = db.get_session().get(User, uid)
    if user is None or user.disabled or session.get("pwv") != password_fingerprint(user):
        session.clear()
        return None
    return user


def load_scoped_issue(number: str) -> Issue:
    """Return an issue through the current user's scope, or abort 404 when outside it."""
    from webmap.ledger.query import IssueQuery

    query = IssueQuery(scope=g.get("scope") or scope_for(current_user()))
    issue = (
        db.get_session().scalars(query.apply(select(Issue).where(Issue.number == number))).first()
    )
    if issue is None:
        abort(404, f"问题编号“{number}”不存在或无权查看")
    return issue


def _is_public(endpoint: str | None) -> bool:
    """Return True for endpoints anonymous users may reach."""
    if endpoint is None:  # unknown URL: let the 404 handler answer
        return True
    return endpoint in PUBLIC_ENDPOINTS or endpoint.split(".")[0] in PUBLIC_BLUEPRINTS


def _refuse_anonymous():
    """Answer an anonymous request for an internal resource: 401 for APIs, else the login page."""
    if request.path.startswith("/api/") or request.method in STATE_CHANGING:
        return jsonify({"ok": False, "status": 401, "error": "请先登录"}), 401
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def enforce_login():
    """Before each request: public endpoints pass; internal ones need an enabled user."""
    # load afresh: g outlives a request when a caller (a test, a CLI) holds the app context
    g.user = user = _load_session_user()
    g.scope = scope_for(user)
    if _is_public(request.endpoint):
        return None
    if user is None:
        return _refuse_anonymous()
    if request.method in STATE_CHANGING:
        view = current_app.view_functions.get(request.endpoint)
        action = action_of(view, request.endpoint)
        if action is None:
            # a new endpoint that declared no action is refused until it does (fail closed)
            abort(403, "该操作未声明所需权限，已拒绝")
        if not can(user, action):
            abort(403, f"当前账号无权执行“{ACTIONS[action]}”")
    return None


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
    from webmap.ledger.events import record_event

    s = db.get_session()
    with db.transaction(s):
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
    if limiter.blocked(limits, current_app.config["LOGIN_WINDOW_SECONDS"]):
        return render_template("auth/login.html", next=request.form.get("next", ""),
                               error="登录失败次数过多，请稍后再试"), 429  # fmt: skip
    user = db.get_session().scalar(select(User).where(User.username == username))
    ok = check_password_hash(user.password_hash if user and user.password_hash else _DUMMY_HASH,
                             password)  # fmt: skip
    if not ok or user is None or user.disabled:
        limiter.fail(*limits)
        return render_template("auth/login.html", next=request.form.get("next", ""),
                               error="用户名或密码错误"), 401  # fmt: skip
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


def inject_user() -> dict:
    """Make ``current_user`` and ``can`` available to every template."""
    return {"current_user": current_user(), "can": can}


def init_app(app: Flask) -> None:
    """Set cookie and limiter defaults, the session interface and the login wall."""
    for key, value in {
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "yzmap_session",
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=8),
        "LOGIN_MAX_PER_USER": 5,
        "LOGIN_MAX_PER_IP": 30,
        "LOGIN_WINDOW_SECONDS": 900,
    }.items():
        # keep what the deployment configured; replace Flask's own (weaker) defaults
        if key not in app.config or app.config[key] == app.default_config.get(key):
            app.config[key] = value
    app.session_interface = SecureSessionInterface()
    app.extensions["login_limiter"] = LoginLimiter()
    app.register_blueprint(bp)
    app.before_request(enforce_login)
    app.context_processor(inject_user)
