"""Reminders and what became of them: notices, their recipients (the in-app inbox), their
deliveries by e-mail and group robot, and the escalation proposals the city office decides on."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webmap.ledger.models.base import Base, UTCDateTime, utcnow

DELIVERY_STATES = ("pending", "sent", "failed")
PROPOSAL_STATES = ("proposed", "confirmed", "changed", "declined")


class Notice(Base):
    """One reminder about one issue (or the whole ledger), made once per ``key``."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    # what makes a reminder the same one on a second run (kind, issue, the date it is about…)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    issue_number: Mapped[str | None] = mapped_column(String(40), index=True)
    county_code: Mapped[str | None] = mapped_column(String(12))
    day: Mapped[date] = mapped_column(Date, index=True)  # the day the reminder run was for
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recipients: Mapped[list[NoticeRecipient]] = relationship(
        back_populates="notice", cascade="all, delete-orphan", order_by="NoticeRecipient.id"
    )
    deliveries: Mapped[list[NoticeDelivery]] = relationship(
        back_populates="notice", cascade="all, delete-orphan", order_by="NoticeDelivery.id"
    )


class NoticeRecipient(Base):
    """Who a notice is addressed to and why; with an account it sits in that user's inbox."""

    __tablename__ = "notice_recipients"
    __table_args__ = (UniqueConstraint("notice_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))  # username, or a roster name without account
    username: Mapped[str | None] = mapped_column(String(60), index=True)
    role: Mapped[str] = mapped_column(String(20))  # county | department | leader | city
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    notice: Mapped[Notice] = relationship(back_populates="recipients")


class NoticeDelivery(Base):
    """One notice sent by one channel to one target, with every attempt's outcome."""

    __tablename__ = "notice_deliveries"
    __table_args__ = (UniqueConstraint("notice_id", "channel", "target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(10))  # email | webhook
    target: Mapped[str] = mapped_column(String(300))  # an address or a robot URL
    state: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list] = mapped_column(JSON, default=list)  # [{"at": ..., "error": ...}]
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    notice: Mapped[Notice] = relationship(back_populates="deliveries")


class EscalationProposal(Base):
    """A ladder step the rules propose for an issue, and the city office's decision on it."""

    __tablename__ = "escalation_proposals"
    __table_args__ = (UniqueConstraint("issue_number", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_number: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # the proposed step (警示约谈 …)
    reason: Mapped[str] = mapped_column(Text)
    days_overdue: Mapped[int] = mapped_column(Integer, default=0)
    proposed_on: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(10), default="proposed", index=True)
    decided_kind: Mapped[str | None] = mapped_column(String(20))  # what was applied instead
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_on: Mapped[date | None] = mapped_column(Date)
    decision_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
