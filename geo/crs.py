"""Datums and coordinate reference systems: WGS84/CGCS2000, GCJ-02, BD-09 and Gauss-Kruger.

Every function takes and returns longitude first (x, y), the order of GeoJSON and of
pyproj transformers built with ``always_xy=True``. GCJ-02 (AMap, Tencent) and BD-09
(Baidu) are obfuscations, not EPSG systems, so they get named functions here; their
forward formulas are the public Krasovsky-ellipsoid ones and the inverses are solved
by fixed-point iteration on those formulas. The Gauss-Kruger catalogue and detection of
projected metres live in ``geo.gauss_kruger``, which builds on this module.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache

import numpy as np
import pyproj
import shapely
from shapely.geometry.polygon import orient

from geo.errors import UnknownCRS

__all__ = [
    "STORAGE_CRS",
    "CGCS2000",
    "METRIC_CRS",
    "DATUMS",
    "YONGZHOU_BBOX",
    "out_of_china",
    "wgs84_to_gcj02",
    "gcj02_to_wgs84",
    "gcj02_to_bd09",
    "bd09_to_gcj02",
    "wgs84_to_bd09",
    "bd09_to_wgs84",
    "in_yongzhou_bbox",
    "get_transformer",
    "to_wgs84",
    "check_crs_with_datum",
    "normalise_crs",
    "to_metric",
    "from_metric",
    "geodesic_area_m2",
    "geodesic_length_m",
]

STORAGE_CRS = "EPSG:4326"
CGCS2000 = "EPSG:4490"
# CGCS2000 3-degree Gauss-Kruger CM 111E: the whole city lies within 1.5 degrees of 111E
METRIC_CRS = "EPSG:4546"
DATUMS = ("wgs84", "cgcs2000", "gcj02", "bd09")
# (min lon, min lat, max lon, max lat): the city extent 111.1-112.4E, 24.6-26.9N padded ~0.2 deg
YONGZHOU_BBOX = (110.9, 24.4, 112.6, 27.1)

# Krasovsky 1940 ellipsoid, as in the public GCJ-02 formula
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0
# the usual "out of China" rectangle (eviltransform, coordtransform variants agree within it)
_CHINA_BOX = (72.004, 0.8293, 137.8347, 55.8271)
_INVERSE_TOL_DEG = 1e-12
_INVERSE_MAX_ITER = 30


def _as_arrays(lon, lat) -> tuple[np.ndarray, np.ndarray, bool]:
    """Return float arrays for lon and lat and whether both inputs were scalars."""
    lon_a = np.asarray(lon, dtype=float)
    lat_a = np.asarray(lat, dtype=float)
    return lon_a, lat_a, lon_a.ndim == 0 and lat_a.ndim == 0


def _as_output(lon: np.ndarray, lat: np.ndarray, scalar: bool):
    """Return plain floats for scalar input, arrays otherwise."""
    if scalar:
        return float(lon), float(lat)
    return lon, lat


def out_of_china(lon, lat):
    """Return True where a point lies outside the rectangle in which the GCJ-02 offset applies.

    By convention GCJ-02 and BD-09 equal WGS84 outside the rectangle
    72.004-137.8347E, 0.8293-55.8271N (the rule used by eviltransform and most
    other implementations), so the conversions below leave such points unchanged.

    Examples
    --------
    >>> bool(out_of_china(111.6, 26.4)), bool(out_of_china(2.35, 48.85))
    (False, True)
    """
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    w, s, e, n = _CHINA_BOX
    out = ~((lon_a >= w) & (lon_a <= e) & (lat_a >= s) & (lat_a <= n))
    return bool(out) if scalar else out


def _gcj02_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the GCJ-02 offset (dlon, dlat) in degrees at WGS84 lon, lat (no China test)."""
    x = lon - 105.0
    y = lat - 35.0
    xpi = x * np.pi
    ypi = y * np.pi
    common = (20.0 * np.sin(6.0 * xpi) + 20.0 * np.sin(2.0 * xpi)) * 2.0 / 3.0
    dlat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * np.sqrt(np.abs(x))
        + common
        + (20.0 * np.sin(ypi) + 40.0 * np.sin(ypi / 3.0)) * 2.0 / 3.0
        + (160.0 * np.sin(ypi / 12.0) + 320.0 * np.sin(ypi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * np.sqrt(np.abs(x))
        + common
        + (20.0 * np.sin(xpi) + 40.0 * np.sin(xpi / 3.0)) * 2.0 / 3.0
        + (150.0 * np.sin(xpi / 12.0) + 300.0 * np.sin(xpi / 30.0)) * 2.0 / 3.0
    )
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon, lat):
    """Convert WGS84 lon, lat to GCJ-02 (AMap/Tencent) with the public forward formula.

    Parameters
    ----------
    lon, lat : float or array-like
        WGS84 degrees; arrays must broadcast together.

    Returns
    -------
    tuple
        ``(lon, lat)`` in GCJ-02, floats for scalar input, arrays otherwise.
        Points outside China are returned unchanged (see :func:`out_of_china`).

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(111.6, 26.42)
    >>> round(lon - 111.6, 4), round(lat - 26.42, 4)
    (0.0052, -0.0036)
    """
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    dlon, dlat = _gcj02_delta(lon_a, lat_a)
    outside = out_of_china(lon_a, lat_a)
    return _as_output(
        np.where(outside, lon_a, lon_a + dlon), np.where(outside, lat_a, lat_a + dlat), scalar
    )


