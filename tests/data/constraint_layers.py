"""Synthetic constraint layers and sites for the #16 tests (written by the tests, never shipped).

The zones are made up: nested squares round a point on the 潇水 at 零陵 (inside the shipped
illustrative 零陵潇水 wetland park), built in EPSG:4546 so their sizes are exact metres:

- water source 测试水源（潇水）: 一级保护区 a 600 m square, 二级保护区 the 2,000 m square round it
  less the first, 准保护区 the 4,000 m square less the second;
- red line 测试红线单元: a 2,000 m x 1,000 m rectangle 3 km east of the centre;
- farmland: a 500 m square 3 km west.

Sites: ``half`` (400 m x 200 m) lies half in the 一级 and half in the 二级 zone; ``redline`` is a
point in the red line; ``far`` lies far from everything.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import shapely
from pyproj import Transformer

CENTRE_LONLAT = (111.585, 26.185)
GK = "EPSG:4546"


def centre_xy() -> tuple[float, float]:
    """Return the centre in EPSG:4546 metres."""
    t = Transformer.from_crs("EPSG:4326", GK, always_xy=True)
    return t.transform(*CENTRE_LONLAT)


def _square(cx: float, cy: float, side: float):
    """A square of ``side`` metres centred on (cx, cy)."""
    h = side / 2
    return shapely.box(cx - h, cy - h, cx + h, cy + h)


def water_source_frame(crs: str = GK, zone_col: str = "BHQJB") -> gpd.GeoDataFrame:
    """The water-source zones with survey-style column names, in ``crs``."""
    cx, cy = centre_xy()
    one, two, three = (_square(cx, cy, s) for s in (600, 2000, 4000))
    frame = gpd.GeoDataFrame(
        {"SYDMC": ["测试水源（潇水）"] * 3,
         zone_col: ["一级保护区", "水域二级保护区", "准保护区"],
         "STMC": ["潇水"] * 3, "GSDX": ["零陵区城区"] * 3, "PFWH": ["湘政函〔2016〕测试号"] * 3},
        geometry=[one, two.difference(one), three.difference(two)], crs=GK)  # fmt: skip
    return frame.to_crs(crs)


def redline_frame(crs: str = GK) -> gpd.GeoDataFrame:
    """One red-line unit, in ``crs``."""
    cx, cy = centre_xy()
    geom = shapely.box(cx + 3000, cy - 500, cx + 5000, cy + 500)
    frame = gpd.GeoDataFrame({"HXBM": ["431102-TEST-01"], "HXLX": ["水源涵养"],
                              "HXMC": ["测试红线单元"]}, geometry=[geom], crs=GK)  # fmt: skip
    return frame.to_crs(crs)


def farmland_frame(crs: str = GK) -> gpd.GeoDataFrame:
    """One farmland patch, in ``crs``."""
    cx, cy = centre_xy()
    return gpd.GeoDataFrame({"TBBH": ["JBNT-0001"]}, geometry=[_square(cx - 3000, cy, 500)],
                            crs=GK).to_crs(crs)  # fmt: skip


def sites_frame(crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    """The three test sites (see the module docstring), in ``crs``."""
    cx, cy = centre_xy()
    half = shapely.box(cx + 100, cy - 100, cx + 500, cy + 100)
    return gpd.GeoDataFrame(
        {"site_id": ["S1", "S2", "S3"], "site_name": ["跨一二级养殖场", "红线内采石点", "远处站点"],
         "category": ["畜禽养殖", "非法采石", "水污染"]},
        geometry=[half, shapely.Point(cx + 4000, cy), shapely.Point(cx + 60000, cy + 60000)],
        crs=GK).to_crs(crs)  # fmt: skip


def write(frame: gpd.GeoDataFrame, folder: Path, stem: str, fmt: str) -> Path:
    """Write ``frame`` as a zipped Shapefile (fmt "shp") or a GeoPackage (fmt "gpkg")."""
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "gpkg":
        path = folder / f"{stem}.gpkg"
        frame.to_file(path, driver="GPKG", layer=stem)
        return path
    shp_dir = folder / f"{stem}_shp"
    shp_dir.mkdir(exist_ok=True)
    frame.to_file(shp_dir / f"{stem}.shp", driver="ESRI Shapefile", encoding="utf-8")
    path = folder / f"{stem}.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for part in sorted(shp_dir.iterdir()):
            zf.write(part, part.name)
    return path
