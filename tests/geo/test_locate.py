"""locate_record / locate_frame on the shipped county layer and on the synthetic layers."""

from __future__ import annotations

import eviltransform
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from geo.boundaries import load_shipped
from geo.bulk_locate import locate_frame
from geo.locate import OUTPUT_COLUMNS, locate_record, resolve_county

# county seats, WGS84, read off public maps (town centres, well inside their counties)
SEATS = {
    "431102": ("零陵区", 111.6265, 26.2213), "431103": ("冷水滩区", 111.592, 26.461),
    "431181": ("祁阳市", 111.840, 26.580), "431122": ("东安县", 111.316, 26.392),
    "431123": ("双牌县", 111.660, 25.960), "431124": ("道县", 111.600, 25.527),
    "431125": ("江永县", 111.343, 25.273), "431126": ("宁远县", 111.946, 25.570),
    "431127": ("蓝山县", 112.196, 25.370), "431128": ("新田县", 112.203, 25.906),
    "431129": ("江华瑶族自治县", 111.579, 25.185),
}
OUTSIDE = {"长沙": (112.94, 28.23), "桂林": (110.29, 25.27), "郴州": (113.01, 25.77),
           "邵阳": (111.47, 27.24)}


@pytest.fixture(scope="module")
def shipped():
    """The shipped boundary layers (loaded once for the module)."""
    return load_shipped()


def _inputs(lon: float, lat: float) -> dict[str, dict]:
    """The same place written as WGS84, GCJ-02 and BD-09 (eviltransform) and CGCS2000 GK metres."""
    glat, glon = eviltransform.wgs2gcj(lat, lon)
    blat, blon = eviltransform.wgs2bd(lat, lon)
    east, north = Transformer.from_crs(4326, 4546, always_xy=True).transform(lon, lat)
    return {"wgs84": {"x": lon, "y": lat}, "gcj02": {"x": glon, "y": glat, "datum": "gcj02"},
            "bd09": {"x": blon, "y": blat, "datum": "bd09"},
            "gk": {"x": east, "y": north, "crs": "EPSG:4546"},
            "gk-prefixed": {"x": 37_000_000 + east, "y": north}}


@pytest.mark.parametrize("code", sorted(SEATS))
def test_county_seats_in_every_datum_land_in_their_county(shipped, code):
    """Each seat lands in its county, back on the same spot, whatever datum it is typed in."""
    name, lon, lat = SEATS[code]
    for kind, args in _inputs(lon, lat).items():
        att = locate_record(shipped, **args)
        assert (att.county_code, att.county_name) == (code, name), kind
        tol = 0.05 if kind.startswith("gk") else 0.5
        assert abs(att.lon - lon) * 100_000 < tol and abs(att.lat - lat) * 110_000 < tol, kind
        assert att.confidence == 0.98 and att.precision == "coordinates"
        assert ("datum_converted" in att.flags) is (kind in ("gcj02", "bd09")), kind
        assert any("县界图层（版本 shipped:" in e for e in att.evidence)


@pytest.mark.parametrize("place", sorted(OUTSIDE))
def test_places_outside_the_city_have_no_county(shipped, place):
    """Neighbouring cities are flagged outside_city, never forced into a county."""
    att = locate_record(shipped, x=OUTSIDE[place][0], y=OUTSIDE[place][1])
    assert att.county_code is None and att.county_name is None
    assert att.flags == ["outside_city"] and att.confidence == 0.0


def test_declared_county_aliases_and_mismatch(shipped):
    """Old names, codes and short forms resolve; a different declared county is flagged."""
    assert resolve_county(shipped, "祁阳县") == resolve_county(shipped, 431121) == "431181"
    assert resolve_county(shipped, "永州市江华县") == "431129"
    assert resolve_county(shipped, "431102.0") == "431102"
    assert resolve_county(shipped, "新宁县") is None
    _, lon, lat = SEATS["431181"]
    assert locate_record(shipped, x=lon, y=lat, declared_county="祁阳县").flags == []
    att = locate_record(shipped, x=lon, y=lat, declared_county="东安县")
    assert att.flags == ["declared_mismatch"] and att.county_name == "祁阳市"
    att = locate_record(shipped, declared_county="江华县")
    assert (att.county_code, att.precision, att.confidence) == ("431129", "county", 0.5)


