"""Accounts and sessions: the current user, the login wall and the actions views declare.

- Passwords are hashed with ``werkzeug.security`` (scrypt); a session stores the user id and a
  fingerprint of the password hash, so resetting a password or disabling an account ends every
  session of that user at its next request.
- Session cookies are HttpOnly and SameSite=Lax, and Secure when ``SESSION_COOKIE_SECURE`` is set
  or the request came over HTTPS (``SecureSessionInterface``).
- Login attempts are rate-limited per username and per client address (``LoginLimiter``, used by
  ``webmap.web.views.login``). The counters live in this process's memory: ``yzmap serve`` runs
  one waitress process, so that is enough; several processes would each count on their own.
- ``enforce_login`` runs before every request: public endpoints pass, everything else needs a
  logged-in, enabled user; the user's read scope is put in ``g.scope`` (where
  ``webmap.web.args.issue_query`` picks it up); a state-changing request must reach a view that
  declared its action with ``requires``, otherwise it is refused.
"""

from __future__ import annotations

import functools
import hashlib
import threading
import time
from collections import deque

from flask import Flask, abort, current_app, g, jsonify, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from webmap.ledger.access import ACTIONS, can, scope_for
from webmap.ledger.models import Issue, User
from webmap.ledger.query import IssueQuery
from webmap.web.context import get_session, today

STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
# endpoints anyone may reach; blueprints listed here are public as a whole
PUBLIC_ENDPOINTS = {"auth.login", "static"}
PUBLIC_BLUEPRINTS = {"public", "assets"}
MIN_PASSWORD = 8


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
    user = get_session().get(User, uid)
    if user is None or user.disabled or session.get("pwv") != password_fingerprint(user):
        session.clear()
        return None
    return user


def load_scoped_issue(number: str) -> Issue:
    """Return an issue through the current user's scope, or abort 404 when outside it."""
    query = IssueQuery(scope=g.get("scope") or scope_for(current_user()), today=today())
    issue = get_session().scalars(query.apply(select(Issue).where(Issue.number == number))).first()
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


def requires(action: str):
    """Declare the action a view performs; ``enforce_login`` checks it before the view runs.

    For views with a ``number`` URL argument the issue is loaded through the user's scope (404
    outside it) and checked with ``can(user, action, issue)`` (403 when refused); the view finds
    it in ``g.issue``.
    """

    def decorate(view):
        """Attach the action to the view function."""

        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            """Check the action, then run the view."""
            user = current_user()
            g.issue = load_scoped_issue(kwargs["number"]) if "number" in kwargs else None
            to_status = request.form.get("to_status") if action == "issue.transition" else None
            if not can(user, action, g.issue, to_status=to_status):
                abort(403, f"当前账号无权执行“{ACTIONS[action]}”")
            return view(*args, **kwargs)

        wrapped.required_action = action
        return wrapped

    return decorate


# state-changing endpoints of other blueprints that do not decorate their views
BLUEPRINT_ACTIONS = {"overlap": "layers.manage"}


def action_of(view, endpoint: str | None = None) -> str | None:
    """Return the action a view declared with ``requires`` (or its blueprint's), or None."""
    declared = getattr(view, "required_action", None)
    if declared is None and endpoint:
        return BLUEPRINT_ACTIONS.get(endpoint.split(".")[0])
    return declared


def inject_user() -> dict:
    """Make ``current_user`` and ``can`` available to every template."""
    return {"current_user": current_user(), "can": can}


def init_app(app: Flask) -> None:
    """Install the session interface, the login limiter and the login wall."""
    app.session_interface = SecureSessionInterface()
    app.extensions["login_limiter"] = LoginLimiter()
    app.before_request(enforce_login)
    app.context_processor(inject_user)
