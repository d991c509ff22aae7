"""The projected, indexed form of a constraint layer that ``geo.overlap`` measures sites against.

Built once per layer and kept in ``Layer.cache``: the zone features in EPSG:4546 with their
STRtree, one outline per protected area (the union of its zones), and the outlines' boundaries cut
into short pieces. Nearest-boundary queries run on the pieces: GEOS measures a distance by trying
every segment pair of the two geometries, so a site against a whole 10,000-vertex boundary costs
far more than against the few 32-segment pieces the tree leads it to, and the minimum over the
pieces is the same number (the same segment pairs are measured).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geo.boundaries import Layer
from geo.crs import to_metric

__all__ = ["DETAIL_FIELDS", "metric_zones"]

# attributes of a constraint kind reported in ``detail``, with their Chinese labels
DETAIL_FIELDS = {"river": "河流/水库", "serves": "供水对象", "approval": "批复文件",
                 "unit_code": "红线编码", "redline_type": "红线类型"}  # fmt: skip
_PIECE_SEGMENTS = 32  # segments per boundary piece: small enough to prune, few enough to index


def _details(frame: pd.DataFrame) -> np.ndarray:
    """Return one "label：value；…" text per feature from its kind's attributes ("" for none)."""
    cols = [c for c in DETAIL_FIELDS if c in frame]
    out = []
    for values in zip(*(frame[c].tolist() for c in cols), strict=True) if cols else ():
        parts = [f"{DETAIL_FIELDS[c]}：{v}" for c, v in zip(cols, values, strict=True)
                 if v is not None and v == v and str(v).strip()]  # fmt: skip
        out.append("；".join(parts))
    return np.array(out if cols else [""] * len(frame), dtype=object)


def _outlines(geoms: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the sorted distinct codes and the union of each code's zones (in file order)."""
    pa_codes, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
    order = np.argsort(inverse, kind="stable")  # groups by code, file order kept inside each
    bounds = np.r_[0, np.cumsum(np.bincount(inverse, minlength=len(pa_codes)))]
    outlines = [shapely.union_all(geoms[order[a:b]]) for a, b in zip(bounds[:-1], bounds[1:],
                                                                     strict=True)]  # fmt: skip
    return pa_codes, np.array(outlines, dtype=object)


def _pieces(boundaries: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Cut each boundary into linestrings of at most ``_PIECE_SEGMENTS`` segments.

    Returns the pieces and the index of the boundary each came from, or None when a boundary
    is missing (GEOS gives none for a mixed GeometryCollection outline): the caller then
    measures against whole outlines.
    """
    if any(b is None for b in boundaries):
        return None
    pieces, owners = [], []
    for i, boundary in enumerate(boundaries):
        for part in shapely.get_parts(boundary):
            coords = shapely.get_coordinates(part)
            for a in range(0, max(len(coords) - 1, 1), _PIECE_SEGMENTS):
                pieces.append(shapely.linestrings(coords[a : a + _PIECE_SEGMENTS + 1]))
                owners.append(i)
    return np.array(pieces, dtype=object), np.array(owners, dtype=np.intp)


def metric_zones(layer: Layer) -> dict:
    """Project the zone features once per layer and cache them with their trees and PA outlines."""
    cached = layer.cache.get("overlap")
    if cached is not None:
        # a pickled layer (shipped to a Dask worker) arrives with its geometries unprepared;
        # preparing is a no-op for geometries that already are
        shapely.prepare(cached["geoms"])
        return cached
    frame = layer.frame.reset_index(drop=True)
    zoned = set(frame.loc[frame["zone"].notna(), "pa_code"])
    # an unzoned outline is only used for reserves that have no zone features
    keep = frame["zone"].notna() | ~frame["pa_code"].isin(zoned)
    frame = frame[keep].reset_index(drop=True)
    geoms = to_metric(frame.geometry).array
    geoms = np.asarray(shapely.make_valid(np.asarray(geoms)))
    shapely.prepare(geoms)
    codes = frame["pa_code"].astype(str).to_numpy()
    pa_codes, outlines = _outlines(geoms, codes)
    boundaries = shapely.boundary(outlines)
    pieces = _pieces(boundaries)
    cached = {
        "frame": frame,
        "details": _details(frame),
        "geoms": geoms,
        "tree": shapely.STRtree(geoms),
        "pa_codes": pa_codes,
        "outlines": outlines,
        "outline_tree": shapely.STRtree(outlines),
        "boundary_tree": shapely.STRtree(boundaries),
        "pieces": pieces,
        "piece_tree": shapely.STRtree(pieces[0]) if pieces is not None else None,
        "first": frame.drop_duplicates("pa_code").set_index("pa_code"),
    }
    layer.cache["overlap"] = cached
    return cached
