"""Writing the ledger through the append-only event log, and rebuilding it on any past date.

Every write to an issue goes through ``create_issue`` / ``update_issue`` (or the workflow and
responsibility functions built on them), which change the row and append an ``Event`` whose
``after`` holds the new values of the issue fields that changed (``before`` the old ones).
``ledger_as_of(session, day)`` replays the events effective on or before ``day`` in
(effective date, id) order. To keep that replay equal to the live table, an issue's events must
not go back in time: an event dated before the issue's latest event is refused.
Keys of ``after`` that are not issue fields (stage, evidence, note…) describe the change and are
ignored by the replay.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from datetime import date

import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webmap.ledger.db import database_name
from webmap.ledger.models import Event, Issue

# issue columns that the event log carries and the as-of rebuild restores
STATE_FIELDS = (
    "number",
    "source_type",
    "batch",
    "original_number",
    "title",
    "description",
    "category",
    "location_text",
    "geometry",
    "lon",
    "lat",
    "county_code",
    "county_name",
    "township_code",
    "township_name",
    "protected_area",
    "zone",
    "attribution",
    "declared_county",
    "deadline_class",
    "due_date",
    "lead_unit",
    "partner_units",
    "target",
    "measures",
    "progress",
    "status",
    "public",
    "sensitive",
    "internal_notes",
    "is_sample",
)
REQUIRED_FIELDS = ("number", "source_type", "title")
_REBUILT_SIZE = 8  # past days kept per process (a dashboard, a pack and a public page's day)
_rebuilt: OrderedDict[tuple, list] = OrderedDict()
_rebuilt_lock = threading.Lock()


class LedgerError(ValueError):
    """A ledger write was refused; ``field`` and ``value`` name what was wrong."""

    def __init__(self, message: str, field: str | None = None, value=None):
        """Keep the Chinese message with the offending field and value."""
        super().__init__(message)
        self.message = message
        self.field = field
        self.value = value


@dataclass(frozen=True)
class IssueState:
    """An issue's ledger fields as they stood on ``as_of`` (rebuilt from the event log)."""

    number: str
    as_of: date | None = None
    source_type: str | None = None
    batch: str | None = None
    original_number: str | None = None
    title: str | None = None
    description: str | None = None
    category: str | None = None
    location_text: str | None = None
    geometry: dict | None = None  # GeoJSON
    lon: float | None = None
    lat: float | None = None
    county_code: str | None = None
    county_name: str | None = None
    township_code: str | None = None
    township_name: str | None = None
    protected_area: str | None = None
    zone: str | None = None
    attribution: dict | None = None
    declared_county: str | None = None
    deadline_class: str | None = None
    due_date: date | None = None
    lead_unit: str | None = None
    partner_units: list = field(default_factory=list)
    target: str | None = None
    measures: str | None = None
    progress: int = 0
    status: str = "未启动"
    public: bool = True
    sensitive: bool = False
    internal_notes: str | None = None
    is_sample: bool = False

    @classmethod
    def from_snapshot(cls, values: dict, as_of: date | None = None) -> IssueState:
        """Build a state from JSON snapshot values (dates as ISO text)."""
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in values.items() if k in known}
        if isinstance(kwargs.get("due_date"), str):
            kwargs["due_date"] = date.fromisoformat(kwargs["due_date"])
        return cls(as_of=as_of, **kwargs)


def _json_value(name: str, value):
    """Return a column value in the JSON form stored in events."""
    if value is None:
        return None
    if name == "geometry":
        return json.loads(shapely.to_geojson(value))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.loads(json.dumps(value, ensure_ascii=False))  # detach from the row
    return value


def snapshot(issue: Issue) -> dict:
    """Return the issue's ledger fields as JSON-ready values."""
    return {name: _json_value(name, getattr(issue, name)) for name in STATE_FIELDS}


def current_state(issue: Issue, as_of: date | None = None) -> IssueState:
    """Return the live row as an ``IssueState`` (what the rebuild must reproduce)."""
    return IssueState.from_snapshot(snapshot(issue), as_of)


def last_event_date(session: Session, issue_number: str) -> date | None:
    """Return the latest effective date recorded for an issue, or None."""
    stmt = select(func.max(Event.effective_date)).where(Event.issue_number == issue_number)
    return session.scalar(stmt)


