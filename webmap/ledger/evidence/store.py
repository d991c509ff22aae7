"""Check and keep evidence photos: from a phone report, a sign-off stage or the command line.

``inspect_photo`` runs every check against the ledger without writing anything (``yzmap
evidence check``); ``store_photo`` also writes the original, its thumbnail and (for HEIC) a JPEG
view under the upload folder by content hash, then adds the ``EvidencePhoto`` row. Callers own
the transaction: a refused photo raises ``EvidenceError`` naming the file, and the caller's
rollback leaves no row behind (a file already written is harmless: it is named by its hash).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path, PurePath

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo.files import write_atomically
from geo.photo import PhotoError
from webmap.ledger import workflow
from webmap.ledger.events import LedgerError, record_event
from webmap.ledger.evidence.checks import (
    Check,
    EvidenceRules,
    PriorPhoto,
    as_record,
    check_integrity,
    check_location,
    check_reuse,
    check_time,
    worst,
)
from webmap.ledger.evidence.images import PHOTO_SUFFIXES, PreparedPhoto, prepare_photo
from webmap.ledger.models import Event, EvidencePhoto, Issue, ProgressUpdate, SignOff, to_shape
from webmap.ledger.vocabulary import PHOTO_PHASES

RETRY_WINDOW = timedelta(minutes=30)  # a resent report within this time is the same report


class EvidenceError(LedgerError):
    """A photo was refused (unreadable, too large, wrong type); the message names the file."""


@dataclass(frozen=True)
class PhotoUpload:
    """A photo as it arrives: its name, bytes, the phase it shows and a declared GPS datum."""

    filename: str
    data: bytes
    phase: str = "整改中"
    declared_datum: str | None = None


@dataclass(frozen=True)
class Inspection:
    """A photo's checks and verdict, before or after it is stored."""

    filename: str
    prepared: PreparedPhoto
    checks: dict[str, Check]
    verdict: str
    photo: EvidencePhoto | None = field(default=None, compare=False)

    def as_dict(self) -> dict:
        """Return the inspection as plain JSON-able values (``--json``, the web's JSON answers)."""
        meta = self.prepared.meta
        return {
            "file": self.filename,
            "photo": self.photo.id if self.photo is not None else None,
            "verdict": self.verdict,
            "sha256": self.prepared.sha256,
            "phash": self.prepared.phash,
            "taken_at": meta.taken_at.isoformat() if meta.taken_at else None,
            "lon": meta.lon,
            "lat": meta.lat,
            "checks": as_record(self.checks),
        }


def photo_folder(root: Path, number: str) -> Path:
    """Return the folder an issue's evidence files are kept in under the upload root."""
    return Path(root) / "evidence" / hashlib.sha256(number.encode()).hexdigest()[:16]


def evidence_file(root: Path, number: str, sha256: str, suffix: str) -> Path:
    """Return where a file with this content hash is kept for this issue."""
    return photo_folder(root, number) / f"{sha256[:16]}{suffix.lower()}"


def display_path(photo: EvidencePhoto) -> Path:
    """Return the file a browser is shown for a photo: its JPEG view when one was made."""
    view = Path(photo.stored_path).with_suffix(".view.jpg")
    return view if view.exists() else Path(photo.stored_path)


def assigned_on(session: Session, issue: Issue) -> date:
    """Return the day the issue entered the ledger (its first event), the start of its clock."""
    first = session.scalar(
        select(func.min(Event.effective_date)).where(Event.issue_number == issue.number)
    )
    return first or issue.created_at.date()


def prior_photos(session: Session, exclude: Sequence[int] = ()) -> list[PriorPhoto]:
    """Return every stored photo's hashes with its issue number, for the reuse check.

    The Hamming distance of pHashes cannot be indexed portably in SQL; a city's ledger holds
    thousands of photos, which compare in milliseconds in Python.
    """
    rows = session.execute(
        select(EvidencePhoto.id, Issue.number, EvidencePhoto.sha256, EvidencePhoto.phash)
        .join(Issue, Issue.id == EvidencePhoto.issue_id)
        .where(EvidencePhoto.id.not_in(list(exclude)) if exclude else True)
        .order_by(EvidencePhoto.id)
    )
    return [PriorPhoto(*row) for row in rows]


