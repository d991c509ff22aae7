"""Behind a reverse proxy: forwarded client address, scheme and host, per-client rate limits,
``Retry-After`` on 429, HSTS over HTTPS, and forwarded headers ignored without the setting."""

from __future__ import annotations

import pytest

from tests.webmap.conftest_auth import csrf_from
from webmap import create_app


def _login(client, username, password, client_ip):
    """Post the login form as a client the proxy says is ``client_ip``."""
    headers = {"X-Forwarded-For": client_ip, "X-Forwarded-Proto": "https",
               "X-Forwarded-Host": "yzmap.example.gov.cn"}  # fmt: skip
    token = csrf_from(client)
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token}, headers=headers)  # fmt: skip


@pytest.fixture
def proxied(app):
    """The test app behind one trusted proxy."""
    app.config["TRUSTED_PROXIES"] = 1
    from werkzeug.middleware.proxy_fix import ProxyFix

    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1)
    return app


def test_failed_logins_from_one_forwarded_client_do_not_lock_out_another(proxied, make_user):
    """Five failures from 10.0.0.5 through the proxy: 10.0.0.5 is limited, 10.0.0.6 is not."""
    proxied.config["LOGIN_MAX_PER_IP"] = 5
    make_user("alice", "viewer")
    make_user("bob", "viewer")
    attacker, colleague = proxied.test_client(), proxied.test_client()
    for i in range(5):
        assert _login(attacker, f"guess{i}", "wrong-password", "10.0.0.5").status_code == 401
    blocked = _login(attacker, "bob", "correct-horse-9", "10.0.0.5")
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["Retry-After"]) <= proxied.config["LOGIN_WINDOW_SECONDS"]
    ok = _login(colleague, "bob", "correct-horse-9", "10.0.0.6")
    assert ok.status_code == 302
    # links and redirects use the host and scheme the proxy was asked for
    assert ok.headers["Location"].startswith(("/", "https://yzmap.example.gov.cn"))
    assert ok.headers["Strict-Transport-Security"].startswith("max-age=")


def test_without_the_setting_forwarded_headers_are_ignored(app, make_user):
    """A client cannot dodge the address limit by claiming another address."""
    app.config["LOGIN_MAX_PER_IP"] = 3
    make_user("bob", "viewer")
    client = app.test_client()
    for i in range(3):
        assert _login(client, f"guess{i}", "wrong", f"10.9.9.{i}").status_code == 401
    resp = _login(client, "bob", "correct-horse-9", "10.9.9.99")
    assert resp.status_code == 429
    assert "Strict-Transport-Security" not in resp.headers  # plain HTTP really


def test_limits_are_shared_by_apps_on_one_database(app, database_url, make_user, tmp_path):
    """Counters live in the database: a second worker process (another app) sees them."""
    make_user("carol", "viewer")
    first = app.test_client()
    for _ in range(5):
        assert _login(first, "carol", "wrong-password", "x").status_code == 401
    other = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test",
                        "UPLOAD_DIR": str(tmp_path / "u2")})  # fmt: skip
    try:
        assert _login(other.test_client(), "carol", "correct-horse-9", "x").status_code == 429
    finally:
        other.extensions["db"]["engine"].dispose()


def test_trusted_proxies_setting_is_checked(tmp_path):
    """A bad value is a named error, not a silently unprotected app."""
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        create_app({"TESTING": True, "TRUSTED_PROXIES": "yes", "SECRET_KEY": "t",
                    "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}"})  # fmt: skip


def test_factory_applies_proxyfix(tmp_path):
    """``TRUSTED_PROXIES=1`` wraps the app so ``remote_addr`` is the forwarded client."""
    app = create_app({"TESTING": True, "TRUSTED_PROXIES": 1, "SECRET_KEY": "t",
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}"})  # fmt: skip
    seen = {}

    @app.get("/_addr")
    def _addr():
        """Report what the app sees."""
        from flask import request

        seen.update(addr=request.remote_addr, secure=request.is_secure, host=request.host)
        return ""

    from webmap.web.auth import PUBLIC_ENDPOINTS

    PUBLIC_ENDPOINTS.add("_addr")
    try:
        app.test_client().get("/_addr", headers={"X-Forwarded-For": "203.0.113.7",
                                                 "X-Forwarded-Proto": "https",
                                                 "X-Forwarded-Host": "map.example"})  # fmt: skip
    finally:
        PUBLIC_ENDPOINTS.discard("_addr")
    assert seen == {"addr": "203.0.113.7", "secure": True, "host": "map.example"}


def test_objection_limit_answers_retry_after(app):
    """Every 429 carries Retry-After (the error handler's default when a view gave none)."""
    from flask import abort

    @app.get("/_busy")
    def _busy():
        """Always too busy."""
        abort(429, "太频繁")

    app.config["PROPAGATE_TEST_ERRORS"] = False
    from webmap.web.auth import PUBLIC_ENDPOINTS

    PUBLIC_ENDPOINTS.add("_busy")
    try:
        resp = app.test_client().get("/_busy")
    finally:
        PUBLIC_ENDPOINTS.discard("_busy")
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 0
