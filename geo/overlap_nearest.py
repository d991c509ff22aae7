"""Nearest protected-area boundary and outline for every site, from one query on boundary pieces.

Both overlap distances that reach beyond the pairs come from here: ``boundary_distance_m`` (to the
nearest protected-area boundary, for every row) and, for a site no zone reaches, the nearest
protected area and its distance. A site outside every outline is as far from an outline as from
its boundary (GEOS measures the same ring segments), so one query on the boundary pieces of
``geo.overlap_index`` answers both; sites inside an outline, and exact ties between two protected
areas, are measured against the whole outlines as before, so the answer never depends on how the
boundaries were cut.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Nearest", "nearest_boundaries", "nearest_outlines"]


@dataclass
class Nearest:
    """Per site: planar distance to the nearest boundary, and whose boundary it is."""

    distance: np.ndarray  # metres in EPSG:4546, before the scale correction
    owner: np.ndarray | None  # index into the layer's pa_codes; None without pieces
    tied: np.ndarray | None  # True where boundaries of two protected areas are equally near


def nearest_boundaries(geoms: np.ndarray, z: dict) -> Nearest | None:
    """Return each site's nearest protected-area boundary, or None for no sites or no outlines."""
    if not len(geoms) or not len(z["outlines"]):
        return None
    if z["piece_tree"] is None:
        (_, _), dist = z["boundary_tree"].query_nearest(
            geoms, return_distance=True, all_matches=False
        )
        return Nearest(dist, None, None)
    (s_idx, p_idx), dist = z["piece_tree"].query_nearest(
        geoms, return_distance=True, all_matches=True
    )
    owners = z["pieces"][1][p_idx]
    distance = np.full(len(geoms), np.nan)
    distance[s_idx] = dist  # equal for every match of a site
    owner = np.full(len(geoms), -1, dtype=np.intp)
    owner[s_idx] = owners
    tied = np.zeros(len(geoms), dtype=bool)
    tied[s_idx[owners != owner[s_idx]]] = True
    return Nearest(distance, owner, tied)


def nearest_outlines(
    geoms: np.ndarray, lonely: np.ndarray, z: dict, boundary: Nearest | None
) -> tuple[np.ndarray, np.ndarray]:
    """Return, for the sites ``lonely``, the nearest outline (index into pa_codes) and distance."""
    if boundary is None or boundary.owner is None:
        return _whole_outlines(geoms[lonely], z)
    pa_i = boundary.owner[lonely].copy()
    dist = boundary.distance[lonely].copy()
    inside, _ = z["outline_tree"].query(geoms[lonely], predicate="intersects")
    redo = boundary.tied[lonely]
    redo[inside] = True
    if redo.any():
        pa_i[redo], dist[redo] = _whole_outlines(geoms[lonely[redo]], z)
    return pa_i, dist


def _whole_outlines(geoms: np.ndarray, z: dict) -> tuple[np.ndarray, np.ndarray]:
    """Nearest outline and distance measured against the whole outline polygons."""
    (_, pa_i), dist = z["outline_tree"].query_nearest(
        geoms, return_distance=True, all_matches=False
    )
    return pa_i, dist
