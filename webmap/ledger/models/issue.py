"""The ledger proper: issues, the sites that link them, progress, sign-off and accountability."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webmap.ledger.models.base import Base, Geometry, UTCDateTime, to_shape, utcnow


class Site(Base):
    """A place that several issues (from different sources) are about."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    issues: Mapped[list[Issue]] = relationship(back_populates="site")


class Issue(Base):
    """One rectification problem (a ledger row)."""

    __tablename__ = "issues"
    __table_args__ = (
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress_range"),
        Index("ix_issues_bbox_min", "minx", "miny"),
        Index("ix_issues_bbox_max", "maxx", "maxy"),
        # keyset paging by number under a filter (migration 0008)
        Index("ix_issues_county_number", "county_code", "number"),
        Index("ix_issues_status_number", "status", "number"),
        Index("ix_issues_public_number", "public", "number"),
        Index("ix_issues_unlocated", "id", postgresql_where=text("lon IS NULL"),
              sqlite_where=text("lon IS NULL")),  # the map page counts these on every view
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    source_type: Mapped[str] = mapped_column(String(40), index=True)
    batch: Mapped[str | None] = mapped_column(String(80))
    original_number: Mapped[str | None] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(80), index=True)
    location_text: Mapped[str | None] = mapped_column(String(500))
    geometry: Mapped[object | None] = mapped_column(Geometry)
    lon: Mapped[float | None] = mapped_column(Float)  # display point
    lat: Mapped[float | None] = mapped_column(Float)
    minx: Mapped[float | None] = mapped_column(Float)
    miny: Mapped[float | None] = mapped_column(Float)
    maxx: Mapped[float | None] = mapped_column(Float)
    maxy: Mapped[float | None] = mapped_column(Float)
    county_code: Mapped[str | None] = mapped_column(String(12), index=True)
    county_name: Mapped[str | None] = mapped_column(String(40))
    township_code: Mapped[str | None] = mapped_column(String(16))
    township_name: Mapped[str | None] = mapped_column(String(60))
    protected_area: Mapped[str | None] = mapped_column(String(120), index=True)
    zone: Mapped[str | None] = mapped_column(String(40))
    attribution: Mapped[dict | None] = mapped_column(JSON)  # how county/township/zone were found
    declared_county: Mapped[str | None] = mapped_column(String(40))
    deadline_class: Mapped[str | None] = mapped_column(String(20), index=True)
    due_date: Mapped[date | None] = mapped_column(Date, index=True)
    lead_unit: Mapped[str | None] = mapped_column(String(120), index=True)
    partner_units: Mapped[list] = mapped_column(JSON, default=list)
    target: Mapped[str | None] = mapped_column(Text)
    measures: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="未启动", index=True)
    public: Mapped[bool] = mapped_column(Boolean, default=True)  # the plan asks to publish progress
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)  # generalise coords in public
    internal_notes: Mapped[str | None] = mapped_column(Text)
    is_sample: Mapped[bool] = mapped_column(Boolean, default=False)  # shown as 示例
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    site: Mapped[Site | None] = relationship(back_populates="issues")
    updates: Mapped[list[ProgressUpdate]] = relationship(
        back_populates="issue", cascade="all, delete-orphan", order_by="ProgressUpdate.date"
    )
    signoffs: Mapped[list[SignOff]] = relationship(
        back_populates="issue", cascade="all, delete-orphan", order_by="SignOff.id"
    )
    actions: Mapped[list[AccountabilityAction]] = relationship(
        back_populates="issue", cascade="all, delete-orphan", order_by="AccountabilityAction.id"
    )
    responsibilities: Mapped[list[Responsibility]] = relationship(  # noqa: F821
        back_populates="issue", cascade="all, delete-orphan", order_by="Responsibility.id"
    )

    def set_geometry(self, value) -> None:
        """Set geometry (shapely or GeoJSON) and keep bbox and display point in step with it."""
        if value is None:
            self.geometry = None
            self.minx = self.miny = self.maxx = self.maxy = None
            return
        geom = to_shape(value)
        self.geometry = geom
        self.minx, self.miny, self.maxx, self.maxy = (float(v) for v in geom.bounds)
        if self.lon is None or self.lat is None:
            point = geom if geom.geom_type == "Point" else geom.representative_point()
            self.lon, self.lat = float(point.x), float(point.y)

    def __repr__(self) -> str:
        """Show the number and status."""
        return f"<Issue {self.number} {self.status}>"


class ProgressUpdate(Base):
    """A dated progress report on one issue."""

    __tablename__ = "progress_updates"
    __table_args__ = (CheckConstraint("percent >= 0 AND percent <= 100", name="percent_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    date: Mapped[date] = mapped_column(Date)
    percent: Mapped[int] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(80))
    actor: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    issue: Mapped[Issue] = relationship(back_populates="updates")


class SignOff(Base):
    """One completed sign-off (销号) stage: 初审, 公示, 申请, 核查 or 备案."""

    __tablename__ = "signoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    signer: Mapped[str] = mapped_column(String(80))
    date: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    issue: Mapped[Issue] = relationship(back_populates="signoffs")
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="signoff", cascade="all, delete-orphan", order_by="Attachment.id"
    )


class Attachment(Base):
    """An evidence file (or link) attached to a sign-off stage."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    signoff_id: Mapped[int] = mapped_column(
        ForeignKey("signoffs.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))  # e.g. 整改完成材料, 公示截图
    filename: Mapped[str | None] = mapped_column(String(255))
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(Integer)
    mime: Mapped[str | None] = mapped_column(String(100))
    stored_path: Mapped[str | None] = mapped_column(String(500))
    url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    signoff: Mapped[SignOff] = relationship(back_populates="attachments")


class AccountabilityAction(Base):
    """An escalation step (警示约谈 … 依规问责), proposed or applied."""

    __tablename__ = "accountability_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(12))  # proposed | applied
    date: Mapped[date] = mapped_column(Date)
    unit: Mapped[str | None] = mapped_column(String(120))  # the unit the action is taken against
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    issue: Mapped[Issue] = relationship(back_populates="actions")
