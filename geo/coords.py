"""Reading coordinates as people type them: decimal degrees, DMS, metres, swapped, in any datum.

``parse_angle`` reads one value; ``normalise_point`` and ``normalise_points`` turn an
x/y pair (or two whole columns) into WGS84 lon/lat with flags saying what was done.
Nothing here moves a point into Yongzhou: a point far outside is returned as it is and
the caller flags it outside_city.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
import pyproj

from geo import crs as crs_mod
from geo.errors import InvalidCoordinates, UnknownCRS
from geo.gauss_kruger import MAX_NORTHING, SAME_PLACE_DEG, systems_for_easting

__all__ = ["PointResult", "PointsResult", "parse_angle", "normalise_point", "normalise_points"]

# symbols that NFKC would mangle or leave in many spellings, mapped to one each
_PRE_NFKC = str.maketrans({"º": "°", "˚": "°", "″": '"', "〃": '"'})
_POST_NFKC = str.maketrans({"′": "'", "’": "'", "‘": "'", "´": "'", "`": "'", "”": '"', "“": '"'})
_HEMISPHERES = {
    "东经": ("lon", 1),
    "西经": ("lon", -1),
    "北纬": ("lat", 1),
    "南纬": ("lat", -1),
    "东": ("lon", 1),
    "西": ("lon", -1),
    "北": ("lat", 1),
    "南": ("lat", -1),
    "E": ("lon", 1),
    "W": ("lon", -1),
    "N": ("lat", 1),
    "S": ("lat", -1),
}
_HEMI_RE = "|".join(sorted(_HEMISPHERES, key=len, reverse=True))
_LEAD = re.compile(rf"^(?:{_HEMI_RE})", re.IGNORECASE)
_TRAIL = re.compile(rf"(?:{_HEMI_RE})$", re.IGNORECASE)
_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"
# a number with an optional unit mark: degree, minute, second, or a plain separator
_TOKEN = re.compile(rf"\s*{_NUMBER}\s*(°|度|''|'|分|\"|秒|:)?\s*")
_UNIT = {"°": 0, "度": 0, "'": 1, "分": 1, "''": 2, '"': 2, "秒": 2}
_LIMIT = {"lon": 180.0, "lat": 90.0, None: 180.0}
_AXIS_NAME = {"lon": "经度", "lat": "纬度"}
_SWAP = "coordinates_swapped"
_CONVERTED = "datum_converted"


@dataclass
class PointResult:
    """One normalised point: WGS84 lon/lat (NaN on error), flags, a note and an error message."""

    lon: float
    lat: float
    flags: list[str] = field(default_factory=list)
    note: str = ""
    error: str | None = None


@dataclass
class PointsResult:
    """A normalised column: lon/lat arrays (NaN on error) and per-row flags, notes and errors."""

    lon: np.ndarray
    lat: np.ndarray
    flags: list[list[str]]
    notes: list[str]
    errors: list[str | None]

    def __len__(self) -> int:
        """Return the number of rows."""
        return len(self.lon)

    def row(self, i: int) -> PointResult:
        """Return row ``i`` as a PointResult."""
        return PointResult(
            float(self.lon[i]),
            float(self.lat[i]),
            list(self.flags[i]),
            self.notes[i],
            self.errors[i],
        )


def _clean_text(text: str) -> str:
    """Fold full-width characters and the many prime/quote spellings to ASCII; strip punctuation."""
    folded = unicodedata.normalize("NFKC", str(text).translate(_PRE_NFKC)).translate(_POST_NFKC)
    return folded.strip().strip(",;、。").strip()


def _split_hemisphere(text: str, original: str) -> tuple[str, str | None, int]:
    """Remove a leading or trailing hemisphere (E, 北纬, ...) and return rest, axis and sign."""
    lead, trail = _LEAD.search(text), _TRAIL.search(text)
    if lead and trail:
        raise InvalidCoordinates(f"坐标「{original}」有两个方位标记")
    found = lead or trail
    if not found:
        return text, None, 1
    axis, sign = _HEMISPHERES[found.group(0).upper()]
    rest = text[found.end() :] if lead else text[: found.start()]
    return rest.strip(), axis, sign


def _read_dms(body: str, original: str) -> float:
    """Turn "111°36'12.5"" style text (degree part already unsigned) into decimal degrees."""
    pos, parts, slot = 0, [None, None, None], 0
    while pos < len(body):
        match = _TOKEN.match(body, pos)
        if not match or match.end() == pos:
            raise InvalidCoordinates(f"无法识别的坐标「{original}」")
        number, unit = match.groups()
        slot = _UNIT.get(unit, slot) if unit not in (None, ":") else slot
        if slot > 2 or parts[slot] is not None or any(p is not None for p in parts[slot + 1 :]):
            raise InvalidCoordinates(f"坐标「{original}」的度、分、秒顺序不对")
        parts[slot] = number
        slot += 1
        pos = match.end()
    if parts[0] is None:
        raise InvalidCoordinates(f"坐标「{original}」缺少度数")
    last = max(i for i, p in enumerate(parts) if p is not None)
    if any("." in p for p in parts[:last] if p is not None):
        raise InvalidCoordinates(f"坐标「{original}」只有最后一项可以带小数")
    values = [float(p) if p is not None else 0.0 for p in parts]
    for value, name in ((values[1], "分"), (values[2], "秒")):
        if value >= 60:
            raise InvalidCoordinates(f"坐标「{original}」的{name}数 {value:g} 应小于 60")
    return values[0] + values[1] / 60.0 + values[2] / 3600.0


