"""Imported authoritative boundary layers, stored in the database beside the ledger.

A version is one imported file: its metadata (source file, sha256, CRS and how it was found,
repairs, field mapping, vintage) and its features (properties and WGS84 geometry, PostGIS
geometry on PostgreSQL, GeoJSON text on SQLite). Versions are never changed once written. The
pin says which version of a layer is in use; without one the newest vintage is. Imports and
activations are also recorded in the event log (``webmap.ledger.boundaries``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webmap.ledger.models.base import Base, Geometry, UTCDateTime, utcnow


class BoundaryVersion(Base):
    """One imported version of a boundary layer (protected areas or townships)."""

    __tablename__ = "boundary_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    layer: Mapped[str] = mapped_column(String(40), index=True)  # protected_areas | townships
    version: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # protected_area | township
    vintage: Mapped[str] = mapped_column(String(20))  # the date the boundaries are valid for
    source_file: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    feature_count: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(80))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    meta: Mapped[dict] = mapped_column(JSON)  # the importer's full report and the field map

    features: Mapped[list[BoundaryFeature]] = relationship(
        back_populates="version_row", cascade="all, delete-orphan", order_by="BoundaryFeature.id"
    )


class BoundaryFeature(Base):
    """One feature of a stored boundary version: its attributes and WGS84 geometry."""

    __tablename__ = "boundary_features"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("boundary_versions.id", ondelete="CASCADE"), index=True
    )
    properties: Mapped[dict] = mapped_column(JSON)
    geometry: Mapped[object] = mapped_column(Geometry)

    version_row: Mapped[BoundaryVersion] = relationship(back_populates="features")


class BoundaryPin(Base):
    """The version of a layer pinned in use (no row: the newest vintage is used)."""

    __tablename__ = "boundary_pins"

    layer: Mapped[str] = mapped_column(String(40), primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("boundary_versions.id"))
    actor: Mapped[str] = mapped_column(String(80))
    pinned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
