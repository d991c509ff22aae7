"""Declarative base and the cross-backend column types (geometry, UTC timestamps).

Geometry: on PostgreSQL the column is PostGIS ``geometry(Geometry,4326)`` (GIST index made by the
migration); on SQLite it is GeoJSON text. Either way Python sees a shapely geometry (or None), and
the issue keeps ``minx/miny/maxx/maxy`` columns so a bbox filter works the same on both backends.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import DateTime, MetaData, Text
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator, UserDefinedType

SRID = 4326

# stable constraint names so migrations are the same on both backends
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Base of every yzmap table."""

    metadata = MetaData(naming_convention=NAMING)


class _PostGISGeometry(UserDefinedType):
    """``geometry(Geometry,4326)``: EWKT in; PostGIS's text output (hex EWKB) comes back out."""

    cache_ok = True

    def get_col_spec(self, **kw) -> str:
        """Return the PostGIS column type."""
        return f"geometry(Geometry,{SRID})"

    def bind_expression(self, bindvalue):
        """Parse the bound EWKT text on the server."""
        from sqlalchemy import func

        return func.ST_GeomFromEWKT(bindvalue, type_=self)


class Geometry(TypeDecorator):
    """A WGS84 geometry: PostGIS on PostgreSQL, GeoJSON text elsewhere; shapely in Python."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect):
        """Use the PostGIS type on PostgreSQL and plain text on other backends."""
        if dialect.name == "postgresql":
            return dialect.type_descriptor(_PostGISGeometry())
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value, dialect):
        """Turn a shapely geometry (or GeoJSON dict) into EWKT or GeoJSON text."""
        if value is None:
            return None
        geom = to_shape(value)
        if dialect.name == "postgresql":
            return f"SRID={SRID};{geom.wkt}"
        return shapely.to_geojson(geom)

    def process_result_value(self, value, dialect):
        """Turn the stored value back into a shapely geometry."""
        if value is None:
            return None
        if dialect.name == "postgresql":
            raw = bytes(value) if isinstance(value, memoryview | bytes) else bytes.fromhex(value)
            return shapely.from_wkb(raw)
        return shapely.from_geojson(value)


def to_shape(value) -> BaseGeometry:
    """Return a shapely geometry from a shapely geometry, a GeoJSON dict or a GeoJSON string."""
    if isinstance(value, BaseGeometry):
        return value
    if isinstance(value, dict):
        return shapely.from_geojson(json.dumps(value))
    if isinstance(value, str):
        return shapely.from_geojson(value)
    raise TypeError(f"geometry must be shapely or GeoJSON, got {type(value).__name__}")


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        """Store aware datetimes converted to UTC."""
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        """Mark naive values read back as UTC."""
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value
