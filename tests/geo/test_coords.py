"""Reading typed coordinates: angles, swapped pairs, datums, metres, empty and garbage cells."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import pytest

from geo.coords import PointResult, normalise_point, normalise_points, parse_angle
from geo.crs import wgs84_to_bd09, wgs84_to_gcj02
from geo.errors import InvalidCoordinates, UnknownCRS

DATA = Path(__file__).resolve().parent.parent / "data"
GEOD = pyproj.Geod(ellps="WGS84")
CITY_HALL = (111.6130, 26.4203)
DAOXIAN = (111.6003, 25.5265)


def distance_m(lon1, lat1, lon2, lat2):
    """Return the geodesic distance in metres between two WGS84 points (or arrays of them)."""
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def project(epsg: int, lon: float, lat: float) -> tuple[float, float]:
    """Return pyproj's easting, northing of a WGS84 point in ``epsg``."""
    return pyproj.Transformer.from_crs(4326, epsg, always_xy=True).transform(lon, lat)


@pytest.mark.parametrize(
    ("text", "axis", "expected"),
    [
        ("111.6035", None, 111.6035),
        ("111.6035°E", "lon", 111.6035),
        ("E111.6035", None, 111.6035),
        ("e 111.6035", None, 111.6035),
        ("东经111.6035", "lon", 111.6035),
        ("111°36′12″E", None, 111 + 36 / 60 + 12 / 3600),
        ("26°12'30\"N", "lat", 26 + 12 / 60 + 30 / 3600),
        ("111 36 12.5", None, 111 + 36 / 60 + 12.5 / 3600),
        ("111:36:12.5", None, 111 + 36 / 60 + 12.5 / 3600),
        ("111度36分12秒", None, 111 + 36 / 60 + 12 / 3600),
        ("111°36'12''", None, 111 + 36 / 60 + 12 / 3600),
        ("111º36’12”", None, 111 + 36 / 60 + 12 / 3600),
        ("26°12.5'", None, 26 + 12.5 / 60),
        ('26°30"', None, 26 + 30 / 3600),
        ("１１１°３６′１２″Ｅ", None, 111 + 36 / 60 + 12 / 3600),
        ("北纬２６．４２", None, 26.42),
        ("  26.42N， ", None, 26.42),
        ("33°51'S", "lat", -33.85),
        ("W 73.5", None, -73.5),
        ("西经73度30分", "lon", -73.5),
        ("南纬33.85", None, -33.85),
        ("-26.5", "lat", -26.5),
        ("+111", None, 111.0),
        ("180", "lon", 180.0),
        (111.6, None, 111.6),
        (26, "lat", 26.0),
    ],
)
def test_parse_angle_reads_typed_forms(text, axis, expected):
    """Decimal, DMS and DM strings in ASCII, typographic, Chinese and full-width forms."""
    assert parse_angle(text, axis=axis) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("text", "axis", "message"),
    [
        ("", None, "为空"),
        ("   ", None, "为空"),
        (None, None, "为空"),
        ("abc", None, "abc"),
        ("111°61'", None, "分数 61"),
        ("26°12'60\"", None, "秒数 60"),
        ("181", None, "181"),
        ("N91", None, "N91"),
        ("91", "lat", "91"),
        ("111.5°30'", None, "小数"),
        ("111°E°", None, "111°E°"),
        ("E111N", None, "E111N"),
        ("-26S", None, "-26S"),
        ("111E", "lat", "经度"),
        ("26N", "lon", "纬度"),
        ("1e3", None, "1e3"),
        ("26°12'30\"40", None, "26°12'30\"40"),
        ("26'12°", None, "顺序"),
        ("12'", None, "度数"),
        ("111,6035", None, "111,6035"),
    ],
)
def test_parse_angle_rejects_garbage(text, axis, message):
    """Empty, unreadable and out-of-range text raises InvalidCoordinates quoting it."""
    with pytest.raises(InvalidCoordinates, match=re.escape(message)):
        parse_angle(text, axis=axis)


def test_swapped_degrees_are_swapped_back_and_flagged():
    """Latitude typed first, by range or by hemisphere mark, is swapped and flagged."""
    for x, y in [(26.4203, 111.6130), ("26.4203", "111.6130"), ("N26.4203", "E111.6130")]:
        result = normalise_point(x, y)
        assert (result.lon, result.lat) == pytest.approx(CITY_HALL)
        assert result.flags == ["coordinates_swapped"] and result.error is None


