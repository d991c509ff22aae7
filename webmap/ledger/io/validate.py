"""Turn raw ledger cells into typed values, collecting one error per bad cell (row, header, value).

Pure functions over ``RawRow``: no database and no geocoding, so every syntax problem in a
file is reported before anything is looked up or written.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from webmap.ledger.filters import (
    COUNTIES,  # one county table (the gazetteer) for filters and rows
    COUNTY_ALIASES,
)
from webmap.ledger.io.formulas import is_text_field, restore_text
from webmap.ledger.io.reader import CellError, LedgerSheet, RawRow
from webmap.ledger.io.template import BY_FIELD
from webmap.ledger.vocabulary import DEADLINE_CLASSES, STATUSES

# the city spans about 111.1-112.4 E, 24.6-26.9 N (DOMAIN.md 2); a margin keeps border sites in
CITY_BBOX = (110.9, 24.4, 112.6, 27.1)


DATUMS = {
    "wgs84": "WGS84",
    "wgs-84": "WGS84",
    "epsg:4326": "WGS84",
    "4326": "WGS84",
    "gps": "WGS84",
    "cgcs2000": "CGCS2000",
    "2000": "CGCS2000",
    "epsg:4490": "CGCS2000",
    "4490": "CGCS2000",
    "国家2000": "CGCS2000",
    "天地图": "CGCS2000",
    "gcj-02": "GCJ-02",
    "gcj02": "GCJ-02",
    "高德": "GCJ-02",
    "腾讯": "GCJ-02",
    "火星坐标": "GCJ-02",
    "bd-09": "BD-09",
    "bd09": "BD-09",
    "百度": "BD-09",
}

STATUS_ALIASES = {
    "未开始": "未启动",
    "尚未启动": "未启动",
    "正在整改": "整改中",
    "推进中": "整改中",
    "整改中": "整改中",
    "序时推进": "整改中",
    "基本完成": "整改中",
    "已完成": "已完成待销号",
    "已整改": "已完成待销号",
    "已完成整改": "已完成待销号",
    "完成": "已完成待销号",
    "已销号": "已销号",
    "已销号(备案)": "已销号",
    "备案": "已销号",
    "已备案": "已销号",
    "长期坚持": "持续推进",
    "持续整改": "持续推进",
}

_ONGOING = ("持续推进", "长期坚持", "长期", "持续", "常态化")
_YES = {"是", "y", "yes", "true", "1", "公开", "√", "示例"}
_NO = {"否", "n", "no", "false", "0", "不公开", "×"}
_LIST_SPLIT = re.compile(r"[、，,；;\n]+")
_YMD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:前|之前)?$")
_YM = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?\s*(?:底|末)?\s*(?:前|之前)?$")
_Y = re.compile(r"^(\d{4})\s*年?\s*(?:底|年底|末)?\s*(?:前|之前)?$")
_EXCEL_EPOCH = dt.date(1899, 12, 30)


@dataclass
class RowValues:
    """A ledger row after validation: typed values by field, plus its Excel row number."""

    row: int
    values: dict[str, object] = field(default_factory=dict)


def clean_text(value: object) -> str | None:
    """Return a stripped string, or None for an empty cell; 1.0 from Excel reads as "1"."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (dt.datetime, dt.date)):
        value = value.isoformat()[:10]
    s = str(value).strip()
    return s or None


