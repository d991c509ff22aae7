"""A page of issue items (``webmap.ledger.collections.ItemColumns``) -> GeoJSON bytes, by orjson.

The same FeatureCollection ``webmap.render.features.feature_collection`` builds from ``Item``
objects (coordinates shifted by ``to_display``, rounded to six decimals), written from the
page's columns ``CHUNK`` features at a time: a feature's dicts live only while its chunk is
encoded, so a page of 1,000 issues never holds 1,000 of them at once. Each object the page
keeps alive past a collection of the youngest generation is walked again by the next full
collection of the whole process; that walk, not the encoding, was the larger part of paging
through 100,000 issues.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice

import numpy as np
import orjson

from webmap.ledger.collections import ItemColumns
from webmap.render.features import COORD_DECIMALS, geometry_json, shift_located

__all__ = ["JSON_OPTIONS", "dumps", "feature_page"]

# orjson writes a page ~10x faster than the json module. Dates and datetimes pass through
# ``default=str`` as ``json.dumps(default=str)`` wrote them ("2023-01-01 00:00:00+00:00", not
# orjson's RFC 3339 "T"), and numpy values are numbers. Keys must be text (OPT_NON_STR_KEYS
# would take them, at nearly twice the cost of a page): every body the API writes has text keys.
JSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_SERIALIZE_NUMPY
CHUNK = 100  # features per encoding call: ~400 dicts and lists, under the collector's 700


def dumps(body) -> bytes:
    """Serialise a body compactly as UTF-8 JSON, Chinese kept readable."""
    return orjson.dumps(body, default=str, option=JSON_OPTIONS)


def display_xy(lon: np.ndarray, lat: np.ndarray, to_display: Callable | None) -> tuple[list, list]:
    """Return lon/lat shifted for display and rounded to six decimals (NaN stays NaN)."""
    x, y = shift_located(np.array(lon, dtype=float), np.array(lat, dtype=float), to_display)
    return round_like_python(x), round_like_python(y)


def round_like_python(values: np.ndarray, decimals: int = COORD_DECIMALS) -> list:
    """Return ``[round(v, decimals) for v in values]``, computed on the whole array.

    Python's ``round`` is correctly rounded from the exact binary value; numpy's scales, rounds
    and divides, so it can differ for a value within a rounding error of a half (seven-decimal
    coordinates ending in 5). Such values are rounded by Python, the rest by numpy: the same
    floats, at a fiftieth of the cost of calling ``round`` per value.
    """
    scale = 10.0**decimals
    scaled = values * scale
    out = (np.rint(scaled) / scale).tolist()
    near_half = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6
    for i in np.flatnonzero(near_half).tolist():
        out[i] = round(float(values[i]), decimals)
    return out


def features_json(page: ItemColumns, to_display: Callable | None = None) -> bytes:
    """Return the page's features as one JSON array, written ``CHUNK`` features at a time.

    A feature's geometry is its shape, else its point, else none (NaN lon: not located).
    """
    x, y = display_xy(page.lon, page.lat, to_display)
    shaped = {row: geometry_json(shape, to_display) for row, shape in page.shapes.items()}
    names = page.names
    rows = enumerate(zip(page.number, zip(*page.values, strict=True), x, y, strict=True))
    parts = []
    # one comprehension per chunk, no call per feature: this loop is most of a page's time
    while chunk := [{"type": "Feature", "id": number,
                     "geometry": (shaped[row] if row in shaped
                                  else {"type": "Point", "coordinates": [lon, lat]} if lon == lon
                                  else None),
                     "properties": dict(zip(names, values, strict=True))}
                    for row, (number, values, lon, lat) in islice(rows, CHUNK)]:  # fmt: skip
        parts.append(dumps(chunk)[1:-1])  # the features, without the chunk's brackets
    return b"[" + b",".join(parts) + b"]"


def feature_page(page: ItemColumns, to_display: Callable | None = None) -> dict:
    """Return the page as a GeoJSON FeatureCollection (paging members are added by the caller).

    ``features`` is already JSON (an ``orjson.Fragment``): serialise the body with ``dumps``.
    """
    features = orjson.Fragment(features_json(page, to_display))
    return {"type": "FeatureCollection", "features": features}
