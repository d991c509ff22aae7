"""``/ledger/import``: the city office imports a ledger file on the web, with a preview first.

Upload → preview (the rows as read, the warnings, every error with row, column and value, how
many rows will become public and which have no point on the map) → confirm. The preview is the
importer's own dry run (``webmap.ledger.io.import_ledger(dry_run=True)``), so the confirm step
does exactly what was shown; the file waits under its upload token between the two requests.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from webmap.ledger.io.importer import import_ledger
from webmap.ledger.io.reader import LedgerFileError, read_ledger
from webmap.ledger.io.validate import validate_sheet
from webmap.web import uploads
from webmap.web.auth import current_user, requires
from webmap.web.context import get_layers, get_session, ledger_context

bp = Blueprint("ledger_import", __name__)

AREA = "ledger"
SUFFIXES = (".xlsx", ".csv")
PREVIEW_ROWS = 50


def _preview_rows(path) -> list[dict]:
    """Return the first rows as read and validated (number, title, county, place, public)."""
    try:
        rows, _ = validate_sheet(read_ledger(path))
    except LedgerFileError:
        return []
    return [{"row": r.row, **{k: r.values.get(k) for k in (
        "number", "title", "location_text", "lon", "lat", "is_public", "status")},
        "county": r.values.get("declared_county")} for r in rows[:PREVIEW_ROWS]]  # fmt: skip


def _dry_run(path):
    """Run the importer without writing; return its report."""
    return import_ledger(get_session(), path, get_layers(), actor=current_user().username,
                         dry_run=True, day=ledger_context().today)  # fmt: skip


@bp.route("/ledger/import")
@requires("ledger.import")
def form():
    """The upload form."""
    return render_template("ledger_import/form.html", suffixes=SUFFIXES)


@bp.route("/ledger/import", methods=["POST"])
@requires("ledger.import")
def preview():
    """Keep the file under a token and show what importing it would do."""
    token, path = uploads.save_upload(AREA, SUFFIXES, {})
    report = _dry_run(path)
    return render_template("ledger_import/preview.html", token=token, filename=path.name,
                           report=report, rows=_preview_rows(path),
                           preview_rows=PREVIEW_ROWS), 200 if report.ok else 400  # fmt: skip


@bp.route("/ledger/import/<token>", methods=["POST"])
@requires("ledger.import")
def confirm(token):
    """Import the previewed file (all rows in one transaction, or nothing)."""
    folder = uploads.token_dir(AREA, token)
    path, _ = uploads.read_options(folder)
    if request.form.get("confirm") != "1":
        uploads.discard(folder)
        return redirect(url_for("ledger_import.form"))
    report = import_ledger(get_session(), path, get_layers(), actor=current_user().username,
                           day=ledger_context().today)  # fmt: skip
    if report.ok:
        uploads.discard(folder)
    return render_template("ledger_import/done.html", report=report, filename=path.name,
                           token=token), 200 if report.ok else 400  # fmt: skip
