"""``IssueQuery``: the one filter object behind pages, the API, map data and exports.

Build it from request args or CLI options with ``IssueQuery.from_args(args, scope=...,
context=...)`` (the parsing, and ``QueryError`` naming parameter and value in Chinese, live in
``webmap.ledger.filters``; the ``LedgerContext`` gives the day and amber window deadlines are
judged by), turn it back into a canonical query string with ``to_args()``, and apply it to any
statement over ``Issue`` with ``apply(stmt)``. The access ``Scope`` is applied inside ``apply`` so
no caller can forget it. Paging belongs to whoever reads the result (``webmap.ledger.collections``).

Parameters (each may repeat or hold comma-separated values where marked *):
county* (code or name), source*, status*, deadline* (deadline class), rag* (red/amber/green/done/
none or 逾期/临期/正常/已销号/无时限), category*, protected_area*, leader, q (free text),
bbox (minx,miny,maxx,maxy in WGS84), as_of (YYYY-MM-DD).
With ``as_of`` the filters are judged on each issue's state that day (rebuilt from the event
log): ``states()`` returns those past states, ``apply()`` keeps the live rows that matched then.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date
from urllib.parse import urlencode

import shapely
from shapely.geometry import box as make_box
from sqlalchemy import Boolean, Text, and_, exists, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from webmap.config import DEFAULTS
from webmap.ledger import workflow
from webmap.ledger.filters import (  # re-exported: callers import the filter vocabulary from here
    COUNTIES,
    COUNTY_ALIASES,
    LIST_PARAMS,
    QueryError,
    parse_filters,
    reject_unknown,
    resolve_county,
)
from webmap.ledger.models import Issue, LeaderAssignment, Responsibility
from webmap.ledger.vocabulary import LEADER_KINDS

__all__ = [
    "COUNTIES",
    "COUNTY_ALIASES",
    "LIST_PARAMS",
    "IssueQuery",
    "QueryError",
    "Scope",
    "bbox_overlaps",
    "resolve_county",
]

@dataclass(frozen=True)
class Scope:
    """What the current user may see: everything, some counties, one unit's issues, or public."""

    kind: str = "everything"  # everything | county | unit | leader | protected | public
    counties: tuple[str, ...] = ()
    unit: str | None = None
    leader: str | None = None  # roster name, for kind "leader"
    role: str | None = None  # the account role the scope was made for (webmap.ledger.access)

    @classmethod
    def everything(cls) -> Scope:
        """Return the scope of the city office and internal viewers."""
        return cls("everything")

    @classmethod
    def county(cls, *codes: str) -> Scope:
        """Return a scope limited to issues attributed to the given counties."""
        return cls("county", counties=tuple(codes))

    @classmethod
    def for_unit(cls, name: str) -> Scope:
        """Return a scope limited to issues the unit leads or partners on."""
        return cls("unit", unit=name)

    @classmethod
    def public(cls) -> Scope:
        """Return the anonymous scope: issues marked public only."""
        return cls("public")

    def clause(self, day: date | None = None):
        """Return the SQL condition of this scope on ``day`` (leader rosters), None for all."""
        if self.kind == "everything":
            return None
        if self.kind == "county":
            return Issue.county_code.in_(self.counties)
        if self.kind == "unit":
            return or_(
                Issue.lead_unit == self.unit, _json_list_contains(Issue.partner_units, self.unit)
            )
        if self.kind == "leader":
            return _leader_clause(self.leader or "", day or date.today())
        if self.kind == "protected":
            return Issue.protected_area.is_not(None)
        if self.kind == "public":
            return Issue.public.is_(True)
        raise ValueError(f"unknown scope kind {self.kind!r}")


def _json_list_contains(column, value: str):
    """Return a condition true when a JSON list column (stored unescaped) holds ``value``."""
    quoted = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    pattern = "%" + quoted.replace("%", r"\%").replace("_", r"\_") + "%"
    return column.cast(Text).like(pattern, escape="\\")


class bbox_overlaps(FunctionElement):
    """Issue overlaps a WGS84 box: PostGIS ``&&`` on the GIST index, bbox columns elsewhere."""

    type = Boolean()
    inherit_cache = True
    name = "bbox_overlaps"


@compiles(bbox_overlaps)
def _bbox_generic(element, compiler, **kw):
    """Compare the stored bbox columns (any backend)."""
    minx, miny, maxx, maxy = element.clauses
    cond = and_(Issue.minx <= maxx, Issue.maxx >= minx, Issue.miny <= maxy, Issue.maxy >= miny)
    return compiler.process(cond, **kw)


