"""Collection items -> GeoJSON features, and pages -> the compact column form the map draws.

Coordinates leave in WGS84, or shifted for display on GCJ-02 tiles (``to_display``), rounded to
six decimals (about 0.1 m). Both issue collections (staff and public) are written here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import numpy as np
import shapely
import shapely.geometry

from webmap.ledger.collections import Columns, Item, status_codes
from webmap.ledger.io.formulas import neutralise_cell
from webmap.ledger.vocabulary import RAGS

GEOJSON = "application/geo+json"
COORD_DECIMALS = 6


def shift_geometry(geom, to_display: Callable | None):
    """Return ``geom`` with its coordinates passed through ``to_display(lon, lat)`` (arrays)."""
    if to_display is None or geom is None:
        return geom

    def _apply(coords):
        """Transform an (N, 2) array of lon/lat pairs."""
        lon, lat = to_display(coords[:, 0], coords[:, 1])
        return np.column_stack([np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)])

    return shapely.transform(geom, _apply)


def geometry_json(geom, to_display: Callable | None = None) -> dict | None:
    """Return a shapely geometry as a GeoJSON dict (points rounded to six decimals)."""
    if geom is None:
        return None
    geom = shift_geometry(geom, to_display)
    if geom.geom_type == "Point":
        return {"type": "Point",
                "coordinates": [round(float(geom.x), COORD_DECIMALS),
                                round(float(geom.y), COORD_DECIMALS)]}  # fmt: skip
    return shapely.geometry.mapping(geom)


def feature(item: Item, to_display: Callable | None = None) -> dict:
    """Return one item as a GeoJSON Feature."""
    return {"type": "Feature", "id": item.number,
            "geometry": geometry_json(item.geometry, to_display),
            "properties": item.properties}  # fmt: skip


def feature_collection(items: list[Item], to_display: Callable | None = None) -> dict:
    """Return items as a GeoJSON FeatureCollection (paging members are added by the caller).

    Points, nearly every item, are read, shifted and rounded as whole arrays (reading ``x`` and
    ``y`` off 10,000 shapely points one by one was a tenth of a big page's time).
    """
    geoms = np.empty(len(items), dtype=object)
    geoms[:] = [i.geometry for i in items]
    points = (shapely.get_type_id(geoms) == 0) & ~shapely.is_empty(geoms)
    xy = shapely.get_coordinates(geoms[points])
    if to_display is not None and len(xy):
        xy = np.column_stack([np.asarray(c, dtype=float) for c in to_display(xy[:, 0], xy[:, 1])])
    coords = iter([[round(x, COORD_DECIMALS), round(y, COORD_DECIMALS)] for x, y in xy.tolist()])
    features = []
    for item, is_point in zip(items, points.tolist(), strict=True):
        geometry = ({"type": "Point", "coordinates": next(coords)} if is_point
                    else geometry_json(item.geometry, to_display))  # fmt: skip
        features.append({"type": "Feature", "id": item.number, "geometry": geometry,
                         "properties": item.properties})  # fmt: skip
    return {"type": "FeatureCollection", "features": features}


def shift_located(x: np.ndarray, y: np.ndarray,
                  to_display: Callable | None) -> tuple[np.ndarray, np.ndarray]:
    """Shift the finite points of float arrays ``x``, ``y`` for display, in place (NaN stays)."""
    located = np.isfinite(x) & np.isfinite(y)
    if to_display is not None and located.any():
        x[located], y[located] = (np.asarray(c, dtype=float)
                                  for c in to_display(x[located], y[located]))  # fmt: skip
    return x, y


def display_points(lon: list, lat: list, to_display: Callable | None) -> tuple[list, list]:
    """Shift and round whole columns of lon/lat at once; missing points stay None."""
    x = np.array([np.nan if v is None else v for v in lon], dtype=float)
    y = np.array([np.nan if v is None else v for v in lat], dtype=float)
    x, y = shift_located(x, y, to_display)
    x, y = np.round(x, COORD_DECIMALS), np.round(y, COORD_DECIMALS)
    return ([None if v != v else v for v in x.tolist()],
            [None if v != v else v for v in y.tolist()])  # fmt: skip


def map_columns(columns: Columns, to_display: Callable | None = None) -> dict:
    """Return a page in the column form ``static/map.js`` draws.

    ``number``, ``status``, ``rag``, ``lon``, ``lat`` are parallel lists (status and RAG as
    indexes into ``codes``; lon/lat null when the issue has no location; for a line or polygon
    the centre of its box); ``shapes`` holds [row index, GeoJSON geometry] of lines and polygons.
    """
    codes, status = status_codes(columns)
    lon, lat = display_points(columns.lon, columns.lat, to_display)
    drawn = []
    for i, geom in columns.shapes:
        shape = shift_geometry(geom, to_display)
        drawn.append([i, shapely.geometry.mapping(shape)])
        minx, miny, maxx, maxy = shape.bounds
        lon[i] = round((minx + maxx) / 2, COORD_DECIMALS)
        lat[i] = round((miny + maxy) / 2, COORD_DECIMALS)
    return {"type": "IssuePoints", "codes": {"status": codes, "rag": list(RAGS)},
            "number": columns.number, "status": status, "rag": columns.rag, "lon": lon,
            "lat": lat, "shapes": drawn}  # fmt: skip


def grid_body(grid, to_display: Callable | None = None) -> dict:
    """Return grid cells (``webmap.ledger.clusters.Grid``) in the column form the map draws.

    ``lon``/``lat`` (the mean place of each cell's issues, shifted for display), ``count`` and
    ``rags`` (per cell, counts in the order of ``codes.rag``) are parallel lists.
    """
    cells = list(grid.cells.values())
    lon, lat = display_points([c.lon for c in cells], [c.lat for c in cells], to_display)
    return {"type": "IssueGrid", "cell": grid.cell, "codes": {"rag": list(RAGS)},
            "lon": lon, "lat": lat, "count": [c.count for c in cells],
            "rags": [c.rags for c in cells], "numberMatched": grid.located + grid.unlocated,
            "numberLocated": grid.located}  # fmt: skip


def items_csv(items: list[Item], names, labels: dict) -> str:
    """Return items as CSV text for Excel: BOM, labelled columns, formula-like text neutralised.

    The point each item is published at closes the row (经度, 纬度; empty when unlocated).
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([labels.get(n, n) for n in names] + ["经度", "纬度"])
    for item in items:
        geom = item.geometry
        point = (round(geom.x, COORD_DECIMALS), round(geom.y, COORD_DECIMALS)) if geom else ("", "")
        writer.writerow([neutralise_cell(item.properties[n]) for n in names] + list(point))
    return "\ufeff" + buf.getvalue()
