"""Accounts and sessions: the login wall, cookies, rate limits, CSRF, logout, the users CLI."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from tests.webmap.conftest_auth import PASSWORD, arm_csrf, csrf_from, login
from webmap.cli import main
from webmap.ledger import db
from webmap.ledger.models import Event, User
from webmap.web import context as webctx


def test_anonymous_pages_redirect_to_login_and_apis_answer_401(client):
    """Internal pages send anonymous users to /login; internal APIs answer 401; /public is open."""
    resp = client.get("/dashboard?county=431103")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/login?next=/dashboard")
    assert client.get("/api/issues").status_code == 401
    assert client.get("/api/issues/HT-01").status_code == 401
    assert client.get("/audit").status_code == 302
    assert client.get("/public").status_code == 200
    assert client.get("/api/public/issues").status_code == 200
    assert client.get("/login").status_code == 200


def test_login_sets_hardened_cookie_and_returns_to_next(client, make_user):
    """A good login redirects to a local ``next`` and sets an HttpOnly, SameSite=Lax cookie."""
    make_user("alice", "viewer")
    token = csrf_from(client)
    resp = client.post("/login", data={"username": "alice", "password": PASSWORD,
                                       "csrf_token": token, "next": "/dashboard"})  # fmt: skip
    assert resp.status_code == 302 and resp.headers["Location"] == "/dashboard"
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert client.get("/dashboard").status_code == 200


def test_cookie_is_secure_over_https(app, make_user):
    """Served over HTTPS, the session cookie is marked Secure."""
    make_user("alice", "viewer")
    client = app.test_client()
    token = csrf_from(client)
    resp = client.post(
        "/login",
        base_url="https://localhost",
        data={"username": "alice", "password": PASSWORD, "csrf_token": token},
    )
    assert "Secure" in resp.headers["Set-Cookie"]


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil"])
def test_next_never_leaves_the_site(client, make_user, target):
    """An outside ``next`` is replaced by the map page (no open redirect)."""
    make_user("alice", "viewer")
    resp = client.post(
        "/login",
        data={
            "username": "alice",
            "password": PASSWORD,
            "csrf_token": csrf_from(client),
            "next": target,
        },
    )
    assert resp.headers["Location"] == "/"


def test_wrong_password_unknown_user_and_disabled_account_are_refused(client, make_user):
    """Bad credentials give the same 401 message; a disabled account cannot log in."""
    make_user("alice", "viewer")
    make_user("bob", "viewer", disabled=True)
    for name, password in (("alice", "wrong-password"), ("nobody", PASSWORD), ("bob", PASSWORD)):
        resp = login(client, name, password)
        assert resp.status_code == 401
        assert "用户名或密码错误" in resp.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_login_is_rate_limited_per_username(client, make_user):
    """After five failures the right password is refused too (429) for that username."""
    make_user("alice", "viewer")
    for _ in range(5):
        assert login(client, "alice", "wrong-password").status_code == 401
    resp = login(client, "alice")
    assert resp.status_code == 429
    assert "登录失败次数过多" in resp.get_data(as_text=True)


def test_login_is_rate_limited_per_address(app, client, make_user):
    """Failures spread over many usernames from one address are limited as well."""
    app.config["LOGIN_MAX_PER_IP"] = 3
    make_user("alice", "viewer")
    for i in range(3):
        assert login(client, f"guess{i}", "wrong-password").status_code == 401
    assert login(client, "alice").status_code == 429


def test_logout_needs_post_and_csrf(logged_in_client, app):
    """GET /logout is not allowed, POST without the token is refused, with it the session ends."""
    client = logged_in_client("viewer")
    assert client.get("/logout").status_code == 405
    bare = client.environ_base.pop("HTTP_X_CSRFTOKEN")
    assert client.post("/logout").status_code == 400
    assert client.get("/dashboard").status_code == 200
    client.environ_base["HTTP_X_CSRFTOKEN"] = bare
    assert client.post("/logout").status_code == 302
    assert client.get("/dashboard").status_code == 302


def test_login_form_without_csrf_token_is_refused(client, make_user):
    """A login POST without the session's token is a 400 and logs nobody in."""
    make_user("alice", "viewer")
    resp = client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert resp.status_code == 400
    assert "CSRF" in resp.get_data(as_text=True)
    resp = client.post(
        "/login", data={"username": "alice", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert resp.status_code == 400


def test_disabling_or_resetting_ends_open_sessions(app, logged_in_client):
    """A disabled account, or one whose password changed, is logged out at its next request."""
    client = logged_in_client("viewer", username="carol")
    assert client.get("/dashboard").status_code == 200
    with app.app_context():
        session = webctx.get_session()
        with db.transaction(session):
            session.scalar(select(User).where(User.username == "carol")).password_hash = "x"
    assert client.get("/dashboard").status_code == 302
    client = logged_in_client("viewer", username="dave")
    with app.app_context():
        session = webctx.get_session()
        with db.transaction(session):
            session.scalar(select(User).where(User.username == "dave")).disabled = True
    assert client.get("/dashboard").status_code == 302


def test_json_clients_send_the_token_in_a_header(app, anon_client):
    """The X-CSRFToken header is accepted in place of the form field."""
    token = anon_client.environ_base["HTTP_X_CSRFTOKEN"]
    assert token == csrf_from(anon_client)
    assert arm_csrf(anon_client) is anon_client


def _cli(url, *args, input=None):
    """Run ``yzmap`` against the test database."""
    return CliRunner().invoke(main, list(args), env={"YZMAP_DATABASE_URL": url}, input=input)


def test_users_cli_add_list_disable_reset(app, database_url, client):
    """The users commands create, list, disable and reset accounts, logging each change."""
    r = _cli(
        database_url,
        "users",
        "add",
        "county1",
        "--role",
        "county",
        "--county",
        "冷水滩区",
        "--password",
        "pass-word-1",
    )
    assert r.exit_code == 0, r.output
    r = _cli(
        database_url,
        "users",
        "add",
        "boss",
        "--role",
        "admin",
        input="long-secret-1\nlong-secret-1\n",
    )
    assert r.exit_code == 0, r.output
    assert "密码" in r.output and "long-secret-1" not in r.output
    listing = _cli(database_url, "users", "list").output
    assert "county1\tcounty\t431103" in listing and "boss\tadmin" in listing
    assert login(client, "boss", "long-secret-1").status_code == 302
    assert (
        _cli(
            database_url, "users", "reset-password", "boss", "--password", "new-secret-2"
        ).exit_code
        == 0
    )
    assert client.get("/dashboard").status_code == 302  # the old session ended
    assert _cli(database_url, "users", "disable", "county1").exit_code == 0
    assert "停用" in _cli(database_url, "users", "list").output
    with app.app_context():
        kinds = [e.kind for e in webctx.get_session().scalars(select(Event).order_by(Event.id))]
        events = webctx.get_session().scalars(select(Event))
        hashes = [e for e in events if "scrypt" in str(e.after)]
    assert kinds[:2] == ["user.created", "user.created"]
    assert {"user.password_reset", "user.disabled", "auth.login"} <= set(kinds)
    assert hashes == []


@pytest.mark.parametrize(("args", "message"), [
    (["--role", "chief"], "未知角色"),
    (["--role", "county"], "--county"),
    (["--role", "county", "--county", "长沙"], "不是永州市"),
    (["--role", "department"], "--unit"),
    (["--role", "viewer", "--password", "short"], "至少 8 位"),
])  # fmt: skip
def test_users_cli_refuses_bad_accounts(database_url, args, message):
    """Bad roles, missing scopes and short passwords are refused with the reason."""
    r = (
        _cli(database_url, "users", "add", "x", *args, "--password", "long-enough-1")
        if "--password" not in args
        else _cli(database_url, "users", "add", "x", *args)
    )
    assert r.exit_code != 0
    assert message in r.output
