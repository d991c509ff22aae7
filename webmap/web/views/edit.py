"""Editing an issue on the web: progress reports, status and sign-off stages, disclosure flags.

Every view declares its action with ``webmap.web.auth.requires``; the issue is loaded through
the user's read scope (404 outside it) and checked with ``webmap.ledger.access.can`` (403), so a
county editor cannot reach another county's issue through any of these endpoints. The writes go
through ``webmap.ledger.workflow`` / ``webmap.ledger.events``, which append before/after to the
event (audit) log.
Evidence files are checked (``security.check_upload``) and stored under ``UPLOAD_DIR`` (or the
instance folder's ``uploads``) by content hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from webmap.config import upload_dir as configured_upload_dir
from webmap.ledger import workflow
from webmap.ledger.db import transaction
from webmap.ledger.events import LedgerError, update_issue
from webmap.ledger.files import write_atomically
from webmap.ledger.vocabulary import CITY_ONLY_STATUSES
from webmap.web.auth import current_user, requires
from webmap.web.context import get_session, ledger_context, today
from webmap.web.security import check_upload

bp = Blueprint("edit", __name__)

TEXT_MAX = 4000


def _text(name: str, required: bool = False) -> str | None:
    """Read a form text field (trimmed, at most ``TEXT_MAX`` characters) or abort 400 naming it."""
    value = (request.form.get(name) or "").strip()
    if required and not value:
        abort(400, f"字段 {name} 不能为空")
    if len(value) > TEXT_MAX:
        abort(400, f"字段 {name} 超过 {TEXT_MAX} 字（收到 {len(value)} 字）")
    return value or None


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
        digest = hashlib.sha256(data).hexdigest()
        folder = upload_dir() / "evidence" / hashlib.sha256(number.encode()).hexdigest()[:16]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{digest[:16]}{Path(name).suffix.lower()}"
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


@bp.route("/issues/<number>/edit")
@requires("issue.progress")
def edit(number):
    """The forms a user may use on this issue."""
    issue = g.issue
    targets = [s for s in workflow.allowed_targets(issue.status)
               if current_user().role == "admin" or s not in CITY_ONLY_STATUSES]  # fmt: skip
    return render_template("edit/issue.html", issue=issue, targets=targets,
                           evidence_kinds=sorted({k for alts in workflow.REQUIRED_EVIDENCE.values()
                                                  for k in alts[0]}),
                           max_files=current_app.config["UPLOAD_MAX_FILES"])  # fmt: skip


@bp.route("/issues/<number>/progress", methods=["POST"])
@requires("issue.progress")
def progress(number):
    """Record a progress report (percent 0-100 and text)."""
    raw = (request.form.get("percent") or "").strip()
    if not raw.isdigit():
        abort(400, f"字段 percent 应为 0 到 100 的整数，收到“{raw}”")
    with ledger_write() as session:
        workflow.record_progress(session, g.issue, percent=int(raw), date=today(),
                                 actor=current_user().username, text=_text("text"),
                                 author=current_user().username)  # fmt: skip
    return redirect(url_for("pages.issue_detail", number=number))


@bp.route("/issues/<number>/transition", methods=["POST"])
@requires("issue.transition")
def transition(number):
    """Move the issue to another status; a sign-off stage takes its evidence (files or a link)."""
    to_status = _text("to_status", required=True)
    kind = _text("evidence_kind")
    evidence = store_evidence(number, kind or "其他材料")
    url = _text("evidence_url")
    if url:
        if not url.startswith(("http://", "https://")):
            abort(400, f"字段 evidence_url 须以 http:// 或 https:// 开头，收到“{url}”")
        evidence.append(workflow.Evidence(kind=kind or "其他材料", url=url))
    with ledger_write() as session:
        workflow.transition(session, g.issue, to_status, actor=current_user().username,
                            date=today(), evidence=evidence, note=_text("note"),
                            publicity_days=ledger_context().publicity_days,
                            today=today())  # fmt: skip
    return redirect(url_for("pages.issue_detail", number=number))


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
