"""The CRSs the OGC API serves (CRS84, EPSG:4490, EPSG:4546) and transforms from storage (WGS84).

Coordinates leave in each CRS's own axis order, as OGC API - Features Part 2 asks: CRS84 is
lon/lat, EPSG:4490 is lat/lon and EPSG:4546 (CGCS2000 3-degree Gauss-Kruger CM 111E) is
northing/easting. Transformers are built with ``always_xy`` and the swap is made explicitly.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import shapely
from pyproj import CRS, Transformer

from webmap.ledger.ogc.errors import bad_parameter

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{}"
SUPPORTED = (CRS84, EPSG_URI.format(4490), EPSG_URI.format(4546))
# short forms people type, mapped to the URI
ALIASES = {"CRS84": CRS84, "OGC:CRS84": CRS84, "EPSG:4326": CRS84,
           "EPSG:4490": SUPPORTED[1], "EPSG:4546": SUPPORTED[2],
           "http://www.opengis.net/def/crs/EPSG/0/4326": CRS84}  # fmt: skip


def parse_crs(name: str, value: str | None) -> str:
    """Return the CRS URI of a ``crs``/``bbox-crs``/``filter-crs`` value (CRS84 when absent)."""
    if value is None or value == "":
        return CRS84
    uri = ALIASES.get(value.strip(), value.strip())
    if uri.startswith("[") and uri.endswith("]"):  # safe CURIE [EPSG:4546]
        uri = ALIASES.get(uri[1:-1], uri)
    if uri not in SUPPORTED:
        raise bad_parameter(name, value, f"可选 {'、'.join(SUPPORTED)}")
    return uri


def _pyproj_crs(uri: str) -> CRS:
    """Return the pyproj CRS of a supported URI."""
    return CRS("OGC:CRS84") if uri == CRS84 else CRS(f"EPSG:{uri.rsplit('/', 1)[1]}")


def swaps_axes(uri: str) -> bool:
    """Say whether the CRS's first axis is north (lat/lon, northing/easting)."""
    return _pyproj_crs(uri).axis_info[0].direction in ("north", "south")


@cache
def _transformer(src: str, dst: str) -> Transformer:
    """Return an always-xy transformer between two supported CRSs."""
    return Transformer.from_crs(_pyproj_crs(src), _pyproj_crs(dst), always_xy=True)


def from_storage(geom, uri: str):
    """Return a WGS84 geometry in ``uri``, axes in that CRS's order."""
    if geom is None or uri == CRS84:
        return geom
    tr = _transformer(CRS84, uri)
    swap = swaps_axes(uri)

    def _apply(coords):
        """Transform an (N, 2) lon/lat array and order the axes."""
        x, y = tr.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([y, x] if swap else [x, y])

    return shapely.transform(geom, _apply)


def to_storage(geom, uri: str):
    """Return a geometry given in ``uri`` (its axis order) as WGS84 lon/lat."""
    if geom is None or uri == CRS84:
        return geom
    tr = _transformer(uri, CRS84)
    swap = swaps_axes(uri)

    def _apply(coords):
        """Order the axes as x/y and transform to lon/lat."""
        x, y = (coords[:, 1], coords[:, 0]) if swap else (coords[:, 0], coords[:, 1])
        return np.column_stack(tr.transform(x, y))

    return shapely.transform(geom, _apply)


def bbox_to_storage(bbox: tuple[float, ...], uri: str) -> tuple[float, float, float, float]:
    """Return a ``bbox`` given in ``uri`` as a WGS84 lon/lat box (densified edges)."""
    if uri == CRS84:
        return bbox
    a, b, c, d = bbox
    xmin, ymin, xmax, ymax = (b, a, d, c) if swaps_axes(uri) else (a, b, c, d)
    return _transformer(uri, CRS84).transform_bounds(xmin, ymin, xmax, ymax, densify_pts=21)


def content_crs(uri: str) -> str:
    """Return the ``Content-Crs`` header value of a response in ``uri``."""
    return f"<{uri}>"
