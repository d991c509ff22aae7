"""Datum and CRS conversions: known points in, known points out, against independent code."""

from __future__ import annotations

import eviltransform
import geopandas as gpd
import numpy as np
import pyproj
import pytest
from shapely import Point, box

from geo import crs, gauss_kruger
from geo.errors import UnknownCRS

GEOD = pyproj.Geod(ellps="WGS84")

# real places in Yongzhou (WGS84, approximate town centres) and outside it
PLACES = {
    "永州市政府": (111.6130, 26.4203),
    "冷水滩区": (111.5920, 26.4610),
    "道县县城": (111.6003, 25.5265),
    "江华县城": (111.5790, 25.1846),
    "宁远县城": (111.9460, 25.5704),
    "东安县城": (111.3160, 26.3920),
}
OUTSIDE = {"长沙": (112.9388, 28.2282), "桂林": (110.2900, 25.2736), "巴黎": (2.3522, 48.8566)}

# every Gauss-Kruger variant for the three datums around 111E: (epsg, name part, CM, false easting)
GK_CODES = [
    (4546, "CGCS2000 / 3-degree Gauss-Kruger CM 111E", 111.0, 500_000.0),
    (4525, "CGCS2000 / 3-degree Gauss-Kruger zone 37", 111.0, 37_500_000.0),
    (4508, "CGCS2000 / Gauss-Kruger CM 111E", 111.0, 500_000.0),
    (4497, "CGCS2000 / Gauss-Kruger zone 19", 111.0, 19_500_000.0),
    (2382, "Xian 1980 / 3-degree Gauss-Kruger CM 111E", 111.0, 500_000.0),
    (2361, "Xian 1980 / 3-degree Gauss-Kruger zone 37", 111.0, 37_500_000.0),
    (2344, "Xian 1980 / Gauss-Kruger CM 111E", 111.0, 500_000.0),
    (2333, "Xian 1980 / Gauss-Kruger zone 19", 111.0, 19_500_000.0),
    (2434, "Beijing 1954 / 3-degree Gauss-Kruger CM 111E", 111.0, 500_000.0),
    (2413, "Beijing 1954 / 3-degree Gauss-Kruger zone 37", 111.0, 37_500_000.0),
    (21459, "Beijing 1954 / Gauss-Kruger CM 111E", 111.0, 500_000.0),
    (21419, "Beijing 1954 / Gauss-Kruger zone 19", 111.0, 19_500_000.0),
]


def distance_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Return geodesic distances in metres between two sets of WGS84 points."""
    lon1, lat1, lon2, lat2 = np.broadcast_arrays(
        *(np.asarray(v, float) for v in (lon1, lat1, lon2, lat2))
    )
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def yongzhou_grid(step: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Return a lon/lat grid over the Yongzhou bounding box."""
    w, s, e, n = crs.YONGZHOU_BBOX
    lon, lat = np.meshgrid(np.arange(w, e + 1e-9, step), np.arange(s, n + 1e-9, step))
    return lon.ravel(), lat.ravel()


def test_constants():
    """The storage, metric and datum constants are what the rest of yzmap relies on."""
    assert crs.STORAGE_CRS == "EPSG:4326"
    assert crs.CGCS2000 == "EPSG:4490"
    assert crs.METRIC_CRS == "EPSG:4546"
    assert crs.DATUMS == ("wgs84", "cgcs2000", "gcj02", "bd09")
    assert pyproj.CRS(crs.METRIC_CRS).name == "CGCS2000 / 3-degree Gauss-Kruger CM 111E"


def test_forward_matches_eviltransform_over_yongzhou():
    """WGS84 -> GCJ-02 -> BD-09 agree with eviltransform to 1e-6 degrees on a grid over the city."""
    lon, lat = yongzhou_grid()
    g_lon, g_lat = crs.wgs84_to_gcj02(lon, lat)
    b_lon, b_lat = crs.gcj02_to_bd09(g_lon, g_lat)
    ref_g = np.array([eviltransform.wgs2gcj(y, x) for x, y in zip(lon, lat, strict=True)])
    ref_b = np.array([eviltransform.gcj2bd(y, x) for x, y in zip(g_lon, g_lat, strict=True)])
    err_g = max(np.abs(g_lat - ref_g[:, 0]).max(), np.abs(g_lon - ref_g[:, 1]).max())
    err_b = max(np.abs(b_lat - ref_b[:, 0]).max(), np.abs(b_lon - ref_b[:, 1]).max())
    # eviltransform scales the offset with a = 6378137 where the public formula has 6378245:
    # that is the ~1e-7 deg (1 cm) it differs by
    print(f"vs eviltransform: GCJ-02 {err_g:.1e} deg, BD-09 {err_b:.1e} deg, {lon.size} points")
    assert err_g < 1e-6, f"GCJ-02 max diff {err_g:.2e} deg over {lon.size} points"
    assert err_b < 1e-6, f"BD-09 max diff {err_b:.2e} deg over {lon.size} points"


