"""Personal access tokens: the CLI, the /tokens page, Bearer and Basic, limits and the audit log."""

from __future__ import annotations

import base64
import re
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from webmap.cli import main
from webmap.ledger import tokens
from webmap.ledger.models import AccessToken, Event, User
from webmap.web import context as webctx


def _cli(app, *args: str):
    """Run ``yzmap`` against the app's database."""
    url = app.config["DATABASE_URL"]
    return CliRunner().invoke(main, list(args), env={"YZMAP_DATABASE_URL": url})


def _basic(username: str, token: str) -> dict:
    """Return the HTTP Basic header QGIS and GDAL send (username + token as password)."""
    pair = base64.b64encode(f"{username}:{token}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def _bearer(token: str) -> dict:
    """Return a Bearer header."""
    return {"Authorization": f"Bearer {token}"}


def _rows(app, model, *where):
    """Return the rows of a model (fresh session)."""
    with webctx.session_scope(app) as session:
        return list(session.scalars(select(model).where(*where)))


@pytest.fixture
def token_for(app, make_user):
    """Return a factory: ``token_for(username, role, write=False, expires_on=None, **fields)``."""

    def _make(username="gis-viewer", role="viewer", *, write=False, expires_on=None, **fields):
        """Create the user if needed and a token for it; return the token text."""
        make_user(username, role, **fields)
        with webctx.session_scope(app) as session:
            user = session.scalar(select(User).where(User.username == username))
            return tokens.create_token(session, user, name="测试", actor="test", write=write,
                                       expires_on=expires_on, today=date(2022, 6, 1)).text

    return _make


@pytest.fixture
def dated(app):
    """Pin the app's day (token expiry is judged on it)."""
    app.config["TODAY"] = "2022-06-01"
    return app


# ---- command line -------------------------------------------------------------------------


def test_cli_create_prints_once_and_stores_a_hash(app, make_user):
    """create prints the token once (stdout), stores only its digest; list shows the prefix."""
    make_user("qgis", "viewer")
    done = _cli(app, "tokens", "create", "qgis", "--name", "办公电脑", "--expires", "2099-12-31")
    assert done.exit_code == 0, done.output
    text = done.stdout.strip()
    assert re.fullmatch(r"yzm_[A-Za-z0-9_-]{40,}", text)
    assert "只显示这一次" in done.stderr
    (row,) = _rows(app, AccessToken)
    assert row.digest == tokens.digest(text) and text not in (row.digest, row.prefix)
    assert row.name == "办公电脑" and row.expires_on == date(2099, 12, 31) and not row.write
    listed = _cli(app, "tokens", "list")
    assert listed.exit_code == 0 and text not in listed.output
    assert row.prefix in listed.output and "qgis" in listed.output and "有效" in listed.output
    events = _rows(app, Event, Event.kind == "token.created")
    assert len(events) == 1 and text not in str(events[0].after)


def test_cli_write_revoke_and_errors(app, make_user):
    """--write makes a read-write token; revoke ends it; bad user/date/id are Chinese errors."""
    make_user("qgis", "viewer")
    done = _cli(app, "tokens", "create", "qgis", "--write")
    assert done.exit_code == 0 and "读写" in done.stderr
    (row,) = _rows(app, AccessToken)
    assert row.write
    revoked = _cli(app, "tokens", "revoke", str(row.id))
    assert revoked.exit_code == 0 and f"#{row.id}" in revoked.output
    assert "已撤销" in _cli(app, "tokens", "list", "--user", "qgis").output
    assert _rows(app, Event, Event.kind == "token.revoked")
    assert "没有用户" in _cli(app, "tokens", "create", "nobody").output
    assert "YYYY-MM-DD" in _cli(app, "tokens", "create", "qgis", "--expires", "soon").output
    assert "早于今天" in _cli(app, "tokens", "create", "qgis", "--expires", "2000-01-01").output
    assert "不存在" in _cli(app, "tokens", "revoke", "999").output


# ---- the /tokens page ---------------------------------------------------------------------


def test_page_creates_and_revokes_own_tokens(app, logged_in_client, token_for):
    """A signed-in user creates a token (shown once), uses it, and revokes it."""
    client = logged_in_client("viewer", username="wang")
    assert client.get("/tokens").status_code == 200
    page = client.post("/tokens", data={"name": "QGIS", "expires": ""}).get_data(as_text=True)
    text = re.search(r'<code id="new-token">(yzm_[^<]+)</code>', page).group(1)
    assert app.test_client().get("/api/issues", headers=_basic("wang", text)).status_code == 200
    again = client.get("/tokens").get_data(as_text=True)
    assert text not in again and text[:10] in again
    (row,) = _rows(app, AccessToken)
    assert client.post(f"/tokens/{row.id}/revoke").status_code == 302
    assert "已撤销" in client.get("/tokens").get_data(as_text=True)
    assert app.test_client().get("/api/issues", headers=_basic("wang", text)).status_code == 401


def test_page_cannot_touch_others_tokens(app, logged_in_client, token_for):
    """Another user's token is neither listed nor revocable."""
    other = token_for("li", "viewer")
    (row,) = _rows(app, AccessToken)
    client = logged_in_client("viewer", username="wang")
    assert row.prefix not in client.get("/tokens").get_data(as_text=True)
    assert client.post(f"/tokens/{row.id}/revoke").status_code == 404
    assert _rows(app, AccessToken)[0].revoked_at is None
    assert app.test_client().get("/api/issues", headers=_bearer(other)).status_code == 200


def test_page_refuses_a_bad_expiry(logged_in_client):
    """A past or malformed expiry is a 400 naming it."""
    client = logged_in_client("viewer")
    assert client.post("/tokens", data={"expires": "2000-01-01"}).status_code == 400
    assert client.post("/tokens", data={"expires": "soon"}).status_code == 400


# ---- authentication -----------------------------------------------------------------------


def test_bearer_and_basic_are_accepted(app, dated, token_for, make_issue):
    """Bearer and Basic (username + token) both read as the user; a wrong username fails."""
    make_issue("HT-01")
    text = token_for()
    client = app.test_client()
    for headers in (_bearer(text), _basic("gis-viewer", text)):
        resp = client.get("/api/issues", headers=headers)
        assert resp.status_code == 200 and resp.get_json()["numberMatched"] == 1
        ogc = client.get("/ogcapi/collections/issues/items?f=json", headers=headers)
        assert ogc.status_code == 200
    assert client.get("/api/issues", headers=_basic("someone-else", text)).status_code == 401
    assert client.get("/api/issues", headers=_bearer("yzm_forged")).status_code == 401
    assert client.get("/api/issues").status_code == 401
    # a token sets no session cookie: the next request without it is anonymous again
    assert "Set-Cookie" not in client.get("/api/issues", headers=_bearer(text)).headers


def test_token_is_scoped_like_its_user(app, dated, token_for, make_issue):
    """A county editor's token sees that county only."""
    make_issue("HT-01")
    make_issue("HT-02", county_code="431124", county_name="道县")
    text = token_for("county-ed", "county", county_code="431124")
    body = app.test_client().get("/api/issues", headers=_basic("county-ed", text)).get_json()
    assert [f["id"] for f in body["features"]] == ["HT-02"]


def test_revoked_expired_and_disabled_are_refused(app, dated, token_for):
    """Revoked, expired (day after its last valid day) and disabled-user tokens answer 401."""
    revoked = token_for("a")
    expired = token_for("b", expires_on=date(2022, 6, 1))
    disabled = token_for("c")
    client = app.test_client()
    assert client.get("/api/issues", headers=_bearer(expired)).status_code == 200
    with webctx.session_scope(app) as session:
        row = session.scalar(select(AccessToken).where(AccessToken.digest
                                                       == tokens.digest(revoked)))  # fmt: skip
        tokens.revoke_token(session, row.id, actor="test")
        session.scalar(select(User).where(User.username == "c")).disabled = True
    app.config["TODAY"] = "2022-06-02"
    for text in (revoked, expired, disabled):
        resp = client.get("/ogcapi/collections/issues/items?f=json", headers=_bearer(text))
        assert resp.status_code == 401, text


def test_read_only_token_refused_on_writes(app, dated, token_for, make_issue):
    """A read-only token cannot change anything, even with the user's right to do so."""
    make_issue("HT-01")
    text = token_for("admin-gis", "admin")
    resp = app.test_client().post("/issues/HT-01/progress", headers=_bearer(text),
                                  data={"percent": "50", "text": "x"})  # fmt: skip
    assert resp.status_code == 403


def test_tokens_never_work_on_html_forms(app, dated, token_for, make_issue):
    """A write token on a form still needs the session's CSRF token: refused (400)."""
    make_issue("HT-01")
    text = token_for("admin-gis", "admin", write=True)
    client = app.test_client()
    for headers in (_bearer(text), _basic("admin-gis", text)):
        resp = client.post("/issues/HT-01/progress", headers=headers,
                           data={"percent": "50", "text": "x", "csrf_token": "guess"})  # fmt: skip
        assert resp.status_code == 400
        assert client.post("/tokens", headers=headers, data={"name": "x"}).status_code == 400


def test_rate_limit_gives_429_with_retry_after(app, dated, token_for):
    """Beyond TOKEN_MAX_PER_MINUTE a token gets 429 with a Retry-After in seconds."""
    app.config["TOKEN_MAX_PER_MINUTE"] = 3
    text = token_for()
    client = app.test_client()
    for _ in range(3):
        assert client.get("/ogcapi/collections/issues/items?f=json",
                          headers=_bearer(text)).status_code == 200  # fmt: skip
    resp = client.get("/ogcapi/collections/issues/items?f=json", headers=_bearer(text))
    assert resp.status_code == 429
    assert 1 <= int(resp.headers["Retry-After"]) <= 60


def test_failed_tokens_count_against_the_address(app, dated):
    """Guessing tokens is limited like guessing passwords: 429 after LOGIN_MAX_PER_IP failures."""
    app.config["LOGIN_MAX_PER_IP"] = 3
    client = app.test_client()
    codes = [client.get("/api/issues", headers=_bearer(f"yzm_guess{i}")).status_code
             for i in range(4)]  # fmt: skip
    assert codes == [401, 401, 401, 429]


def test_last_use_and_audit_log(app, dated, token_for):
    """Every use updates last use and the count; the first use of a day goes to the audit log."""
    text = token_for()
    client = app.test_client()
    for _ in range(2):
        client.get("/ogcapi/collections/issues/items?f=json", headers=_basic("gis-viewer", text))
    (row,) = _rows(app, AccessToken)
    assert row.use_count == 2 and row.last_used_at is not None
    assert row.last_used_ip == "127.0.0.1"
    (used,) = _rows(app, Event, Event.kind == "token.used")
    assert used.actor == f"token:gis-viewer:{row.prefix}"
    assert used.after["path"] == "/ogcapi/collections/issues/items"
