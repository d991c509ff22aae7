"""The yzmap data model (SQLAlchemy 2, typed declarative); import models from here."""

from __future__ import annotations

from webmap.ledger.models.access import OBJECTION_STATES, Objection
from webmap.ledger.models.base import SRID, Base, Geometry, UTCDateTime, to_shape, utcnow
from webmap.ledger.models.boundary import BoundaryFeature, BoundaryPin, BoundaryVersion
from webmap.ledger.models.event import AppendOnlyError, Event
from webmap.ledger.models.evidence import EvidencePhoto
from webmap.ledger.models.issue import (
    AccountabilityAction,
    Attachment,
    Issue,
    ProgressUpdate,
    SignOff,
    Site,
)
from webmap.ledger.models.notice import (
    DELIVERY_STATES,
    PROPOSAL_STATES,
    EscalationProposal,
    Notice,
    NoticeDelivery,
    NoticeRecipient,
)
from webmap.ledger.models.org import (
    ANY,
    LeaderAssignment,
    Responsibility,
    ResponsibilityRule,
    Unit,
    User,
)
from webmap.ledger.models.ratelimit import RateHit
from webmap.ledger.models.token import AccessToken

__all__ = [
    "ANY",
    "DELIVERY_STATES",
    "OBJECTION_STATES",
    "PROPOSAL_STATES",
    "SRID",
    "AccessToken",
    "AccountabilityAction",
    "AppendOnlyError",
    "Attachment",
    "Base",
    "BoundaryFeature",
    "BoundaryPin",
    "BoundaryVersion",
    "EscalationProposal",
    "Event",
    "EvidencePhoto",
    "Geometry",
    "Issue",
    "LeaderAssignment",
    "Notice",
    "NoticeDelivery",
    "NoticeRecipient",
    "Objection",
    "ProgressUpdate",
    "RateHit",
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
