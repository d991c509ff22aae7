"""Accounts and sessions: the current user, the login wall and the actions views declare.

- Passwords are hashed with ``werkzeug.security`` (scrypt); a session stores the user id and a
  fingerprint of the password hash, so resetting a password or disabling an account ends every
  session of that user at its next request.
- Session cookies are HttpOnly and SameSite=Lax, and Secure when ``SESSION_COOKIE_SECURE`` is set
  or the request came over HTTPS (``SecureSessionInterface``).
- Login attempts are rate-limited per username and per client address (used by
  ``webmap.web.views.login``). The counters live in the database
  (``webmap.web.ratelimit.DatabaseLimiter``), so every worker process of ``yzmap serve
  --workers N`` and a restart see the same counts; ``LoginLimiter`` keeps them in memory for
  callers without a database. The client address is the forwarded one only when
  ``TRUSTED_PROXIES`` is set (``ProxyFix`` in ``webmap.web.app``).
- ``enforce_login`` runs before every request: public endpoints pass, everything else needs a
  logged-in, enabled user; the user's read scope is put in ``g.scope`` (where
  ``webmap.web.args.issue_query`` picks it up); a state-changing request must reach a view that
  declared its action with ``requires``, otherwise it is refused.
"""

from __future__ import annotations

import functools
import hashlib
import math
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
PUBLIC_BLUEPRINTS = {"public", "assets", "ogcapi", "health"}  # ogcapi checks its collections itself
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
        return self.retry_after(keys_limits, window) > 0

    def retry_after(self, keys_limits: dict[str, int], window: float) -> int:
        """Return seconds until no key is at its limit (0 when none is blocked now)."""
        now = time.monotonic()
        with self._lock:
            waits = [hits[-n] + window - now for k, n in keys_limits.items()
                     if len(hits := self._recent(k, window, now)) >= n]  # fmt: skip
        return max(1, math.ceil(max(waits))) if waits else 0

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
    """Return the client's address (the forwarded one only behind ``TRUSTED_PROXIES``)."""
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


def _token_credentials() -> tuple[str | None, str] | None:
    """Return (username or None, token) from ``Authorization: Bearer`` or HTTP Basic, else None."""
    auth = request.authorization
    if auth is None:
        return None
    if auth.type == "bearer" and auth.token:
        return None, auth.token
    if auth.type == "basic" and auth.password:
        return auth.username or "", auth.password
    return None


def token_user() -> User | None:
    """Return the user a personal access token authenticates (``webmap.ledger.tokens``), or None.

    Failed tokens count against the client address in the login limiter; good ones are limited
    to ``TOKEN_MAX_PER_MINUTE`` requests each (429 beyond). A read-only token is refused on any
    state-changing request, and a token never replaces the CSRF check of the HTML forms.
    """
    from webmap.ledger import tokens

    creds = _token_credentials()
    if creds is None:
        return None
    config, address = current_app.config, client_address()
    limiter = current_app.extensions["login_limiter"]
    ip_key = f"ip:{address}"
    window = config["LOGIN_WINDOW_SECONDS"]
    wait = limiter.retry_after({ip_key: config["LOGIN_MAX_PER_IP"]}, window)
    if wait:
        g.retry_after = wait  # the error handler's Retry-After
        abort(429, "登录失败次数过多，请稍后再试")
    session = get_session()
    found = tokens.check_token(session, creds[1], today=today(), username=creds[0])
    if found is None:
        limiter.fail(ip_key)
        return None
    token, user = found
    uses = current_app.extensions["token_limiter"]
    wait = uses.retry_after({f"token:{token.id}": config["TOKEN_MAX_PER_MINUTE"]}, 60)
    if wait:
        g.retry_after = wait
        abort(429, "该访问令牌请求过于频繁，请稍后再试")
    uses.fail(f"token:{token.id}")
    if request.method in STATE_CHANGING and not token.write:
        abort(403, "只读访问令牌不能修改数据")
    tokens.record_use(session, token, user, address=address, path=request.path, today=today())
    session.commit()
    g.token = token
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
    if user is None and request.authorization is not None:
        g.user = user = token_user()
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
    from webmap.web.ratelimit import DatabaseLimiter

    app.extensions["login_limiter"] = DatabaseLimiter(app)
    app.extensions["token_limiter"] = LoginLimiter()  # per-token request counts, in memory
    app.before_request(enforce_login)
    app.context_processor(inject_user)