def test_forward_matches_coordtransform_exactly():
    """coordTransform uses the same Krasovsky constants, so forward results agree to 1e-11 deg.

    Its one-step inverse is not exact: the measured gap shows why ours iterates.
    """
    coordtransform = pytest.importorskip("coordTransform")
    lon, lat = yongzhou_grid()
    g_lon, g_lat = crs.wgs84_to_gcj02(lon, lat)
    b_lon, b_lat = crs.gcj02_to_bd09(g_lon, g_lat)
    ref_g = np.array([coordtransform.wgs84_to_gcj02(x, y) for x, y in zip(lon, lat, strict=True)])
    ref_b = np.array(
        [coordtransform.gcj02_to_bd09(x, y) for x, y in zip(g_lon, g_lat, strict=True)]
    )
    err_g = np.abs(np.column_stack([g_lon, g_lat]) - ref_g).max()
    err_b = np.abs(np.column_stack([b_lon, b_lat]) - ref_b).max()
    print(f"vs coordTransform: GCJ-02 {err_g:.1e} deg, BD-09 {err_b:.1e} deg")
    assert err_g < 1e-11 and err_b < 1e-11, (err_g, err_b)
    one_step = np.array(
        [coordtransform.gcj02_to_wgs84(x, y) for x, y in zip(g_lon, g_lat, strict=True)]
    )
    ours = crs.gcj02_to_wgs84(g_lon, g_lat)
    gap_one_step = distance_m(lon, lat, one_step[:, 0], one_step[:, 1]).max()
    gap_ours = distance_m(lon, lat, *ours).max()
    print(f"GCJ-02 inverse round trip: one-step {gap_one_step:.3f} m, iterative {gap_ours:.1e} m")
    assert gap_ours < 1e-3 < gap_one_step


def test_offset_size_matches_domain_notes():
    """The GCJ-02 offset in Yongzhou is about +0.0052 lon, -0.0036 lat (300-700 m)."""
    lon, lat = yongzhou_grid(0.1)
    g_lon, g_lat = crs.wgs84_to_gcj02(lon, lat)
    shift = distance_m(lon, lat, g_lon, g_lat)
    assert 300 < shift.min() and shift.max() < 700
    assert np.all((g_lon - lon > 0.004) & (g_lon - lon < 0.006))
    assert np.all((g_lat - lat < -0.002) & (g_lat - lat > -0.005))


@pytest.mark.parametrize(
    ("forward", "inverse", "oracle_inverse"),
    [
        (crs.wgs84_to_gcj02, crs.gcj02_to_wgs84, lambda x, y: eviltransform.gcj2wgs_exact(y, x)),
        (crs.gcj02_to_bd09, crs.bd09_to_gcj02, None),
        (crs.wgs84_to_bd09, crs.bd09_to_wgs84, None),
    ],
    ids=["gcj02", "bd09-from-gcj02", "bd09-from-wgs84"],
)
def test_inverse_round_trip_over_yongzhou(forward, inverse, oracle_inverse):
    """Each iterative inverse undoes its forward formula to well under 0.05 m across the city."""
    lon, lat = yongzhou_grid()
    back_lon, back_lat = inverse(*forward(lon, lat))
    err = distance_m(lon, lat, back_lon, back_lat).max()
    print(f"{inverse.__name__}: max round-trip error {err:.2e} m over {lon.size} points")
    assert err < 1e-3, f"{inverse.__name__} max round-trip error {err:.3e} m"
    if oracle_inverse is not None:
        # eviltransform's own exact inverse stops at 1e-6 deg, so compare at that level
        ref = np.array([oracle_inverse(x, y) for x, y in zip(*forward(lon, lat), strict=True)])
        diff = distance_m(back_lon, back_lat, ref[:, 1], ref[:, 0]).max()
        assert diff < 0.5, f"differs from eviltransform.gcj2wgs_exact by {diff:.3f} m"


