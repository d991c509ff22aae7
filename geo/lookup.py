"""Attribution of points to county, township and protected-area zone, vectorised over arrays.

Points are answered by a ``GridIndex`` per layer (cached on ``Layer.cache``); a point exactly on
a line between two polygons goes to the lower-indexed one (``predicate="intersects"``) and is
always flagged ``near_border``, so no point on a county line is reported outside the city.
Distances to county lines are computed in EPSG:4546 (CGCS2000 Gauss-Kruger, CM 111E), and only
for points whose grid cell lies within the layer's positional accuracy of a line.

Lines and polygons (``attribute_geometry``) are split by the county polygons in EPSG:4546 and
every county gets its length or area share.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely

from geo.boundaries import Layer, LayerSet
from geo.crs import METRIC_CRS, STORAGE_CRS, get_transformer, to_metric
from geo.index import GridIndex
from geo.index_cache import cached_grid
from geo.models import Attribution, Share

__all__ = [
    "PointAttributions",
    "attribute_points",
    "attribute_geometry",
    "point_attribution",
    "layer_index",
    "warm_indexes",
    "confidence_for",
    "CONFIDENCE_INSIDE",
    "CONFIDENCE_ON_LINE",
]

# confidence of a county answer from coordinates: well inside a county, and exactly on a line;
# in between it rises linearly with the distance to the line over the layer's positional accuracy
CONFIDENCE_INSIDE = 0.98
CONFIDENCE_ON_LINE = 0.5
METRES_PER_DEGREE = 111_320.0
# a line or polygon is ambiguous unless one county holds at least this share of it
CLEAR_MAJORITY = 0.6


@dataclass
class PointAttributions:
    """Per-point answers as parallel numpy arrays (row indexes into each layer's frame, -1 none)."""

    county: np.ndarray
    township: np.ndarray
    protected_area: np.ndarray
    outside_city: np.ndarray
    near_border: np.ndarray
    border_distance_m: np.ndarray  # NaN unless near_border
    neighbour: np.ndarray  # county across the nearest line (-1: the city's outer edge)

    def __len__(self) -> int:
        """Number of points."""
        return len(self.county)


def layer_index(layer: Layer, order: np.ndarray | None = None) -> GridIndex:
    """The layer's ``GridIndex`` (built once and kept in ``layer.cache``)."""
    key = "grid" if order is None else "grid_ordered"
    if key not in layer.cache:
        geoms = layer.frame.geometry.values
        geoms = np.asarray(geoms if order is None else geoms[order], dtype=object)
        # widen the grid by the positional accuracy so near_mask covers points just outside
        margin = 2 * layer.info.positional_accuracy_m / METRES_PER_DEGREE
        # read from the on-disk cache when this layer was indexed before (a one-shot command
        # would otherwise rebuild it on every run)
        layer.cache[key] = cached_grid(shapely.make_valid(geoms), margin=margin)
    return layer.cache[key]


def to_metric_xy(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project WGS84 lon/lat arrays to EPSG:4546 easting/northing in metres."""
    return get_transformer(STORAGE_CRS, METRIC_CRS).transform(lon, lat)


def metric_geoms(layer: Layer) -> np.ndarray:
    """The layer's (valid) geometries in EPSG:4546, cached."""
    if "metric" not in layer.cache:
        geoms = shapely.make_valid(np.asarray(layer.frame.geometry.values, dtype=object))
        layer.cache["metric"] = to_metric(geoms)
    # every time: a pickled copy (a Dask worker's) arrives unprepared; a no-op when prepared
    shapely.prepare(layer.cache["metric"])
    return layer.cache["metric"]


def metric_tree(layer: Layer) -> shapely.STRtree:
    """STRtree of the layer's geometries in EPSG:4546, cached."""
    if "metric_tree" not in layer.cache:
        layer.cache["metric_tree"] = shapely.STRtree(metric_geoms(layer))
    return layer.cache["metric_tree"]


def metric_segments(layer: Layer) -> tuple[shapely.STRtree, np.ndarray]:
    """STRtree of the layer's boundary segments in EPSG:4546, and each segment's polygon."""
    if "segments" not in layer.cache:
        parts, owner = shapely.get_parts(shapely.boundary(metric_geoms(layer)), return_index=True)
        xy, ring = shapely.get_coordinates(parts, return_index=True)
        same = ring[1:] == ring[:-1]
        segs = shapely.linestrings(np.stack((xy[:-1][same], xy[1:][same]), axis=1))
        layer.cache["segments"] = (shapely.STRtree(segs), owner[ring[:-1][same]])
    return layer.cache["segments"]


def _pa_order(layer: Layer) -> np.ndarray:
    """Feature order for protected areas: zoned features before unzoned outlines."""
    if "pa_order" not in layer.cache:
        unzoned = layer.frame["zone"].isna().to_numpy()
        layer.cache["pa_order"] = np.lexsort((np.arange(len(unzoned)), unzoned))
    return layer.cache["pa_order"]


def warm_indexes(layers: LayerSet) -> LayerSet:
    """Build every index attribution and constraint checks use, so shipped copies arrive built.

    Call it before sending the layers to Dask workers: each worker then gets the indexes with
    the layers (once) instead of building them itself.

    Examples
    --------
    >>> from geo.boundaries import load_shipped
    >>> layers = warm_indexes(load_shipped())
    >>> sorted(layers.counties.cache)
    ['grid', 'metric', 'metric_tree', 'segments']
    """
    from geo.constraints import zones_at_points  # geo.constraints needs the overlap module

    for layer in (layers.counties, layers.townships):
        if layer is not None:
            layer_index(layer)
            metric_tree(layer)
    metric_segments(layers.counties)
    pa = layers.protected_areas
    if pa is not None and len(pa.frame):
        layer_index(pa, _pa_order(pa))
        metric_tree(pa)
    # one point builds the projected zone trees of every constraint layer in use
    zones_at_points(layers, [0.0], [0.0])
    return layers


def attribute_points(layers: LayerSet, lon, lat) -> PointAttributions:
    """Attribute arrays of WGS84 lon/lat to county, township and protected-area feature.

    Examples
    --------
    >>> import numpy as np, geopandas as gpd
    >>> from shapely import box
    >>> from geo.models import LayerInfo
    >>> frame = gpd.GeoDataFrame({"code": ["1", "2"], "name": ["甲", "乙"]},
    ...     geometry=[box(111.5, 26, 111.6, 26.1), box(111.6, 26, 111.7, 26.1)], crs=4326)
    >>> info = LayerInfo("counties", "county", "2023", True, positional_accuracy_m=100)
    >>> layers = LayerSet(city=Layer(info, frame), counties=Layer(info, frame))
    >>> res = attribute_points(layers, np.array([111.55, 111.5995, 112.0]), np.array([26.05] * 3))
    >>> res.county.tolist(), res.outside_city.tolist(), res.near_border.tolist()
    ([0, 0, -1], [False, False, True], [False, True, False])
    >>> bool(40 < res.border_distance_m[1] < 60), int(res.neighbour[1])
    (True, 1)
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    county = layer_index(layers.counties).query(lon, lat)
    township = np.full(lon.shape, -1, dtype=np.int64)
    if layers.townships is not None:
        township = layer_index(layers.townships).query(lon, lat)
    pa = np.full(lon.shape, -1, dtype=np.int64)
    if layers.protected_areas is not None and len(layers.protected_areas.frame):
        order = _pa_order(layers.protected_areas)
        hit = layer_index(layers.protected_areas, order).query(lon, lat)
        pa = np.where(hit >= 0, order[np.maximum(hit, 0)], -1)
    near, dist, neighbour = _near_border(layers.counties, lon, lat, county)
    return PointAttributions(county, township, pa, county < 0, near, dist, neighbour)


def _near_border(layer: Layer, lon, lat, county):
    """Flag points within the layer's positional accuracy of a county line, with the distance."""
    n = len(lon)
    near = np.zeros(n, dtype=bool)
    dist = np.full(n, np.nan)
    neighbour = np.full(n, -1, dtype=np.int64)
    acc = layer.info.positional_accuracy_m
    if acc <= 0 or n == 0:
        return near, dist, neighbour
    index = layer_index(layer)
    coslat = max(math.cos(math.radians(index.y0 + index.ny * index.dy / 2)), 0.1)
    radius = max(acc / (METRES_PER_DEGREE * coslat) / index.dx, acc / METRES_PER_DEGREE / index.dy)
    cand = np.flatnonzero(index.near_mask(lon, lat, math.ceil(radius) + 1))
    if not len(cand):
        return near, dist, neighbour
    tree, owner = metric_segments(layer)
    mx, my = to_metric_xy(lon[cand], lat[cand])
    pt_i, seg_i = tree.query(shapely.points(mx, my), predicate="dwithin", distance=acc)
    if not len(pt_i):
        return near, dist, neighbour
    d = shapely.distance(shapely.points(mx[pt_i], my[pt_i]), tree.geometries[seg_i])
    seg_owner = owner[seg_i]
    # nearest line of any county gives the distance; nearest line of another county the neighbour
    order = np.lexsort((d, pt_i))
    first = np.concatenate(([True], pt_i[order][1:] != pt_i[order][:-1]))
    rows = cand[pt_i[order][first]]
    near[rows] = True
    dist[rows] = d[order][first]
    other = seg_owner != county[cand][pt_i]
    o_order = np.lexsort((d[other], pt_i[other]))
    o_pt = pt_i[other][o_order]
    o_first = np.concatenate(([True], o_pt[1:] != o_pt[:-1]))[: len(o_pt)]
    neighbour[cand[o_pt[o_first]]] = seg_owner[other][o_order][o_first]
    return near, dist, neighbour


def confidence_for(near_border: np.ndarray, distance_m: np.ndarray, county: np.ndarray,
                   accuracy_m: float) -> np.ndarray:
    """Confidence 0-1 of each point's county: 0.98 inside, 0.5 on a county line, 0 outside.

    Examples
    --------
    >>> confidence_for(np.array([False, True, True]), np.array([np.nan, 0.0, 50.0]),
    ...                np.array([0, 0, -1]), 100.0).tolist()
    [0.98, 0.5, 0.0]
    """
    conf = np.full(len(county), CONFIDENCE_INSIDE)
    if accuracy_m > 0:
        frac = np.clip(np.nan_to_num(distance_m, nan=accuracy_m) / accuracy_m, 0, 1)
        ramp = CONFIDENCE_ON_LINE + (CONFIDENCE_INSIDE - CONFIDENCE_ON_LINE) * frac
        conf = np.where(near_border, ramp, conf)
    return np.round(np.where(county >= 0, conf, 0.0), 3)


def point_attribution(layers: LayerSet, res: PointAttributions, i: int,
                      lon: float | None = None, lat: float | None = None) -> Attribution:
    """Turn row ``i`` of ``attribute_points`` output into an ``Attribution`` with evidence."""
    counties = layers.counties.frame
    att = Attribution(lon=lon, lat=lat, precision="coordinates",
                      layer_versions=layers.versions())
    version = layers.counties.info.version or layers.counties.info.vintage
    c = int(res.county[i])
    if c >= 0:
        att.county_code, att.county_name = str(counties["code"].iat[c]), counties["name"].iat[c]
        att.candidates.append(att.county_name)
        att.evidence.append(f"坐标落在县界图层（版本 {version}）的{att.county_name}范围内")
    else:
        att.add_flag("outside_city")
        att.evidence.append(f"坐标不在县界图层（版本 {version}）的任何县（市、区）范围内")
    if res.near_border[i]:
        att.add_flag("near_border")
        att.evidence.append(_border_evidence(counties, c, int(res.neighbour[i]),
                                             float(res.border_distance_m[i]),
                                             layers.counties.info.positional_accuracy_m))
        nb = int(res.neighbour[i])
        if nb >= 0 and counties["name"].iat[nb] not in att.candidates:
            att.candidates.append(counties["name"].iat[nb])
    att.confidence = float(confidence_for(res.near_border[i:i + 1], res.border_distance_m[i:i + 1],
                                          res.county[i:i + 1],
                                          layers.counties.info.positional_accuracy_m)[0])
    _add_township(att, layers, int(res.township[i]))
    _add_protected_area(att, layers, int(res.protected_area[i]))
    return att


def _border_evidence(counties, own: int, neighbour: int, distance: float,
                     accuracy_m: float) -> str:
    """Say how far the point is from which county line, against the layer's accuracy (zh-CN)."""
    names = [counties["name"].iat[k] for k in (own, neighbour) if k >= 0]
    # one name only: the nearest line is the city's outer edge, not a line between two counties
    if len(names) == 2:
        line = "/".join(names) + "界线"
    else:
        line = f"市界（{names[0]}外沿）" if names else "市界"
    return f"距{line}约 {distance:.0f} 米（图层精度 {accuracy_m:.0f} 米），请核实"


def _add_township(att: Attribution, layers: LayerSet, t: int) -> None:
    """Fill the township fields from township row ``t``."""
    if t < 0 or layers.townships is None:
        return
    frame = layers.townships.frame
    att.township_code, att.township_name = str(frame["code"].iat[t]), frame["name"].iat[t]
    att.evidence.append(f"坐标落在乡镇图层（版本 {layers.townships.info.version}）的"
                        f"{att.township_name}范围内")


def _add_protected_area(att: Attribution, layers: LayerSet, p: int) -> None:
    """Fill protected area and zone from protected-area row ``p``, noting illustrative data."""
    if p < 0 or layers.protected_areas is None:
        return
    layer = layers.protected_areas
    att.protected_area = layer.frame["name"].iat[p]
    zone = layer.frame["zone"].iat[p]
    att.zone = _zone_suffix(zone)[1:] or None
    tag = "" if layer.info.authoritative else "（示意范围，仅供参考）"
    att.evidence.append(f"坐标落在自然保护地{att.protected_area}"
                        f"{'·' + att.zone if att.zone else ''}范围内{tag}")


def attribute_geometry(layers: LayerSet, geom) -> Attribution:
    """Attribute a WGS84 point, line or polygon; shares of county, township and zone in EPSG:4546.

    A line or polygon crossing county lines lists every county in ``county_shares`` (length or
    area share, largest first) and in ``candidates``; ``county_code`` is the largest share, and
    the result is ``ambiguous`` unless that share reaches ``CLEAR_MAJORITY`` (0.6).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import LineString, box
    >>> from geo.models import LayerInfo
    >>> frame = gpd.GeoDataFrame({"code": ["1", "2"], "name": ["甲", "乙"]},
    ...     geometry=[box(111.5, 26, 111.6, 26.1), box(111.6, 26, 111.7, 26.1)], crs=4326)
    >>> info = LayerInfo("counties", "county", "2023", True, positional_accuracy_m=100)
    >>> layers = LayerSet(city=Layer(info, frame), counties=Layer(info, frame))
    >>> att = attribute_geometry(layers, LineString([(111.55, 26.05), (111.65, 26.05)]))
    >>> att.candidates, att.flags
    (['甲', '乙'], ['near_border', 'ambiguous'])
    """
    if geom is None or geom.is_empty:
        return Attribution(error="几何为空", layer_versions=layers.versions())
    if geom.geom_type == "Point":
        res = attribute_points(layers, np.array([geom.x]), np.array([geom.y]))
        return point_attribution(layers, res, 0, geom.x, geom.y)
    geom = shapely.make_valid(geom)
    here = geom.representative_point() if geom.area > 0 else geom.interpolate(0.5, normalized=True)
    att = Attribution(lon=round(here.x, 7), lat=round(here.y, 7), precision="coordinates",
                      layer_versions=layers.versions())
    metric = to_metric(geom)
    shares = _shares(layers.counties, metric)
    counties = layers.counties.frame
    att.county_shares = [Share(str(counties["code"].iat[k]), counties["name"].iat[k], s)
                         for k, s in shares]
    att.candidates = [s.name for s in att.county_shares]
    _county_from_shares(att, layers, metric, shares)
    if layers.townships is not None:
        t_shares = _shares(layers.townships, metric)
        _add_township(att, layers, t_shares[0][0] if t_shares else -1)
    if layers.protected_areas is not None and len(layers.protected_areas.frame):
        # a zone answers before the unzoned outline that contains it
        zoned = layers.protected_areas.frame["zone"].notna().to_numpy()
        _pa_from_shares(att, layers, _shares(layers.protected_areas, metric, zoned))
    return att


def _shares(layer: Layer, metric, prefer=None) -> list[tuple[int, float]]:
    """(row, share) of a metric line/polygon in each feature it overlaps, largest share first.

    ``prefer`` (a boolean per row) puts preferred rows first whatever their share.
    """
    geoms = metric_geoms(layer)
    measure = shapely.area if metric.area > 0 else shapely.length
    total = measure(metric)
    if total <= 0:
        return []
    rows = np.sort(metric_tree(layer).query(metric, predicate="intersects"))
    parts = measure(shapely.intersection(geoms[rows], metric)) / total
    found = [(int(r), round(float(s), 4)) for r, s in zip(rows, parts, strict=True) if s > 1e-6]
    rank = (lambda r: 0) if prefer is None else (lambda r: 0 if prefer[r] else 1)
    return sorted(found, key=lambda rs: (rank(rs[0]), -rs[1]))


def _county_from_shares(att: Attribution, layers: LayerSet, metric, shares) -> None:
    """Set county, flags, confidence and evidence of a line/polygon from its county shares."""
    info = layers.counties.info
    kind = "面积" if metric.area > 0 else "长度"
    if not shares:
        att.add_flag("outside_city")
        att.evidence.append(f"图形不在县界图层（版本 {info.version}）的任何县（市、区）范围内")
        return
    top, top_share = shares[0]
    counties = layers.counties.frame
    att.county_code, att.county_name = str(counties["code"].iat[top]), counties["name"].iat[top]
    tree, _ = metric_segments(layers.counties)
    if len(shares) > 1 or len(tree.query(metric, predicate="dwithin",
                                         distance=info.positional_accuracy_m)):
        att.add_flag("near_border")
    if top_share < CLEAR_MAJORITY:
        att.add_flag("ambiguous")
    listed = "、".join(f"{s.name} {s.share:.0%}" for s in att.county_shares)
    att.evidence.append(f"按县界图层（版本 {info.version}）计算的各县{kind}占比：{listed}")
    outside = 1 - sum(s for _, s in shares)
    if outside > 0.001:
        att.evidence.append(f"{outside:.0%}的{kind}位于永州市以外")
    near = 0.9 if "near_border" in att.flags and len(shares) == 1 else CONFIDENCE_INSIDE
    att.confidence = round(min(near, CONFIDENCE_INSIDE * top_share), 3)


def _pa_from_shares(att: Attribution, layers: LayerSet, shares) -> None:
    """Name the protected area and zone with the largest share; list every overlap as evidence."""
    if not shares:
        return
    frame = layers.protected_areas.frame
    _add_protected_area(att, layers, shares[0][0])
    att.evidence.pop()  # replaced by the share listing below
    tag = "（示意范围，仅供参考）" if not layers.protected_areas.info.authoritative else ""
    listed = "、".join(f"{frame['name'].iat[r]}{_zone_suffix(frame['zone'].iat[r])} {s:.0%}"
                       for r, s in shares)
    att.evidence.append(f"与自然保护地重叠{tag}：{listed}")


def _zone_suffix(zone) -> str:
    """"/zone" for a zone name, "" for a missing one (None or NaN)."""
    return "" if zone is None or zone != zone else f"/{zone}"
