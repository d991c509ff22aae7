"""Real photo files for the evidence tests: Pillow pixels with EXIF blocks written by piexif.

Each picture is a smooth random scene drawn from a seed (different seeds give pHashes about 32
bits apart; the same seed re-saved at another quality stays within a few bits), with the GPS
position as EXIF rationals (degrees, minutes, seconds and N/S/E/W), the capture time with an
optional offset, and an optional Software tag. Nothing here is downloaded: files are made fresh.
"""

from __future__ import annotations

import io
from datetime import datetime

import numpy as np
import piexif
from PIL import Image


def _dms(value: float) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """Return EXIF rationals for an unsigned angle in degrees."""
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60 * 10000)
    return (degrees, 1), (minutes, 1), (seconds, 10000)


def scene(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """Return a smooth random RGB picture for ``seed``."""
    rng = np.random.default_rng(seed)
    small = Image.fromarray((rng.random((6, 8, 3)) * 255).astype("uint8"))
    return small.resize(size, Image.BICUBIC)


def exif_bytes(
    *,
    lon: float | None = None,
    lat: float | None = None,
    taken: datetime | None = None,
    offset: str | None = None,
    software: str | None = None,
    datum: str | None = None,
) -> bytes:
    """Return an EXIF block with the given GPS position, capture time and software."""
    zeroth = {piexif.ImageIFD.Make: b"HUAWEI", piexif.ImageIFD.Model: b"P40"}
    if software:
        zeroth[piexif.ImageIFD.Software] = software.encode()
    exif = {}
    if taken is not None:
        exif[piexif.ExifIFD.DateTimeOriginal] = taken.strftime("%Y:%m:%d %H:%M:%S").encode()
    if offset:
        exif[piexif.ExifIFD.OffsetTimeOriginal] = offset.encode()
    gps = {}
    if lon is not None and lat is not None:
        gps = {
            piexif.GPSIFD.GPSLatitudeRef: b"N" if lat >= 0 else b"S",
            piexif.GPSIFD.GPSLatitude: _dms(lat),
            piexif.GPSIFD.GPSLongitudeRef: b"E" if lon >= 0 else b"W",
            piexif.GPSIFD.GPSLongitude: _dms(lon),
            piexif.GPSIFD.GPSAltitude: (1234, 10),  # ignored by the reader
        }
        if datum:
            gps[piexif.GPSIFD.GPSMapDatum] = datum.encode()
    return piexif.dump({"0th": zeroth, "Exif": exif, "GPS": gps})


def photo(seed: int, fmt: str = "JPEG", quality: int = 90, with_exif: bool = True, **exif) -> bytes:
    """Return the bytes of a photo in ``fmt`` (JPEG, PNG, HEIF) with the EXIF described."""
    image = scene(seed)
    out = io.BytesIO()
    options = {"quality": quality} if fmt in ("JPEG", "HEIF") else {}
    if fmt == "HEIF":
        from pillow_heif import register_heif_opener

        register_heif_opener()
    if with_exif:
        options["exif"] = exif_bytes(**exif)
    image.save(out, fmt, **options)
    return out.getvalue()


def resave(data: bytes, quality: int) -> bytes:
    """Return a photo decoded and saved again as JPEG at another quality, keeping no EXIF."""
    out = io.BytesIO()
    Image.open(io.BytesIO(data)).convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()
