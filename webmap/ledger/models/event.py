"""The append-only event log: every change to the ledger, from which any past date is rebuilt.

Rows are only ever inserted. The ORM guard below refuses flushes that update or delete an event
and bulk UPDATE/DELETE statements on the table; the migration adds database triggers (PostgreSQL
and SQLite) so raw SQL cannot do it either.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Index, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from webmap.ledger.models.base import Base, UTCDateTime, utcnow


class AppendOnlyError(RuntimeError):
    """An attempt to change or remove an event-log row."""


class Event(Base):
    """One change: who, when it was recorded, the date it took effect, what before and after."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_issue_effective", "issue_number", "effective_date", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    effective_date: Mapped[date] = mapped_column(Date, index=True)
    actor: Mapped[str] = mapped_column(String(80))
    issue_number: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(40))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)


@event.listens_for(Session, "before_flush")
def _refuse_event_changes(session, flush_context, instances) -> None:
    """Refuse a flush that would update or delete an event row."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, Event) and (obj in session.deleted or session.is_modified(obj)):
            raise AppendOnlyError(f"event {obj.id} is append-only: it cannot be changed or removed")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_event_changes(state) -> None:
    """Refuse ORM-level UPDATE/DELETE statements aimed at the event table."""
    if (state.is_update or state.is_delete) and any(
        getattr(m, "class_", None) is Event for m in state.all_mappers
    ):
        raise AppendOnlyError("the event log is append-only: UPDATE and DELETE are refused")