@pytest.mark.parametrize("name", PLACES)
@pytest.mark.parametrize(
    ("datum", "forward", "inverse"),
    [
        ("gcj02", crs.wgs84_to_gcj02, crs.gcj02_to_wgs84),
        ("bd09", crs.wgs84_to_bd09, crs.bd09_to_wgs84),
    ],
)
def test_real_places_round_trip_obfuscated(name, datum, forward, inverse):
    """Real places go to GCJ-02/BD-09 and back onto the same spot within 0.5 m."""
    lon, lat = PLACES[name]
    o_lon, o_lat = forward(lon, lat)
    assert distance_m(lon, lat, o_lon, o_lat) > 300  # really moved
    assert distance_m(lon, lat, *inverse(o_lon, o_lat)) < 0.5
    assert distance_m(lon, lat, *crs.to_wgs84(o_lon, o_lat, datum=datum)) < 0.5


@pytest.mark.parametrize(("epsg", "name", "central", "false_easting"), GK_CODES)
def test_gk_codes_match_pyproj_database(epsg, name, central, false_easting):
    """Every Gauss-Kruger code used here is what pyproj's EPSG database says it is."""
    c = pyproj.CRS.from_epsg(epsg)
    params = {p.name: p.value for p in c.coordinate_operation.params}
    assert c.name == name
    assert params["Longitude of natural origin"] == central
    assert params["False easting"] == false_easting
    system = next(s for s in gauss_kruger.gk_systems() if s.epsg == epsg)
    assert system.central_meridian == central
    assert (system.zone is not None) == (false_easting > 1e6)


def test_gk_systems_cover_three_datums_four_variants():
    """For CM 111E each datum has 3-degree and 6-degree, with and without the zone prefix."""
    around = [s for s in gauss_kruger.gk_systems() if s.central_meridian == 111.0]
    assert {(s.datum, s.width, s.zone is not None) for s in around} == {
        (d, w, p)
        for d in ("cgcs2000", "xian1980", "beijing1954")
        for w in (3, 6)
        for p in (True, False)
    }


@pytest.mark.parametrize("name", PLACES)
@pytest.mark.parametrize("epsg", [code for code, *_ in GK_CODES])
def test_real_places_round_trip_gauss_kruger(name, epsg):
    """Real places projected with pyproj come back through to_wgs84 within 0.05 m."""
    lon, lat = PLACES[name]
    east, north = pyproj.Transformer.from_crs(4326, epsg, always_xy=True).transform(lon, lat)
    assert (east > 1e7) == (epsg in (4525, 4497, 2361, 2333, 2413, 21419))
    back = crs.to_wgs84(east, north, crs=f"EPSG:{epsg}")
    err = distance_m(lon, lat, *back)
    assert err < 0.05, f"EPSG:{epsg} round trip {err:.4f} m"
    assert crs.to_wgs84(east, north, crs=epsg) == back


def test_conversions_keep_shape_and_scalars():
    """Scalars give floats and arrays keep their shape."""
    lon = np.full((2, 3), 111.6)
    lat = np.full((2, 3), 26.4)
    for func in (crs.wgs84_to_gcj02, crs.gcj02_to_wgs84, crs.wgs84_to_bd09, crs.bd09_to_wgs84):
        out_lon, out_lat = func(lon, lat)
        assert out_lon.shape == out_lat.shape == (2, 3)
        s_lon, s_lat = func(111.6, 26.4)
        assert type(s_lon) is float and type(s_lat) is float
        assert s_lon == pytest.approx(out_lon[0, 0], abs=1e-12)


@pytest.mark.parametrize("name", OUTSIDE)
def test_outside_china_is_unchanged_and_outside_city(name):
    """Outside China every conversion is the identity; outside the city the bbox test says so."""
    lon, lat = OUTSIDE[name]
    assert not crs.in_yongzhou_bbox(lon, lat)
    if crs.out_of_china(lon, lat):
        for func in (crs.wgs84_to_gcj02, crs.gcj02_to_wgs84, crs.wgs84_to_bd09, crs.bd09_to_wgs84):
            assert func(lon, lat) == (lon, lat)


def test_out_of_china_array_matches_eviltransform():
    """The out-of-China rectangle is the usual one, point by point."""
    lon = np.array([72.0, 72.01, 137.83, 137.84, 111.6, 111.6, 111.6])
    lat = np.array([30.0, 30.0, 30.0, 30.0, 0.82, 0.83, 55.83])
    expected = [eviltransform.outOfChina(y, x) for x, y in zip(lon, lat, strict=True)]
    assert crs.out_of_china(lon, lat).tolist() == expected


