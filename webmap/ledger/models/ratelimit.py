"""Rate-limit hits kept in the database: every worker process and a restart see the same counts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from webmap.ledger.models.base import Base, UTCDateTime, utcnow


class RateHit(Base):
    """One counted attempt (a failed login) against a limiter key, at a time.

    The key is a digest of ``user:<name>`` or ``ip:<address>``: a password typed into the user
    name field is never stored readable.
    """

    __tablename__ = "rate_hits"
    __table_args__ = (Index("ix_rate_hits_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
