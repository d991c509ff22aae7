"""Field evidence photos with the checks made on upload (where, when, reused, integrity)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webmap.ledger.models.base import Base, UTCDateTime, utcnow
from webmap.ledger.models.issue import Attachment, Issue, ProgressUpdate


class EvidencePhoto(Base):
    """One photo of an issue's site (from a report or a sign-off stage) and its verdicts."""

    __tablename__ = "evidence_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    update_id: Mapped[int | None] = mapped_column(
        ForeignKey("progress_updates.id", ondelete="SET NULL"), index=True
    )
    attachment_id: Mapped[int | None] = mapped_column(
        ForeignKey("attachments.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[str | None] = mapped_column(String(20))  # 初审…备案 when taken for a sign-off
    phase: Mapped[str] = mapped_column(String(10))  # 整改前 | 整改中 | 整改后
    filename: Mapped[str] = mapped_column(String(255))
    stored_path: Mapped[str] = mapped_column(String(500))
    thumb_path: Mapped[str | None] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    phash: Mapped[str | None] = mapped_column(String(16), index=True)  # 64-bit pHash, hex
    size: Mapped[int] = mapped_column(Integer)
    mime: Mapped[str] = mapped_column(String(100))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # EXIF capture time, in UTC
    photo_lon: Mapped[float | None] = mapped_column(Float)  # EXIF GPS, converted to WGS84
    photo_lat: Mapped[float | None] = mapped_column(Float)
    device_lon: Mapped[float | None] = mapped_column(Float)  # the browser's location, with consent
    device_lat: Mapped[float | None] = mapped_column(Float)
    verdict: Mapped[str] = mapped_column(String(12), index=True)  # the worst of the checks
    checks: Mapped[dict] = mapped_column(JSON)  # each check's verdict and figures
    actor: Mapped[str] = mapped_column(String(80))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    issue: Mapped[Issue] = relationship()
    update: Mapped[ProgressUpdate | None] = relationship()
    attachment: Mapped[Attachment | None] = relationship()
