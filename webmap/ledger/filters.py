"""Parse and validate the filter parameters of ``IssueQuery`` from request args or CLI options.

Every error is a ``QueryError`` naming the parameter and the value, in Chinese. Values are
checked against ``webmap.ledger.vocabulary`` and the gazetteer's county table, so parsing needs
neither a database nor boundary layers; ``webmap.ledger.query`` re-exports the public names.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from geo.gazetteer import county_names, load_gazetteer
from webmap.ledger.vocabulary import DEADLINE_CLASSES, RAG_ALIASES, RAGS, SOURCE_TYPES, STATUSES

# county codes and names from the shipped gazetteer (counties.csv), read without its villages
COUNTIES = county_names()
# names people write for a county besides its own (one table for filters and ledger files)
COUNTY_ALIASES = {
    "祁阳县": "431181",
    "431121": "431181",
    "祁阳": "431181",
    "江华县": "431129",
    "江华": "431129",
    "经开区": "431171",
    "永州经开区": "431171",
    "经济技术开发区": "431171",
    "回龙圩": "431173",
    "回龙圩管理区": "431173",
}
LIST_PARAMS = ("county", "source", "status", "deadline", "rag", "category", "protected_area")


class QueryError(ValueError):
    """A filter parameter has a value the query cannot use; names parameter and value."""

    def __init__(self, param: str, value, message: str):
        """Keep parameter, value and the Chinese message."""
        super().__init__(f"参数 {param} 的值“{value}”无效：{message}")
        self.param = param
        self.value = value


def resolve_county(text: str) -> str | None:
    """Return the county code for a code, name or alias, or None if unknown."""
    text = text.strip()
    if text in COUNTIES:
        return text
    by_name = {name: code for code, name in COUNTIES.items()} | COUNTY_ALIASES
    if text in by_name:
        return by_name[text]
    return _resolve_with_gazetteer(text)


def _resolve_with_gazetteer(text: str) -> str | None:
    """Ask the gazetteer (former names and codes, short forms, NBS units) for a county code."""
    area = load_gazetteer().resolve_county(text)
    return area.code if area is not None else None


def reject_unknown(args: Mapping, known: set[str]) -> None:
    """Raise ``QueryError`` for the first parameter name not in ``known``."""
    for name in args:
        if name not in known:
            raise QueryError(name, _one(args, name) or "", "未知参数")


def parse_filters(args: Mapping, today: date | None = None) -> dict:
    """Return the validated filter values of request args (MultiDict) or CLI options (dict).

    The keys are ``IssueQuery``'s fields except ``scope`` and ``today``; parameters with
    other names are ignored here (see ``reject_unknown``).
    """
    counties = []
    for value in _values(args, "county"):
        code = resolve_county(value)
        if code is None:
            raise QueryError("county", value, "不是永州市的县（市、区）名称或代码")
        if code not in counties:
            counties.append(code)
    q = _one(args, "q")
    if q is not None and len(q) > 200:
        raise QueryError("q", q[:20] + "…", "关键词不能超过 200 字")
    leader = _one(args, "leader")
    return {
        "county": tuple(counties),
        "source": _choose("source", _values(args, "source"), SOURCE_TYPES),
        "status": _choose("status", _values(args, "status"), STATUSES),
        "deadline": _choose("deadline", _values(args, "deadline"), DEADLINE_CLASSES),
        "rag": _choose("rag", _values(args, "rag"), RAGS, RAG_ALIASES),
        "category": tuple(dict.fromkeys(_values(args, "category"))),
        "protected_area": tuple(dict.fromkeys(_values(args, "protected_area"))),
        "leader": leader,
        "q": q,
        "bbox": _bbox(_one(args, "bbox")),
        "as_of": _as_of(_one(args, "as_of"), today or date.today()),
    }


def _values(args, name: str) -> list[str]:
    """Return the non-empty values of a parameter, splitting commas (repeats allowed)."""
    if hasattr(args, "getlist"):
        raw = args.getlist(name)
    else:
        raw = args.get(name)
        raw = [] if raw is None else list(raw) if isinstance(raw, list | tuple) else [raw]
    out = []
    for item in raw:
        out += [v.strip() for v in str(item).replace("，", ",").split(",") if v.strip()]
    return out


def _one(args, name: str) -> str | None:
    """Return the single value of a parameter, or None."""
    values = [v for v in _raw(args, name) if v.strip()]
    if len(values) > 1:
        raise QueryError(name, ",".join(values), "只能给一个值")
    return values[0].strip() if values else None


def _raw(args, name: str) -> list[str]:
    """Return a parameter's raw values without comma splitting (free text keeps its commas)."""
    if hasattr(args, "getlist"):
        return [str(v) for v in args.getlist(name)]
    raw = args.get(name)
    return (
        []
        if raw is None
        else [str(v) for v in raw]
        if isinstance(raw, list | tuple)
        else [str(raw)]
    )


def _choose(name: str, values: list[str], allowed, aliases=None) -> tuple[str, ...]:
    """Check each value against the allowed set (after aliases); keep input order, no repeats."""
    out = []
    for value in values:
        value = (aliases or {}).get(value, value)
        if value not in allowed:
            raise QueryError(name, value, f"可选值为 {'、'.join(allowed)}")
        if value not in out:
            out.append(value)
    return tuple(out)


def _int(args, name: str, default: int, low: int, high: int) -> int:
    """Parse an integer parameter within [low, high]."""
    value = _one(args, name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise QueryError(name, value, "不是整数") from None
    if not low <= number <= high:
        raise QueryError(name, value, f"应在 {low} 到 {high} 之间")
    return number


def _bbox(value: str | None) -> tuple[float, float, float, float] | None:
    """Parse ``minx,miny,maxx,maxy`` in degrees."""
    if value is None:
        return None
    parts = value.replace("，", ",").split(",")
    try:
        box = tuple(float(p) for p in parts)
    except ValueError:
        raise QueryError("bbox", value, "应为四个数：最小经度,最小纬度,最大经度,最大纬度") from None
    if len(box) != 4:
        raise QueryError("bbox", value, "应为四个数：最小经度,最小纬度,最大经度,最大纬度")
    minx, miny, maxx, maxy = box
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise QueryError("bbox", value, "范围不合法（须最小值≤最大值，经度±180，纬度±90）")
    return box


def _as_of(value: str | None, today: date) -> date | None:
    """Parse an ISO date that is not after ``today``."""
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise QueryError("as_of", value, "日期格式应为 YYYY-MM-DD") from None
    if day > today:
        raise QueryError("as_of", value, "不能晚于今天")
    return day