def test_locate_frame_columns_and_bad_rows(shipped):
    """Output = input columns then OUTPUT_COLUMNS; bad rows keep their place with an error."""
    df = pd.DataFrame({
        "经度": ["111°35′31.2″E", "", "东经111.6", "abc", "26.461", "112.94", None],
        "纬度": ["26°27′39.6″N", "", "91", "26.2", "111.592", "28.23", None],
        "lon": ["keep"] * 7,
    })
    out = locate_frame(df, shipped, lon_col="经度", lat_col="纬度")
    assert list(out.columns) == ["经度", "纬度", "lon_input", *OUTPUT_COLUMNS]
    assert out["county_name"].tolist() == ["冷水滩区", None, None, None, "冷水滩区", None, None]
    assert out["flags"].tolist() == ["", "", "", "", "coordinates_swapped", "outside_city", ""]
    errors = out["error"].tolist()
    assert errors[0] is None and errors[1] == errors[6] == "没有坐标或地址"
    assert "纬度" in errors[2] and "经度" in errors[3] and "abc" in errors[3]
    assert out["lon"].iat[0] == round(111 + 35 / 60 + 31.2 / 3600, 7)
    assert out["confidence"].tolist()[:5] == [0.98, 0.0, 0.0, 0.0, 0.88]


def test_locate_frame_projected_columns_and_progress(shipped):
    """GK metres with a declared CRS are placed; progress is reported per chunk."""
    east, north = Transformer.from_crs(4326, 4546, always_xy=True).transform(
        [SEATS["431124"][1], SEATS["431126"][1]], [SEATS["431124"][2], SEATS["431126"][2]])
    df = pd.DataFrame({"X": east, "Y": north})
    done = []
    out = locate_frame(df, shipped, x_col="X", y_col="Y", crs="EPSG:4546", progress=done.append)
    assert out["county_name"].tolist() == ["道县", "宁远县"] and done == [2]


def test_locate_frame_synthetic_zone_township_and_border(synthetic_layers):
    """On synthetic layers the frame carries township, reserve zone and near-border candidates."""
    df = pd.DataFrame({"x": [111.651, 111.6015], "y": [26.051, 26.05], "县": ["乙县", "甲县"]})
    out = locate_frame(df, synthetic_layers, x_col="x", y_col="y", county_col="县")
    assert out["township_name"].tolist() == ["乙东乡", "乙西乡"]
    assert out["protected_area"].tolist() == ["示例自然保护区", None]
    assert out["zone"].tolist() == ["核心区", None]
    assert out["flags"].tolist() == ["", "near_border;declared_mismatch"]
    assert out["candidates"].tolist() == ["乙县", "乙县;甲县"]
    assert 0.5 < out["confidence"].iat[1] < 0.98


def test_missing_column_names_available_ones(shipped):
    """A wrong column name is an error naming it and the columns that exist."""
    with pytest.raises(KeyError, match="'经度'.*available: lon, lat"):
        locate_frame(pd.DataFrame({"lon": [1], "lat": [2]}), shipped, x_col="经度", y_col="lat")


def test_swapped_coordinates_penalty(shipped):
    """Swapped lon/lat still land, flagged, with 0.1 less confidence."""
    att = locate_record(shipped, x=SEATS["431103"][2], y=SEATS["431103"][1])
    assert att.county_name == "冷水滩区" and att.flags == ["coordinates_swapped"]
    assert att.confidence == pytest.approx(0.88)
    assert np.isclose(att.lon, SEATS["431103"][1])


def test_address_only_record_fills_every_column(shipped):
    """An address alone gives county, township, village, precision and confidence."""
    att = locate_record(shipped, address="江华县码市镇邬陂村小水电站")
    assert (att.county_code, att.township_code, att.township_name) == (
        "431129", "431129110", "码市镇")
    assert att.village_name.startswith("邬陂村") and att.precision == "village"
    assert att.confidence > 0.9 and att.flags == [] and att.lon is None
    att = locate_record(shipped, address="新圩镇养殖场")  # 蓝山县 and 新田县
    assert att.county_code is None and att.flags == ["ambiguous"] and att.confidence < 0.5
    assert set(att.candidates) >= {"蓝山县", "新田县"}


