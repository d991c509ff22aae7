"""Where and when a photo was taken, from its EXIF block, and how far that is from a site.

EXIF is read with Pillow (HEIC through pillow-heif): GPS latitude and longitude are rational
degrees/minutes/seconds with N/S and E/W references (altitude is ignored); ``GPSMapDatum``
may declare GCJ-02, which phones sold in China sometimes write, and a caller may declare it
too. Capture time is ``DateTimeOriginal`` with ``OffsetTimeOriginal`` (EXIF 2.31); without an
offset the camera's clock is taken to be China time (UTC+8), which is what phones here use.
Distances are measured in EPSG:4546 metres (``geo.crs.to_metric``), never in degrees.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import shapely
from PIL import Image, UnidentifiedImageError

from geo.crs import gcj02_to_wgs84, to_metric
from geo.errors import GeoError

try:  # HEIC/HEIF from phones: optional at import so the core still loads without it
    from pillow_heif import register_heif_opener

    register_heif_opener()
except ImportError:  # pragma: no cover - pillow-heif is a dependency; this guards odd installs
    pass

CHINA_TIME = timezone(timedelta(hours=8))
_IFD_EXIF = 0x8769
_IFD_GPS = 0x8825
# EXIF tag numbers (EXIF 2.32); Pillow's ExifTags names them but numbers keep this readable
_TAG_SOFTWARE = 0x0131
_TAG_MAKE, _TAG_MODEL = 0x010F, 0x0110
_TAG_DATETIME = 0x0132
_TAG_ORIGINAL, _TAG_OFFSET_ORIGINAL = 0x9003, 0x9011
_GPS_LAT_REF, _GPS_LAT, _GPS_LON_REF, _GPS_LON, _GPS_DATUM = 1, 2, 3, 4, 18
_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")
GCJ02_NAMES = {"GCJ-02", "GCJ02", "GCJ_02"}


class PhotoError(GeoError):
    """A file is not an image Pillow can read."""


@dataclass(frozen=True)
class PhotoMeta:
    """What a photo's metadata says: size, capture time, GPS point and the software named."""

    width: int
    height: int
    format: str
    has_exif: bool
    taken_at: datetime | None = None  # timezone-aware
    offset_given: bool = False  # False: China time was assumed
    lon: float | None = None  # WGS84, after any declared GCJ-02 was converted
    lat: float | None = None
    gps_datum: str | None = None  # as written in the file
    software: str | None = None
    camera: str | None = None
    notes: tuple[str, ...] = field(default=())  # unreadable fields, in Chinese


def _rational(value) -> float:
    """Return a float from an EXIF rational (Pillow's IFDRational or a (num, den) pair)."""
    if isinstance(value, tuple) and len(value) == 2:
        num, den = value
        return float(num) / float(den) if den else float("nan")
    return float(value)


def dms_to_degrees(dms, ref: str | None) -> float:
    """Return signed decimal degrees from EXIF (degrees, minutes, seconds) and N/S/E/W.

    >>> dms_to_degrees(((111, 1), (36, 1), (3600, 100)), "E")
    111.61
    >>> round(dms_to_degrees((26.0, 25.0, 12.0), "S"), 6)
    -26.42
    """
    degrees, minutes, seconds = (_rational(v) for v in dms)
    value = degrees + minutes / 60 + seconds / 3600
    return -value if (ref or "").strip().upper() in ("S", "W") else value