def test_yongzhou_bbox_holds_every_place():
    """All real places are inside the padded city box, in array form too."""
    lon, lat = np.array(list(PLACES.values())).T
    assert crs.in_yongzhou_bbox(lon, lat).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"datum": "wgs1984x"}, "wgs1984x"),
        ({"datum": "gcj"}, "gcj"),
        ({"crs": "EPSG:999999"}, "999999"),
        ({"crs": "utm50"}, "utm50"),
        ({"crs": "EPSG:4546", "datum": "gcj02"}, "gcj02"),
    ],
)
def test_to_wgs84_rejects_unknown_datum_or_crs(kwargs, message):
    """Unknown datums and CRSs raise UnknownCRS naming the value."""
    with pytest.raises(UnknownCRS, match=message):
        crs.to_wgs84(111.6, 26.4, **kwargs)


@pytest.mark.parametrize("datum", ["wgs84", "cgcs2000", "WGS84", "CGCS2000"])
def test_to_wgs84_passes_storage_datums_through(datum):
    """WGS84 and CGCS2000 input is the storage datum already."""
    assert crs.to_wgs84(111.6, 26.4, datum=datum) == (111.6, 26.4)


def test_to_wgs84_accepts_pyproj_crs_and_geographic_epsg():
    """A pyproj CRS object and geographic EPSG:4490 both work."""
    lon, lat = crs.to_wgs84(573_000.0, 2_923_000.0, crs=pyproj.CRS.from_epsg(4546))
    assert crs.in_yongzhou_bbox(lon, lat)
    assert distance_m(111.6, 26.4, *crs.to_wgs84(111.6, 26.4, crs="EPSG:4490")) < 0.01


@pytest.mark.parametrize("name", PLACES)
@pytest.mark.parametrize(
    ("epsg", "hint", "expected"),
    [
        (4546, "cgcs2000", ["EPSG:4546", "EPSG:4508"]),
        (4525, "cgcs2000", ["EPSG:4525"]),
        (4497, "cgcs2000", ["EPSG:4497"]),
        (2382, "xian1980", ["EPSG:2382", "EPSG:2344"]),
        (2413, "beijing1954", ["EPSG:2413"]),
    ],
)
def test_detect_projected_crs_finds_the_system(name, epsg, hint, expected):
    """Metre coordinates of real places yield the right system first, landing in Yongzhou."""
    lon, lat = PLACES[name]
    east, north = pyproj.Transformer.from_crs(4326, epsg, always_xy=True).transform(lon, lat)
    found = gauss_kruger.detect_projected_crs(east, north, datum_hint=hint)
    assert [c.crs for c in found if c.in_yongzhou] == expected
    assert found.guessed
    best = found.best_in_yongzhou()
    assert best.crs == f"EPSG:{epsg}" and not best.swapped
    assert distance_m(lon, lat, best.lon, best.lat) < 0.05
    assert best.crs in found.message


def test_detect_projected_crs_without_hint_is_ambiguous_between_datums():
    """Numbers cannot tell CGCS2000 from Xian 1980: all three datums are offered, CGCS2000 first."""
    east, north = 573_000.0, 2_923_000.0
    found = gauss_kruger.detect_projected_crs(east, north)
    inside = [c for c in found if c.in_yongzhou]
    assert [c.system.datum for c in inside[:2]] == ["cgcs2000", "cgcs2000"]
    assert {c.system.datum for c in inside} == {"cgcs2000", "xian1980", "beijing1954"}
    assert found.best_in_yongzhou() is None
    assert "--crs" in found.message
    # cm 108E and 114E are offered too but put the point outside the city
    outside = {c.system.central_meridian for c in found if not c.in_yongzhou}
    assert outside == {105.0, 108.0, 114.0, 117.0}


def test_detect_projected_crs_swapped_columns():
    """Survey order (X = northing first) is detected and reported as swapped."""
    east, north = pyproj.Transformer.from_crs(4326, 4546, always_xy=True).transform(
        *PLACES["道县县城"]
    )
    found = gauss_kruger.detect_projected_crs(north, east, datum_hint="cgcs2000")
    best = found.best_in_yongzhou()
    assert best.swapped and best.crs == "EPSG:4546"
    assert distance_m(*PLACES["道县县城"], best.lon, best.lat) < 0.05


def test_detect_projected_crs_on_a_column():
    """A whole column is judged together; the share inside the city is reported."""
    lon, lat = np.array(list(PLACES.values())).T
    east, north = pyproj.Transformer.from_crs(4326, 4525, always_xy=True).transform(lon, lat)
    east = np.append(east, np.nan)
    north = np.append(north, np.nan)
    found = gauss_kruger.detect_projected_crs(east, north, datum_hint="cgcs2000")
    assert found[0].crs == "EPSG:4525" and found[0].share_in_yongzhou == 1.0