@compiles(bbox_overlaps, "postgresql")
def _bbox_postgis(element, compiler, **kw):
    """Use the geometry's GIST index on PostGIS."""
    minx, miny, maxx, maxy = element.clauses
    envelope = func.ST_MakeEnvelope(minx, miny, maxx, maxy, 4326)
    return compiler.process(Issue.geometry.op("&&")(envelope), **kw)


# list filters and the issue field each compares (the SQL and the rebuilt-state paths share it)
LIST_FIELDS = (("county", "county_code"), ("source", "source_type"), ("status", "status"),
               ("deadline", "deadline_class"), ("category", "category"),
               ("protected_area", "protected_area"))  # fmt: skip
INTERNAL_FIELDS = {"scope", "today", "amber_days", "number"}  # set by callers, not by arguments


@dataclass(frozen=True)
class IssueQuery:
    """Validated issue filters plus the access scope; see the module docstring for parameters."""

    county: tuple[str, ...] = ()
    source: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    deadline: tuple[str, ...] = ()
    rag: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    protected_area: tuple[str, ...] = ()
    leader: str | None = None
    q: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    as_of: date | None = None
    scope: Scope = field(default_factory=Scope.everything)
    today: date | None = None  # the day deadlines are judged on; None: the real date
    amber_days: int = int(DEFAULTS["AMBER_DAYS"])  # the amber window the rag filter uses
    number: str | None = None  # one issue by its number (a detail page, a single feature)

    @classmethod
    def from_args(
        cls, args: Mapping, scope: Scope | None = None, strict: bool = False, context=None
    ) -> IssueQuery:
        """Parse request args (MultiDict) or CLI options (dict); raise ``QueryError`` on bad values.

        Unknown parameter names are ignored (pages carry others, e.g. basemap) unless ``strict``.
        ``context`` (a ``LedgerContext``) gives the day and amber window deadlines are judged by.
        """
        if strict:
            reject_unknown(args, {f.name for f in fields(cls)} - INTERNAL_FIELDS)
        judged = {} if context is None else {"today": context.today,
                                             "amber_days": context.amber_days}  # fmt: skip
        values = parse_filters(args, judged.get("today"))
        return cls(**values, scope=scope or Scope.everything(), **judged)

    @property
    def day(self) -> date:
        """Return the day the filters are judged on: ``as_of``, else ``today``, else the date."""
        return self.as_of or self.today or date.today()

    def with_scope(self, scope: Scope) -> IssueQuery:
        """Return the same filters under another access scope."""
        return replace(self, scope=scope)

    def to_args(self) -> str:
        """Return the canonical query string (fixed order, defaults left out) for links."""
        pairs = [(name, ",".join(getattr(self, name))) for name in LIST_PARAMS]
        pairs += [("leader", self.leader), ("q", self.q)]
        pairs.append(("bbox", ",".join(f"{v:g}" for v in self.bbox) if self.bbox else None))
        pairs.append(("as_of", self.as_of.isoformat() if self.as_of else None))
        return urlencode([(k, v) for k, v in pairs if v])

    def conditions(self, day: date) -> list:
        """Return the SQL conditions of the filters (without scope and as_of) judged on ``day``."""
        conds = [] if self.number is None else [Issue.number == self.number]
        for name, field_name in LIST_FIELDS:
            values, column = getattr(self, name), getattr(Issue, field_name)
            if values:
                conds.append(column.in_(values))
        if self.rag:
            conds.append(or_(*(workflow.rag_clause(r, day, self.amber_days) for r in self.rag)))
        if self.leader:
            conds.append(_leader_clause(self.leader, day))
        if self.q:
            like = "%" + self.q.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
            cols = (
                Issue.number,
                Issue.original_number,
                Issue.title,
                Issue.description,
                Issue.location_text,
                Issue.lead_unit,
            )
            conds.append(or_(*(c.ilike(like, escape="\\") for c in cols)))
        if self.bbox:
            conds.append(bbox_overlaps(*self.bbox))
        return conds

    def apply(self, stmt, session=None):
        """Add scope and filters to a statement over ``Issue`` (``as_of`` needs ``session``)."""
        scope = self.scope.clause(self.today or date.today())
        if scope is not None:
            stmt = stmt.where(scope)
        if self.as_of is not None:
            if session is None:
                raise QueryError(
                    "as_of", self.as_of.isoformat(), "回看历史台账须在数据库会话中执行"
                )
            return stmt.where(Issue.number.in_([s.number for s in self.states(session)]))
        return stmt.where(*self.conditions(self.today or date.today()))

    def select(self, session=None):
        """Return ``SELECT Issue`` with scope and filters, ordered by number (no paging)."""
        return self.apply(select(Issue), session).order_by(Issue.number)

    def count(self, session) -> int:
        """Return how many issues match (all pages)."""
        stmt = self.apply(select(func.count(Issue.id)).select_from(Issue), session)
        return session.scalar(stmt)

    def states(self, session):
        """Return matching issues' states on ``as_of`` (default today), in number order.

        Rebuilt from the event log (``events.ledger_as_of``, which orders them by number).

        For the public scope today's disclosure decisions win over the past: an issue withdrawn
        from disclosure since is not shown for any day, and a place marked sensitive since stays
        generalised on every day.
        """
        from webmap.ledger.events import ledger_as_of

        day = self.day
        states = [s for s in ledger_as_of(session, day) if self.matches(s, day, session)]
        if self.scope.kind != "public":
            return states
        live = dict(session.execute(select(Issue.number, Issue.sensitive)
                                    .where(Issue.public.is_(True))).all())  # fmt: skip
        return [replace(s, sensitive=bool(s.sensitive or live[s.number]))
                for s in states if s.number in live]  # fmt: skip

    def matches(self, state, day: date, session=None) -> bool:
        """Return True when a rebuilt ``IssueState`` passes the filters and scope on ``day``."""
        if self.number is not None and state.number != self.number:
            return False
        for name, field_name in LIST_FIELDS:
            if getattr(self, name) and getattr(state, field_name) not in getattr(self, name):
                return False
        rag = workflow.rag(state.status, state.due_date, day, self.amber_days)
        if self.rag and rag not in self.rag:
            return False
        if not _scope_matches(self.scope, state):
            return False
        if self.scope.kind == "leader" and session is not None:
            if state.number not in _leader_numbers(session, self.scope.leader or "", day):
                return False
        if self.q and not any(
            self.q.lower() in (v or "").lower()
            for v in (
                state.number,
                state.original_number,
                state.title,
                state.description,
                state.location_text,
                state.lead_unit,
            )
        ):
            return False
        if self.bbox and not _state_in_bbox(state, self.bbox):
            return False
        if self.leader and session is not None:
            return state.number in _leader_numbers(session, self.leader, day)
        return True


