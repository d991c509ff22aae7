"""Public-facing records of the access issue: objections submitted during 公示."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webmap.ledger.models.base import Base, UTCDateTime, utcnow

OBJECTION_STATES = ("new", "handled")


class Objection(Base):
    """An objection (异议) a member of the public raised against an issue in its 公示 period.

    Name and contact are personal data: they are shown to the city office only and never
    leave the server through public pages, APIs or exports.
    """

    __tablename__ = "objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_number: Mapped[str] = mapped_column(String(40), index=True)
    text: Mapped[str] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(String(60))
    contact: Mapped[str | None] = mapped_column(String(120))
    client_hash: Mapped[str] = mapped_column(String(64), index=True)  # salted hash of the IP
    state: Mapped[str] = mapped_column(String(12), default="new")
    handled_by: Mapped[str | None] = mapped_column(String(80))
    handled_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
