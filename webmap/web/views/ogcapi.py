"""``/ogcapi``: OGC API - Features, a thin adapter over ``webmap.render.ogc.api`` (pygeoapi style).

The blueprint is public as a whole; the reader's scope comes from the login wall (a session
cookie or a personal access token). Collections that need a signed-in reader answer 401 with a
``WWW-Authenticate: Basic`` challenge, which is what QGIS and GDAL wait for before sending the
username and token.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, render_template, request

from webmap.ledger.ogc.errors import OgcError
from webmap.render.ogc import api
from webmap.web.auth import current_user
from webmap.web.context import get_session, ledger_context

bp = Blueprint("ogcapi", __name__, url_prefix="/ogcapi")


def _format() -> str:
    """Return json or html: ``f`` first, then the Accept header (browsers get HTML)."""
    fmt = request.args.get("f")
    if fmt in ("json", "html"):
        return fmt
    if fmt:
        raise OgcError(400, "InvalidParameterValue",
                       f"参数 f 的值“{fmt[:40]}”无效：可选 json、html")
    best = request.accept_mimetypes.best_match(["application/json", "application/geo+json",
                                                "text/html"])  # fmt: skip
    return "html" if best == "text/html" and request.accept_mimetypes.accept_html else "json"


def _request() -> api.OgcRequest:
    """Build the core's request from Flask's."""
    from webmap.web.args import request_scope

    args = [(k, v) for k, v in request.args.items(multi=True) if k != "f"]
    base = request.host_url.rstrip("/") + bp.url_prefix
    return api.OgcRequest(args, base, current_user() is not None, request_scope(), _format())


def _send(result: api.OgcResponse, fmt: str) -> Response:
    """Turn a core response into JSON or an HTML page."""
    if fmt == "html":
        body = render_template(result.template, doc=result.body,
                               pretty=json.dumps(result.body, ensure_ascii=False, indent=2))
        resp = Response(body, status=result.status, mimetype="text/html")
    else:
        data = json.dumps(result.body, ensure_ascii=False, separators=(",", ":"))
        resp = Response(data, status=result.status, mimetype=result.mimetype)
    resp.headers.update(result.headers)
    return resp


def _error(exc: OgcError) -> Response:
    """Return the OGC exception JSON (with a Basic challenge on 401)."""
    resp = Response(json.dumps(exc.body(), ensure_ascii=False), status=exc.status,
                    mimetype="application/json")  # fmt: skip
    if exc.status == 401:
        resp.headers["WWW-Authenticate"] = 'Basic realm="yzmap", charset="UTF-8"'
    return resp


def _answer(handler, *args) -> Response:
    """Run a core handler, mapping ``OgcError`` to the exception document."""
    try:
        req = _request()
        return _send(handler(req, *args), req.fmt)
    except OgcError as exc:
        return _error(exc)


@bp.route("", strict_slashes=False)
def landing():
    """Landing page."""
    return _answer(api.landing)


@bp.route("/conformance")
def conformance():
    """Conformance classes."""
    return _answer(api.conformance)


@bp.route("/openapi")
def openapi():
    """OpenAPI 3 document (JSON, or a plain server-rendered page)."""
    return _answer(api.openapi_doc, ledger_context())


@bp.route("/collections")
def collections():
    """Collections the reader may see."""
    return _answer(api.collections, ledger_context())


@bp.route("/collections/<sid>")
def collection(sid):
    """One collection."""
    return _answer(api.collection, ledger_context(), sid)


@bp.route("/collections/<sid>/queryables")
def queryables(sid):
    """Queryable properties of a collection."""
    return _answer(api.queryables, get_session(), ledger_context(), sid)


@bp.route("/collections/<sid>/items")
def items(sid):
    """A page of features."""
    return _answer(api.items, get_session(), ledger_context(), sid)


@bp.route("/collections/<sid>/items/<path:fid>")
def item(sid, fid):
    """One feature."""
    return _answer(api.item, get_session(), ledger_context(), sid, fid)