def _invert(forward, lon_t: np.ndarray, lat_t: np.ndarray, lon0: np.ndarray, lat0: np.ndarray):
    """Solve forward(lon, lat) == (lon_t, lat_t) by fixed-point iteration from (lon0, lat0)."""
    lon_s, lat_s = lon0.copy(), lat0.copy()
    # the offsets vary by ~1e-5 of the step per degree, so each pass gains ~5 digits
    for _ in range(_INVERSE_MAX_ITER):
        lon_f, lat_f = forward(lon_s, lat_s)
        err_lon = lon_t - lon_f
        err_lat = lat_t - lat_f
        lon_s = lon_s + err_lon
        lat_s = lat_s + err_lat
        if np.all(np.abs(err_lon) < _INVERSE_TOL_DEG) and np.all(
            np.abs(err_lat) < _INVERSE_TOL_DEG
        ):
            break
    return lon_s, lat_s


def _gcj02_raw(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Apply the GCJ-02 offset everywhere (the iteration must not switch it off at the edge)."""
    dlon, dlat = _gcj02_delta(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon, lat):
    """Convert GCJ-02 lon, lat to WGS84 by iterating the forward formula to 1e-12 degrees.

    Parameters
    ----------
    lon, lat : float or array-like
        GCJ-02 degrees.

    Returns
    -------
    tuple
        ``(lon, lat)`` in WGS84; round trip with :func:`wgs84_to_gcj02` agrees to
        well under a millimetre. Points outside China are returned unchanged.

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(*wgs84_to_gcj02(111.6, 26.42))
    >>> round(lon, 9), round(lat, 9)
    (111.6, 26.42)
    """
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    lon_a, lat_a = np.broadcast_arrays(lon_a, lat_a)
    dlon, dlat = _gcj02_delta(lon_a, lat_a)
    lon_w, lat_w = _invert(_gcj02_raw, lon_a, lat_a, lon_a - dlon, lat_a - dlat)
    outside = out_of_china(lon_a, lat_a)
    return _as_output(np.where(outside, lon_a, lon_w), np.where(outside, lat_a, lat_w), scalar)


def _bd09_raw(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Apply Baidu's public GCJ-02 to BD-09 formula everywhere."""
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def gcj02_to_bd09(lon, lat):
    """Convert GCJ-02 lon, lat to BD-09 (Baidu) with the public forward formula.

    Examples
    --------
    >>> lon, lat = gcj02_to_bd09(111.6052, 26.4165)
    >>> round(lon, 4), round(lat, 4)
    (111.6116, 26.4228)
    """
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    lon_b, lat_b = _bd09_raw(lon_a, lat_a)
    outside = out_of_china(lon_a, lat_a)
    return _as_output(np.where(outside, lon_a, lon_b), np.where(outside, lat_a, lat_b), scalar)


def bd09_to_gcj02(lon, lat):
    """Convert BD-09 lon, lat to GCJ-02: the public approximate inverse, then refined by iteration.

    Examples
    --------
    >>> lon, lat = bd09_to_gcj02(*gcj02_to_bd09(111.6052, 26.4165))
    >>> round(lon, 9), round(lat, 9)
    (111.6052, 26.4165)
    """
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    lon_a, lat_a = np.broadcast_arrays(lon_a, lat_a)
    x = lon_a - 0.0065
    y = lat_a - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    lon_g, lat_g = _invert(_bd09_raw, lon_a, lat_a, z * np.cos(theta), z * np.sin(theta))
    outside = out_of_china(lon_a, lat_a)
    return _as_output(np.where(outside, lon_a, lon_g), np.where(outside, lat_a, lat_g), scalar)


def wgs84_to_bd09(lon, lat):
    """Convert WGS84 lon, lat to BD-09 through GCJ-02.

    Examples
    --------
    >>> lon, lat = wgs84_to_bd09(111.6, 26.42)
    >>> round(lon - 111.6, 3), round(lat - 26.42, 3)
    (0.012, 0.003)
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat):
    """Convert BD-09 lon, lat to WGS84 through GCJ-02 (both steps iterative).

    Examples
    --------
    >>> lon, lat = bd09_to_wgs84(*wgs84_to_bd09(111.6, 26.42))
    >>> round(lon, 9), round(lat, 9)
    (111.6, 26.42)
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def in_yongzhou_bbox(lon, lat):
    """Return True where lon, lat (WGS84) falls in the padded Yongzhou bounding box.

    Examples
    --------
    >>> bool(in_yongzhou_bbox(111.61, 26.42)), bool(in_yongzhou_bbox(112.94, 28.23))
    (True, False)
    """
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    w, s, e, n = YONGZHOU_BBOX
    inside = (lon_a >= w) & (lon_a <= e) & (lat_a >= s) & (lat_a <= n)
    return bool(inside) if scalar else inside


def normalise_crs(crs) -> str:
    """Return "EPSG:n" for an int, "n", "epsg:n" or a pyproj CRS; raise UnknownCRS otherwise.

    Examples
    --------
    >>> normalise_crs(4546), normalise_crs(" epsg：4525 ")
    ('EPSG:4546', 'EPSG:4525')
    """
    if isinstance(crs, pyproj.CRS):
        code = crs.to_epsg()
        if code is None:
            raise UnknownCRS(f"坐标系没有 EPSG 代码: {crs.name}")
        return f"EPSG:{code}"
    text = str(crs).strip().upper().replace("：", ":")
    match = re.fullmatch(r"(?:EPSG:)?(\d{4,6})", text)
    if not match:
        raise UnknownCRS(f"无法识别的坐标系: {crs!r}（应为 EPSG:编号，如 EPSG:4546）")
    return f"EPSG:{match.group(1)}"


@lru_cache(maxsize=64)
def get_transformer(src: str, dst: str = STORAGE_CRS) -> pyproj.Transformer:
    """Return a cached lon/lat-ordered Transformer from ``src`` to ``dst``.

    Transformers are thread safe since pyproj 3.1, so one per pair is shared.

    Examples
    --------
    >>> get_transformer("EPSG:4546") is get_transformer("EPSG:4546")
    True
    """
    key = f"{pyproj.__version__}|{pyproj.proj_version_str}|{src}|{dst}"
    known = _pipelines()
    if key in known:
        return pyproj.Transformer.from_pipeline(known[key])
    try:
        transformer = pyproj.Transformer.from_crs(src, dst, always_xy=True)
    except pyproj.exceptions.CRSError as exc:
        raise UnknownCRS(f"无法识别的坐标系: {src} -> {dst}: {exc}") from exc
    _remember_pipeline(key, transformer.definition)
    return transformer


# pyproj's from_crs searches PROJ's database for the best operation (about 75 ms a pair, paid by
# every one-shot command); the pipeline it picks is saved in the cache folder under the pyproj
# and PROJ versions and the pair, and rebuilt with from_pipeline in 0.2 ms (same numbers)
_PIPELINES = "proj-pipelines.json"


@lru_cache(maxsize=1)
def _pipelines() -> dict[str, str]:
    """The saved pipelines of earlier runs (empty when none, or caching is off)."""
    from geo.disk_cache import cache_dir

    folder = cache_dir()
    try:
        return dict(json.loads((folder / _PIPELINES).read_text(encoding="utf-8"))) if folder else {}
    except (OSError, ValueError, TypeError):
        return {}


def _remember_pipeline(key: str, definition: str) -> None:
    """Add one pipeline to the saved ones (only single pipelines without grids are kept)."""
    from geo.disk_cache import cache_dir, store

    folder = cache_dir()
    if folder is None or not definition.startswith("proj=pipeline") or "grids=" in definition:
        return  # a grid-based operation depends on which grids are installed: look it up again
    saved = _pipelines()
    saved[key] = definition
    data = json.dumps(saved, ensure_ascii=False, indent=1).encode("utf-8")
    store(folder / _PIPELINES, lambda fh: fh.write(data))


def to_wgs84(x, y, *, datum: str = "wgs84", crs=None):
    """Convert coordinates in a named datum or an EPSG CRS to WGS84 lon, lat.

    Parameters
    ----------
    x, y : float or array-like
        Longitude and latitude for geographic input; easting and northing (metres)
        when ``crs`` is a projected system.
    datum : {"wgs84", "cgcs2000", "gcj02", "bd09"}
        Datum of geographic input. CGCS2000 and WGS84 agree to centimetres, so
        CGCS2000 is passed through. GCJ-02/BD-09 together with ``crs`` is an error.
    crs : str, int or pyproj.CRS, optional
        An EPSG code such as ``"EPSG:4546"``; transformed with pyproj.

    Returns
    -------
    tuple
        ``(lon, lat)`` in WGS84.

    Examples
    --------
    >>> lon, lat = to_wgs84(573_000.0, 2_923_000.0, crs="EPSG:4546")
    >>> round(lon, 3), round(lat, 3)
    (111.732, 26.415)
    >>> to_wgs84(111.6, 26.42, datum="cgcs2000")
    (111.6, 26.42)
    """
    key = str(datum).strip().lower().replace("-", "").replace("_", "")
    if crs is not None:
        check_crs_with_datum(crs, key)
        transformer = get_transformer(normalise_crs(crs))
        x_a, y_a, scalar = _as_arrays(x, y)
        return _as_output(*transformer.transform(x_a, y_a), scalar)
    if key in ("wgs84", "cgcs2000", "epsg4326", "epsg4490"):
        x_a, y_a, scalar = _as_arrays(x, y)
        return _as_output(x_a, y_a, scalar)
    if key == "gcj02":
        return gcj02_to_wgs84(x, y)
    if key in ("bd09", "bd09ll"):
        return bd09_to_wgs84(x, y)
    raise UnknownCRS(f"无法识别的坐标基准: {datum!r}（可选: {', '.join(DATUMS)}）")


def check_crs_with_datum(crs, datum_key: str) -> None:
    """Refuse an EPSG CRS together with GCJ-02/BD-09: neither has an EPSG code to combine with."""
    if datum_key in ("gcj02", "bd09", "bd09ll"):
        raise UnknownCRS(
            f"不能同时指定坐标系 {crs} 和坐标基准 {datum_key}：GCJ-02/BD-09 只用经纬度"
        )


def _transform_geometry(geom, src: str, dst: str):
    """Reproject shapely geometries (scalar or array) between two CRSs, lon/lat order."""
    transformer = get_transformer(src, dst)

    def _apply(coords: np.ndarray) -> np.ndarray:
        """Transform an (N, 2) coordinate array."""
        return np.column_stack(transformer.transform(coords[:, 0], coords[:, 1]))

    return shapely.transform(geom, _apply)


def to_metric(obj):
    """Project WGS84 geometries, a GeoSeries or a GeoDataFrame to EPSG:4546 metres.

    Shapely geometries are taken to be WGS84 lon/lat; GeoPandas objects must carry a CRS.

    Examples
    --------
    >>> from shapely import Point
    >>> p = to_metric(Point(111.0, 26.0))
    >>> round(p.x, 3), round(p.y / 1000)
    (500000.0, 2877)
    """
    if hasattr(obj, "to_crs"):
        return _reproject(obj, STORAGE_CRS, METRIC_CRS,
                          "几何数据没有坐标系，无法投影到 EPSG:4546")
    return _transform_geometry(obj, STORAGE_CRS, METRIC_CRS)


def _reproject(obj, src: str, dst: str, no_crs: str):
    """A GeoSeries or GeoDataFrame in ``dst``; ``no_crs`` is the error when it carries no CRS.

    From ``src`` it goes through the process's cached transformer (its pipeline kept on disk):
    GeoPandas' ``to_crs`` has PROJ search for the pipeline again on each call, ~70 ms of a
    command's start. The coordinates are the same; other CRSs take ``to_crs``.
    """
    import geopandas as gpd

    if obj.crs is None:
        raise UnknownCRS(no_crs)
    if not obj.crs.equals(src):
        return obj.to_crs(dst)
    geoms = _transform_geometry(np.asarray(obj.geometry.array), src, dst)
    series = gpd.GeoSeries(geoms, index=obj.index, crs=dst, name=obj.geometry.name)
    if isinstance(obj, gpd.GeoSeries):
        return series
    out = obj.copy()
    out[obj.geometry.name] = series
    return out.set_crs(dst, allow_override=True)


def from_metric(obj):
    """Return EPSG:4546 geometries, a GeoSeries or a GeoDataFrame in WGS84 lon/lat.

    Examples
    --------
    >>> from shapely import Point
    >>> p = from_metric(to_metric(Point(111.6, 26.42)))
    >>> round(p.x, 9), round(p.y, 9)
    (111.6, 26.42)
    """
    if hasattr(obj, "to_crs"):
        return _reproject(obj, METRIC_CRS, STORAGE_CRS,
                          "几何数据没有坐标系，无法从 EPSG:4546 转回经纬度")
    return _transform_geometry(obj, METRIC_CRS, STORAGE_CRS)


_GEOD = pyproj.Geod(ellps="GRS80")


def geodesic_area_m2(geom) -> float:
    """Return the area on the GRS80 ellipsoid of a WGS84 (multi)polygon, in square metres.

    Rings are oriented first because pyproj sums signed ring areas.

    Examples
    --------
    >>> from shapely import box
    >>> round(geodesic_area_m2(box(111.0, 26.0, 111.01, 26.01)) / 1e6, 3)
    1.109
    """
    if geom is None or geom.is_empty:
        return 0.0
    if geom.geom_type == "Polygon":
        return abs(_GEOD.geometry_area_perimeter(orient(geom, 1.0))[0])
    if hasattr(geom, "geoms"):
        return float(sum(geodesic_area_m2(part) for part in geom.geoms))
    return 0.0


def geodesic_length_m(geom) -> float:
    """Return the GRS80 ellipsoidal length of a WGS84 geometry (polygons: perimeter), in metres.

    Examples
    --------
    >>> from shapely import LineString
    >>> round(geodesic_length_m(LineString([(111.0, 26.0), (111.0, 27.0)])))
    110796
    """
    if geom is None or geom.is_empty:
        return 0.0
    return float(_GEOD.geometry_length(geom))
