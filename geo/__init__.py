"""yzmap geospatial core: datums, boundaries, gazetteer, geocoding and overlap. No web code here.

The public API is importable from ``geo`` directly; each name is loaded from its module on first
use (PEP 562), so ``import geo`` stays cheap (no pandas, pyproj or shapely until needed).

Examples
--------
>>> import geo
>>> att = geo.locate_record(geo.load_shipped(), address="冷水滩区高溪市镇")
>>> att.county_name, att.township_name, att.precision
('冷水滩区', '高溪市镇', 'township')
>>> lon, lat = geo.gcj02_to_wgs84(*geo.wgs84_to_gcj02(111.6, 26.42))
>>> round(lon, 7), round(lat, 7)
(111.6, 26.42)
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

# public name -> module defining it
_EXPORTS = {
    # locating table rows and records
    "OUTPUT_COLUMNS": "geo.locate", "locate_frame": "geo.bulk_locate",
    "locate_record": "geo.locate", "resolve_county": "geo.locate",
    # address text
    "Gazetteer": "geo.gazetteer", "load_gazetteer": "geo.gazetteer",
    # boundary layers and attribution
    "Layer": "geo.boundaries", "LayerSet": "geo.boundaries", "load_shipped": "geo.boundaries",
    "attribute_points": "geo.lookup", "attribute_geometry": "geo.lookup",
    "point_attribution": "geo.lookup",
    # typed coordinates
    "parse_angle": "geo.coords", "normalise_point": "geo.coords",
    "normalise_points": "geo.coords",
    # datum and CRS conversions
    "STORAGE_CRS": "geo.crs", "METRIC_CRS": "geo.crs", "DATUMS": "geo.crs",
    "wgs84_to_gcj02": "geo.crs", "gcj02_to_wgs84": "geo.crs", "gcj02_to_bd09": "geo.crs",
    "bd09_to_gcj02": "geo.crs", "wgs84_to_bd09": "geo.crs", "bd09_to_wgs84": "geo.crs",
    "to_wgs84": "geo.crs", "to_metric": "geo.crs", "from_metric": "geo.crs",
    "geodesic_area_m2": "geo.crs", "geodesic_length_m": "geo.crs",
    "detect_projected_crs": "geo.gauss_kruger", "gk_systems": "geo.gauss_kruger",
    # value objects and errors
    "Area": "geo.models", "Attribution": "geo.models", "LayerInfo": "geo.models",
    "Share": "geo.models", "FLAGS": "geo.models", "PRECISIONS": "geo.models",
    "GeoError": "geo.errors", "InvalidCoordinates": "geo.errors", "UnknownCRS": "geo.errors",
    "BoundaryDataError": "geo.errors", "ImportFileError": "geo.errors",
}

# Imported now, not lazily: the function ``geocode`` shares its name with the module
# ``geo.geocode``, and importing that module later would set ``geo.geocode`` to the module. The
# module needs no numpy/pandas (the gazetteer data is read on the first call), so this is cheap.
from geo.geocode import geocode, geocode_many, named_townships  # noqa: E402

__all__ = [  # literal, so linters and type checkers read it; test_package checks it
    "Area", "Attribution", "BoundaryDataError", "DATUMS", "FLAGS", "Gazetteer", "GeoError",
    "ImportFileError", "InvalidCoordinates", "Layer", "LayerInfo", "LayerSet", "METRIC_CRS",
    "OUTPUT_COLUMNS", "PRECISIONS", "STORAGE_CRS", "Share", "UnknownCRS", "attribute_geometry",
    "attribute_points", "bd09_to_gcj02", "bd09_to_wgs84", "detect_projected_crs", "from_metric",
    "gcj02_to_bd09", "gcj02_to_wgs84", "geocode", "geocode_many", "geodesic_area_m2",
    "geodesic_length_m", "gk_systems", "load_gazetteer", "load_shipped", "locate_frame",
    "locate_record", "named_townships", "normalise_point", "normalise_points", "parse_angle",
    "point_attribution", "resolve_county", "to_metric", "to_wgs84", "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

if TYPE_CHECKING:  # for type checkers and IDEs; at run time names load through __getattr__
    from geo.boundaries import Layer, LayerSet, load_shipped
    from geo.bulk_locate import locate_frame
    from geo.coords import normalise_point, normalise_points, parse_angle
    from geo.crs import (
        DATUMS,
        METRIC_CRS,
        STORAGE_CRS,
        bd09_to_gcj02,
        bd09_to_wgs84,
        from_metric,
        gcj02_to_bd09,
        gcj02_to_wgs84,
        geodesic_area_m2,
        geodesic_length_m,
        to_metric,
        to_wgs84,
        wgs84_to_bd09,
        wgs84_to_gcj02,
    )
    from geo.errors import (
        BoundaryDataError,
        GeoError,
        ImportFileError,
        InvalidCoordinates,
        UnknownCRS,
    )
    from geo.gauss_kruger import detect_projected_crs, gk_systems
    from geo.gazetteer import Gazetteer, load_gazetteer
    from geo.locate import OUTPUT_COLUMNS, locate_record, resolve_county
    from geo.lookup import attribute_geometry, attribute_points, point_attribution
    from geo.models import FLAGS, PRECISIONS, Area, Attribution, LayerInfo, Share


def __getattr__(name: str):
    """Load a public name from its module on first use and keep it on the package."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'geo' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """Module attributes plus the lazily loaded public names."""
    return sorted(set(globals()) | set(__all__))
