"""Decide the CRS of an imported file: given by the user, declared by the file, or guessed.

A guess (no CRS in the file, none given) raises ``CRSNeedsConfirmation`` unless the caller has
confirmed it; contradictions between a declared CRS and the coordinate values are errors.
Detection of Gauss-Kruger systems is ``geo.gauss_kruger.detect_projected_crs``'s job, not repeated
here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from geo import crs as gcrs
from geo.errors import CRSNeedsConfirmation, ImportFileError, UnknownCRS
from geo.gauss_kruger import detect_projected_crs

_SAMPLE = 2000  # vertices used to guess a CRS; ranges, not every vertex, decide it


@dataclass
class CRSDecision:
    """The CRS used for a file and how it was found."""

    crs: str  # "EPSG:n"
    method: str  # Chinese: 用户指定 / 文件声明（.prj 文件） / 按数值范围推断
    guessed: bool
    candidates: list[str] = field(default_factory=list)
    swapped: bool = False  # x/y columns swapped (survey X = northing)
    datum: str | None = None  # gcj02 / bd09 when declared by the user


def _looks_geographic(bounds: np.ndarray) -> bool:
    """True when every coordinate fits lon/lat ranges."""
    minx, miny, maxx, maxy = bounds
    return -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90


def _epsg(crs_like, source: str) -> str:
    """Return "EPSG:n" for a CRS-like value; a CRS without an EPSG code is reported as is."""
    try:
        crs = pyproj.CRS.from_user_input(crs_like)
    except pyproj.exceptions.CRSError as exc:
        raise ImportFileError(f"{source}: 无法识别的坐标系 {crs_like!r}（{exc}）") from exc
    code = crs.to_epsg(min_confidence=70)
    return f"EPSG:{code}" if code else crs.to_string()


def _check_consistent(crs: str, bounds: np.ndarray, source: str, how: str) -> None:
    """Reject a CRS whose kind (geographic or projected) contradicts the coordinate values."""
    geographic = pyproj.CRS.from_user_input(crs).is_geographic
    values = f"坐标范围 x {bounds[0]:.3f}–{bounds[2]:.3f}、y {bounds[1]:.3f}–{bounds[3]:.3f}"
    if geographic and not _looks_geographic(bounds):
        raise ImportFileError(
            f"{source}: 坐标系矛盾（字段 geometry）：{how}为经纬度 {crs}，"
            f"但{values}像米制投影坐标；"
            "请用 --crs 指定正确的坐标系"
        )
    if not geographic and _looks_geographic(bounds):
        raise ImportFileError(
            f"{source}: 坐标系矛盾（字段 geometry）：{how}为投影坐标系 {crs}，但{values}像经纬度；"
            "请用 --crs 指定正确的坐标系"
        )


def _guess(frame: gpd.GeoDataFrame, bounds: np.ndarray, source: str) -> CRSDecision:
    """Guess a CRS from coordinate ranges alone (lon/lat, or Gauss-Kruger via geo.crs)."""
    if _looks_geographic(bounds):
        return CRSDecision(
            "EPSG:4326",
            "按数值范围推断为经纬度（WGS84/CGCS2000）",
            True,
            ["EPSG:4326", "EPSG:4490"],
        )
    coords = shapely.get_coordinates(frame.geometry.array)
    if len(coords) > _SAMPLE:
        coords = coords[np.linspace(0, len(coords) - 1, _SAMPLE).astype(int)]
    found = detect_projected_crs(coords[:, 0], coords[:, 1])
    if not found or not found[0].in_yongzhou:
        hint = found.message if found else "数值不像经纬度，也不像高斯-克吕格投影坐标"
        raise ImportFileError(
            f"{source}: 缺少坐标系（无 .prj），且无法推断（字段 geometry）：{hint}；请用 --crs 指定"
        )
    best = found[0]
    return CRSDecision(
        best.crs,
        f"按数值范围推断为 {best.describe()}",
        True,
        [c.crs for c in found if c.in_yongzhou],
        swapped=best.swapped,
    )


def resolve_crs(
    frame: gpd.GeoDataFrame,
    declared_by: str | None,
    *,
    source: str,
    crs=None,
    datum: str | None = None,
    confirm_crs: bool = False,
    warnings: list[str] | None = None,
) -> tuple[gpd.GeoDataFrame, CRSDecision]:
    """Return the frame in EPSG:4326 and the CRS decision; raise on unconfirmed guesses."""
    warnings = warnings if warnings is not None else []
    bounds = frame.total_bounds
    declared = _epsg(frame.crs, source) if (frame.crs is not None and declared_by) else None
    if crs is not None:
        decision = CRSDecision(_epsg(crs, source), "用户指定（--crs）", False)
        if declared and declared != decision.crs:
            warnings.append(
                f"文件声明坐标系 {declared}（{declared_by}），按用户指定的 {decision.crs} 处理"
            )
        _check_consistent(decision.crs, bounds, source, "指定")
    elif declared:
        decision = CRSDecision(declared, f"文件声明（{declared_by}）", False)
        _check_consistent(declared, bounds, source, f"{declared_by}声明")
    else:
        decision = _guess(frame, bounds, source)
        if not confirm_crs:
            exc = CRSNeedsConfirmation(
                f"{source}: 文件没有声明坐标系，{decision.method}。"
                f"候选: {', '.join(decision.candidates)}。"
                f"确认使用 {decision.crs} 请加 --yes，或用 --crs 指定"
            )
            exc.guess, exc.candidates = decision.crs, decision.candidates
            raise exc
        warnings.append(f"坐标系由数值范围推断为 {decision.crs}，已由用户确认")
    geoms = frame.geometry.array
    if decision.swapped:
        geoms = shapely.transform(geoms, lambda c: c[:, ::-1])
    out = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index), crs=decision.crs)
    out = out.to_crs(gcrs.STORAGE_CRS)
    if datum:
        out = _undo_datum(out, datum, decision, source)
    return out, decision


def _undo_datum(
    frame: gpd.GeoDataFrame, datum: str, decision: CRSDecision, source: str
) -> gpd.GeoDataFrame:
    """Convert GCJ-02 / BD-09 lon/lat (only ever used when the user declares it) to WGS84."""
    key = datum.strip().lower().replace("-", "").replace("_", "")
    if key in ("wgs84", "cgcs2000"):
        return frame
    if not pyproj.CRS.from_user_input(decision.crs).is_geographic:
        raise ImportFileError(
            f"{source}: --datum {datum} 只适用于经纬度坐标，但坐标系是投影坐标系 {decision.crs}"
        )
    try:
        convert = {"gcj02": gcrs.gcj02_to_wgs84, "bd09": gcrs.bd09_to_wgs84}[key]
    except KeyError:
        raise UnknownCRS(f"无法识别的坐标基准: {datum!r}（可选: gcj02, bd09, wgs84）") from None
    geoms = shapely.transform(
        frame.geometry.array, lambda c: np.column_stack(convert(c[:, 0], c[:, 1]))
    )
    decision.datum = key
    decision.method += f"；按 {key.upper()} 转换为 WGS84"
    return frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))