def test_swapped_far_away_is_swapped_but_not_moved_in():
    """|x| <= 90 < |y| is a swap anywhere (here Chengdu); the point stays where it is."""
    result = normalise_point(30.66, 104.06)
    assert (result.lon, result.lat) == (104.06, 30.66)
    assert result.flags == ["coordinates_swapped"]


@pytest.mark.parametrize(("datum", "forward"), [("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)])
@pytest.mark.parametrize("place", [CITY_HALL, DAOXIAN])
def test_obfuscated_datums_are_converted_and_flagged(datum, forward, place):
    """GCJ-02 and BD-09 input comes back to the WGS84 spot within 0.5 m and is flagged."""
    result = normalise_point(*forward(*place), datum=datum)
    assert distance_m(*place, result.lon, result.lat) < 0.5
    assert result.flags == ["datum_converted"]


def test_outside_china_obfuscated_datum_is_untouched():
    """GCJ-02 is the identity outside China: no conversion, no flag."""
    assert normalise_point(2.35, 48.85, datum="gcj02") == PointResult(2.35, 48.85)


@pytest.mark.parametrize("datum", ["wgs84", "gcj02"])
def test_far_outside_the_city_is_returned_as_is(datum):
    """Changsha stays in Changsha: nothing pulls a point into Yongzhou."""
    result = normalise_point(112.9388, 28.2282, datum=datum)
    assert result.error is None
    assert distance_m(112.9388, 28.2282, result.lon, result.lat) < (1 if datum == "wgs84" else 800)
    assert result.lat > 28


@pytest.mark.parametrize(
    "epsg", [4546, 4525, 4508, 4497, 2382, 2361, 2344, 2333, 2434, 2413, 21459, 21419]
)
def test_declared_projected_crs_round_trips(epsg):
    """Metres in each declared Gauss-Kruger variant come back within 0.05 m, in either order."""
    east, north = project(epsg, *DAOXIAN)
    for x, y, flags in [(east, north, []), (north, east, ["coordinates_swapped"])]:
        result = normalise_point(x, y, crs=f"EPSG:{epsg}")
        assert distance_m(*DAOXIAN, result.lon, result.lat) < 0.05
        assert result.flags == flags and result.note == ""


@pytest.mark.parametrize(
    ("epsg", "swap", "named"),
    [
        (4546, False, "EPSG:4546"),
        (4525, False, "EPSG:4525"),
        (4497, False, "EPSG:4497"),
        (4546, True, "EPSG:4546"),
    ],
)
def test_metres_without_crs_are_guessed_only_when_unambiguous(epsg, swap, named):
    """Undeclared CGCS2000 metres are accepted when one reading lands in the city, with a note."""
    east, north = project(epsg, *CITY_HALL)
    x, y = (north, east) if swap else (east, north)
    result = normalise_point(x, y)
    assert distance_m(*CITY_HALL, result.lon, result.lat) < 0.05
    assert named in result.note and "请确认" in result.note
    assert result.flags == (["coordinates_swapped"] if swap else [])


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        (573_000, 3_923_000, "EPSG:4546"),  # lands in Hubei under every candidate
        (5_730_000, 2_923_000, "无"),  # seven-digit easting: no system fits
        (500, 500, "--crs"),
    ],
)
def test_metres_without_crs_that_do_not_land_in_the_city_are_errors(x, y, message):
    """Undeclared metres that land nowhere near Yongzhou get an error naming the candidates."""
    result = normalise_point(x, y)
    assert np.isnan(result.lon) and np.isnan(result.lat)
    assert message in result.error and f"{x}" in result.error


@pytest.mark.parametrize(
    ("x", "y", "kwargs", "message"),
    [
        ("", "26.4", {}, "为空"),
        (None, None, {}, "为空"),
        (float("nan"), 26.4, {}, "为空"),
        ("abc", "26.4", {}, "「abc」"),
        ("111.6", "26°75'", {}, "分数 75"),
        (100.0, 95.0, {}, "95"),
        ("inf", "26.4", {}, "inf"),
        (111.6, 26.4, {"crs": "EPSG:4546"}, "投影坐标系"),
        (573_000, 2_923_000, {"datum": "gcj02"}, "gcj02"),
    ],
)
def test_bad_rows_carry_an_error(x, y, kwargs, message):
    """Empty, garbage and impossible values give an error naming the value, never an exception."""
    result = normalise_point(x, y, **kwargs)
    assert result.error is not None and message in result.error
    assert np.isnan(result.lon)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"datum": "wgs1984x"}, "wgs1984x"),
        ({"crs": "utm50"}, "utm50"),
        ({"crs": 999999}, "999999"),
        ({"crs": 4490, "datum": "bd09"}, "bd09"),
    ],
)
def test_bad_arguments_raise(kwargs, message):
    """An unknown datum or CRS is the caller's mistake: it raises instead of failing every row."""
    with pytest.raises(UnknownCRS, match=message):
        normalise_points([111.6], [26.4], **kwargs)