@pytest.mark.parametrize(
    ("x", "y"),
    [
        (5_730_000.0, 2_923_000.0),  # 7 digits: neither plain nor prefixed
        (-573_000.0, 2_923_000.0),
        (573_000.0, 9_923_000.0),  # northing beyond China
        ([37_573_000.0, 38_573_000.0], [2_923_000.0, 2_923_000.0]),  # mixed zones
        (np.nan, np.nan),
    ],
)
def test_detect_projected_crs_finds_nothing_for_implausible_numbers(x, y):
    """Numbers no Gauss-Kruger system can produce give an empty result with a reason."""
    found = gauss_kruger.detect_projected_crs(x, y, datum_hint="cgcs2000")
    assert found == [] and found.best_in_yongzhou() is None
    assert found.message


def test_detect_projected_crs_rejects_unknown_hint():
    """An unknown datum hint is an error naming it."""
    with pytest.raises(UnknownCRS, match="gcj02"):
        gauss_kruger.detect_projected_crs(573_000.0, 2_923_000.0, datum_hint="gcj02")


def test_metric_round_trip_and_area_agree_with_geodesic():
    """A 1 km-ish square measured in EPSG:4546 and on the ellipsoid agree to 0.1 %."""
    square = box(111.60, 26.40, 111.61, 26.41)
    metric = crs.to_metric(square)
    assert metric.area == pytest.approx(crs.geodesic_area_m2(square), rel=1e-3)
    assert metric.length == pytest.approx(crs.geodesic_length_m(square), rel=1e-3)
    back = crs.from_metric(metric)
    assert np.allclose(
        np.asarray(back.exterior.coords), np.asarray(square.exterior.coords), atol=1e-9
    )


def test_geodesic_area_handles_holes_and_orientation():
    """Holes are subtracted whatever the ring orientation; lines and points have no area."""
    outer = box(111.0, 26.0, 111.1, 26.1)
    hole = box(111.02, 26.02, 111.05, 26.05)
    with_hole = outer.difference(hole)
    expected = crs.geodesic_area_m2(outer) - crs.geodesic_area_m2(hole)
    assert crs.geodesic_area_m2(with_hole) == pytest.approx(expected, rel=1e-9)
    assert crs.geodesic_area_m2(box(111.0, 26.0, 111.1, 26.1, ccw=False)) == pytest.approx(
        crs.geodesic_area_m2(outer)
    )
    assert crs.geodesic_area_m2(Point(111, 26)) == 0.0


def test_metric_of_wgs84_geopandas_is_what_to_crs_gives():
    """WGS84 GeoSeries and GeoDataFrames go through the cached transformer: same coordinates,
    index, names and other columns as GeoPandas' ``to_crs``, the input left untouched."""
    geoms = [Point(111.6, 26.4), box(111.0, 25.0, 111.2, 25.3), None, Point()]
    frame = gpd.GeoDataFrame({"name": list("abcd")}, index=[7, 3, 5, 1], crs=crs.STORAGE_CRS,
                             geometry=geoms).rename_geometry("shape")  # fmt: skip
    for obj in (frame, frame.geometry):
        got, want = crs.to_metric(obj), obj.to_crs(crs.METRIC_CRS)
        assert type(got) is type(want) and got.crs.equals(want.crs)
        assert got.index.tolist() == want.index.tolist()
        assert got.geometry.name == want.geometry.name == "shape"
        assert all(g.equals_exact(w, 0) if w is not None else g is None
                   for g, w in zip(got.geometry, want.geometry, strict=True))  # fmt: skip
    metric = frame.to_crs(crs.METRIC_CRS)
    back, want = crs.from_metric(metric), metric.to_crs(crs.STORAGE_CRS)
    assert back.crs.equals(want.crs) and back.index.tolist() == want.index.tolist()
    assert all(g.equals_exact(w, 0) if w is not None else g is None
               for g, w in zip(back.geometry, want.geometry, strict=True))  # fmt: skip
    assert crs.to_metric(frame)["name"].tolist() == list("abcd")
    assert frame.crs.equals(crs.STORAGE_CRS) and frame.geometry.iloc[0].x == 111.6


def test_metric_on_geodataframe():
    """GeoDataFrames are reprojected with to_crs and must carry a CRS."""
    frame = gpd.GeoDataFrame({"name": ["a"]}, geometry=[Point(111.6, 26.4)], crs=crs.STORAGE_CRS)
    metric = crs.to_metric(frame)
    assert metric.crs.to_epsg() == 4546
    assert crs.from_metric(metric).geometry.iloc[0].equals_exact(Point(111.6, 26.4), 1e-9)
    with pytest.raises(UnknownCRS):
        crs.to_metric(gpd.GeoSeries([Point(111.6, 26.4)]))
