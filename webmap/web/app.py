"""The Flask app factory (the flaskr pattern): settings, extensions, then one blueprint per view."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import Flask

from webmap.config import default_instance_path, load_config

WEB_DIR = Path(__file__).resolve().parent


def _secret_key(instance_path: str | Path) -> str:
    """Return the instance's secret key, creating and keeping one on first run."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def _trust_proxies(app: Flask) -> None:
    """Behind ``TRUSTED_PROXIES`` reverse proxies, take address, scheme and host from them."""
    hops = app.config.get("TRUSTED_PROXIES") or 0
    if not isinstance(hops, int) or isinstance(hops, bool) or hops < 0:
        raise ValueError(f"TRUSTED_PROXIES 的值“{hops}”无效，应为 0 或正整数（代理层数）")
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # without the setting X-Forwarded-* is ignored, so a client cannot claim another address
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops,
                                x_port=hops, x_prefix=hops)  # fmt: skip


def create_app(test_config: dict | None = None) -> Flask:
    """Create and configure the yzmap app; settings come from ``webmap.config.load_config``."""
    instance = Path((test_config or {}).get("INSTANCE_PATH") or default_instance_path())
    # "webmap" names the app; templates and static files live beside this module
    app = Flask("webmap", instance_path=str(instance), root_path=str(WEB_DIR))
    instance.mkdir(parents=True, exist_ok=True)
    app.config.update(load_config(instance, test_config))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(instance)
    app.json.ensure_ascii = False

    from webmap.web import auth, context, csrf, errors, filters, requestlog, security
    from webmap.web.views import (
        api,
        assets,
        audit,
        boundaries,
        briefing,
        edit,
        escalation,
        evidence,
        export,
        health,
        inbox,
        ledger_import,
        login,
        ogcapi,
        overlap,
        pages,
        public,
        snapshot,
        tokens,
    )

    requestlog.init_app(app)  # before the login wall, whose redirects are logged too
    _trust_proxies(app)
    context.init_app(app)
    auth.init_app(app)  # first hook: the login wall sets g.scope before any view reads data
    csrf.init_app(app)
    security.init_app(app)
    filters.init_app(app)
    for view in (pages, api, assets, snapshot, boundaries, overlap, login, public, audit, edit,
                 inbox, escalation, evidence, export, ogcapi, tokens, health, briefing,
                 ledger_import):
        app.register_blueprint(view.bp)
    errors.register_error_handlers(app)
    return app