def _parse_angle_axis(text, axis: str | None = None) -> tuple[float, str | None]:
    """Parse one angle and return (decimal degrees, axis named by its hemisphere or None)."""
    original = str(text) if isinstance(text, str) else text  # np.str_ reprs as np.str_('...')
    if text is None or (isinstance(text, float) and math.isnan(text)):
        raise InvalidCoordinates("坐标为空")
    cleaned = _clean_text(text)
    if not cleaned:
        raise InvalidCoordinates(f"坐标为空「{original}」")
    body, found_axis, sign = _split_hemisphere(cleaned, original)
    if body[:1] in "+-":
        if found_axis is not None and body[0] == "-":
            raise InvalidCoordinates(f"坐标「{original}」同时有负号和方位标记")
        sign, body = (-1 if body[0] == "-" else 1) * sign, body[1:].strip()
    if axis is not None and found_axis is not None and axis != found_axis:
        raise InvalidCoordinates(
            f"坐标「{original}」标的是{_AXIS_NAME[found_axis]}，但这里应为{_AXIS_NAME[axis]}"
        )
    value = _read_dms(body, original) * sign
    limit = _LIMIT[axis or found_axis]
    if abs(value) > limit:
        raise InvalidCoordinates(f"坐标「{original}」超出范围（绝对值应不大于 {limit:g} 度）")
    return value, found_axis


