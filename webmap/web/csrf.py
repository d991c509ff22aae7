"""CSRF protection for every state-changing request (synchroniser token in the session).

Each session holds one random token. Forms send it as the ``csrf_token`` field (templates call
``csrf_token()``, or ``csrf_field()`` for the whole hidden input); scripts and JSON clients send it
in the ``X-CSRFToken`` header (the page exposes it in ``<meta name="csrf-token">``). A POST, PUT,
PATCH or DELETE without the session's token is refused with 400 before any view runs, for
anonymous visitors (the public objection form) and logged-in users alike. There is no switch to
turn this off.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, abort, request, session
from markupsafe import Markup, escape

FIELD = "csrf_token"
HEADER = "X-CSRFToken"
STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")


def csrf_token() -> str:
    """Return the session's CSRF token, creating it on first use."""
    token = session.get(FIELD)
    if not token:
        token = session[FIELD] = secrets.token_urlsafe(32)
    return token


def csrf_field() -> Markup:
    """Return the hidden form input carrying the token."""
    return Markup(f'<input type="hidden" name="{FIELD}" value="{escape(csrf_token())}">')


def sent_token() -> str:
    """Return the token the request carries (header first, then form field), or ''."""
    return request.headers.get(HEADER) or request.form.get(FIELD) or ""


def check_csrf():
    """Before each request: refuse a state-changing request whose token does not match."""
    if request.method not in STATE_CHANGING:
        return None
    expected = session.get(FIELD)
    sent = sent_token()
    if not expected or not sent or not hmac.compare_digest(expected.encode(), sent.encode()):
        abort(400, "表单已失效或缺少安全校验码（CSRF），请刷新页面后重试")
    return None


def init_app(app: Flask) -> None:
    """Check tokens before every request and give templates ``csrf_token``/``csrf_field``."""
    app.before_request(check_csrf)
    app.jinja_env.globals.update(csrf_token=csrf_token, csrf_field=csrf_field)
