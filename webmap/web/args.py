"""Request arguments every view reads the same way: filters, display options, numbers.

``issue_query`` builds the shared ``IssueQuery`` with the reader's scope and the request's
``LedgerContext``, so a page, its API twin, its export and its picture hold the same issues
judged on the same day. Bad values become a Chinese 400 naming the parameter and the value.
"""

from __future__ import annotations

from flask import abort, g
from werkzeug.datastructures import MultiDict

from geo.crs import wgs84_to_gcj02
from webmap.ledger.query import IssueQuery, QueryError, Scope
from webmap.render.basemaps import BASEMAPS
from webmap.web.context import ledger_context

DISPLAY_ARGS = ("basemap", "measure")
MEASURES = {"rate": "完成率", "overdue": "逾期数"}


def request_scope() -> Scope:
    """Return what the current request may see (``g.scope``, set by the login wall)."""
    return g.get("scope") or Scope.everything()


def issue_query(args, scope: Scope | None = None) -> IssueQuery:
    """Build the shared ``IssueQuery`` from filter arguments; bad values become a Chinese 400."""
    try:
        return IssueQuery.from_args(args, scope=scope or request_scope(), context=ledger_context())
    except QueryError as exc:
        abort(400, str(exc))


def split_args(args: MultiDict, names) -> tuple[MultiDict, MultiDict]:
    """Split arguments into (the others, those named in ``names``)."""
    rest, taken = MultiDict(), MultiDict()
    for key, value in args.items(multi=True):
        (taken if key in names else rest).add(key, value)
    return rest, taken


def split_display(args: MultiDict) -> tuple[MultiDict, dict]:
    """Take the display options (basemap, choropleth measure) off the filter arguments."""
    filters, _ = split_args(args, DISPLAY_ARGS)
    basemap = args.get("basemap") or "none"
    measure = args.get("measure") or "rate"
    if basemap not in BASEMAPS:
        abort(400, f"未知底图“{basemap}”，可选：{'、'.join(BASEMAPS)}")
    if measure not in MEASURES:
        abort(400, f"分县着色只能是 rate（完成率）或 overdue（逾期数），收到“{measure}”")
    return filters, {"basemap": basemap, "measure": measure}


def display_transform(coords: str | None):
    """Return the coordinate shift for display: None (WGS84) or WGS84 -> GCJ-02 for AMap tiles."""
    if coords in (None, "", "wgs84"):
        return None
    if coords == "gcj02":
        return wgs84_to_gcj02
    abort(400, f"参数 coords 只能是 wgs84 或 gcj02，收到“{coords}”")


def basemap_transform(basemap: str):
    """Return the display shift a basemap needs (GCJ-02 for AMap tiles, else None)."""
    return wgs84_to_gcj02 if basemap == "amap" else None


MAX_INT = 2**62  # the largest integer argument any query passes to the database


def parse_int(args: MultiDict, name: str, default: int, low: int, high: int | None = None) -> int:
    """Read one integer argument within bounds, or abort with a Chinese 400 naming it."""
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        abort(400, f"参数 {name} 应为整数，收到“{raw}”")
    # beyond 2**62 no database takes it as an integer (SQLite raised OverflowError: a 500)
    high = min(high, MAX_INT) if high is not None else MAX_INT
    if value < low or value > high:
        bound = f"{low}–{high}"
        abort(400, f"参数 {name} 超出范围（{bound}），收到 {value}")
    return value
