"""``/snapshot.png`` and ``/snapshot.pdf``: the map view's export button, drawn on the server.

The query string is the map page's own: filters go through ``webmap.web.args.issue_query`` (the
same ``IssueQuery`` and access scope as ``/`` and ``/api/issues``); ``basemap`` and ``measure``
are the page's display options; ``size`` (A4/A3) and ``title`` only change the paper and caption.
"""

from __future__ import annotations

import io

from flask import Blueprint, abort, current_app, request, send_file

from webmap.render.snapshot import render_snapshot
from webmap.web.args import issue_query, split_args, split_display
from webmap.web.context import get_layers, get_session

bp = Blueprint("snapshot", __name__)

PRINT_ARGS = ("size", "title")
MIMETYPES = {"png": "image/png", "pdf": "application/pdf"}


def paper_options(args) -> dict:
    """Read the paper size and title; reject unknown sizes and long titles in Chinese."""
    size = args.get("size") or "A4"
    if size not in ("A4", "A3"):
        abort(400, f"参数 size 只能是 A4 或 A3，收到“{size}”")
    title = (args.get("title") or "").strip() or None
    if title is not None and len(title) > 60:
        abort(400, "参数 title 不能超过 60 字")
    return {"size": size, "title": title}


@bp.route("/snapshot.<any(png, pdf):fmt>")
def snapshot(fmt):
    """Draw the issues of this query string as a PNG (300 dpi) or PDF and send it as a download."""
    rest, paper = split_args(request.args, PRINT_ARGS)
    filters, display = split_display(rest)
    buffer = io.BytesIO()
    shot = render_snapshot(get_session(), issue_query(filters), get_layers(), buffer, fmt=fmt,
                           basemap=display["basemap"], settings=current_app.config,
                           **paper_options(paper))  # fmt: skip
    buffer.seek(0)
    name = f"yzmap-{shot.spec.query_id}.{fmt}"
    resp = send_file(buffer, mimetype=MIMETYPES[fmt], as_attachment=True, download_name=name)
    resp.headers["X-Yzmap-Query-Id"] = shot.spec.query_id
    resp.headers["X-Yzmap-Issue-Count"] = str(len(shot.items))
    return resp
