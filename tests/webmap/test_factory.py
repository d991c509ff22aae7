"""The app factory: configuration sources and instance secret."""

from __future__ import annotations

from webmap import create_app


def test_config_from_test_mapping(tmp_path):
    """A test mapping overrides the defaults."""
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path}/t.sqlite"})
    assert app.testing
    assert app.config["DATABASE_URL"].endswith("t.sqlite")
    assert app.config["PUBLICITY_DAYS"] == 7


def test_config_from_prefixed_env(monkeypatch):
    """YZMAP_ environment variables reach the config (YZMAP_DATABASE_URL -> DATABASE_URL)."""
    monkeypatch.setenv("YZMAP_DATABASE_URL", "postgresql+psycopg://u@127.0.0.1/x")
    app = create_app({"TESTING": True})
    assert app.config["DATABASE_URL"] == "postgresql+psycopg://u@127.0.0.1/x"


def test_secret_key_is_kept_in_instance(tmp_path, monkeypatch):
    """Without a configured key the instance keeps one generated key across app instances."""
    monkeypatch.delenv("YZMAP_SECRET_KEY", raising=False)
    first = create_app({"TESTING": True}).config["SECRET_KEY"]
    second = create_app({"TESTING": True}).config["SECRET_KEY"]
    assert first == second and len(first) == 64