def parse_number(value: object) -> float:
    """Read a decimal-degree or plain number; raise ValueError when it is not one."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    s = str(value).strip().replace("，", ".").replace("°", "")
    return float(s)


def parse_percent(value: object) -> float:
    """Read 80, "80%" or 0.8 (Excel percent cells) as a percentage between 0 and 100."""
    if isinstance(value, str) and value.strip().endswith(("%", "％")):
        pct = float(value.strip()[:-1])
    else:
        pct = parse_number(value)
        if isinstance(value, float) and 0 < pct <= 1 and not pct.is_integer():
            pct *= 100
    if not 0 <= pct <= 100:
        raise ValueError("完成进度应在 0 到 100 之间")
    return round(pct, 1)


def parse_bool(value: object) -> bool:
    """Read 是/否 (and common equivalents); raise ValueError otherwise."""
    s = str(value).strip().lower()
    if s in _YES:
        return True
    if s in _NO:
        return False
    raise ValueError("应为 是 或 否")


def parse_due(value: object) -> tuple[dt.date | None, str | None]:
    """Read a deadline cell into (due date, deadline class implied or None); ValueError if neither.

    Month-only and year-only deadlines mean the end of that month or year, as 底前 says.
    """
    if isinstance(value, dt.datetime):
        return value.date(), None
    if isinstance(value, dt.date):
        return value, None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 20000 < value < 80000:
        return _EXCEL_EPOCH + dt.timedelta(days=int(value)), None
    s = str(value).strip().replace(" ", "")
    if any(s.startswith(w) for w in _ONGOING):
        return None, "持续推进"
    if m := _YMD.match(s):
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3])), None
        except ValueError:  # python's message is English; officials need to see which part is wrong
            raise ValueError(f"不是有效日期（{m[1]}年{m[2]}月{m[3]}日不存在）") from None
    if m := _YM.match(s):
        y, mo = int(m[1]), int(m[2])
        if not 1 <= mo <= 12:
            raise ValueError(f"不是有效日期（月份 {mo} 不在 1 到 12 之间）")
        nxt = dt.date(y + (mo == 12), mo % 12 + 1, 1)
        return nxt - dt.timedelta(days=1), None
    if m := _Y.match(s):
        return dt.date(int(m[1]), 12, 31), None
    if s in DEADLINE_CLASSES:  # only 2023年及以后 gets here: a class without a date
        return None, s
    raise ValueError("不是日期（应为 2021-12-31、2021年12月底前 或 持续推进）")


def deadline_class_for(due: dt.date | None) -> str:
    """Return the plan's deadline class for a due date (none means 持续推进)."""
    if due is None:
        return "持续推进"
    if due.year <= 2021:
        return "2021年底前"
    if due.year == 2022:
        return "2022年"
    return "2023年及以后"


def county_code_for(name: str) -> str | None:
    """Return the county code a county name (full, short or former) stands for, or None."""
    s = name.strip().replace(" ", "")
    s = s.removeprefix("湖南省").removeprefix("永州市") or s
    for code, full in COUNTIES.items():
        if s in (full, code):
            return code
    if s in COUNTY_ALIASES:
        return COUNTY_ALIASES[s]
    for code, full in COUNTIES.items():
        short = re.sub(r"(瑶族自治县|区|县|市)$", "", full)
        if s == short or (len(short) >= 2 and s.startswith(short) and len(s) <= len(full)):
            return code
    return None


def split_units(value: str) -> list[str]:
    """Split a cell naming several units into a list, keeping their order."""
    return [u.strip() for u in _LIST_SPLIT.split(value) if u.strip()]


def validate_row(raw: RawRow, headers: dict[str, str]) -> tuple[RowValues, list[CellError]]:
    """Type every cell of one row; return the values and the errors, each naming row and header."""
    out = RowValues(row=raw.row)
    errors: list[CellError] = []

    def fail(name: str, value: object, message: str) -> None:
        """Record an error for ``name`` at this row under the header the file used."""
        errors.append(CellError(raw.row, headers.get(name, BY_FIELD[name].header), value, message))

    v = raw.values
    for name, value in v.items():
        col = BY_FIELD[name]
        if col.derived:
            continue
        text = clean_text(value)
        if text is None:
            out.values[name] = None
            continue
        if is_text_field(name):
            # undo our exporter's formula guard after stripping, so a leading tab survives too
            text = restore_text(text)
        try:
            out.values[name] = _typed(name, col.kind, value, text)
        except ValueError as exc:
            fail(name, text, str(exc))
    _check_required(out, raw, fail)
    _check_deadline(out, v, fail)
    _check_coordinates(out, fail)
    return out, errors


