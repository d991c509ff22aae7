"""Evidence photos for people: map features joining each photo to its site, before/after pairs.

The map layer draws a photo where its geotag says it was taken, a line from it to the issue's
point, both coloured by the photo's verdict, so a picture taken 20 km away stands out at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import zip_longest

import shapely

from webmap.ledger.vocabulary import PHOTO_VERDICT_COLORS, PHOTO_VERDICT_LABELS
from webmap.render.features import geometry_json, shift_geometry


def evidence_features(rows: Iterable, to_display: Callable | None = None) -> dict:
    """Return a FeatureCollection of photo points and photo-to-site lines from (photo, issue)."""
    features = []
    for photo, issue in rows:
        where = shapely.Point(photo.photo_lon, photo.photo_lat)
        distance = (photo.checks.get("location") or {}).get("figures", {}).get("distance_m")
        props = {
            "number": issue.number,
            "photo": photo.id,
            "verdict": photo.verdict,
            "color": PHOTO_VERDICT_COLORS[photo.verdict],
            "label": f"{issue.number} {photo.phase}照片：{PHOTO_VERDICT_LABELS[photo.verdict]}"
                     + (f"，距现场 {distance:.0f} 米" if distance else ""),
        }  # fmt: skip
        if issue.lon is not None and issue.lat is not None and distance:
            line = shapely.LineString([(issue.lon, issue.lat), (where.x, where.y)])
            features.append({"type": "Feature", "properties": props | {"kind": "link"},
                              "geometry": geometry_json(shift_geometry(line, to_display))})
        features.append({"type": "Feature", "properties": props | {"kind": "photo"},
                         "geometry": geometry_json(shift_geometry(where, to_display))})
    return {"type": "FeatureCollection", "features": features}


def before_after_pairs(photos: Iterable) -> list[tuple]:
    """Pair 整改前 photos with 整改后 photos in upload order, for side-by-side viewing.

    No pairs unless both phases have photos: a lone phase is shown in the photo list only.

    >>> class P:
    ...     def __init__(self, phase, n): self.phase, self.n = phase, n
    ...     def __repr__(self): return f"{self.phase}{self.n}"
    >>> before_after_pairs([P("整改前", 1), P("整改中", 2), P("整改后", 3), P("整改前", 4)])
    [(整改前1, 整改后3), (整改前4, None)]
    >>> before_after_pairs([P("整改后", 1)])
    []
    """
    photos = list(photos)
    before = [p for p in photos if p.phase == "整改前"]
    after = [p for p in photos if p.phase == "整改后"]
    return list(zip_longest(before, after)) if before and after else []
