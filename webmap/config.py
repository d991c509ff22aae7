"""Every configuration setting of yzmap with its default, and how a deployment overrides them.

Settings are read in this order, later ones winning (the flaskr pattern, without needing Flask,
so the command line, a benchmark or a worker process read exactly what the web app reads):

1. ``DEFAULTS`` below;
2. ``instance/config.py`` (upper-case names; the instance folder is ``YZMAP_INSTANCE_PATH`` or,
   as Flask places it, ``instance/`` beside the ``webmap`` package, ``<prefix>/var/webmap-instance``
   when installed into site-packages);
3. environment variables ``YZMAP_<NAME>``: the value is read as JSON when it parses (numbers,
   true/false, lists), else taken as text; ``YZMAP_A__B=1`` sets key ``B`` of the dict ``A``;
4. the dict a test passes to ``create_app``.

This module imports nothing from ``webmap``: every layer may read it.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

from geo.boundaries import DATA_DIR

ENV_PREFIX = "YZMAP_"
MB = 1024 * 1024

DEFAULTS: dict[str, object] = {
    # storage: None means the SQLite file instance/yzmap.sqlite
    "DATABASE_URL": None,
    "BOUNDARIES_DIR": str(DATA_DIR),  # shipped boundary layers (data/boundaries)
    # where releases before the database store kept imported layers (instance/boundaries when
    # None); ``yzmap init`` moves what it finds there into the database once
    "BOUNDARY_STORE_DIR": None,
    # ledger rules
    "AMBER_DAYS": 30,  # amber when due within this many days (due today included)
    "PUBLICITY_DAYS": 7,  # length of the 公示 period before 申请
    "TODAY": None,  # "YYYY-MM-DD" pins the day deadlines are judged on (tests, replays)
    # maps and pictures: online basemaps are only drawn when configured and reachable
    "TIANDITU_KEY": None,
    "TIANDITU_REVIEW_NO": None,  # 审图号 stamped beside each basemap
    "AMAP_REVIEW_NO": None,
    "SNAPSHOT_TILE_URLS": None,  # {basemap: URL template}: an intranet tile mirror
    # accounts and sessions
    "SECRET_KEY": None,  # None: a random key kept in instance/secret_key
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "yzmap_session",
    "SESSION_COOKIE_SECURE": False,  # also Secure whenever the request itself is HTTPS
    "PERMANENT_SESSION_LIFETIME": timedelta(hours=8),
    "LOGIN_MAX_PER_USER": 5,  # failed logins per user name within the window
    "LOGIN_MAX_PER_IP": 30,  # failed logins per client address within the window
    "LOGIN_WINDOW_SECONDS": 900,
    # personal access tokens for GIS clients (webmap.ledger.tokens): requests per token and minute
    "TOKEN_MAX_PER_MINUTE": 600,
    # uploads (evidence, boundary and site files)
    "UPLOAD_DIR": None,  # None: instance/uploads
    "UPLOAD_MAX_BYTES": 50 * MB,  # one boundary or site file (within MAX_CONTENT_LENGTH)
    "UPLOAD_MAX_FILES": 10,  # files in one request
    "MAX_CONTENT_LENGTH": 50 * MB,  # a whole request (Flask answers 413 beyond)
    "MAX_FORM_PARTS": 200,
    # field evidence photos: the checks made on upload (webmap.ledger.evidence)
    "PHOTO_MAX_BYTES": 25 * MB,  # one photo
    "PHOTO_TOLERANCE_M": 300,  # a geotag this close to the site passes
    "PHOTO_TOLERANCE_BY_CATEGORY": {},  # {问题类别: metres}: wider for e.g. river reaches
    "PHOTO_REUSE_MAX_BITS": 6,  # pHash bits (of 64) within which two photos count as the same
    "PHOTO_STALE_DAYS": 90,  # a stage photo older than this before the stage date is doubtful
    # public pages
    "OBJECTION_MAX_PER_HOUR": 5,  # objections per client address and hour
    "PROPAGATE_TEST_ERRORS": True,  # with TESTING: an unexpected error fails the test, not a 500
    # reminders (yzmap remind, or the daily run inside yzmap serve)
    "STALL_DAYS": 30,  # an open issue with no progress report for this many days is stalled
    "STALL_REPEATS": 2,  # stalled notices on one issue from which an escalation is proposed
    "REMIND_CATCHUP_DAYS": 7,  # events this many days back still get a notice (missed runs)
    "REMINDERS_DAILY_AT": None,  # "HH:MM": run reminders daily inside yzmap serve (off when None)
    "CITY_OFFICE_EMAILS": [],  # the city office's addresses: every notice is copied to them
    "NOTICE_EMAILS": {},  # username or roster name -> e-mail address of that recipient
    "SMTP_URL": None,  # smtp://user:pass@host:25 or smtps://… (starttls=1 for STARTTLS)
    "SMTP_FROM": "yzmap@localhost",
    "WEBHOOK_URL": None,  # 企业微信/钉钉 group robot URL (or a list of them)
    "DELIVERY_TIMEOUT": 10,  # seconds per SMTP or webhook attempt
    "DELIVERY_RETRIES": 3,  # attempts within one run before a delivery is left failed
    "DELIVERY_RETRY_SECONDS": 2.0,  # pause between those attempts (doubled each time)
    "DELIVERY_MAX_ATTEMPTS": 10,  # later runs retry failed deliveries up to this many attempts
    "PUBLIC_BASE_URL": "http://127.0.0.1:5000",  # links to issues in e-mails and robot messages
    # operations (webmap.ledger.logs, webmap.web.requestlog, webmap.web.server)
    "LOG_LEVEL": "INFO",  # DEBUG, INFO, WARNING, ERROR or CRITICAL, for the app and every command
    "LOG_FORMAT": "text",  # "json": one JSON object per line, for a log collector
    # reverse proxies in front of yzmap (0: none, X-Forwarded-* ignored so nobody can spoof an
    # address); N trusts the last N hops for the client address, scheme, host and prefix
    "TRUSTED_PROXIES": 0,
    "HSTS_SECONDS": 31536000,  # Strict-Transport-Security max-age on HTTPS answers (0: not sent)
    "MAP_CACHE_SIZE": 64,  # built map page shells kept per worker process (per role and filter)
    # the issue map loads every point while its view holds at most this many located issues;
    # beyond, it draws counts per grid cell computed by the database (/api/issues/grid)
    "MAP_POINTS_LIMIT": 50000,
    "MAP_GRID_PIXELS": 60,  # grid cell size in screen pixels (the map's own clusters use 60)
    "MAP_GRID_MAX_CELLS": 20000,  # cells one grid answer may hold (a finer grid is a 400)
    "SHUTDOWN_GRACE_SECONDS": 30,  # on SIGTERM, requests in flight get this long to finish
}


def default_instance_path() -> Path:
    """Return the instance folder: ``YZMAP_INSTANCE_PATH``, else where Flask would put it."""
    configured = os.environ.get(f"{ENV_PREFIX}INSTANCE_PATH")
    if configured:
        return Path(configured)
    root = Path(__file__).resolve().parent.parent
    prefix = Path(sys.prefix).resolve()
    # installed into site-packages (not an editable checkout): Flask uses <prefix>/var/...
    if root.is_relative_to(prefix) and "site-packages" in root.parts:
        return prefix / "var" / "webmap-instance"
    return root / "instance"


def _from_pyfile(path: Path) -> dict:
    """Return the upper-case names a Python config file defines (Flask's ``from_pyfile``)."""
    if not path.is_file():
        return {}
    namespace: dict = {"__file__": str(path)}
    exec(compile(path.read_bytes(), str(path), "exec"), namespace)  # noqa: S102 - operator's file
    return {k: v for k, v in namespace.items() if k.isupper()}


def _from_env(environ: Mapping[str, str]) -> dict:
    """Return the ``YZMAP_`` variables as settings (Flask's ``from_prefixed_env`` rules)."""
    out: dict = {}
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX) or name == f"{ENV_PREFIX}INSTANCE_PATH":
            continue
        raw = environ[name]
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        *parents, key = name[len(ENV_PREFIX) :].split("__")
        target = out
        for parent in parents:
            target = target.setdefault(parent, {})
        target[key] = value
    return out


def load_config(
    instance_path: str | Path | None = None,
    overrides: Mapping | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict:
    """Return the settings in force: defaults, instance file, environment, then ``overrides``."""
    instance = Path(instance_path) if instance_path else default_instance_path()
    config = dict(DEFAULTS)
    config.update(_from_pyfile(instance / "config.py"))
    config.update(_from_env(os.environ if environ is None else environ))
    config.update(overrides or {})
    if not config.get("DATABASE_URL"):
        config["DATABASE_URL"] = f"sqlite:///{instance / 'yzmap.sqlite'}"
    config["INSTANCE_PATH"] = str(instance)
    return config


def sqlite_missing(url: str) -> bool:
    """Say whether ``url`` names a SQLite file that does not exist (nothing created yet)."""
    return url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).exists()


def upload_dir(config: Mapping) -> Path:
    """Return the folder uploads are kept in: ``UPLOAD_DIR`` or instance/uploads."""
    return Path(config.get("UPLOAD_DIR") or Path(config["INSTANCE_PATH"]) / "uploads")
