"""CQL2 text and JSON through pygeofilter, compiled to SQL over ``Issue`` or to a predicate.

Supported: comparison (=, <>, <, <=, >, >=), LIKE, IN, BETWEEN, IS NULL, AND/OR/NOT, and the
spatial predicates S_INTERSECTS and S_WITHIN (also S_CONTAINS, S_DISJOINT) against a literal
geometry given in ``filter-crs``. Only the collection's queryable properties may be named: the
public collection's field mask holds for filters too. Anything else is a 400 naming the part.

Spatial tests on issues are answered by the caller (``spatial``): it knows which geometry a
collection publishes (generalised points for the public one), so a filter cannot reveal more
than the features themselves.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import date, datetime

import shapely
from pygeofilter import ast, values
from sqlalchemy import and_, not_, or_, true

from webmap.ledger.ogc.crs import to_storage
from webmap.ledger.ogc.errors import bad_parameter

LANGS = ("cql2-text", "cql2-json")
# CQL2's one-character wildcard; pygeofilter's CQL2 parsers set singlechar="." (ECQL's)
SINGLE_CHAR = "_"
_SPATIAL = {ast.GeometryIntersects: "intersects", ast.GeometryWithin: "within",
            ast.GeometryContains: "contains", ast.GeometryDisjoint: "disjoint"}  # fmt: skip
_COMPARE = {ast.Equal: "__eq__", ast.NotEqual: "__ne__", ast.LessThan: "__lt__",
            ast.LessEqual: "__le__", ast.GreaterThan: "__gt__",
            ast.GreaterEqual: "__ge__"}  # fmt: skip


def parse_filter(text: str, lang: str | None):
    """Parse a ``filter`` value as CQL2 text (default) or JSON; a 400 names what failed."""
    lang = lang or "cql2-text"
    if lang not in LANGS:
        raise bad_parameter("filter-lang", lang, f"可选 {'、'.join(LANGS)}")
    try:
        if lang == "cql2-json":
            from pygeofilter.parsers.cql2_json import parse

            return parse(_bbox_to_polygon(json.loads(text)))
        from pygeofilter.parsers.cql2_text import parse

        return parse(text)
    except Exception as exc:  # noqa: BLE001 - lark and json raise many types; all mean bad input
        raise bad_parameter("filter", text, f"无法解析为 {lang}（{type(exc).__name__}）") from None


def literal_geometry(node, crs: str):
    """Return a CQL geometry literal as WGS84 shapely (given in ``filter-crs``)."""
    try:
        if isinstance(node, values.Geometry):
            geom = shapely.geometry.shape(_lists(node.geometry))
        elif _is_bbox_call(node):
            # pygeofilter's CQL2 text grammar reads BBOX(...) as a function call
            geom = shapely.box(*node.arguments)
        else:
            geom = None
        moved = None if geom is None else to_storage(geom, crs)
    except Exception:  # noqa: BLE001 - shapely and pyproj raise many types for bad literals
        moved = None
    if moved is None or moved.is_empty or not all(map(math.isfinite, moved.bounds)):
        raise bad_parameter("filter", repr(node), "空间谓词的第二个参数应为有效的几何对象")
    # an invalid polygon (a bow tie) would make the predicates raise
    return moved if moved.is_valid else shapely.make_valid(moved)


def _bbox_to_polygon(obj):
    """Replace CQL2 JSON ``{"bbox": [...]}`` literals by GeoJSON polygons.

    pygeofilter 0.4 builds ``Envelope(*bbox)`` whose fields are (x1, x2, y1, y2), so the
    CQL2 order minx, miny, maxx, maxy would come out crossed; a polygon has no such ambiguity.
    """
    if isinstance(obj, list):
        return [_bbox_to_polygon(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    box = obj.get("bbox")
    if set(obj) == {"bbox"} and isinstance(box, list) and len(box) in (4, 6):
        x1, y1, x2, y2 = box if len(box) == 4 else (box[0], box[1], box[3], box[4])
        return {"type": "Polygon",
                "coordinates": [[[x1, y1], [x2, y1], [x2, y2], [x1, y2], [x1, y1]]]}  # fmt: skip
    return {k: _bbox_to_polygon(v) for k, v in obj.items()}


def _is_bbox_call(node) -> bool:
    """Say whether a node is ``BBOX(minx, miny, maxx, maxy)`` with numeric arguments."""
    return (isinstance(node, ast.Function) and node.name.lower() == "bbox"
            and len(node.arguments) == 4
            and all(isinstance(a, int | float) and not isinstance(a, bool)
                    and math.isfinite(a) for a in node.arguments))  # fmt: skip


def _lists(obj):
    """Turn the tuples pygeofilter keeps in GeoJSON coordinates into lists."""
    if isinstance(obj, dict):
        return {k: _lists(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_lists(v) for v in obj]
    return obj


def _sql_literal(ch: str) -> str:
    """Return a character matched literally by an SQL LIKE with a backslash escape."""
    return "\\" + ch if ch in "%_\\" else ch


# how each dialect writes a LIKE pattern: (literal character, any run, any one character)
_LIKE_SYNTAX = {"sql": (_sql_literal, "%", "_"), "regex": (re.escape, ".*", ".")}


def _like_pattern(node: ast.Like, dialect: str) -> str:
    """Return the pattern of a LIKE node in SQL LIKE syntax or as a Python regular expression."""
    literal, many, one = _LIKE_SYNTAX[dialect]
    out, escaped = [], False
    for ch in node.pattern:
        if escaped:
            out.append(literal(ch))
            escaped = False
        elif ch == node.escapechar:
            escaped = True
        elif ch == node.wildcard:
            out.append(many)
        elif ch == SINGLE_CHAR:
            out.append(one)
        else:
            out.append(literal(ch))
    return "".join(out)


def _like_to_sql(node: ast.Like) -> str:
    """Return the pattern of a LIKE node in SQL syntax (``%``, ``_``, backslash escape)."""
    return _like_pattern(node, "sql")


def _like_regex(node: ast.Like) -> str:
    """Return the pattern of a LIKE node as a Python regular expression."""
    return _like_pattern(node, "regex")


class SqlCompiler:
    """Compile a CQL2 AST to a SQLAlchemy condition over named columns."""

    def __init__(self, columns: dict, spatial: Callable, crs: str):
        """Keep queryable name -> (column, python type), the spatial callback and filter-crs."""
        self.columns = columns
        self.spatial = spatial
        self.crs = crs

    def compile(self, node):
        """Return the SQL condition of a node."""
        if isinstance(node, ast.And):
            return and_(self.compile(node.lhs), self.compile(node.rhs))
        if isinstance(node, ast.Or):
            return or_(self.compile(node.lhs), self.compile(node.rhs))
        if isinstance(node, ast.Not):
            return not_(self.compile(node.sub_node))
        if isinstance(node, bool):
            return true() if node else not_(true())
        if type(node) in _COMPARE:
            column, kind = self._column(node.lhs)
            return getattr(column, _COMPARE[type(node)])(self._value(node.rhs, kind, node.lhs))
        if isinstance(node, ast.Like):
            column, _ = self._column(node.lhs)
            cond = column.like(_like_to_sql(node), escape="\\")
            return not_(cond) if node.not_ else cond
        if isinstance(node, ast.In):
            column, kind = self._column(node.lhs)
            cond = column.in_([self._value(v, kind, node.lhs) for v in node.sub_nodes])
            return not_(cond) if node.not_ else cond
        if isinstance(node, ast.Between):
            column, kind = self._column(node.lhs)
            cond = column.between(self._value(node.low, kind, node.lhs),
                                  self._value(node.high, kind, node.lhs))  # fmt: skip
            return not_(cond) if node.not_ else cond
        if isinstance(node, ast.IsNull):
            column, _ = self._column(node.lhs)
            return column.is_not(None) if node.not_ else column.is_(None)
        if type(node) in _SPATIAL:
            self._geometry_attribute(node.lhs)
            return self.spatial(_SPATIAL[type(node)], literal_geometry(node.rhs, self.crs))
        raise bad_parameter("filter", type(node).__name__, "不支持的 CQL2 运算")

    def _column(self, node):
        """Return (column, type) of an attribute node among the queryables."""
        if not isinstance(node, ast.Attribute):
            raise bad_parameter("filter", repr(node), "比较的左侧应为属性名")
        if node.name not in self.columns:
            names = "、".join(self.columns)
            raise bad_parameter("filter", node.name, f"不是可查询属性；可用 {names}")
        return self.columns[node.name]

    def _geometry_attribute(self, node) -> None:
        """Check that a spatial predicate names the geometry."""
        if not (isinstance(node, ast.Attribute) and node.name in ("geometry", "geom")):
            raise bad_parameter("filter", repr(node), "空间谓词的第一个参数应为 geometry")

    def _value(self, value, kind, attribute):
        """Return a literal converted to the column's type (a 400 when it does not fit)."""
        return coerce(getattr(attribute, "name", "filter"), value, kind)


