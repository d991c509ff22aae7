"""Who answers for issues: units, leader rosters, responsibility rules and records, users."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webmap.ledger.models.base import Base, UTCDateTime, utcnow

ANY = "*"  # wildcard category or county in a responsibility rule


class Unit(Base):
    """A government unit (county government, department, township) that can lead or partner."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="department")  # county_gov|department|…
    county_code: Mapped[str | None] = mapped_column(String(12))  # None for city-level units
    aliases: Mapped[list] = mapped_column(JSON, default=list)


class LeaderAssignment(Base):
    """A roster line: a city leader supervising a county, or a county leader owning a case."""

    __tablename__ = "leader_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # city_leader | county_leader
    name: Mapped[str] = mapped_column(String(60), index=True)
    title: Mapped[str | None] = mapped_column(String(120))
    county_code: Mapped[str | None] = mapped_column(String(12), index=True)
    issue_number: Mapped[str | None] = mapped_column(String(40), index=True)  # county leader: case
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)  # inclusive; None = still serving


class ResponsibilityRule(Base):
    """Category × county → lead unit and partner units; ``*`` matches any category or county."""

    __tablename__ = "responsibility_rules"
    __table_args__ = (UniqueConstraint("category", "county_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(80), default=ANY)
    county_code: Mapped[str] = mapped_column(String(12), default=ANY)
    lead_unit: Mapped[str] = mapped_column(String(120))
    partner_units: Mapped[list] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[str | None] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Responsibility(Base):
    """Why one party answers for one issue (from attribution, a rule, a roster or an override)."""

    __tablename__ = "responsibilities"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    party_kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120), index=True)
    code: Mapped[str | None] = mapped_column(String(12))  # county code for county parties
    reason: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(20))  # attribution|declared|rule|roster|override
    actor: Mapped[str] = mapped_column(String(80))
    overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    issue: Mapped[Issue] = relationship(back_populates="responsibilities")  # noqa: F821


class User(Base):
    """An account (the access issue extends it); every write still names its actor string."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    county_code: Mapped[str | None] = mapped_column(String(12))
    unit: Mapped[str | None] = mapped_column(String(120))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
