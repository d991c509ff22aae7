"""Reading where and when a photo was taken from real EXIF blocks (written by piexif)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from shapely import Point, box

from geo.crs import wgs84_to_gcj02
from geo.photo import PhotoError, distance_to_site_m, read_photo_meta
from tests.photo_files import photo

SITE = (111.6123, 26.4345)  # a point in 零陵区


def test_gps_dms_and_capture_time_with_offset():
    """Rational DMS with N/E refs come back as decimal degrees; the offset is kept."""
    data = photo(1, lon=SITE[0], lat=SITE[1], taken=datetime(2022, 3, 1, 10, 15), offset="+08:00",
                 software="HDR+ 1.0")
    meta = read_photo_meta(data)
    assert meta.lon == pytest.approx(SITE[0], abs=1e-7)
    assert meta.lat == pytest.approx(SITE[1], abs=1e-7)
    assert meta.taken_at == datetime(2022, 3, 1, 2, 15, tzinfo=UTC)
    assert meta.offset_given and meta.has_exif and meta.camera == "HUAWEI P40"
    assert meta.software == "HDR+ 1.0" and (meta.width, meta.height) == (640, 480)


def test_southern_and_western_hemispheres_are_negative():
    """S and W references make the angles negative (a photo from abroad must not land here)."""
    meta = read_photo_meta(photo(2, lon=-70.25, lat=-33.5))
    assert (round(meta.lon, 6), round(meta.lat, 6)) == (-70.25, -33.5)


def test_missing_offset_is_china_time():
    """Without OffsetTimeOriginal the camera clock is taken as UTC+8."""
    meta = read_photo_meta(photo(3, taken=datetime(2022, 3, 1, 8, 0)))
    assert meta.taken_at.utcoffset() == timedelta(hours=8) and not meta.offset_given
    assert meta.lon is None


def test_declared_gcj02_is_converted_to_wgs84():
    """A GCJ-02 geotag (written in GPSMapDatum, or declared) is moved back to WGS84."""
    gx, gy = (float(v) for v in wgs84_to_gcj02(*SITE))
    written = read_photo_meta(photo(4, lon=gx, lat=gy, datum="GCJ-02"))
    declared = read_photo_meta(photo(4, lon=gx, lat=gy), declared_datum="GCJ-02")
    raw = read_photo_meta(photo(4, lon=gx, lat=gy))
    for meta in (written, declared):
        assert distance_to_site_m(meta.lon, meta.lat, Point(SITE)) < 1
    assert 300 < distance_to_site_m(raw.lon, raw.lat, Point(SITE)) < 700  # the offset here


def test_no_exif_png_and_heic():
    """A PNG without EXIF says so; a HEIC from a phone is read with its geotag."""
    bare = read_photo_meta(photo(5, fmt="PNG", with_exif=False))
    assert not bare.has_exif and bare.taken_at is None and bare.format == "PNG"
    heic = read_photo_meta(photo(6, fmt="HEIF", lon=SITE[0], lat=SITE[1],
                                 taken=datetime(2022, 5, 2, 9, 0)))
    assert heic.format == "HEIF" and heic.lat == pytest.approx(SITE[1], abs=1e-7)


def test_not_an_image():
    """Bytes that are no picture raise PhotoError (the caller names the file)."""
    with pytest.raises(PhotoError):
        read_photo_meta(b"MZ\x90\x00 this is an exe")


def test_distance_is_metric_and_zero_inside():
    """Inside a polygon is 0 m; 0.01 degree of latitude north is about 1.1 km (EPSG:4546)."""
    area = box(111.61, 26.43, 111.62, 26.44)
    assert distance_to_site_m(*SITE, area) == 0
    assert distance_to_site_m(111.615, 26.45, area) == pytest.approx(1108, abs=5)
