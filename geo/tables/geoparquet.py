"""GeoParquet chunks: WKB geometry with the ``geo`` metadata, to and from (Geo)DataFrames.

Hand-written rather than ``GeoDataFrame.to_parquet``/``read_parquet`` because a bulk command
writes and reads a file chunk by chunk (``pyarrow.parquet.ParquetWriter``, ``iter_batches``),
which geopandas does not offer; the metadata follows GeoParquet 1.0.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

__all__ = ["arrow_table", "with_geometry"]


def with_geometry(frame: pd.DataFrame, geo: dict | None) -> pd.DataFrame:
    """Turn the WKB primary column named by GeoParquet metadata into a GeoDataFrame geometry."""
    if not geo:
        return frame
    import geopandas as gpd
    import shapely

    column = geo["primary_column"]
    spec = geo["columns"][column]
    crs = spec.get("crs", "OGC:CRS84")  # GeoParquet: a missing crs means OGC:CRS84
    values = frame[column].to_numpy(object)
    geoms = shapely.from_wkb(values) if len(values) else np.array([], dtype=object)
    frame[column] = gpd.GeoSeries(geoms, index=frame.index, crs=crs)
    return gpd.GeoDataFrame(frame, geometry=column, crs=crs)


def arrow_table(frame: pd.DataFrame):
    """A chunk as an Arrow table: object columns as text, geometry as WKB with 'geo' metadata."""
    import pyarrow as pa

    geo = None
    data = pd.DataFrame(frame, copy=False)
    if hasattr(frame, "geometry") and frame._geometry_column_name in frame:
        name = frame._geometry_column_name
        series = frame.geometry
        geo = {"version": "1.0.0", "primary_column": name, "columns": {name: {
            "encoding": "WKB", "geometry_types": [],
            **({"crs": series.crs.to_json_dict()} if series.crs is not None else {})}}}
        data = pd.DataFrame({c: frame[c] for c in frame.columns if c != name})
        data[name] = series.to_wkb().to_numpy(object)
    for col in data.columns:
        if data[col].dtype == object and col != (geo or {}).get("primary_column"):
            values = data[col].to_numpy(object)
            data[col] = [None if v is None or (isinstance(v, float) and v != v) else str(v)
                         for v in values]
    table = pa.Table.from_pandas(data, preserve_index=False)
    if geo is not None:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                               b"geo": json.dumps(geo).encode()})
    return table