@pytest.mark.parametrize("text, mismatch", [
    ("祁阳县文富市镇", False),
    ("文富市镇某养殖场", False),
    ("东安县白牙市镇", True),  # another county
    ("祁阳市白牙市镇", True),  # right county, township of 东安县
    ("湖南省长沙市岳麓区", True),  # outside the city
    ("道县与江永县交界", True),  # candidates exclude the located county
    ("某砂石场", False),  # names nothing: nothing to disagree with
])
def test_text_is_checked_against_coordinates(shipped, text, mismatch):
    """Coordinates place the row; text naming another county or township is declared_mismatch."""
    _, lon, lat = SEATS["431181"]
    att = locate_record(shipped, x=lon, y=lat, address=text)
    assert att.county_name == "祁阳市" and att.precision == "coordinates"
    assert ("declared_mismatch" in att.flags) is mismatch
    assert "ambiguous" not in att.flags and att.confidence == 0.98


def test_agreeing_text_fills_township_the_layers_lack(shipped):
    """No township layer is shipped: an agreeing address gives township and village."""
    _, lon, lat = SEATS["431181"]
    att = locate_record(shipped, x=lon, y=lat, address="祁阳市文富市镇")
    assert (att.township_code, att.township_name) == ("431181116", "文富市镇")
    assert any(e.startswith("乡镇/村取自地址") for e in att.evidence)


def test_coordinates_outside_and_text_in_a_county(shipped):
    """A point outside the city with text naming a Yongzhou county disagrees."""
    att = locate_record(shipped, x=112.94, y=28.23, address="零陵区石岩头镇")
    assert att.flags == ["outside_city", "declared_mismatch"] and att.county_code is None


def test_unreadable_coordinates_fall_back_to_the_address(shipped):
    """Garbage coordinates keep their error; the address still places the row."""
    att = locate_record(shipped, x="abc", y="26.2", address="江永县桃川镇")
    assert (att.county_name, att.township_name, att.precision) == ("江永县", "桃川镇", "township")
    assert "abc" in att.error and att.error.endswith("已按地址定位")


def test_declared_county_with_address(shipped):
    """Declared county: placed when the text names nothing, checked against candidates."""
    att = locate_record(shipped, address="某砂石场", declared_county="新田县")
    assert (att.county_name, att.precision, att.confidence) == ("新田县", "county", 0.5)
    att = locate_record(shipped, address="道县与江永县交界", declared_county="道县")
    assert att.flags == ["ambiguous"]
    att = locate_record(shipped, address="道县与江永县交界", declared_county="宁远县")
    assert att.flags == ["ambiguous", "declared_mismatch"]
    att = locate_record(shipped, address="长沙市", declared_county="宁远县")
    assert att.flags == ["outside_city", "declared_mismatch"]
    assert resolve_county(shipped, "431171") == "431103"  # 经开区: the county it lies in
    assert resolve_county(shipped, "431173") == "431125"


def test_frame_geocodes_each_distinct_string_once(shipped, monkeypatch):
    """Repeated strings across chunks are geocoded once; rows get independent copies."""
    import geo.bulk_rules as locate_mod

    seen: list[str] = []
    real = locate_mod.geocode_many

    def counting(texts):
        """Record which strings reach the geocoder."""
        seen.extend(texts)
        return real(texts)

    monkeypatch.setattr(locate_mod, "geocode_many", counting)
    texts = ["道县梅花镇", "道县与江永县交界", " 道县梅花镇 ", None, "道县与江永县交界"] * 3
    df = pd.DataFrame({"地址": texts, "县": ["道县", "宁远县", "道县", "", "道县"] * 3})
    out = locate_frame(df, shipped, address_col="地址", county_col="县", chunk_rows=3)
    assert sorted(seen) == ["道县与江永县交界", "道县梅花镇"]
    assert out["flags"].tolist()[:5] == ["", "ambiguous;declared_mismatch", "", "", "ambiguous"]
    assert out["township_name"].tolist()[:3] == ["梅花镇", None, "梅花镇"]


def test_frame_notes_go_to_error_with_prefix(shipped):
    """Metres without a declared CRS are located and the assumed CRS is a 提示 in error."""
    east, north = Transformer.from_crs(4326, 4525, always_xy=True).transform(111.946, 25.570)
    df = pd.DataFrame({"X": [east, 111.946], "Y": [north, 25.570]})
    out = locate_frame(df, shipped, x_col="X", y_col="Y")
    assert out["county_name"].tolist() == ["宁远县", "宁远县"]
    assert out["error"].iat[0].startswith("提示：") and "EPSG:4525" in out["error"].iat[0]
    assert out["error"].iat[1] is None