def _text(value) -> str | None:
    """Return a stripped EXIF string (bytes decoded), or None when blank."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    value = str(value).strip("\x00 ").strip() if value is not None else ""
    return value or None


def parse_exif_time(text: str | None, offset: str | None) -> tuple[datetime | None, bool]:
    """Return the aware capture time and whether the offset was given (else China time).

    >>> moment, given = parse_exif_time("2022:03:01 10:15:00", "-05:00")
    >>> moment.isoformat(), given
    ('2022-03-01T10:15:00-05:00', True)
    >>> parse_exif_time("2022:03:01 10:15:00", None)[0].isoformat()
    '2022-03-01T10:15:00+08:00'
    >>> parse_exif_time("0000:00:00 00:00:00", None)
    (None, False)
    """
    if not text:
        return None, False
    try:
        naive = datetime.strptime(text.strip()[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None, False
    match = _OFFSET.match((offset or "").strip())
    if not match:
        return naive.replace(tzinfo=CHINA_TIME), False
    sign, hours, minutes = match.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    return naive.replace(tzinfo=timezone(-delta if sign == "-" else delta)), True


def _gps(gps: dict, declared_datum: str | None) -> tuple[float | None, float | None, str | None]:
    """Return WGS84 (lon, lat) and the written datum from a GPS IFD, or Nones."""
    if _GPS_LAT not in gps or _GPS_LON not in gps:
        return None, None, None
    lat = dms_to_degrees(gps[_GPS_LAT], _text(gps.get(_GPS_LAT_REF)))
    lon = dms_to_degrees(gps[_GPS_LON], _text(gps.get(_GPS_LON_REF)))
    if not (-180 <= lon <= 180 and -90 <= lat <= 90) or (lon == 0 and lat == 0):
        return None, None, None  # a zeroed or broken fix is no fix
    written = _text(gps.get(_GPS_DATUM))
    datum = (declared_datum or written or "WGS-84").upper().replace(" ", "")
    if datum in GCJ02_NAMES:
        lon, lat = (float(v) for v in gcj02_to_wgs84(lon, lat))
    return lon, lat, written


def read_photo_meta(data: bytes, *, declared_datum: str | None = None) -> PhotoMeta:
    """Read a JPEG/PNG/HEIC/WebP photo's size, capture time, GPS point and software.

    ``declared_datum`` ("GCJ-02") overrides the datum written in the file, for sources known
    to write GCJ-02 without saying so. Raises ``PhotoError`` when the bytes are not an image.
    """
    try:
        image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise PhotoError(f"无法识别为图片：{exc}") from exc
    exif = image.getexif()
    base, details = dict(exif), dict(exif.get_ifd(_IFD_EXIF))
    gps = dict(exif.get_ifd(_IFD_GPS))
    notes = []
    taken, offset_given = parse_exif_time(
        _text(details.get(_TAG_ORIGINAL)), _text(details.get(_TAG_OFFSET_ORIGINAL))
    )
    if taken is None and details.get(_TAG_ORIGINAL):
        notes.append(f"拍摄时间无法识别：{_text(details.get(_TAG_ORIGINAL))}")
    try:
        lon, lat, datum = _gps(gps, declared_datum)
    except (TypeError, ValueError, ZeroDivisionError) as exc:
        lon = lat = datum = None
        notes.append(f"GPS 信息无法识别：{exc}")
    camera = " ".join(filter(None, (_text(base.get(_TAG_MAKE)), _text(base.get(_TAG_MODEL)))))
    return PhotoMeta(
        width=image.width,
        height=image.height,
        format=image.format or "",
        has_exif=bool(base or details or gps),
        taken_at=taken,
        offset_given=offset_given,
        lon=lon,
        lat=lat,
        gps_datum=datum,
        software=_text(base.get(_TAG_SOFTWARE)),
        camera=camera or None,
        notes=tuple(notes),
    )


def distance_to_site_m(lon: float, lat: float, site) -> float:
    """Return the distance in metres (EPSG:4546) from a WGS84 point to a WGS84 geometry (0 inside).

    >>> from shapely import Point, box
    >>> distance_to_site_m(111.6, 26.42, box(111.59, 26.41, 111.61, 26.43))
    0.0
    >>> round(distance_to_site_m(111.6, 26.42, Point(111.6, 26.43)))
    1108
    """
    point = shapely.Point(lon, lat)
    if site.covers(point):
        return 0.0
    return float(to_metric(point).distance(to_metric(site)))
