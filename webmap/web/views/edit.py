"""Editing an issue on the web: progress reports, status and sign-off stages, disclosure flags.

Every view declares its action with ``webmap.web.auth.requires``; the issue is loaded through
the user's read scope (404 outside it) and checked with ``webmap.ledger.access.can`` (403), so a
county editor cannot reach another county's issue through any of these endpoints. The writes go
through ``webmap.ledger.workflow`` / ``webmap.ledger.events``, which append before/after to the
event (audit) log.
Evidence files are checked (``security.check_upload``) and stored under ``UPLOAD_DIR`` (or the
instance folder's ``uploads``) by content hash. A refused value (progress 150, a stage without
its evidence, an ``.exe``) returns the form with what was typed and the message beside the field;
the status list offers only the moves the workflow would accept for this user and issue.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from geo.files import write_atomically
from webmap.config import upload_dir as configured_upload_dir
from webmap.ledger import workflow
from webmap.ledger.access import can
from webmap.ledger.db import transaction
from webmap.ledger.events import LedgerError, update_issue
from webmap.ledger.evidence.checks import EvidenceRules
from webmap.ledger.evidence.store import evidence_file, store_signoff_photos
from webmap.ledger.models import utcnow
from webmap.ledger.vocabulary import STAGE_OF_STATUS
from webmap.web.auth import current_user, requires
from webmap.web.context import get_session, ledger_context, today
from webmap.web.forms import FormError, read_percent, read_text
from webmap.web.security import check_upload

bp = Blueprint("edit", __name__)

EVIDENCE_KINDS = sorted({k for alts in workflow.REQUIRED_EVIDENCE.values() for k in alts[0]})


def upload_dir() -> Path:
    """Return the folder evidence files are stored in (the upload area)."""
    return configured_upload_dir(current_app.config)


def store_evidence(number: str, kind: str) -> list[workflow.Evidence]:
    """Save the uploaded evidence files of this request; return their descriptions."""
    out = []
    for storage in request.files.getlist("evidence"):
        if not storage.filename:
            continue
        name = check_upload(storage)
        data = storage.read()
        path = evidence_file(upload_dir(), number, hashlib.sha256(data).hexdigest(),
                             Path(name).suffix)  # fmt: skip
        path.parent.mkdir(parents=True, exist_ok=True)
        with write_atomically(path) as handle:
            handle.write(data)
        described = workflow.evidence_from_file(path, kind, stored_path=str(path))
        out.append(replace(described, filename=name))  # keep the name the user knows
    return out


@contextmanager
def ledger_write() -> Iterator[Session]:
    """Run the block as one transaction of the request's session; a refused write is a 400."""
    session = get_session()
    try:
        with transaction(session):
            yield session
    except LedgerError as exc:
        abort(400, exc.message)


def offered_targets(issue) -> list[str]:
    """Return the statuses this user may move this issue to today, as the workflow allows."""
    user = current_user()
    feasible = workflow.feasible_targets(issue, when=today(),
                                         publicity_days=ledger_context().publicity_days)
    return [s for s in feasible if can(user, "issue.transition", issue, to_status=s)]


def edit_page(issue, *, error: FormError | None = None, form: str | None = None):
    """Render the edit forms; a refused form comes back with its values and the message."""
    return render_template(
        "edit/issue.html", issue=issue, targets=offered_targets(issue),
        evidence_kinds=EVIDENCE_KINDS, max_files=current_app.config["UPLOAD_MAX_FILES"],
        error=error, failed=form, values=request.form if error else {},
    ), 400 if error else 200  # fmt: skip


@bp.route("/issues/<number>/edit")
@requires("issue.progress")
def edit(number):
    """The forms a user may use on this issue."""
    return edit_page(g.issue)


def _write(form: str, apply):
    """Run ``apply(session)`` in one transaction; a refused value returns the form with it."""
    session = get_session()
    try:
        with transaction(session):
            apply(session)
    except FormError as exc:
        return edit_page(g.issue, error=exc, form=form)
    except LedgerError as exc:
        return edit_page(g.issue, error=FormError.from_ledger(exc), form=form)
    return redirect(url_for("pages.issue_detail", number=g.issue.number))


@bp.route("/issues/<number>/progress", methods=["POST"])
@requires("issue.progress")
def progress(number):
    """Record a progress report (percent 0-100 and text)."""

    def apply(session):
        """Validate the form and record the report."""
        percent, text = read_percent(), read_text("text", "进展情况")
        workflow.record_progress(session, g.issue, percent=percent, date=today(),
                                 actor=current_user().username, text=text,
                                 author=current_user().username)  # fmt: skip

    return _write("progress", apply)


def _evidence_url(kind: str) -> list[workflow.Evidence]:
    """Return the evidence link of the form, if any, or raise ``FormError`` for a bad one."""
    url = read_text("evidence_url", "材料链接")
    if not url:
        return []
    if not url.startswith(("http://", "https://")):
        raise FormError("evidence_url", f"材料链接须以 http:// 或 https:// 开头，收到“{url}”")
    return [workflow.Evidence(kind=kind, url=url)]


@bp.route("/issues/<number>/transition", methods=["POST"])
@requires("issue.transition")
def transition(number):
    """Move the issue to another status; a sign-off stage takes its evidence (files or a link)."""

    def apply(session):
        """Validate the form, keep the files, move the issue and check any photos."""
        to_status = read_text("to_status", "目标状态", required=True)
        kind = read_text("evidence_kind", "材料类型") or "其他材料"
        evidence = store_evidence(number, kind) + _evidence_url(kind)
        workflow.transition(session, g.issue, to_status, actor=current_user().username,
                            date=today(), evidence=evidence, note=read_text("note", "说明"),
                            publicity_days=ledger_context().publicity_days,
                            today=today())  # fmt: skip
        if evidence and g.issue.signoffs and STAGE_OF_STATUS.get(to_status):
            # photos among a stage's files get the same checks as field photos
            store_signoff_photos(session, g.issue, g.issue.signoffs[-1], root=upload_dir(),
                                 actor=current_user().username, now=utcnow(),
                                 rules=EvidenceRules.from_settings(ledger_context().settings))

    return _write("transition", apply)


@bp.route("/issues/<number>/disclosure", methods=["POST"])
@requires("issue.disclosure")
def disclosure(number):
    """Set whether the issue is public and whether its place is sensitive (generalised)."""
    changes = {"public": request.form.get("public") == "1",
               "sensitive": request.form.get("sensitive") == "1"}  # fmt: skip
    with ledger_write() as session:
        update_issue(session, g.issue, changes, actor=current_user().username, date=today(),
                     kind="disclosure.changed")  # fmt: skip
    return redirect(url_for("pages.issue_detail", number=number))
