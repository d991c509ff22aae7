"""Logging: one line per request with an id, JSON lines on request, secrets never in any line."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from webmap.ledger.logs import check_settings, configure_logging, redact

SECRETS = [
    ("postgresql+psycopg://yz:Pa55w0rd@db.local/yzmap", "Pa55w0rd"),
    ("smtps://mail:m@ilpw@smtp.example/", "m@ilpw"),
    ("password=hunter2222&username=a", "hunter2222"),
    ("{'password': 'open-sesame'}", "open-sesame"),
    ("Cookie: yzmap_session=eyJ1aWQiOjF9.Zk.abc", "eyJ1aWQiOjF9.Zk.abc"),
    ("Authorization: Bearer yzp_abcdef123456", "yzp_abcdef123456"),
    ("token=yzp_0123456789", "yzp_0123456789"),
]


@pytest.mark.parametrize(("line", "secret"), SECRETS)
def test_redact_hides_each_kind_of_secret(line, secret):
    """The secret is gone and its label stays, so the line still says what it was."""
    out = redact(line)
    assert secret not in out and "***" in out


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_logged_secret_and_traceback_are_scrubbed(fmt):
    """Whatever a message or an exception carries, the handler's output has no password."""
    stream = io.StringIO()
    handler = configure_logging("INFO", fmt, stream=stream)
    try:
        log = logging.getLogger("webmap.test")
        log.info("connecting to %s", "postgresql://u:Pa55w0rd@h/db")
        try:
            raise RuntimeError("login password=Pa55w0rd failed")
        except RuntimeError:
            log.exception("boom")
    finally:
        logging.getLogger().removeHandler(handler)
    text = stream.getvalue()
    assert "Pa55w0rd" not in text and text.count("***") >= 2
    if fmt == "json":
        records = [json.loads(line) for line in text.splitlines()]
        assert records[0]["logger"] == "webmap.test" and "exc" in records[1]


def test_bad_settings_are_named():
    """A typo in LOG_LEVEL or LOG_FORMAT names the setting and the value."""
    with pytest.raises(ValueError, match="LOG_LEVEL.*LOUD"):
        check_settings("LOUD", "text")
    with pytest.raises(ValueError, match="LOG_FORMAT.*xml"):
        check_settings("INFO", "xml")


def test_each_request_is_logged_once_with_its_id(logged_in_client, caplog):
    """Method, path, status, duration, user id and the id returned as X-Request-ID."""
    client = logged_in_client("admin")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="webmap.request"):
        resp = client.get("/api/issues?limit=1&token=should-not-show",
                          headers={"X-Request-ID": "proxy-id-12345"})  # fmt: skip
    records = [r for r in caplog.records if r.name == "webmap.request"]
    assert len(records) == 1
    r = records[0]
    assert resp.headers["X-Request-ID"] == "proxy-id-12345" == r.request_id
    assert (r.method, r.path, r.status) == ("GET", "/api/issues", 200)
    assert r.user_id is not None and r.duration_ms >= 0
    assert "should-not-show" not in r.getMessage()


def test_a_bogus_request_id_is_replaced(client):
    """A header that is not an id (spaces, newlines, too long) is not echoed back."""
    resp = client.get("/healthz", headers={"X-Request-ID": "a b;Set-Cookie: x=1"})
    assert resp.headers["X-Request-ID"] != "a b;Set-Cookie: x=1"
    assert len(resp.headers["X-Request-ID"]) == 32


def test_login_form_password_never_logged(client, make_user, caplog):
    """A failed and a successful login leave no password in any log record."""
    from tests.webmap.conftest_auth import login

    make_user("dora", "viewer")
    with caplog.at_level(logging.DEBUG):
        login(client, "dora", "WrongPassw0rd!")
        login(client, "dora")
    text = caplog.text + "".join(str(vars(r)) for r in caplog.records)
    assert "WrongPassw0rd!" not in text and "correct-horse-9" not in text


def test_serve_output_hides_the_database_password(tmp_path):
    """``yzmap serve`` prints the database without its password (port taken: it stops at once)."""
    import socket

    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    env = {"YZMAP_INSTANCE_PATH": str(tmp_path), "PATH": "/usr/bin:/bin",
           "YZMAP_DATABASE_URL": "postgresql+psycopg://yz:Sup3rSecret@127.0.0.1:1/x"}
    try:
        yzmap = str(Path(sys.executable).with_name("yzmap"))
        done = subprocess.run([yzmap, "serve", "--port", str(port)],
                              capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    finally:
        busy.close()
    out = done.stdout + done.stderr
    assert "yz:***@127.0.0.1" in out
    assert "Sup3rSecret" not in out
    assert "Traceback" not in out and "无法监听" in out
