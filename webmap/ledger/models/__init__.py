"""The yzmap data model (SQLAlchemy 2, typed declarative); import models from here."""

from __future__ import annotations

from webmap.ledger.models.access import OBJECTION_STATES, Objection
from webmap.ledger.models.base import SRID, Base, Geometry, UTCDateTime, to_shape, utcnow
from webmap.ledger.models.boundary import BoundaryFeature, BoundaryPin, BoundaryVersion
from webmap.ledger.models.event import AppendOnlyError, Event
from webmap.ledger.models.issue import (
    AccountabilityAction,
    Attachment,
    Issue,
    ProgressUpdate,
    SignOff,
    Site,
)
from webmap.ledger.models.org import (
    ANY,
    LeaderAssignment,
    Responsibility,
    ResponsibilityRule,
    Unit,
    User,
)

__all__ = [
    "ANY",
    "OBJECTION_STATES",
    "SRID",
    "AccountabilityAction",
    "AppendOnlyError",
    "Attachment",
    "Base",
    "BoundaryFeature",
    "BoundaryPin",
    "BoundaryVersion",
    "Event",
    "Geometry",
    "Issue",
    "LeaderAssignment",
    "Objection",
    "ProgressUpdate",
    "Responsibility",
    "ResponsibilityRule",
    "SignOff",
    "Site",
    "UTCDateTime",
    "Unit",
    "User",
    "to_shape",
    "utcnow",
]
