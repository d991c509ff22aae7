"""What an output says about itself: its filters in Chinese, its cut-off, its query identifier
and the boundary layer versions it was made with.

Every picture, document and report names the data behind it the same way: ``describe_filters``
and ``query_id`` (a hash of the canonical query string) tie it to the map view it came from,
``cutoff_text`` says when the data was read (Beijing time) or which past day it shows, and
``layer_lines`` names each boundary layer's source, version and whether it is illustrative (示意).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

from webmap.ledger.query import COUNTIES, LIST_PARAMS, IssueQuery
from webmap.ledger.vocabulary import FILTER_LABELS, ILLUSTRATIVE_MARK, LAYER_TITLES, RAG_LABELS

BEIJING = timezone(timedelta(hours=8))


def query_id(query: IssueQuery) -> str:
    """Return a short identifier of the query: 8 hex digits of SHA-256 of its canonical string.

    >>> query_id(IssueQuery())
    'e3b0c442'
    """
    return hashlib.sha256(query.to_args().encode("utf-8")).hexdigest()[:8]


def describe_filters(query: IssueQuery) -> str:
    """Return a one-line Chinese description of the filters (全部问题 when there are none).

    >>> describe_filters(IssueQuery(county=("431124",), rag=("red",)))
    '县（市、区）：道县；预警等级：逾期'
    """
    parts = []
    for name in LIST_PARAMS:
        label, values = FILTER_LABELS[name], getattr(query, name)
        if not values:
            continue
        if name == "county":
            values = [COUNTIES.get(v, v) for v in values]
        elif name == "rag":
            values = [RAG_LABELS.get(v, v) for v in values]
        parts.append(f"{label}：{'、'.join(values)}")
    if query.leader:
        parts.append(f"{FILTER_LABELS['leader']}：{query.leader}")
    if query.q:
        parts.append(f"{FILTER_LABELS['q']}：{query.q}")
    if query.bbox:
        parts.append(f"{FILTER_LABELS['bbox']}：" + ",".join(f"{v:g}" for v in query.bbox))
    if query.as_of:
        parts.append(f"{FILTER_LABELS['as_of']}：{query.as_of.isoformat()}")
    return "；".join(parts) or "全部问题"


def beijing_time(moment: datetime | None = None) -> str:
    """Return a moment (now by default) as Beijing time to the minute, with the zone shown.

    The one clock of every output people read: stored times stay UTC, and a naive datetime is
    taken to be UTC, as the database keeps it.

    >>> beijing_time(datetime(2024, 1, 1, 16, 30, tzinfo=UTC))
    '2024-01-02 00:30（北京时间，UTC+8）'
    >>> beijing_time(datetime(2024, 1, 1, 16, 30))
    '2024-01-02 00:30（北京时间，UTC+8）'
    """
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return f"{moment.astimezone(BEIJING):%Y-%m-%d %H:%M}（北京时间，UTC+8）"


def cutoff_text(query: IssueQuery, now: datetime | None = None) -> str:
    """Return the data cut-off line: the as-of day, or the time the output was made (Beijing)."""
    if query.as_of is not None:
        return f"数据截至 {query.as_of.isoformat()} 24:00（回看）"
    return f"数据截至 {beijing_time(now)}"


def layer_line(slot: str, layer) -> str:
    """Describe one boundary layer in use: title, source, vintage, version, 示意 when so."""
    info = layer.info
    source = info.source.split(":")[0] if info.source else "—"
    mark = "" if info.authoritative else f"，{ILLUSTRATIVE_MARK}（非权威边界，仅供演示）"
    return (f"{LAYER_TITLES.get(slot, slot)}：{source}（有效日期 {info.vintage}，"
            f"版本 {info.version}{mark}）")  # fmt: skip


def layer_lines(layers, slots=("counties", "townships", "protected_areas", "water_source",
                               "redline", "farmland")) -> list[str]:  # fmt: skip
    """Describe the boundary layers an output was made with, one line per layer in use."""
    return [layer_line(s, getattr(layers, s)) for s in slots if getattr(layers, s) is not None]


def illustrative(layers) -> bool:
    """Say whether any boundary layer in use is an illustrative stand-in (示意)."""
    return any(lay is not None and not lay.info.authoritative
               for lay in (layers.counties, layers.townships, layers.protected_areas))  # fmt: skip