def _typed(name: str, kind: str, value: object, text: str) -> object:
    """Convert one non-empty cell by its column kind and field-specific vocabulary."""
    if name == "declared_county":
        code = county_code_for(text)
        if code is None:
            raise ValueError("不是永州市的县市区")
        return code
    if name == "datum":
        key = text.lower().replace(" ", "")
        if key not in DATUMS:
            raise ValueError("坐标系应为 WGS84、CGCS2000、GCJ-02 或 BD-09")
        return DATUMS[key]
    if name == "status":
        status = STATUS_ALIASES.get(text.replace(" ", ""), text.replace(" ", ""))
        if status not in STATUSES:
            raise ValueError("不是已知的整改状态（" + " / ".join(STATUSES) + "）")
        return status
    if name == "deadline_class":
        cls = text.replace(" ", "")
        cls = {"2021年": "2021年底前", "2023年及以后或持续推进": "2023年及以后"}.get(cls, cls)
        if cls not in DEADLINE_CLASSES:
            raise ValueError("时限类别应为 " + " / ".join(DEADLINE_CLASSES))
        return cls
    if kind == "number":
        try:
            return parse_number(value)
        except ValueError:
            raise ValueError("不是数字") from None
    if kind == "percent":
        try:
            return parse_percent(value)
        except ValueError as exc:
            raise ValueError(str(exc) if "之间" in str(exc) else "不是百分比") from None
    if kind == "bool":
        return parse_bool(value)
    if kind == "date":
        return parse_due(value)
    if kind == "list":
        return split_units(text)
    return text


def _check_required(out: RowValues, raw: RawRow, fail) -> None:
    """Require a number, a title or description, and something that places the issue."""
    vals = out.values
    if not vals.get("number"):
        fail("number", None, "编号不能为空")
    if not (vals.get("title") or vals.get("description")):
        fail(
            "title" if "title" in raw.values else "description",
            None,
            "问题名称和问题描述不能都为空",
        )


def _check_deadline(out: RowValues, raw_values: dict, fail) -> None:
    """Split the parsed deadline into due date and class, checking that the two agree."""
    vals = out.values
    parsed = vals.pop("due_date", None)
    due, implied = parsed if isinstance(parsed, tuple) else (None, None)
    vals["due_date"] = due
    declared = vals.get("deadline_class")
    derived = implied or (deadline_class_for(due) if due else None)
    if (
        declared
        and derived
        and declared != derived
        and not (declared == "持续推进" and due is not None)
    ):
        fail("deadline_class", declared, f"与整改时限（{derived}）不一致")
    vals["deadline_class"] = declared or derived


def _check_coordinates(out: RowValues, fail) -> None:
    """Check a coordinate pair is complete, in degrees and inside the city's extent."""
    vals = out.values
    lon, lat = vals.get("lon"), vals.get("lat")
    if lon is None and lat is None:
        return
    if lon is None or lat is None:
        fail("lon" if lon is None else "lat", None, "经度和纬度须同时填写")
        return
    if abs(lon) > 1000 and abs(lat) > 1000:  # metres: a projected pair
        fail("lon", f"{lon}, {lat}",
             "是投影坐标（米），不是经纬度：请先用 yzmap locate（--x-col --y-col --crs）换算为"
             "经纬度（WGS84），再填入经度、纬度两列")  # fmt: skip
        return
    if abs(lon) > 180 or abs(lat) > 90:
        name, value = ("lon", lon) if abs(lon) > 180 else ("lat", lat)
        span = "东经约 111.1–112.4°" if name == "lon" else "北纬约 24.6–26.9°"
        fail(name, value, f"超出经纬度范围（永州市{span}），请检查是否多输或输错数字，"
                          "或经度、纬度两列是否填反")  # fmt: skip
        return
    x0, y0, x1, y1 = CITY_BBOX
    if not (x0 <= lon <= x1 and y0 <= lat <= y1):
        if x0 <= lat <= x1 and y0 <= lon <= y1:
            fail("lon", f"{lon}, {lat}", "经度和纬度填反了")
        else:
            fail(
                "lon", f"{lon}, {lat}", "坐标不在永州市范围内（约东经111.1–112.4°、北纬24.6–26.9°）"
            )


def validate_sheet(sheet: LedgerSheet) -> tuple[list[RowValues], list[CellError]]:
    """Validate every row and the file as a whole (duplicate numbers); return rows and errors."""
    rows, errors = [], []
    seen: dict[str, int] = {}
    for raw in sheet.rows:
        values, row_errors = validate_row(raw, sheet.headers)
        errors.extend(row_errors)
        number = values.values.get("number")
        if number:
            if number in seen:
                errors.append(
                    CellError(
                        raw.row,
                        sheet.headers["number"],
                        number,
                        f"编号重复（与第{seen[number]}行相同）",
                    )
                )
            else:
                seen[number] = raw.row
        rows.append(values)
    return rows, errors
