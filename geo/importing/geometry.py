"""Geometry checks for imported boundaries: empty shapes, wrong types, repair of invalid rings."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import shapely
from shapely.geometry import GeometryCollection, MultiPolygon, Polygon

from geo.errors import ImportFileError

POLYGONAL = ("Polygon", "MultiPolygon")


@dataclass(frozen=True)
class Repair:
    """One repaired feature: which one, what shapely said was wrong, how its area changed."""

    feature: str
    reason: str
    area_before: float  # in the file's own units, before reprojection
    area_after: float

    def describe(self) -> str:
        """Return a one-line Chinese description for reports."""
        return (
            f"{self.feature}: {self.reason} → 已用 make_valid 修复"
            f"（面积 {self.area_before:.6g} → {self.area_after:.6g}）"
        )


def _polygonal_part(geom):
    """Keep only the polygons of a geometry (make_valid may add stray lines or points)."""
    if isinstance(geom, Polygon | MultiPolygon):
        return geom
    if isinstance(geom, GeometryCollection):
        polys = []
        for part in geom.geoms:
            part = _polygonal_part(part)
            if part is not None:
                polys.extend(part.geoms if isinstance(part, MultiPolygon) else [part])
        return MultiPolygon(polys) if len(polys) > 1 else (polys[0] if polys else None)
    return None


def check_geometries(
    frame: gpd.GeoDataFrame, labels: list[str], *, source: str, polygons_only: bool = True
) -> tuple[gpd.GeoDataFrame, list[Repair]]:
    """Return the frame with 2D valid geometries and the repairs; reject empty or wrong types."""
    geoms = frame.geometry.array
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        bad = [labels[i] for i in empty.nonzero()[0][:10]]
        raise ImportFileError(
            f"{source}: {int(empty.sum())} 个要素几何为空（字段 geometry）: {', '.join(bad)}"
        )
    geoms = shapely.force_2d(geoms)
    if polygons_only:
        types = shapely.get_type_id(geoms)
        # 3 = Polygon, 6 = MultiPolygon, 7 = GeometryCollection (repaired below if polygonal)
        wrong = [i for i, t in enumerate(types) if t not in (3, 6, 7)]
        if wrong:
            i = wrong[0]
            raise ImportFileError(
                f"{source}: {labels[i]} 的字段 geometry 类型为 {geoms[i].geom_type}，"
                "边界图层需要面（Polygon/MultiPolygon）"
            )
    repairs: list[Repair] = []
    out = list(geoms)
    for i in (~shapely.is_valid(geoms)).nonzero()[0]:
        reason = shapely.is_valid_reason(geoms[i])
        fixed = shapely.make_valid(geoms[i])
        if polygons_only:
            fixed = _polygonal_part(fixed)
            if fixed is None or fixed.is_empty:
                raise ImportFileError(
                    f"{source}: {labels[i]} 的字段 geometry 无效（{reason}），修复后没有剩下面"
                )
        repairs.append(Repair(labels[i], reason, float(geoms[i].area), float(fixed.area)))
        out[i] = fixed
    if polygons_only:
        out = [_polygonal_part(g) if g.geom_type == "GeometryCollection" else g for g in out]
        if any(g is None for g in out):
            i = next(k for k, g in enumerate(out) if g is None)
            raise ImportFileError(f"{source}: {labels[i]} 的字段 geometry 是不含面的几何集合")
    result = frame.copy()
    result[result.geometry.name] = gpd.GeoSeries(out, index=frame.index, crs=frame.crs)
    return result, repairs
