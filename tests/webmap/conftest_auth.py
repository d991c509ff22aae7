"""Accounts for the webmap tests: users of every role and test clients logged in as them.

Registered from ``tests/webmap/conftest.py`` (``pytest_plugins``). ``logged_in_client(role)``
logs in through the real ``/login`` form and then sends the session's CSRF token with every
request (header ``X-CSRFToken``), so tests of internal pages and state-changing endpoints run
with access control on, as in production.
"""

from __future__ import annotations

import re
from contextlib import nullcontext

import pytest
from flask import has_app_context
from sqlalchemy import select

from webmap.ledger import db
from webmap.ledger.models import User
from webmap.web import context as webctx
from webmap.web.auth import hash_password

PASSWORD = "correct-horse-9"
# default account of each role: the county editor and department of make_issue's defaults
ROLE_DEFAULTS = {
    "admin": {},
    "county": {"county_code": "431103"},
    "department": {"unit": "冷水滩区生态环境分局"},
    "reserve": {},
    "city-leader": {"unit": "测试市领导"},
    "county-leader": {"unit": "测试县领导"},
    "viewer": {},
}


def csrf_from(client) -> str:
    """Return the CSRF token of a client's session, creating one through a page if needed."""
    with client.session_transaction() as sess:
        token = sess.get("csrf_token")
    if not token:
        html = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    return token


def arm_csrf(client):
    """Make a client send its session's CSRF token on every request; return the client."""
    client.environ_base["HTTP_X_CSRFTOKEN"] = csrf_from(client)
    return client


def login(client, username: str, password: str = PASSWORD):
    """Log a client in through the /login form; return the response."""
    token = csrf_from(client)
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token})  # fmt: skip


@pytest.fixture
def make_user(app):
    """Return a function creating (or returning) a committed user of a role."""

    def _make(username: str, role: str, password: str = PASSWORD, **fields):
        """Create user ``username`` with ``role``; ``fields`` set county_code, unit, disabled."""
        # reuse an app context a fixture already holds: requests then share its session, and
        # a user committed through another session could be hidden by its open read transaction
        with nullcontext() if has_app_context() else app.app_context():
            session = webctx.get_session()
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                values = {"disabled": False} | ROLE_DEFAULTS.get(role, {}) | fields
                user = User(username=username, role=role, password_hash=hash_password(password),
                            **values)  # fmt: skip
                with db.transaction(session):
                    session.add(user)
            return user

    return _make


@pytest.fixture
def logged_in_client(app, make_user):
    """Return a factory: ``logged_in_client(role="admin", username=None, **fields)`` -> client."""

    def _client(role: str = "admin", username: str | None = None, **fields):
        """Create the user if needed, log in through /login and arm the CSRF header."""
        username = username or f"{role}-user"
        make_user(username, role, **fields)
        client = app.test_client()
        resp = login(client, username)
        assert resp.status_code == 302, resp.get_data(as_text=True)
        return arm_csrf(client)

    return _client


@pytest.fixture
def anon_client(app):
    """Return an anonymous client that still sends a valid CSRF token (public forms)."""
    return arm_csrf(app.test_client())
