"""``/briefing``: the city office builds the briefing pack or the dispatch notice on the web.

The same builders as ``yzmap brief`` (``webmap.render.briefing``): a date to rebuild the ledger
on (as of), the date of the last briefing (a "since" page), counties, paper and format. A bad
value returns the form with the message beside its field; the file is made in memory and sent
as a download (the page's button shows that it is working).
"""

from __future__ import annotations

import io

from flask import Blueprint, render_template, request, send_file

from webmap.render.briefing import dispatch
from webmap.render.briefing.pack import build_pack
from webmap.web.auth import requires
from webmap.web.context import get_layers, get_session, ledger_context
from webmap.web.forms import FormError, read_day

bp = Blueprint("briefing", __name__)

FORMATS = {"pack": "汇报材料（PDF）", "notice-docx": "调度通报（Word）",
           "notice-pdf": "调度通报（PDF）"}  # fmt: skip
MIMETYPES = {"pdf": "application/pdf",
             "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


def read_request() -> dict:
    """Read and check the form: as_of, since, counties, size and format."""
    today = ledger_context().today
    as_of = read_day(request.args, "as_of", "汇报日期")
    since = read_day(request.args, "since", "上次汇报日期")
    if as_of is not None and as_of > today:
        raise FormError("as_of", f"汇报日期 {as_of} 晚于今天（{today}）")
    if since is not None and since >= (as_of or today):
        raise FormError("since", f"上次汇报日期 {since} 须早于汇报日期 {as_of or today}")
    known = dict(zip(get_layers().counties.frame["code"], get_layers().counties.frame["name"],
                     strict=True))  # fmt: skip
    counties = request.args.getlist("county")
    unknown = [c for c in counties if c not in known]
    if unknown:
        raise FormError("county", f"未知的县（市、区）代码：{'、'.join(unknown)}")
    size, fmt = request.args.get("size") or "A4", request.args.get("format") or "pack"
    if size not in ("A4", "A3"):
        raise FormError("size", f"纸张只能是 A4 或 A3，收到“{size}”")
    if fmt not in FORMATS:
        raise FormError("format", f"未知的格式“{fmt}”")
    return {"as_of": as_of, "since": since, "counties": counties, "size": size, "format": fmt}


def _form(error: FormError | None = None):
    """Render the form (again, with its values and the message beside the refused field)."""
    frame = get_layers().counties.frame
    return render_template(
        "briefing/index.html", counties=list(zip(frame["code"], frame["name"], strict=True)),
        formats=FORMATS, values=request.args, chosen=request.args.getlist("county"),
        error=error, failed="briefing", today=ledger_context().today,
    ), 400 if error else 200  # fmt: skip


@bp.route("/briefing")
@requires("briefing.build")
def index():
    """The form."""
    return _form()


@bp.route("/briefing/download")
@requires("briefing.build")
def download():
    """Build the chosen document and send it as a download, or return the form with the error."""
    try:
        asked = read_request()
    except FormError as exc:
        return _form(exc)
    session, ctx, layers, buffer = get_session(), ledger_context(), get_layers(), io.BytesIO()
    day = (asked["as_of"] or ctx.today).isoformat()
    if asked["format"] == "pack":
        build_pack(session, layers, buffer, ctx=ctx, as_of=asked["as_of"], size=asked["size"],
                   since=asked["since"], counties=asked["counties"])  # fmt: skip
        name, kind = f"汇报材料-{day}.pdf", "pdf"
    else:
        notice = dispatch.build_notice(session, layers, ctx=ctx, as_of=asked["as_of"],
                                       counties=asked["counties"])  # fmt: skip
        kind = asked["format"].removeprefix("notice-")
        if kind == "docx":
            dispatch.write_docx(notice, buffer)
        else:
            dispatch.write_pdf(notice, buffer, size=asked["size"])
        name = f"调度通报-{day}.{kind}"
    buffer.seek(0)
    return send_file(buffer, mimetype=MIMETYPES[kind], as_attachment=True, download_name=name)