def _check_upload(upload: PhotoUpload, rules: EvidenceRules) -> None:
    """Refuse a photo of the wrong type, size or phase before decoding it."""
    suffix = PurePath(upload.filename).suffix.lower()
    if suffix not in PHOTO_SUFFIXES:
        raise EvidenceError(
            f"照片 {upload.filename}：不支持的类型 {suffix or '（无扩展名）'}，"
            f"可用 {'、'.join(PHOTO_SUFFIXES)}", "photo", upload.filename,
        )  # fmt: skip
    if len(upload.data) > rules.max_bytes:
        raise EvidenceError(
            f"照片 {upload.filename} 大小 {len(upload.data) / 2**20:.1f} MB，"
            f"超过上限 {rules.max_bytes / 2**20:.0f} MB", "photo", upload.filename,
        )  # fmt: skip
    if upload.phase not in PHOTO_PHASES:
        raise EvidenceError(
            f"照片阶段“{upload.phase}”无效，可用：{'、'.join(PHOTO_PHASES)}", "phase", upload.phase
        )


def inspect_photo(
    session: Session,
    issue: Issue,
    upload: PhotoUpload,
    *,
    rules: EvidenceRules,
    reference_day: date,
    uploaded_at: datetime,
    device: tuple[float, float] | None = None,
    exclude: Sequence[int] = (),
) -> Inspection:
    """Run every check on one photo for ``issue`` without storing anything."""
    _check_upload(upload, rules)
    try:
        prepared = prepare_photo(upload.data, declared_datum=upload.declared_datum)
    except PhotoError as exc:
        raise EvidenceError(f"照片 {upload.filename}：{exc}", "photo", upload.filename) from exc
    meta = prepared.meta
    site = to_shape(issue.geometry) if issue.geometry is not None else None
    checks = {
        "location": check_location(meta, site, rules.tolerance_for(issue.category), device=device),
        "time": check_time(meta, assigned_on=assigned_on(session, issue), phase=upload.phase,
                           reference_day=reference_day, stale_days=rules.stale_days),
        "reuse": check_reuse(prepared.sha256, prepared.phash, prior_photos(session, exclude),
                             rules.reuse_max_bits),
        "integrity": check_integrity(meta, uploaded_at),
    }  # fmt: skip
    verdict = worst(c.verdict for c in checks.values())
    return Inspection(upload.filename, prepared, checks, verdict)


def _write_files(root: Path, number: str, upload: PhotoUpload, prepared: PreparedPhoto) -> Path:
    """Write the original, its thumbnail and any JPEG view; return the original's path."""
    path = evidence_file(root, number, prepared.sha256, PurePath(upload.filename).suffix)
    path.parent.mkdir(parents=True, exist_ok=True)
    for target, data in ((path, upload.data), (path.with_suffix(".thumb.jpg"), prepared.thumbnail),
                         (path.with_suffix(".view.jpg"), prepared.view)):  # fmt: skip
        if data is not None and not target.exists():  # same hash, same bytes: keep the first
            with write_atomically(target) as handle:
                handle.write(data)
    return path


def store_photo(
    session: Session,
    issue: Issue,
    upload: PhotoUpload,
    *,
    root: Path,
    actor: str,
    rules: EvidenceRules,
    reference_day: date,
    uploaded_at: datetime,
    day: date,
    stage: str | None = None,
    update: ProgressUpdate | None = None,
    attachment=None,
    device: tuple[float, float] | None = None,
) -> Inspection:
    """Check one photo, keep its files, add its ``EvidencePhoto`` row and log it (on ``day``)."""
    found = inspect_photo(session, issue, upload, rules=rules, reference_day=reference_day,
                          uploaded_at=uploaded_at, device=device)  # fmt: skip
    meta = found.prepared.meta
    path = _write_files(root, issue.number, upload, found.prepared)
    photo = EvidencePhoto(
        issue=issue, update=update, attachment=attachment, stage=stage, phase=upload.phase,
        filename=upload.filename, stored_path=str(path),
        thumb_path=str(path.with_suffix(".thumb.jpg")), sha256=found.prepared.sha256,
        phash=found.prepared.phash, size=len(upload.data), mime=found.prepared.mime,
        width=meta.width, height=meta.height, taken_at=meta.taken_at,
        photo_lon=meta.lon, photo_lat=meta.lat,
        device_lon=device[0] if device else None, device_lat=device[1] if device else None,
        verdict=found.verdict, checks=as_record(found.checks), actor=actor,
        uploaded_at=uploaded_at,
    )  # fmt: skip
    session.add(photo)
    session.flush()
    record_event(session, "evidence.added", actor=actor, effective=day, issue_number=issue.number,
                 after={"photo": photo.id, "file": upload.filename, "phase": upload.phase,
                        "stage": stage, "verdict": found.verdict,
                        "sha256": found.prepared.sha256})  # fmt: skip
    return Inspection(found.filename, found.prepared, found.checks, found.verdict, photo)