def _scope_matches(scope: Scope, state) -> bool:
    """Return True when a rebuilt state lies inside an access scope."""
    if scope.kind == "county":
        return state.county_code in scope.counties
    if scope.kind == "unit":
        return state.lead_unit == scope.unit or scope.unit in (state.partner_units or [])
    if scope.kind == "public":
        return bool(state.public)
    if scope.kind == "protected":
        return state.protected_area is not None
    return True


def _state_in_bbox(state, box) -> bool:
    """Return True when a state's geometry (or display point) overlaps the box."""
    if state.geometry:
        return bool(shapely.from_geojson(json.dumps(state.geometry)).intersects(make_box(*box)))
    if state.lon is None or state.lat is None:
        return False
    return box[0] <= state.lon <= box[2] and box[1] <= state.lat <= box[3]


def _leader_clause(name: str, day: date):
    """Issues a leader answers for: recorded responsibility, or a roster line valid on ``day``."""
    valid = and_(
        LeaderAssignment.name == name,
        LeaderAssignment.valid_from <= day,
        or_(LeaderAssignment.valid_to.is_(None), LeaderAssignment.valid_to >= day),
    )
    by_roster = exists().where(
        valid,
        or_(
            and_(
                LeaderAssignment.kind == "city_leader",
                LeaderAssignment.county_code == Issue.county_code,
            ),
            and_(
                LeaderAssignment.kind == "county_leader",
                LeaderAssignment.issue_number == Issue.number,
            ),
        ),
    )
    by_record = exists().where(
        Responsibility.issue_id == Issue.id,
        Responsibility.name == name,
        Responsibility.party_kind.in_(LEADER_KINDS),
    )
    return or_(by_roster, by_record)


def _leader_numbers(session, name: str, day: date) -> set[str]:
    """Return the numbers of live issues a leader answers for on ``day``."""
    return set(session.scalars(select(Issue.number).where(_leader_clause(name, day))))