def record_event(
    session: Session,
    kind: str,
    *,
    actor: str,
    effective: date,
    issue_number: str | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> Event:
    """Append one event; refuse a date earlier than the issue's latest event."""
    if not actor:
        raise LedgerError("缺少操作人 (actor)", "actor", actor)
    if issue_number is not None:
        latest = last_event_date(session, issue_number)
        if latest is not None and effective < latest:
            raise LedgerError(
                f"问题 {issue_number} 的记录日期 {effective} 早于最近一次记录 {latest}",
                "date",
                effective.isoformat(),
            )
    ev = Event(
        kind=kind,
        actor=actor,
        effective_date=effective,
        issue_number=issue_number,
        before=before,
        after=after,
    )
    session.add(ev)
    return ev


def _apply(issue: Issue, values: dict) -> None:
    """Set issue attributes from a dict, routing geometry through ``set_geometry``."""
    for name, value in values.items():
        if name not in STATE_FIELDS:
            raise LedgerError(f"未知字段 {name}", name, value)
        if name == "geometry":
            issue.set_geometry(value)
        elif name == "due_date" and isinstance(value, str):
            issue.due_date = date.fromisoformat(value)
        else:
            setattr(issue, name, value)


def create_issue(
    session: Session, values: dict, *, actor: str, date: date, kind: str = "issue.created"
) -> Issue:
    """Insert an issue from field values and log its full snapshot; returns the new row."""
    for name in REQUIRED_FIELDS:
        if not values.get(name):
            raise LedgerError(f"缺少必填字段 {name}", name, values.get(name))
    number = values["number"]
    if session.scalar(select(Issue.id).where(Issue.number == number)) is not None:
        raise LedgerError(f"问题编号 {number} 已存在", "number", number)
    with session.begin_nested():
        issue = Issue(partner_units=[], progress=0, status="未启动", public=True)
        issue.sensitive = issue.is_sample = False
        _apply(issue, values)
        session.add(issue)
        session.flush()
        record_event(
            session, kind, actor=actor, effective=date, issue_number=number, after=snapshot(issue)
        )
        session.flush()
    return issue


def update_issue(
    session: Session,
    issue: Issue,
    changes: dict,
    *,
    actor: str,
    date: date,
    kind: str = "issue.updated",
    detail: dict | None = None,
) -> dict:
    """Change issue fields and log before/after of what changed; returns the changed fields.

    ``detail`` adds descriptive keys (not issue fields) to the event's ``after``. Nothing is
    logged when no field changes and no detail is given.
    """
    if "number" in changes and changes["number"] != issue.number:
        raise LedgerError("问题编号不可修改", "number", changes["number"])
    old = snapshot(issue)
    with session.begin_nested():
        _apply(issue, changes)
        new = snapshot(issue)
        changed = [k for k in STATE_FIELDS if new[k] != old[k]]
        if changed or detail:
            after = {k: new[k] for k in changed} | (detail or {})
            record_event(
                session,
                kind,
                actor=actor,
                effective=date,
                issue_number=issue.number,
                before={k: old[k] for k in changed},
                after=after,
            )
        session.flush()
    return {k: new[k] for k in changed}


def ledger_as_of(session: Session, day: date, numbers=None) -> list[IssueState]:
    """Rebuild every issue's state on ``day`` from the event log, ordered by issue number.

    The log only grows, so a rebuild is kept per database, day and last event: asking again
    (the count and the page of an API call, a pack's pages, the next visitor) costs one query.
    """
    last = session.execute(select(Event.id, Event.recorded_at).order_by(Event.id.desc())
                           .limit(1)).first()  # fmt: skip
    key = (database_name(session.get_bind()), day,
           None if numbers is None else tuple(sorted(numbers)), tuple(last or ()))  # fmt: skip
    with _rebuilt_lock:
        if key in _rebuilt:
            _rebuilt.move_to_end(key)
            return list(_rebuilt[key])
    states = _replay(session, day, numbers)
    with _rebuilt_lock:
        _rebuilt[key] = states
        while len(_rebuilt) > _REBUILT_SIZE:
            _rebuilt.popitem(last=False)
    return list(states)


def _replay(session: Session, day: date, numbers) -> list[IssueState]:
    """Replay the events effective on or before ``day`` into one state per issue."""
    stmt = (
        select(Event.issue_number, Event.kind, Event.after)
        .where(Event.issue_number.is_not(None), Event.effective_date <= day)
        .order_by(Event.effective_date, Event.id)
    )
    if numbers is not None:
        stmt = stmt.where(Event.issue_number.in_(list(numbers)))
    states: dict[str, dict] = {}
    for number, kind, after in session.execute(stmt):
        if kind == "issue.deleted":
            states.pop(number, None)
            continue
        values = states.setdefault(number, {})
        values.update({k: v for k, v in (after or {}).items() if k in STATE_FIELDS})
    return [
        IssueState.from_snapshot(states[n], day) for n in sorted(states) if "number" in states[n]
    ]


def ledger_on_days(session: Session, days) -> Iterator[tuple[date, list[IssueState]]]:
    """Yield (day, states) for each of ``days`` (ascending): ``ledger_as_of`` in one pass.

    A trend needs the ledger on many days; replaying the log once and taking a copy at each
    day gives the same states as asking ``ledger_as_of`` day by day, at the cost of one.
    """
    days = sorted(days)
    if not days:
        return
    stmt = (select(Event.issue_number, Event.kind, Event.after, Event.effective_date)
            .where(Event.issue_number.is_not(None), Event.effective_date <= days[-1])
            .order_by(Event.effective_date, Event.id))  # fmt: skip
    states: dict[str, dict] = {}
    pending = iter(days)
    day = next(pending)

    def take(on: date) -> list[IssueState]:
        """Return the states held now, as rebuilt for ``on``."""
        return [IssueState.from_snapshot(states[n], on) for n in sorted(states)
                if "number" in states[n]]  # fmt: skip

    for number, kind, after, effective in session.execute(stmt):
        while day is not None and effective > day:
            yield day, take(day)
            day = next(pending, None)
        if day is None:
            return
        if kind == "issue.deleted":
            states.pop(number, None)
            continue
        values = states.setdefault(number, {})
        values.update({k: v for k, v in (after or {}).items() if k in STATE_FIELDS})
    while day is not None:
        yield day, take(day)
        day = next(pending, None)


def delete_issue(session: Session, issue: Issue, *, actor: str, date: date, reason: str) -> None:
    """Remove an issue, logging its last snapshot so past dates still show it."""
    if not reason:
        raise LedgerError("删除问题须说明理由", "reason", reason)
    with session.begin_nested():
        record_event(
            session,
            "issue.deleted",
            actor=actor,
            effective=date,
            issue_number=issue.number,
            before=snapshot(issue),
            after={"reason": reason},
        )
        session.delete(issue)
        session.flush()
