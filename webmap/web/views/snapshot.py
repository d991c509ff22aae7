"""``/snapshot.png`` and ``/snapshot.pdf``: the map view's export button, drawn on the server.

The query string is the map page's own: filters go through ``api.issue_query`` (the same
``IssueQuery`` and access scope as ``/`` and ``/api/issues``); ``basemap`` and ``measure`` are
the page's display options; ``size`` (A4/A3) and ``title`` only change the paper and caption.
"""

from __future__ import annotations

import io

from flask import Blueprint, abort, current_app, request, send_file
from werkzeug.datastructures import MultiDict

from webmap.ledger import db
from webmap.web.context import get_layers
from webmap.web.views import api, pages

bp = Blueprint("snapshot", __name__)

PRINT_ARGS = ("size", "title")
MIMETYPES = {"png": "image/png", "pdf": "application/pdf"}


def split_print(args: MultiDict) -> tuple[MultiDict, dict]:
    """Take the paper size and title off the arguments; reject unknown sizes in Chinese."""
    rest = MultiDict((k, v) for k, v in args.items(multi=True) if k not in PRINT_ARGS)
    size = args.get("size") or "A4"
    if size not in ("A4", "A3"):
        abort(400, f"参数 size 只能是 A4 或 A3，收到“{size}”")
    title = (args.get("title") or "").strip() or None
    if title is not None and len(title) > 60:
        abort(400, "参数 title 不能超过 60 字")
    return rest, {"size": size, "title": title}


@bp.route("/snapshot.<any(png, pdf):fmt>")
def snapshot(fmt):
    """Draw the issues of this query string as a PNG (300 dpi) or PDF and send it as a download."""
    from webmap.render.snapshot import render_snapshot

    rest, paper = split_print(request.args)
    filters, display = pages.split_display(rest)
    query = api.issue_query(filters)
    buffer = io.BytesIO()
    shot = render_snapshot(
        db.get_session(),
        query,
        get_layers(),
        buffer,
        fmt=fmt,
        today=api.today(),
        title=paper["title"],
        size=paper["size"],
        basemap=display["basemap"],
        config=current_app.config,
        amber_days=current_app.config.get("AMBER_DAYS", 30),
    )
    buffer.seek(0)
    name = f"yzmap-{shot.spec.query_id}.{fmt}"
    resp = send_file(buffer, mimetype=MIMETYPES[fmt], as_attachment=True, download_name=name)
    resp.headers["X-Yzmap-Query-Id"] = shot.spec.query_id
    resp.headers["X-Yzmap-Issue-Count"] = str(len(shot.items))
    return resp
