"""``/healthz`` and ``/readyz``: cheap, unauthenticated probes for the proxy and a monitor.

``/healthz`` says the process answers (it touches no database). ``/readyz`` checks that the
database answers, its schema is at the shipped migration head and the boundary layers load;
any failure answers 503 naming the check. Neither reveals data: no URL, version string or
error text leaves the server (the reason is logged with the request id instead).
"""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from sqlalchemy import text

from webmap.ledger.db import schema_status
from webmap.web.context import get_engine, get_layers

bp = Blueprint("health", __name__)
log = logging.getLogger("webmap.health")
NO_STORE = {"Cache-Control": "no-store"}


@bp.route("/healthz")
def healthz():
    """The process is alive."""
    return jsonify({"ok": True, "status": "alive"}), 200, NO_STORE


def _check_database() -> None:
    """Run a trivial query (raises when the database cannot be reached)."""
    with get_engine().connect() as conn:
        conn.execute(text("SELECT 1"))


def _check_migrations() -> None:
    """Raise unless the schema is at the shipped migration head."""
    current, head = schema_status(get_engine())
    if current != head:
        raise RuntimeError(f"schema at {current}, code expects {head}")


def _check_layers() -> None:
    """Raise unless the boundary layers in use load and hold counties."""
    if len(get_layers().counties.frame) == 0:
        raise RuntimeError("no counties in the boundary layers")


# in order: a later check is pointless when an earlier one failed
CHECKS = {"database": _check_database, "migrations": _check_migrations, "layers": _check_layers}
MESSAGES = {"database": "数据库无法连接", "migrations": "数据库版本不是最新，请运行 yzmap init",
            "layers": "边界图层未能加载"}  # fmt: skip


@bp.route("/readyz")
def readyz():
    """Ready to serve: database reachable, migrations at head, boundary layers loaded."""
    checks = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception:  # noqa: BLE001 - any failure makes the instance unready
            log.warning("readiness check %s failed", name, exc_info=True)
            checks[name] = "failed"
            body = {"ok": False, "status": 503, "failed": name, "error": MESSAGES[name],
                    "checks": checks}  # fmt: skip
            return jsonify(body), 503, NO_STORE | {"Retry-After": "10"}
        checks[name] = "ok"
    return jsonify({"ok": True, "status": "ready", "checks": checks}), 200, NO_STORE