def _resent_update(issue: Issue, *, percent: int, text: str | None, actor: str, day: date,
                   now: datetime) -> ProgressUpdate | None:  # fmt: skip
    """Return the report a retried submission repeats (same author, day, percent and text).

    A phone that lost the answer to its upload sends the same report again; recording it twice
    would double the progress log, so the retry attaches its photos to the first one.
    """
    for update in reversed(issue.updates):
        created = update.created_at
        if (update.actor == actor and update.date == day and update.percent == percent
                and (update.text or None) == (text or None)
                and created is not None and now - created <= RETRY_WINDOW):  # fmt: skip
            return update
    return None


def record_field_report(
    session: Session,
    issue: Issue,
    *,
    percent: int,
    text: str | None,
    photos: Sequence[PhotoUpload],
    actor: str,
    day: date,
    now: datetime,
    root: Path,
    rules: EvidenceRules,
    device: tuple[float, float] | None = None,
) -> tuple[ProgressUpdate, list[Inspection]]:
    """Record a progress report from the site with its photos, each checked; one savepoint."""
    with session.begin_nested():
        update = _resent_update(issue, percent=percent, text=text, actor=actor, day=day, now=now)
        if update is None:
            update = workflow.record_progress(session, issue, percent=percent, date=day,
                                              actor=actor, text=text, author=actor)  # fmt: skip
            session.flush()
        kept = {p.sha256 for p in session.scalars(
            select(EvidencePhoto).where(EvidencePhoto.update_id == update.id))}  # fmt: skip
        results = []
        for upload in photos:
            if hashlib.sha256(upload.data).hexdigest() in kept:
                continue  # this photo arrived with the first try
            results.append(store_photo(session, issue, upload, root=root, actor=actor,
                                       rules=rules, reference_day=day, uploaded_at=now, day=day,
                                       update=update, device=device))  # fmt: skip
    return update, results


def store_signoff_photos(
    session: Session,
    issue: Issue,
    signoff: SignOff,
    *,
    root: Path,
    actor: str,
    rules: EvidenceRules,
    now: datetime,
) -> list[Inspection]:
    """Check the image files attached to a sign-off stage (as 整改后 photos of that stage)."""
    results = []
    for attachment in signoff.attachments:
        suffix = PurePath(attachment.filename or "").suffix.lower()
        if not attachment.stored_path or suffix not in PHOTO_SUFFIXES:
            continue  # documents and links are evidence too, but not photos to check
        upload = PhotoUpload(attachment.filename, Path(attachment.stored_path).read_bytes(),
                             phase="整改后")  # fmt: skip
        results.append(store_photo(session, issue, upload, root=root, actor=actor, rules=rules,
                                   reference_day=signoff.date, uploaded_at=now, day=signoff.date,
                                   stage=signoff.stage, attachment=attachment))  # fmt: skip
    return results


def photos_of(session: Session, issue: Issue) -> list[EvidencePhoto]:
    """Return an issue's photos, oldest first."""
    return list(session.scalars(
        select(EvidencePhoto).where(EvidencePhoto.issue_id == issue.id)
        .order_by(EvidencePhoto.uploaded_at, EvidencePhoto.id)
    ))  # fmt: skip


def latest_signoff(issue: Issue, stage: str) -> SignOff | None:
    """Return the issue's latest sign-off record of ``stage``."""
    found = [s for s in issue.signoffs if s.stage == stage]
    return found[-1] if found else None



def located_photos(session: Session, issue_ids, limit: int) -> list[tuple[EvidencePhoto, Issue]]:
    """Return geotagged photos of the given issues (ids or a select of ids) with their issue."""
    rows = session.execute(
        select(EvidencePhoto, Issue).join(Issue, Issue.id == EvidencePhoto.issue_id)
        .where(EvidencePhoto.issue_id.in_(issue_ids), EvidencePhoto.photo_lon.is_not(None))
        .order_by(EvidencePhoto.id).limit(limit)
    )  # fmt: skip
    return [(photo, issue) for photo, issue in rows]
