"""yzmap web application: the Flask app factory."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

from geo.boundaries import DATA_DIR


def _secret_key(instance_path: str) -> str:
    """Return the instance's secret key, creating and keeping one on first run."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def create_app(test_config: dict | None = None) -> Flask:
    """Create and configure the yzmap app (flaskr pattern: defaults, instance file, env, tests)."""
    # "webmap" keeps the instance folder where it was; templates and static live beside this module
    app = Flask("webmap", instance_relative_config=True, root_path=str(Path(__file__).parent))
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(
        DATABASE_URL=f"sqlite:///{Path(app.instance_path) / 'yzmap.sqlite'}",
        BOUNDARIES_DIR=str(DATA_DIR),
        DEFAULT_CRS="EPSG:4326",
        PUBLICITY_DAYS=7,  # 公示 period before 申请
        AMBER_DAYS=30,  # amber when due within this many days
        TIANDITU_KEY=None,
        JSON_AS_ASCII=False,
    )
    app.config.from_pyfile("config.py", silent=True)
    # YZMAP_DATABASE_URL=postgresql://... becomes app.config["DATABASE_URL"]
    app.config.from_prefixed_env(prefix="YZMAP")
    if test_config is not None:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(app.instance_path)
    app.json.ensure_ascii = False

    from webmap.ledger import db
    from webmap.web import assets, errors
    from webmap.web import context as layers
    from webmap.web.views import api, pages

    db.init_app(app)
    layers.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(assets.bp)
    from webmap.web.views import snapshot as snapshot_views

    app.register_blueprint(snapshot_views.bp)
    from webmap.web.views import boundaries as boundary_views
    from webmap.web.views import overlap as overlap_views

    app.register_blueprint(boundary_views.bp)
    app.register_blueprint(overlap_views.bp)
    from webmap.web import auth, csrf, security
    from webmap.web.views import audit as audit_views
    from webmap.web.views import edit as issue_edit
    from webmap.web.views import public

    auth.init_app(app)  # first: the login wall sets g.scope before any view reads data
    csrf.init_app(app)
    security.init_app(app)
    app.register_blueprint(public.bp)
    app.register_blueprint(audit_views.bp)
    app.register_blueprint(issue_edit.bp)
    errors.register_error_handlers(app)
    return app
