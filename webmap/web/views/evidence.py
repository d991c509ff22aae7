"""Field reports from the site: a phone-first page for progress with photos, and photo files.

``GET /issues/<number>/field`` is the page; ``POST`` records the progress report and checks
every photo (``webmap.ledger.evidence``). The page's script sends the form with ``fetch`` and
answers in JSON, so a failed upload keeps the text and photos on the phone for a retry; without
script the form posts normally and a refused report comes back with what was typed and the
message beside the field. Photos are served through the user's scope (404 outside it).
"""

from __future__ import annotations

import math
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from webmap.config import upload_dir
from webmap.ledger.db import transaction
from webmap.ledger.events import LedgerError
from webmap.ledger.evidence.checks import EvidenceRules
from webmap.ledger.evidence.store import PhotoUpload, display_path, record_field_report
from webmap.ledger.models import EvidencePhoto, utcnow
from webmap.ledger.vocabulary import (
    PHOTO_CHECK_LABELS,
    PHOTO_PHASES,
    PHOTO_SUMMARY_LABELS,
    PHOTO_VERDICT_COLORS,
    PHOTO_VERDICT_LABELS,
)
from webmap.web.auth import current_user, requires
from webmap.web.context import get_session, ledger_context, today
from webmap.web.errors import wants_json
from webmap.web.forms import FormError, read_percent, read_text

bp = Blueprint("evidence", __name__)

@bp.app_context_processor
def photo_words() -> dict:
    """Give every template the evidence vocabulary (photo cards appear on several pages)."""
    return {"photo_labels": PHOTO_VERDICT_LABELS, "photo_colors": PHOTO_VERDICT_COLORS,
            "check_labels": PHOTO_CHECK_LABELS, "summary_labels": PHOTO_SUMMARY_LABELS}


def _device() -> tuple[float, float] | None:
    """Return the device location the browser shared (with consent), if it is plausible."""
    try:
        lon, lat = float(request.form["device_lon"]), float(request.form["device_lat"])
    except (KeyError, ValueError):
        return None
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return lon, lat


def _read_form() -> tuple[int, str | None, list[PhotoUpload]]:
    """Read the report form: percent, text and photos with their phase; raise ``FormError``."""
    percent, text = read_percent(), read_text("text", "进展情况")
    phase = request.form.get("phase") or "整改中"
    if phase not in PHOTO_PHASES:
        raise FormError("phase", f"照片阶段“{phase}”无效，可用：{'、'.join(PHOTO_PHASES)}")
    photos = [PhotoUpload(f.filename, f.read(), phase=phase)
              for f in request.files.getlist("photos") if f.filename]  # fmt: skip
    return percent, text, photos


def _page(issue, *, status: int = 200, error: FormError | None = None):
    """Render the field page (again, with the typed values and any message beside its field)."""
    return render_template(
        "evidence/field.html", issue=issue, phases=PHOTO_PHASES, form=request.form,
        error=error, max_files=current_app.config["UPLOAD_MAX_FILES"],
    ), status  # fmt: skip


@bp.route("/issues/<number>/field")
@requires("issue.progress")
def field(number):
    """The phone-first report page: progress, text, photos and the device's location."""
    return _page(g.issue)


@bp.route("/issues/<number>/field", methods=["POST"])
@requires("issue.progress")
def field_report(number):
    """Record a field report; answer JSON to the page's script, else the page or a redirect."""
    issue = g.issue
    try:
        percent, text, photos = _read_form()
        session = get_session()
        with transaction(session):
            update, results = record_field_report(
                session, issue, percent=percent, text=text, photos=photos,
                actor=current_user().username, day=today(), now=utcnow(),
                root=upload_dir(current_app.config), rules=EvidenceRules.from_settings(
                    ledger_context().settings), device=_device(),
            )  # fmt: skip
    except FormError as exc:
        return _refused(issue, exc)
    except LedgerError as exc:
        return _refused(issue, FormError.from_ledger(exc, default="percent"))
    detail = url_for("pages.issue_detail", number=number, _anchor="photos")
    if wants_json():
        return jsonify({"ok": True, "update": update.id, "detail": detail,
                        "photos": [r.as_dict() for r in results]})  # fmt: skip
    return redirect(detail)


def _refused(issue, error: FormError):
    """Answer a refused report: JSON for the script, else the form again with its values."""
    if wants_json():
        return jsonify({"ok": False, "field": error.field, "error": error.message}), 400
    return _page(issue, status=400, error=error)


def _photo(number: str, photo_id: int) -> EvidencePhoto:
    """Return a photo of the (scoped) issue, or 404."""
    photo = get_session().get(EvidencePhoto, photo_id)
    if photo is None or photo.issue_id != g.issue.id:
        abort(404, f"问题 {number} 没有编号为 {photo_id} 的照片")
    return photo


@bp.route("/issues/<number>/photos/<int:photo_id>/thumb")
@requires("issue.read")
def thumbnail(number, photo_id):
    """A photo's JPEG thumbnail."""
    return send_file(_photo(number, photo_id).thumb_path, mimetype="image/jpeg", max_age=86400)


@bp.route("/issues/<number>/photos/<int:photo_id>")
@requires("issue.read")
def full_view(number, photo_id):
    """A photo at full size (a JPEG view for HEIC originals)."""
    photo = _photo(number, photo_id)
    path = display_path(photo)
    mime = photo.mime if path == Path(photo.stored_path) else "image/jpeg"
    return send_file(path, mimetype=mime, max_age=86400)