def coerce(name: str, value, kind):
    """Return ``value`` as ``kind`` (str, int, float, bool, date, datetime); a 400 otherwise."""
    try:
        return _CONVERT[kind](value)
    except (TypeError, ValueError, OverflowError, AttributeError):
        raise bad_parameter(name, value, f"类型应为 {_KIND_NAMES[kind]}") from None


def _to_bool(value) -> bool:
    """Return a boolean literal (true/false/1/0 as text too)."""
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text not in ("true", "false", "1", "0"):
        raise ValueError(value)
    return text in ("true", "1")


def _to_int(value) -> int:
    """Return a whole number (``50`` or ``"50"``, not ``50.5``)."""
    if isinstance(value, bool | date):
        raise ValueError(value)
    number = float(value)
    if number != int(number):
        raise ValueError(value)
    return int(number)


def _to_float(value) -> float:
    """Return a number."""
    if isinstance(value, bool | date):
        raise ValueError(value)
    return float(value)


def _to_date(value) -> date:
    """Return a date from a date, timestamp or ISO text."""
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _to_datetime(value) -> datetime:
    """Return a timestamp from a timestamp or ISO text."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _to_str(value) -> str:
    """Return text from a scalar literal."""
    if not isinstance(value, bool | int | float | str):
        raise ValueError(value)
    return str(value)


_CONVERT = {str: _to_str, int: _to_int, float: _to_float, bool: _to_bool, date: _to_date,
            datetime: _to_datetime}  # fmt: skip
_KIND_NAMES = {str: "文本", int: "整数", float: "数值", bool: "布尔值", date: "日期",
               datetime: "时间"}  # fmt: skip


class PythonPredicate:
    """Evaluate a CQL2 AST against a feature's properties and WGS84 geometry."""

    def __init__(self, kinds: dict, crs: str):
        """Keep queryable name -> python type and the filter CRS."""
        self.kinds = kinds
        self.crs = crs

    def check(self, node) -> None:
        """Raise a 400 for an attribute outside the queryables (walks the whole tree)."""
        self.test(node, {k: None for k in self.kinds}, None)

    def test(self, node, props: dict, geom) -> bool:
        """Return whether a feature passes the node."""
        if isinstance(node, ast.And):
            return self.test(node.lhs, props, geom) & self.test(node.rhs, props, geom)
        if isinstance(node, ast.Or):
            return self.test(node.lhs, props, geom) | self.test(node.rhs, props, geom)
        if isinstance(node, ast.Not):
            return not self.test(node.sub_node, props, geom)
        if isinstance(node, bool):
            return node
        if type(node) in _SPATIAL:
            other = literal_geometry(node.rhs, self.crs)
            return geom is not None and bool(getattr(geom, _SPATIAL[type(node)])(other))
        name = getattr(getattr(node, "lhs", None), "name", None)
        if name not in self.kinds:
            raise bad_parameter("filter", name or type(node).__name__, "不是可查询属性")
        value, kind = props.get(name), self.kinds[name]
        if isinstance(node, ast.IsNull):
            return (value is None) != node.not_
        if value is None:
            return False
        return self._compare(node, value, kind, name)

    def _compare(self, node, value, kind, name) -> bool:
        """Return the result of a comparison node on a non-null value."""
        if type(node) in _COMPARE:
            return bool(getattr(value, _COMPARE[type(node)])(coerce(name, node.rhs, kind)))
        if isinstance(node, ast.In):
            return (value in [coerce(name, v, kind) for v in node.sub_nodes]) != node.not_
        if isinstance(node, ast.Between):
            low, high = coerce(name, node.low, kind), coerce(name, node.high, kind)
            return (low <= value <= high) != node.not_
        if isinstance(node, ast.Like):
            return bool(re.fullmatch(_like_regex(node), str(value), re.S)) != node.not_
        raise bad_parameter("filter", type(node).__name__, "不支持的 CQL2 运算")
