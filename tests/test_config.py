"""Settings: one place holds every default; the app, commands and scripts read them the same way."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner

from webmap import create_app
from webmap.config import DEFAULTS, default_instance_path, load_config
from webmap.render.basemaps import REVIEW_SETTINGS

ROOT = Path(__file__).resolve().parent.parent
FLASK_OWN = {"TESTING"}  # Flask's own switches, set by tests only
DERIVED = {"INSTANCE_PATH"}  # set by load_config: where it looked for instance/config.py


def _code() -> str:
    """Return the source of every webmap module except the settings module itself."""
    return "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "webmap").rglob("*.py")
                     if p.name != "config.py")  # fmt: skip


def test_every_setting_the_code_reads_has_its_default_in_config():
    """Each ``config["X"]``, ``settings.get("X")`` or ``_config("X")`` names a key of DEFAULTS."""
    pattern = re.compile(r"""(?:config|settings)(?:\.get\(|\[)\s*["']([A-Z][A-Z0-9_]+)["']"""
                         r"""|_config\(\s*["']([A-Z][A-Z0-9_]+)["']""")  # fmt: skip
    read = {a or b for a, b in pattern.findall(_code())} | set(REVIEW_SETTINGS.values())
    assert len(read) >= 15
    unknown = read - FLASK_OWN - DERIVED - set(DEFAULTS)
    assert not unknown, sorted(unknown)


def test_every_default_is_read_by_yzmap_or_by_flask():
    """No default is dead: yzmap's code names it, or it is one of Flask's own settings."""
    from flask import Flask

    settings_module = (ROOT / "webmap" / "config.py").read_text(encoding="utf-8")
    helpers = settings_module.split("def default_instance_path", 1)[1]  # past DEFAULTS itself
    code = _code() + helpers + "\n".join(f'"{v}"' for v in REVIEW_SETTINGS.values())
    unread = {k for k in DEFAULTS if f'"{k}"' not in code and k not in Flask.default_config}
    assert not unread, sorted(unread)


def test_instance_file_then_environment_then_overrides(tmp_path):
    """Later sources win; environment values are read as JSON when they parse; A__B nests."""
    (tmp_path / "config.py").write_text("AMBER_DAYS = 20\nTIANDITU_KEY = 'from-file'\nlower = 1\n",
                                        encoding="utf-8")  # fmt: skip
    env = {"YZMAP_AMBER_DAYS": "14", "YZMAP_DATABASE_URL": "postgresql+psycopg://u@h/db",
           "YZMAP_SNAPSHOT_TILE_URLS__osm": "http://tiles.intranet/{z}/{x}/{y}.png",
           "OTHER": "x"}  # fmt: skip
    config = load_config(tmp_path, {"PUBLICITY_DAYS": 10}, environ=env)
    got = (config["AMBER_DAYS"], config["TIANDITU_KEY"], config["PUBLICITY_DAYS"])
    assert got == (14, "from-file", 10)
    assert config["DATABASE_URL"] == "postgresql+psycopg://u@h/db" and "lower" not in config
    assert config["SNAPSHOT_TILE_URLS"] == {"osm": "http://tiles.intranet/{z}/{x}/{y}.png"}
    assert config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=8)
    plain = load_config(tmp_path, environ={})
    assert plain["DATABASE_URL"] == f"sqlite:///{tmp_path / 'yzmap.sqlite'}"
    assert plain["INSTANCE_PATH"] == str(tmp_path)


def test_the_app_and_a_command_read_the_same_settings(tmp_path, monkeypatch):
    """create_app and ``yzmap`` see the same instance folder, file and environment."""
    from webmap.cli import main

    monkeypatch.setenv("YZMAP_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("YZMAP_PUBLICITY_DAYS", "12")
    (tmp_path / "config.py").write_text("AMBER_DAYS = 21\n", encoding="utf-8")
    app = create_app()
    assert default_instance_path() == tmp_path == Path(app.instance_path)
    assert (app.config["AMBER_DAYS"], app.config["PUBLICITY_DAYS"]) == (21, 12)
    assert load_config()["DATABASE_URL"] == app.config["DATABASE_URL"]
    init = CliRunner().invoke(main, ["init"])
    assert init.exit_code == 0, init.output
    assert str(tmp_path / "yzmap.sqlite") in init.output