def test_geographic_crs_is_accepted():
    """A declared geographic CRS (CGCS2000, EPSG:4490) is read as degrees, no datum flag."""
    result = normalise_point(111.6, 26.4, crs="EPSG:4490")
    assert distance_m(111.6, 26.4, result.lon, result.lat) < 0.01
    assert result.flags == [] and result.error is None


def test_column_lengths_must_match():
    """Columns of different length are an error naming both columns."""
    with pytest.raises(InvalidCoordinates, match="经度.*纬度"):
        normalise_points([1.0, 2.0], [3.0], x_name="经度", y_name="纬度")


def test_error_names_the_column():
    """A bad cell's error names the column it came from."""
    out = normalise_points(["111.6", "东经abc"], ["26.4", "26.4"], x_name="经度", y_name="纬度")
    assert out.errors[0] is None
    assert out.errors[1].startswith("经度 列") and "东经abc" in out.errors[1]


def test_nullable_columns_read_missing_as_empty():
    """pandas nullable dtypes (Int64, string) with NA cells give "empty" errors, not garbage."""
    xs = pd.Series([573_000, None, 111], dtype="Int64")
    ys = pd.Series(["2923000", pd.NA, "26°25′"], dtype="string")
    out = normalise_points(xs, ys)
    assert out.errors[1] == "坐标为空"
    assert out.errors[0] is None and out.errors[2] is None
    assert out.lat[2] == pytest.approx(26 + 25 / 60)


def test_numeric_fast_path_equals_string_path():
    """A float column and the same values as strings give identical results."""
    rng = np.random.default_rng(7)
    lon = rng.uniform(111.1, 112.3, 500)
    lat = rng.uniform(24.7, 26.8, 500)
    fast = normalise_points(lon, lat, datum="gcj02")
    slow = normalise_points(
        [repr(float(v)) for v in lon], np.array([repr(float(v)) for v in lat]), datum="gcj02"
    )
    assert np.array_equal(fast.lon, slow.lon) and np.array_equal(fast.lat, slow.lat)
    assert fast.flags == slow.flags == [["datum_converted"]] * 500


def test_mixed_column_matches_row_by_row():
    """normalise_points on a mixed column equals normalise_point on each row."""
    east, north = project(4546, *CITY_HALL)
    xs = ["111.61", "26°25'N", "", "abc", east, north, 112.9, "１１１．６"]
    ys = ["26.42", "111°36'E", "", "1", north, east, 28.2, "２６．４"]
    column = normalise_points(xs, ys)
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        single = normalise_point(x, y)
        row = column.row(i)
        assert (row.flags, row.note, row.error) == (single.flags, single.note, single.error)
        assert np.allclose([row.lon, row.lat], [single.lon, single.lat], equal_nan=True)
    assert len(column) == len(xs)


def test_typed_csv_lands_on_the_spot():
    """Every row of a real CSV with Chinese headers lands on its place (or carries an error).

    Tolerance: 0.5 m for GCJ-02/BD-09 (typed to 7 decimals), 0.05 m for the rest.
    """
    frame = pd.read_csv(
        DATA / "coords_typed.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig"
    )
    checked = 0
    for (datum, crs), group in frame.groupby(["基准", "坐标系"], sort=False):
        out = normalise_points(
            group["X"], group["Y"], datum=datum, crs=crs or None, x_name="X", y_name="Y"
        )
        for i, (_, row) in enumerate(group.iterrows()):
            if not row["真值经度"]:
                assert out.errors[i], f"{row['X']!r},{row['Y']!r} should be an error"
                continue
            assert out.errors[i] is None, out.errors[i]
            err = distance_m(float(row["真值经度"]), float(row["真值纬度"]), out.lon[i], out.lat[i])
            tolerance = 0.5 if datum in ("gcj02", "bd09") else 0.05
            assert err < tolerance, f"{row.to_dict()} off by {err:.3f} m"
            expected_flags = [f for f in row["期望标记"].split(";") if f]
            assert out.flags[i] == expected_flags, row.to_dict()
            checked += 1
    assert checked == len(frame) - 4
