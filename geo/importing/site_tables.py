"""Sites from tables: points from lon/lat (or x/y) columns, and (Geo)Parquet files.

Shared by ``geo.importer.read_sites_file`` (whole files) and ``geo.importing.site_chunks``
(chunks), so both read the same cells and name a bad cell by the same file row.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import ImportFileError

__all__ = ["csv_points", "parquet_chunks", "read_parquet_sites"]

_LON_NAMES = ("lon", "lng", "longitude", "经度", "x")
_LAT_NAMES = ("lat", "latitude", "纬度", "y")


def csv_points(frame: pd.DataFrame, source: str, lon_col: str | None, lat_col: str | None,
               first_row: int = 0) -> tuple[gpd.GeoDataFrame, str | None]:
    """Turn a table's lon/lat (or x/y) columns into points; a bad cell names its file row.

    Columns headed lon/lat (经度/纬度) declare WGS84; x/y or user-named columns declare nothing.
    ``first_row`` is the 0-based data row of the frame's first row in the whole file.
    """
    lowered = {str(c).strip().lower(): c for c in frame.columns}
    named = lon_col is not None or lat_col is not None
    lon_col = lon_col or next((lowered[n] for n in _LON_NAMES if n in lowered), None)
    lat_col = lat_col or next((lowered[n] for n in _LAT_NAMES if n in lowered), None)
    for what, col in (("经度", lon_col), ("纬度", lat_col)):
        if col is None or col not in frame:
            columns = ", ".join(map(str, frame.columns))
            raise ImportFileError(
                f"{source}: 找不到{what}列 {col or ''}（文件的列: {columns}）；"
                "请用 --lon-col/--lat-col 指定"
            )
    xy = {}
    for col in (lon_col, lat_col):
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = values.isna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            row, value = first_row + i + 2, frame[col].iloc[i]
            raise ImportFileError(f"{source}: 第 {row} 行 字段 {col!r} 值 {value!r} 不是数字")
        xy[col] = values.to_numpy(dtype=float)
    points = gpd.GeoDataFrame(frame, geometry=shapely.points(xy[lon_col], xy[lat_col]))
    if named or str(lon_col).strip().lower() == "x":
        return points, None
    return points.set_crs("EPSG:4326"), f"CSV 经纬度列 {lon_col}/{lat_col}（按 WGS84）"


def parquet_chunks(path: Path, rows: int, lon_col, lat_col):
    """Yield GeoParquet chunks (or points from a plain Parquet table's lon/lat columns)."""
    from geo.tables import read_chunks

    done = 0
    for frame in read_chunks(path, rows=rows):
        if isinstance(frame, gpd.GeoDataFrame):
            yield frame, ("GeoParquet 元数据" if frame.crs is not None else None)
        else:
            yield csv_points(frame, path.name, lon_col, lat_col, done)
        done += len(frame)


def read_parquet_sites(path: Path, lon_col, lat_col) -> tuple[gpd.GeoDataFrame, str | None]:
    """Read a whole GeoParquet file (or a Parquet table's lon/lat columns) as raw sites."""
    chunks = list(parquet_chunks(path, 1 << 20, lon_col, lat_col))
    frames = [frame for frame, _ in chunks]
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    return frame, chunks[0][1]
