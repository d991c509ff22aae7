"""Audit-log events as a reader sees them: a Chinese name, and what changed from what to what.

Raw events keep everything (JSON before/after); a page shows each changed field by its label
with its old and new value, never a server path, a hash in full or a secret. Snapshots of whole
issues (import, creation) are summarised by their title and place instead of 40 fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePath

from webmap.ledger.vocabulary import (
    DETAIL_LABELS,
    EVENT_KIND_LABELS,
    FIELD_LABELS,
    PHOTO_VERDICT_LABELS,
    geometry_name,
)

HIDDEN = {"stored_path", "path", "password", "password_hash", "token", "token_hash", "secret"}
SNAPSHOT_KINDS = {"issue.created", "issue.imported", "issue.deleted"}
SNAPSHOT_SHOWN = ("title", "county_name", "status", "due_date", "lead_unit")
TEXT_MAX = 160
_SERVER_PATH = re.compile(r"^(/|[A-Za-z]:[\\/])")


@dataclass(frozen=True)
class Change:
    """One field of an event: its label, the value before and after (text)."""

    label: str
    before: str
    after: str


@dataclass(frozen=True)
class EventView:
    """One audit-log line for a page."""

    label: str
    kind: str
    changes: list[Change] = field(default_factory=list)


def label_of(key: str) -> str:
    """Return the Chinese label of an event field (the key itself when unknown)."""
    return FIELD_LABELS.get(key) or DETAIL_LABELS.get(key) or key


def show(value, key: str = "") -> str:
    """Return a value as short readable text: no paths, short hashes, geometry by type.

    >>> show("/srv/yzmap/instance/uploads/evidence/ab/cd.jpg"), show("a" * 64, "sha256")
    ('cd.jpg', 'aaaaaaaaaaaa…')
    >>> show({"type": "Point", "coordinates": [111.6, 26.4]}, "geometry"), show(True), show(None)
    ('点', '是', '—')
    """
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dict):
        if "type" in value and "coordinates" in value:
            return geometry_name(value["type"])
        text = "；".join(f"{label_of(k)}：{show(v, k)}" for k, v in value.items()
                        if k not in HIDDEN and v not in (None, "", []))  # fmt: skip
        return _short(text)
    if isinstance(value, list):
        return "、".join(show(v, key) for v in value) or "—"
    text = str(value)
    if key == "sha256" and len(text) > 12:
        return text[:12] + "…"
    if key == "verdict":
        return PHOTO_VERDICT_LABELS.get(text, text)
    if _SERVER_PATH.match(text):
        return PurePath(text).name
    return _short(text)


def _short(text: str) -> str:
    """Cut a long value for the page (the event keeps it whole)."""
    return text if len(text) <= TEXT_MAX else text[:TEXT_MAX] + "…"


def describe(kind: str, before: dict | None, after: dict | None) -> EventView:
    """Return an event's Chinese name and its changes, field by field."""
    label = EVENT_KIND_LABELS.get(kind, "其他操作")
    before, after = before or {}, after or {}
    if kind in SNAPSHOT_KINDS:
        snap = after or before
        shown = [Change(label_of(k), "", show(snap.get(k), k)) for k in SNAPSHOT_SHOWN if k in snap]
        return EventView(label, kind, shown)
    keys = list(dict.fromkeys([*before, *after]))
    changes = [Change(label_of(k), show(before.get(k), k) if k in before else "",
                      show(after.get(k), k)) for k in keys
               if k not in HIDDEN and before.get(k) != after.get(k)]  # fmt: skip
    return EventView(label, kind, changes)
