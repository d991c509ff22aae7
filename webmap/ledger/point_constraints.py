"""Constraints of a page of issues, points answered per zone set instead of per point.

``webmap.ledger.constraints.issue_constraints`` relates each geometry to every constraint zone in
one spatial join (``geo.overlap``), and keeps its answers per geometry. Paging through a whole
ledger meets every point once, so that cache never helps and each page of 1,000 issues paid a
join (~35 ms). For a point the answer depends only on which zones hold it and on the issue's
category: it lies "inside" every zone it meets (share 1), and the rule, detail and version are
the zone's. So the points are looked up in the zones' own index, the same way and in the same
projected CRS as the join, and each distinct (zones, category) is answered once by the join, for
one point that stands for all of them, then kept in the join's cache. Lines and polygons (their
shares differ) still go through ``issue_constraints`` with their own geometries.
"""

from __future__ import annotations

import itertools
import threading

import numpy as np
import shapely

from geo.crs import to_metric
from geo.overlap_index import metric_zones
from webmap.ledger.constraints import issue_constraints

__all__ = ["page_constraints"]

_TOKENS = itertools.count()
_MAX_STANDINS = 4096  # distinct (zones, category) keys kept: zones x categories, a few hundred
_standins: dict = {}
_lock = threading.Lock()


def page_constraints(lon: np.ndarray, lat: np.ndarray, shapes: dict, categories: list,
                     layers) -> list:  # fmt: skip
    """Return, per row of a page, the constraint zones its WGS84 geometry touches.

    A row's geometry is ``shapes[row]`` when given, else the point (``lon``, ``lat``), else
    none. Entries are those of ``issue_constraints``, each row its own copy; ``()`` when none.
    """
    out: list = [()] * len(lon)
    in_use = [layer for layer in layers.constraint_layers().values()
              if layer is not None and len(layer.frame)]  # fmt: skip
    if not len(lon) or not in_use:
        return out
    is_point = np.isfinite(lon) & np.isfinite(lat)
    is_point[list(shapes)] = False
    points = np.flatnonzero(is_point)
    near_points = points[_near(shapely.points(lon[points], lat[points]), in_use)]
    rows = sorted(shapes)
    shaped = np.empty(len(rows), dtype=object)
    shaped[:] = [shapes[i] for i in rows]
    near_shapes = [row for row, hit in zip(rows, _near(shaped, in_use), strict=True) if hit]
    if near_shapes:
        # keyed by text: ``issue_constraints`` looks categories up by the text of its keys
        found = issue_constraints({str(i): shapes[i] for i in near_shapes}, layers,
                                  {str(i): categories[i] for i in near_shapes})  # fmt: skip
        for i in near_shapes:
            out[i] = found.get(str(i)) or ()
    if len(near_points):
        geoms = shapely.points(lon[near_points], lat[near_points])
        _fill_points(out, near_points.tolist(), geoms, categories, layers, in_use)
    return out


def _near(geoms: np.ndarray, in_use: list) -> np.ndarray:
    """Say per WGS84 geometry whether its box meets the box of a constraint zone.

    One index query per layer: on a city-wide page most issues are far from every zone and
    skip the rest. The zones' boxes are widened by ~0.1 m so rounding in the projected CRS of
    the zone test cannot matter; an empty geometry is near nothing.
    """
    near = np.zeros(len(geoms), dtype=bool)
    if not len(geoms):
        return near
    for layer in in_use:
        hits, _ = _zone_boxes(layer).query(geoms)
        near[hits] = True
    return near & ~shapely.is_empty(geoms)


def _zone_boxes(layer) -> shapely.STRtree:
    """Return the index of a layer's zone boxes, widened by 1e-6 degrees (kept with the layer)."""
    tree = layer.cache.get("near_boxes")
    if tree is None:
        bounds = shapely.bounds(layer.frame.geometry.to_numpy())
        tree = shapely.STRtree(shapely.box(*(bounds + [-1e-6, -1e-6, 1e-6, 1e-6]).T))
        layer.cache["near_boxes"] = tree
    return tree


def _fill_points(out: list, rows: list, geoms: np.ndarray, categories: list, layers,
                 in_use: list) -> None:  # fmt: skip
    """Fill ``out`` at ``rows`` (points ``geoms``): one join per distinct (zones, category)."""
    # projected as ``geo.overlap.prepare_sites`` projects the sites of the join, so a point on
    # a zone's edge falls on the same side here as there
    metric = to_metric(geoms)
    zones = [[] for _ in rows]
    for layer in in_use:
        token = layer.cache.setdefault("point_zones_token", next(_TOKENS))
        p_idx, z_idx = metric_zones(layer)["tree"].query(metric, predicate="intersects")
        for p, z in sorted(zip(p_idx.tolist(), z_idx.tolist(), strict=True)):
            zones[p].append((token, z))
    keys: dict = {}
    for k, row in enumerate(rows):
        if zones[k]:
            keys.setdefault((tuple(zones[k]), categories[row]), []).append(k)
    if not keys:
        return
    names = {key: f"s{n}" for n, key in enumerate(keys)}
    standins = {names[key]: _standin(key, geoms[members[0]]) for key, members in keys.items()}
    found = issue_constraints(standins, layers, {names[key]: key[1] for key in keys})
    for key, members in keys.items():
        entries = found.get(names[key], [])
        for k in members:
            out[rows[k]] = [dict(e) for e in entries] or ()  # flat dicts: each row its own copy


def _standin(key, point):
    """Return the point that answers for every point with these zones and category.

    The first one met is kept, so later pages find the join's cached answer for it.
    """
    with _lock:
        found = _standins.get(key)
        if found is None:
            if len(_standins) >= _MAX_STANDINS:
                _standins.clear()
            found = _standins[key] = point
        return found
