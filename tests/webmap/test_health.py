"""``/healthz`` and ``/readyz``: unauthenticated, cheap, no data, 503 naming the failed check."""

from __future__ import annotations

from webmap import create_app


def test_healthz_needs_no_login_and_no_database(tmp_path):
    """The liveness probe answers even when the database is unreachable."""
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "INSTANCE_PATH": str(tmp_path),
                      "DATABASE_URL": "postgresql+psycopg://u:s3cret@127.0.0.1:1/x"})
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 200 and resp.json == {"ok": True, "status": "alive"}
    assert resp.headers["X-Request-ID"]


def test_readyz_ready_on_a_migrated_database(client):
    """All three checks pass on the test database; no versions or URLs are shown."""
    resp = client.get("/readyz")
    assert resp.status_code == 200
    assert resp.json["checks"] == {"database": "ok", "migrations": "ok", "layers": "ok"}
    assert "sqlite" not in resp.get_data(as_text=True)


def test_readyz_names_an_unreachable_database(tmp_path, caplog):
    """503 with ``failed: database``; the password appears neither in the body nor in the log."""
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "INSTANCE_PATH": str(tmp_path),
                      "DATABASE_URL": "postgresql+psycopg://u:s3cret@127.0.0.1:1/x"})
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 503
    assert resp.json["failed"] == "database" and resp.json["error"] == "数据库无法连接"
    assert "s3cret" not in resp.get_data(as_text=True) and "127.0.0.1" not in resp.get_data(
        as_text=True)
    assert resp.headers["Retry-After"]


def test_readyz_names_migrations_behind(tmp_path):
    """A database without the schema is reachable but not ready: ``failed: migrations``."""
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "INSTANCE_PATH": str(tmp_path),
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite'}"})  # fmt: skip
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 503 and resp.json["failed"] == "migrations"
    assert resp.json["checks"] == {"database": "ok", "migrations": "failed"}
