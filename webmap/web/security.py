"""Response headers (CSP, nosniff, Referrer-Policy, frame-ancestors) and upload limits.

Content-Security-Policy allows scripts from this server and inline scripts carrying the
request's nonce only. Templates put ``nonce="{{ csp_nonce() }}"`` on their own ``<script>`` tags;
folium's generated page header goes through the ``nonce_scripts`` filter, which adds the nonce to
the ``<script>`` tags of that trusted, server-built fragment (never apply it to user text). So a
script that reaches a page through user data has no nonce and does not run.

Uploads: ``MAX_CONTENT_LENGTH`` caps a request's size (413), ``MAX_FORM_PARTS`` the number of
form parts, ``UPLOAD_MAX_FILES`` the number of files in one request, and ``check_upload`` the
kind of an evidence file.
"""

from __future__ import annotations

import re
import secrets
from pathlib import PurePath

from flask import Flask, abort, g, request
from markupsafe import Markup

from webmap.web.forms import FormError

# online basemap tile hosts (webmap.render.basemaps): images only, when the user picks one
TILE_HOSTS = ("https://*.tianditu.gov.cn", "https://*.is.autonavi.com",
              "https://tile.openstreetmap.org")  # fmt: skip
UPLOAD_EXTENSIONS = (".pdf", ".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".heif", ".doc",
                     ".docx", ".xls", ".xlsx", ".csv", ".txt", ".zip", ".ofd")  # fmt: skip
_SCRIPT_TAG = re.compile(r"<script(?![^>]*\snonce=)", re.I)


def csp_nonce() -> str:
    """Return this request's CSP nonce (one random value per response)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def nonce_scripts(html: str) -> Markup:
    """Add the request's nonce to every ``<script`` tag of a trusted, server-built fragment."""
    return Markup(_SCRIPT_TAG.sub(f'<script nonce="{csp_nonce()}"', str(html)))


def content_security_policy(nonce: str) -> str:
    """Return the CSP header value for a response with ``nonce``."""
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        "style-src 'self' 'unsafe-inline'",  # folium and Leaflet set inline styles
        "img-src 'self' data: blob: " + " ".join(TILE_HOSTS),
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])  # fmt: skip


def set_security_headers(response):
    """After each request: add CSP and the other protective headers."""
    response.headers["Content-Security-Policy"] = content_security_policy(csp_nonce())
    response.headers["X-Content-Type-Options"] = "nosniff"
    # tile servers (天地图 keys are bound to a site) see our origin, never paths or queries
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    response.headers["X-Frame-Options"] = "DENY"
    hsts = _config("HSTS_SECONDS")
    # only over HTTPS (directly or, with TRUSTED_PROXIES, at the proxy): browsers ignore it on HTTP
    if hsts and request.is_secure:
        response.headers["Strict-Transport-Security"] = f"max-age={int(hsts)}"
    return response


def new_nonce() -> None:
    """Before each request: draw a fresh nonce (g can outlive a request in tests and CLIs)."""
    g.csp_nonce = secrets.token_urlsafe(18)


def check_upload_count():
    """Before each request: refuse more files than ``UPLOAD_MAX_FILES`` in one request (413)."""
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype == "multipart/form-data":
        count = sum(1 for _, f in request.files.items(multi=True) if f.filename)
        limit = _config("UPLOAD_MAX_FILES")
        if count > limit:
            abort(413, f"一次最多上传 {limit} 个文件，收到 {count} 个")
    return None


def check_upload(storage, field: str = "evidence") -> str:
    """Return a safe file name for an uploaded evidence file, or raise ``FormError`` naming it."""
    name = PurePath((storage.filename or "").replace("\\", "/")).name
    if not name or name.startswith("."):
        raise FormError(field, f"上传文件名无效：“{storage.filename}”")
    if PurePath(name).suffix.lower() not in UPLOAD_EXTENSIONS:
        raise FormError(field, f"不支持的文件类型：“{name}”，允许 {'、'.join(UPLOAD_EXTENSIONS)}")
    return name


def _config(name: str):
    """Read a setting of the current app."""
    from flask import current_app

    return current_app.config[name]


def init_app(app: Flask) -> None:
    """Register the header and upload hooks (the limits are settings: ``webmap.config``)."""
    app.before_request(new_nonce)
    app.before_request(check_upload_count)
    app.after_request(set_security_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.jinja_env.filters["nonce_scripts"] = nonce_scripts
