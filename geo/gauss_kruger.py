"""Gauss-Kruger systems of China and detection of which one metre coordinates are in.

The catalogue (``gk_systems``) is read by name from pyproj's EPSG database, so no code list is
typed by hand: every CGCS2000, Xian 1980 and Beijing 1954 Gauss-Kruger CRS, 3- and 6-degree,
with and without the zone prefix. ``detect_projected_crs`` tries the systems an easting column
can belong to (both column orders) and ranks them by how many points land in Yongzhou.
``geo.crs`` re-exports the public names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyproj

from geo.crs import get_transformer, in_yongzhou_bbox
from geo.errors import UnknownCRS

__all__ = [
    "DATUM_ORDER",
    "MAX_NORTHING",
    "SAME_PLACE_DEG",
    "GKSystem",
    "Candidate",
    "Detection",
    "gk_systems",
    "systems_for_easting",
    "detect_projected_crs",
]

# systems read by name from the EPSG database, so no code list is typed by hand
_GK_NAME = re.compile(
    r"^(CGCS2000|Xian 1980|Beijing 1954) / (3-degree )?Gauss-Kruger (?:zone (\d+)|CM (\d+)E)$"
)
_GK_DATUMS = {"CGCS2000": "cgcs2000", "Xian 1980": "xian1980", "Beijing 1954": "beijing1954"}
DATUM_ORDER = ("cgcs2000", "xian1980", "beijing1954")
# central meridians of the zones that cover Hunan: the only ones tried for an easting without prefix
_UNPREFIXED_CMS = {3: (111.0, 108.0, 114.0), 6: (111.0, 105.0, 117.0)}
MAX_NORTHING = 6.2e6  # ~56N, north of Heilongjiang
SAME_PLACE_DEG = 1e-7  # ~1 cm: candidates closer than this are the same answer


@dataclass(frozen=True)
class GKSystem:
    """One Gauss-Kruger projected CRS: EPSG code, datum, zone width, central meridian, prefix."""

    epsg: int
    name: str
    datum: str
    width: int
    central_meridian: float
    zone: int | None  # set when the easting carries the zone number as a prefix

    @property
    def crs(self) -> str:
        """Return the "EPSG:n" string."""
        return f"EPSG:{self.epsg}"


@dataclass(frozen=True)
class Candidate:
    """A projected CRS that could explain some metre coordinates, with where it puts them."""

    system: GKSystem
    swapped: bool  # easting was in the y column (survey X = northing convention)
    lon: float  # median WGS84 position of the points under this CRS
    lat: float
    share_in_yongzhou: float
    in_yongzhou: bool

    @property
    def crs(self) -> str:
        """Return the "EPSG:n" string of the candidate system."""
        return self.system.crs

    def describe(self) -> str:
        """Return a short Chinese description: code, name, whether it lands in Yongzhou, swap."""
        where = "在永州范围内" if self.in_yongzhou else "不在永州范围内"
        swap = "，X/Y 对调" if self.swapped else ""
        return f"{self.crs} {self.system.name}（{where}{swap}）"


class Detection(list):
    """Candidates from :func:`detect_projected_crs`, best first, with ``guessed``/``message``."""

    guessed: bool = True
    message: str = ""

    def best_in_yongzhou(self) -> Candidate | None:
        """Return the first candidate if all landing in Yongzhou agree on the place, else None."""
        inside = [c for c in self if c.in_yongzhou]
        if not inside:
            return None
        first = inside[0]
        same = all(
            abs(c.lon - first.lon) < SAME_PLACE_DEG and abs(c.lat - first.lat) < SAME_PLACE_DEG
            for c in inside
        )
        return first if same else None


@lru_cache(maxsize=1)
def gk_systems() -> tuple[GKSystem, ...]:
    """Return every CGCS2000, Xian 1980 and Beijing 1954 Gauss-Kruger CRS in pyproj's EPSG database.

    Examples
    --------
    >>> [s.epsg for s in gk_systems() if s.central_meridian == 111 and s.datum == "cgcs2000"]
    [4497, 4508, 4525, 4546]
    """
    found = []
    for info in pyproj.database.query_crs_info(auth_name="EPSG", pj_types=["PROJECTED_CRS"]):
        match = _GK_NAME.match(info.name)
        if not match or info.deprecated:
            continue
        datum, three, zone, cm = match.groups()
        width = 3 if three else 6
        if zone is not None:
            central = float(int(zone) * 3 if width == 3 else int(zone) * 6 - 3)
        else:
            central = float(cm)
        found.append(
            GKSystem(
                int(info.code),
                info.name,
                _GK_DATUMS[datum],
                width,
                central,
                int(zone) if zone else None,
            )
        )
    return tuple(sorted(found, key=lambda s: s.epsg))


def _datums_for(datum_hint: str | None) -> tuple[str, ...]:
    """Return the GK datums to try for a hint (None: all three, newest first)."""
    if datum_hint is None:
        return DATUM_ORDER
    key = str(datum_hint).strip().lower().replace(" ", "").replace("-", "").replace("_", "")
    key = {"wgs84": "cgcs2000", "xian80": "xian1980", "beijing54": "beijing1954"}.get(key, key)
    if key not in DATUM_ORDER:
        raise UnknownCRS(f"无法识别的投影基准: {datum_hint!r}（可选: {', '.join(DATUM_ORDER)}）")
    return (key,)


def systems_for_easting(easting, datum_hint: str | None = None) -> list[GKSystem]:
    """Return the GK systems an easting (or a column of them) can belong to, most plausible first.

    One zone if the eastings carry the same zone prefix, the central meridians around
    Hunan if they carry none, nothing if they are negative or mix zones.

    Examples
    --------
    >>> [s.epsg for s in systems_for_easting(19_573_000.0, "cgcs2000")]
    [4497]
    """
    easting = np.atleast_1d(np.asarray(easting, dtype=float))
    datums = _datums_for(datum_hint)
    return sorted(_systems_for(easting, datums), key=_system_rank)


def _system_rank(s: GKSystem) -> tuple:
    """Order systems: newest datum, 3-degree before 6-degree, central meridian nearest 111E."""
    return (DATUM_ORDER.index(s.datum), s.width, abs(s.central_meridian - 111.0))


def _systems_for(easting: np.ndarray, datums: tuple[str, ...]) -> list[GKSystem]:
    """Return the GK systems an easting column fits: its zone if prefixed, nearby CMs if not."""
    if easting.size == 0:
        return []
    if np.all((easting > 0) & (easting < 1e6)):
        return [
            s
            for s in gk_systems()
            if s.zone is None
            and s.datum in datums
            and s.central_meridian in _UNPREFIXED_CMS[s.width]
        ]
    zones = np.unique(np.floor(easting / 1e6))
    # a prefixed easting is zone * 1e6 + (0..1e6); 6-degree zones in China are 13-23, 3-degree 25-45
    if len(zones) != 1 or not np.all(easting - zones[0] * 1e6 > 0):
        return []
    zone = int(zones[0])
    width = 6 if 13 <= zone <= 23 else 3 if 24 <= zone <= 45 else 0
    return [s for s in gk_systems() if s.zone == zone and s.width == width and s.datum in datums]


def _rank(candidate: Candidate) -> tuple:
    """Order candidates: most points in Yongzhou, unswapped, newest datum, 3-degree, CM by 111E."""
    return (-candidate.share_in_yongzhou, candidate.swapped, *_system_rank(candidate.system))


def detect_projected_crs(x, y, datum_hint: str | None = None) -> Detection:
    """Guess which Gauss-Kruger CRS metre coordinates are in, from their ranges alone.

    An easting above 1e7 carries its zone number as a prefix (37xxxxxx: 3-degree
    zone 37); without a prefix only the central meridians around Hunan are tried
    (3-degree 108/111/114E, 6-degree 105/111/117E). The x and y columns are also
    tried the other way round, since Chinese surveys call the northing X. Every
    result is a guess (no CRS was declared), so ``guessed`` is always True when
    there are candidates and ``message`` says what to confirm.

    Parameters
    ----------
    x, y : float or array-like
        Easting and northing in metres (one point or a whole column).
    datum_hint : {"cgcs2000", "xian1980", "beijing1954"}, optional
        Keep only systems on this datum; the numbers cannot tell datums apart.

    Returns
    -------
    Detection
        A list of :class:`Candidate`, most plausible first; empty if the numbers
        fit no Gauss-Kruger system.

    Examples
    --------
    >>> found = detect_projected_crs(37_573_000.0, 2_923_000.0, datum_hint="cgcs2000")
    >>> [c.crs for c in found], found[0].in_yongzhou
    (['EPSG:4525'], True)
    >>> found = detect_projected_crs(573_000.0, 2_923_000.0, datum_hint="cgcs2000")
    >>> [c.crs for c in found if c.in_yongzhou], found.best_in_yongzhou().crs
    (['EPSG:4546', 'EPSG:4508'], 'EPSG:4546')
    """
    x_a = np.atleast_1d(np.asarray(x, dtype=float))
    y_a = np.atleast_1d(np.asarray(y, dtype=float))
    keep = np.isfinite(x_a) & np.isfinite(y_a)
    x_a, y_a = x_a[keep], y_a[keep]
    datums = _datums_for(datum_hint)
    found = Detection()
    if x_a.size == 0:
        found.guessed, found.message = False, "没有可用的投影坐标"
        return found
    for swapped, east, north in ((False, x_a, y_a), (True, y_a, x_a)):
        if not np.all((north > 0) & (north < MAX_NORTHING)):
            continue
        for system in _systems_for(east, datums):
            lon, lat = get_transformer(system.crs).transform(east, north)
            if not np.all(np.isfinite(lon) & np.isfinite(lat)):
                continue
            share = float(np.mean(in_yongzhou_bbox(lon, lat)))
            found.append(
                Candidate(
                    system,
                    swapped,
                    float(np.median(lon)),
                    float(np.median(lat)),
                    share,
                    share >= 0.5,
                )
            )
    found.sort(key=_rank)
    found.message = _detection_message(found)
    return found


def _detection_message(found: Detection) -> str:
    """Explain in Chinese what was guessed and what the user must confirm."""
    if not found:
        return "数值不像任何高斯-克吕格投影坐标（东坐标应小于 1000000 或带带号前缀）"
    names = "；".join(c.describe() for c in found[:6])
    best = found.best_in_yongzhou()
    if best is not None:
        return f"未声明坐标系，按 {best.crs} 推断，请确认。候选：{names}"
    return f"未声明坐标系，无法唯一确定，请指定 --crs。候选：{names}"