def parse_angle(text, axis: str | None = None) -> float:
    """Parse a typed longitude or latitude into signed decimal degrees.

    Reads decimal degrees, degrees-minutes-seconds and degrees-minutes with ASCII,
    typographic or Chinese marks (° ′ ″ ' " 度 分 秒), space- or colon-separated
    parts, full-width digits, and a hemisphere before or after the number (E, N,
    S, W, 东经, 北纬, 南纬, 西经); S and W negate.

    Parameters
    ----------
    text : str or number
        The value as typed.
    axis : {"lon", "lat"}, optional
        Expected axis: sets the range limit (180 or 90) and rejects a
        contradicting hemisphere mark.

    Returns
    -------
    float
        Decimal degrees, negative for S and W.

    Raises
    ------
    InvalidCoordinates
        For empty or unreadable text, minutes or seconds >= 60, or a value out of range;
        the message quotes the text.

    Examples
    --------
    >>> round(parse_angle("111°36′12″E"), 6)
    111.603333
    >>> round(parse_angle("26°12.5'", axis="lat"), 6)
    26.208333
    >>> parse_angle("东经１１１度３６分")
    111.6
    >>> parse_angle("33°51'S")
    -33.85
    >>> parse_angle("26°75'")
    Traceback (most recent call last):
    ...
    geo.errors.InvalidCoordinates: 坐标「26°75'」的分数 75 应小于 60
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        text = repr(float(text))
    return _parse_angle_axis(text, axis)[0]


def _read_cell(value) -> tuple[float, str | None]:
    """Read one cell: a plain number (degrees or metres) or an angle string; NaN when empty."""
    if value is None or (
        not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value)
    ):
        return math.nan, None  # None, NaN, pd.NA and NaT from Excel/nullable columns
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return float(value), None
    cleaned = _clean_text(value)
    if not cleaned:
        return math.nan, None
    try:
        return float(cleaned), None  # metres and plain degrees after full-width folding
    except ValueError:
        return _parse_angle_axis(value)


def _read_column(values, name: str) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
    """Read a column into floats, axis marks ("lon", "lat" or "") and per-row read errors."""
    arr = np.asarray(values)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    n = len(arr)
    axes = np.full(n, "", dtype=object)
    errors: list[str | None] = [None] * n
    if arr.dtype.kind in "fiu":
        return arr.astype(float), axes, errors
    arr = arr.astype(object)  # numpy str_ cells become plain str
    # fast path: pandas reads every plain number in C; only the rest are parsed one by one
    out = np.array(pd.to_numeric(pd.Series(arr, dtype=object), errors="coerce"), dtype=float)
    for i in np.flatnonzero(np.isnan(out)):
        try:
            out[i], axis = _read_cell(arr[i])
            axes[i] = axis or ""
        except InvalidCoordinates as exc:
            errors[i] = f"{name} 列: {exc}"
    return out, axes, errors


def _check_datum(datum: str) -> str:
    """Return the datum key or raise UnknownCRS naming the value."""
    key = str(datum).strip().lower().replace("-", "").replace("_", "")
    if key not in crs_mod.DATUMS:
        raise UnknownCRS(f"无法识别的坐标基准: {datum!r}（可选: {', '.join(crs_mod.DATUMS)}）")
    return key


def _looks_swapped(x: np.ndarray, y: np.ndarray, x_axis: np.ndarray, y_axis: np.ndarray):
    """Return where lon/lat look swapped: by hemisphere marks, else by the usual ranges."""
    marked = (x_axis == "lat") | (y_axis == "lon")
    unmarked = (x_axis == "") & (y_axis == "")
    local = (x >= 24.0) & (x <= 27.5) & (y >= 110.0) & (y <= 113.0)
    general = (np.abs(x) <= 90.0) & (np.abs(y) > 90.0) & (np.abs(y) <= 180.0)
    return marked | (unmarked & (local | general))


class _Rows:
    """Mutable per-row state shared by the steps of normalise_points."""

    def __init__(self, n: int, x_errors: list, y_errors: list):
        """Start with NaN positions, no flags, and the read errors of both columns."""
        self.lon = np.full(n, np.nan)
        self.lat = np.full(n, np.nan)
        # one shared empty list: ``flag`` gives a row its own list (a list per row is slow)
        self.flags: list[list[str]] = [[]] * n
        self.notes = [""] * n
        if not any(x_errors) and not any(y_errors):  # every cell read (the usual case)
            self.errors, self._bad = [None] * n, np.zeros(n, dtype=bool)
            return
        x_err = np.array(x_errors + [None], dtype=object)[:-1]  # [None] keeps it 1-d
        y_err = np.array(y_errors + [None], dtype=object)[:-1]
        self.errors = np.where(np.equal(x_err, None), y_err, x_err).tolist()
        self._bad = np.not_equal(np.array(self.errors + [None], dtype=object)[:-1], None)

    def fail(self, mask: np.ndarray, message) -> None:
        """Set an error on each still-good row in mask; message is a str or row -> str."""
        for i in np.flatnonzero(mask & ~self._bad):
            self.errors[i] = message(i) if callable(message) else message
        self._bad |= mask

    def ok(self) -> np.ndarray:
        """Return a mask of rows without an error so far."""
        return ~self._bad

    def flag(self, mask: np.ndarray, name: str) -> None:
        """Add a flag to every row in mask."""
        for i in np.flatnonzero(mask):
            self.flags[i] = [*self.flags[i], name]


def _from_projected(x, y, rows: _Rows, todo: np.ndarray, crs_text: str) -> None:
    """Transform rows from a declared projected CRS; swap X/Y where only that lands in the city."""
    transformer = crs_mod.get_transformer(crs_text)
    lon, lat = transformer.transform(x, y)
    s_lon, s_lat = transformer.transform(y, x)
    swap = ~crs_mod.in_yongzhou_bbox(lon, lat) & crs_mod.in_yongzhou_bbox(s_lon, s_lat)
    lon, lat = np.where(swap, s_lon, lon), np.where(swap, s_lat, lat)
    degrees = (np.abs(x) <= 180) & (np.abs(y) <= 180)
    rows.fail(
        todo & degrees,
        lambda i: (
            f"坐标 ({x[i]:.10g}, {y[i]:.10g}) 像经纬度，但指定的 {crs_text} 是投影坐标系（米）"
        ),
    )
    rows.fail(
        todo & ~(np.isfinite(lon) & np.isfinite(lat)),
        lambda i: f"坐标 ({x[i]:.10g}, {y[i]:.10g}) 无法从 {crs_text} 转换",
    )
    good = todo & rows.ok()
    rows.lon[good], rows.lat[good] = lon[good], lat[good]
    rows.flag(good & swap, _SWAP)


def _guess_projected(x, y, rows: _Rows, todo: np.ndarray) -> None:
    """Place undeclared metre rows when exactly one CGCS2000 GK reading lands in Yongzhou."""
    best_lon = np.full(len(x), np.nan)
    best_lat = np.full(len(x), np.nan)
    best_crs = np.full(len(x), "", dtype=object)
    best_swapped = np.zeros(len(x), dtype=bool)
    ambiguous = np.zeros(len(x), dtype=bool)
    for swapped, east, north in ((False, x, y), (True, y, x)):
        usable = todo & (east > 0) & (north > 0) & (north < MAX_NORTHING)
        zone = np.where(east < 1e6, 0.0, np.floor(east / 1e6))
        for z in np.unique(zone[usable]):
            idx = np.flatnonzero(usable & (zone == z))
            for system in systems_for_easting(east[idx], "cgcs2000"):
                lon, lat = crs_mod.get_transformer(system.crs).transform(east[idx], north[idx])
                inside = crs_mod.in_yongzhou_bbox(lon, lat)
                hit, lon, lat = idx[inside], lon[inside], lat[inside]
                new = np.isnan(best_lon[hit])
                far = ~new & (
                    (np.abs(best_lon[hit] - lon) > SAME_PLACE_DEG)
                    | (np.abs(best_lat[hit] - lat) > SAME_PLACE_DEG)
                )
                ambiguous[hit[far]] = True
                take = hit[new]
                best_lon[take], best_lat[take] = lon[new], lat[new]
                best_crs[take], best_swapped[take] = system.crs, swapped
    rows.fail(
        todo & ambiguous, lambda i: _metre_error(x[i], y[i], "多个候选坐标系落在永州且位置不同")
    )
    rows.fail(
        todo & np.isnan(best_lon),
        lambda i: _metre_error(x[i], y[i], "没有候选坐标系能让它落在永州范围内"),
    )
    good = todo & rows.ok()
    rows.lon[good], rows.lat[good] = best_lon[good], best_lat[good]
    rows.flag(good & best_swapped, _SWAP)
    for i in np.flatnonzero(good):
        rows.notes[i] = f"未声明坐标系，按 {best_crs[i]}（CGCS2000 高斯-克吕格）推断，请确认"


def _metre_error(x: float, y: float, reason: str) -> str:
    """Explain why metre coordinates could not be placed, naming the candidate systems."""
    names = [*_candidate_names(_zone_key(x)), *_candidate_names(_zone_key(y))]
    tried = "、".join(dict.fromkeys(names)) or "无（数值不像高斯-克吕格坐标）"
    return (
        f"坐标 ({x:.10g}, {y:.10g}) 像米制投影坐标但未声明坐标系：{reason}；"
        f"已试 CGCS2000 {tried}，请用 --crs 指定"
    )


def _zone_key(easting: float) -> float:
    """Return 0 for an easting without zone prefix, the prefix for one with, NaN if negative."""
    if not easting > 0:
        return math.nan
    return 0.0 if easting < 1e6 else float(math.floor(easting / 1e6))


@lru_cache(maxsize=128)
def _candidate_names(zone_key: float) -> tuple[str, ...]:
    """Return the EPSG codes tried for eastings with this zone key (cached: errors come in bulk)."""
    if math.isnan(zone_key):
        return ()
    sample = 500_000.0 + zone_key * 1e6
    return tuple(s.crs for s in systems_for_easting(sample, "cgcs2000"))


def _from_degrees(x, y, x_axis, y_axis, rows: _Rows, todo: np.ndarray, datum: str, crs_text):
    """Swap where lon/lat look swapped, check ranges and convert the datum to WGS84."""
    swap = todo & _looks_swapped(x, y, x_axis, y_axis)
    lon, lat = np.where(swap, y, x), np.where(swap, x, y)
    bad = todo & ((np.abs(lon) > 180) | (np.abs(lat) > 90))
    rows.fail(bad, lambda i: f"坐标 ({x[i]:.10g}, {y[i]:.10g}) 超出经纬度范围")
    good = todo & rows.ok()
    if crs_text is not None:
        out_lon, out_lat = crs_mod.get_transformer(crs_text).transform(lon, lat)
        changed = crs_text not in (crs_mod.STORAGE_CRS, crs_mod.CGCS2000)
    elif datum in ("gcj02", "bd09"):
        out_lon, out_lat = crs_mod.to_wgs84(
            np.where(good, lon, 0.0), np.where(good, lat, 0.0), datum=datum
        )
        changed = ~crs_mod.out_of_china(lon, lat)
    else:
        out_lon, out_lat, changed = lon, lat, False
    rows.lon[good], rows.lat[good] = np.asarray(out_lon)[good], np.asarray(out_lat)[good]
    rows.flag(good & swap, _SWAP)
    rows.flag(good & changed, _CONVERTED)


def normalise_points(
    xs, ys, *, datum: str = "wgs84", crs=None, x_name: str = "x", y_name: str = "y"
) -> PointsResult:
    """Normalise two columns of typed coordinates to WGS84 lon/lat, row by row, without stopping.

    Plain numeric columns are read with numpy/pandas in one pass; only cells that are
    not plain numbers (DMS strings, hemisphere marks, full-width digits) are parsed one
    by one. Per row: metres with a declared projected ``crs`` are transformed; metres
    without one are accepted only if exactly one CGCS2000 Gauss-Kruger reading lands in
    Yongzhou (the note says which was assumed); swapped lon/lat are swapped back
    (flag ``coordinates_swapped``); GCJ-02/BD-09 are converted (flag ``datum_converted``).
    Points far outside Yongzhou are returned unchanged for the caller to flag.

    Parameters
    ----------
    xs, ys : array-like
        Longitudes/eastings and latitudes/northings; numbers or strings, empty allowed.
    datum : {"wgs84", "cgcs2000", "gcj02", "bd09"}
        Datum of geographic input.
    crs : str, int or pyproj.CRS, optional
        Declared EPSG CRS, geographic or projected.
    x_name, y_name : str
        Column names used in error messages.

    Returns
    -------
    PointsResult
        ``lon``, ``lat`` arrays (NaN where ``errors[i]`` is set) and per-row ``flags``,
        ``notes`` and ``errors``.

    Raises
    ------
    UnknownCRS
        If ``datum`` or ``crs`` is not recognised (an argument error, not a row error).

    Examples
    --------
    >>> out = normalise_points(["26.42", "111°36′E", "abc", ""], [111.61, "26°25′N", 1, None])
    >>> out.lon.round(2).tolist()[:2], out.flags[0], out.errors[2][:4], out.errors[3]
    ([111.61, 111.6], ['coordinates_swapped'], 'x 列:', '坐标为空')
    """
    datum = _check_datum(datum)
    if crs is not None:
        crs_mod.check_crs_with_datum(crs, datum)
    crs_text = None if crs is None else crs_mod.normalise_crs(crs)
    projected = crs_text is not None and not _is_geographic(crs_text)
    x, x_axis, x_errors = _read_column(xs, x_name)
    y, y_axis, y_errors = _read_column(ys, y_name)
    if len(x) != len(y):
        raise InvalidCoordinates(f"{x_name} 与 {y_name} 的行数不同: {len(x)} != {len(y)}")
    rows = _Rows(len(x), x_errors, y_errors)
    rows.fail(np.isnan(x) | np.isnan(y), "坐标为空")
    rows.fail(~(np.isfinite(x) & np.isfinite(y)), lambda i: f"坐标 ({x[i]}, {y[i]}) 不是有限数值")
    todo = rows.ok()
    metres = (np.abs(x) > 180) | (np.abs(y) > 180)
    if projected:
        _from_projected(x, y, rows, todo, crs_text)
        return _finish(rows)
    if datum in ("gcj02", "bd09"):
        rows.fail(
            todo & metres,
            lambda i: f"坐标 ({x[i]:.10g}, {y[i]:.10g}) 超出经纬度范围（{datum} 只用经纬度）",
        )
    elif crs_text is None:
        _guess_projected(x, y, rows, todo & metres)
    _from_degrees(x, y, x_axis, y_axis, rows, todo & ~metres, datum, crs_text)
    rows.fail(
        todo & metres & ~np.isfinite(rows.lon),
        lambda i: f"坐标 ({x[i]:.10g}, {y[i]:.10g}) 超出经纬度范围",
    )
    return _finish(rows)


def _is_geographic(crs_text: str) -> bool:
    """Return whether an EPSG CRS is geographic (degrees) rather than projected."""
    try:
        return pyproj.CRS(crs_text).is_geographic
    except pyproj.exceptions.CRSError as exc:
        raise UnknownCRS(f"无法识别的坐标系: {crs_text}: {exc}") from exc


def _finish(rows: _Rows) -> PointsResult:
    """Blank the position of error rows and pack the result."""
    bad = ~rows.ok()
    rows.lon[bad] = np.nan
    rows.lat[bad] = np.nan
    return PointsResult(rows.lon, rows.lat, rows.flags, rows.notes, rows.errors)


def normalise_point(x, y, *, datum: str = "wgs84", crs=None) -> PointResult:
    """Normalise one typed x/y pair to WGS84 lon/lat; see :func:`normalise_points` for the rules.

    Examples
    --------
    >>> normalise_point("26°25'12\\"N", "111°36'E")
    PointResult(lon=111.6, lat=26.42, flags=['coordinates_swapped'], note='', error=None)
    >>> r = normalise_point(37_573_000, 2_923_000)
    >>> round(r.lon, 4), round(r.lat, 4), "EPSG:4525" in r.note
    (111.7317, 26.4148, True)
    >>> normalise_point(2.35, 48.85, datum="gcj02")
    PointResult(lon=2.35, lat=48.85, flags=[], note='', error=None)
    """
    return normalise_points([x], [y], datum=datum, crs=crs).row(0)
