"""The 交界 rule (#16): counties the text names are not collapsed to one by a feature name.

Strings are built from public names (NBS county names, the national reserves and forest parks
of the gazetteer); the counties named are the candidates, ``ambiguous``, confidence < 0.5,
unless the text says which county the place belongs to.
"""

from __future__ import annotations

import pytest

from geo.geocode import geocode

BORDER = [
    ("宁远县与蓝山县交界的九嶷山", ["宁远县", "蓝山县"]),
    ("道县与江永县交界的都庞岭", ["道县", "江永县"]),
    ("江永县和道县交界处的都庞岭保护区", ["江永县", "道县"]),
    ("双牌县、零陵区之间的阳明山", ["双牌县", "零陵区"]),
    ("位于东安县与祁阳市交界的舜皇山", ["东安县", "祁阳市"]),
    ("双牌县与宁远县交界的阳明山国家森林公园", ["双牌县", "宁远县"]),
    ("道县江永县都庞岭", ["道县", "江永县"]),
    ("蓝山县、宁远县、江华县三县交界的九嶷山", ["蓝山县", "宁远县", "江华瑶族自治县"]),
]
STATED = [
    ("宁远县与蓝山县交界的九嶷山，属宁远县", "宁远县"),
    ("道县与江永县交界的都庞岭，属于江永县", "江永县"),
]


@pytest.mark.parametrize(("text", "counties"), BORDER)
def test_named_counties_are_all_candidates(text, counties):
    """Every county written out is a candidate; the feature's own county does not win."""
    a = geocode(text)
    assert a.county_code is None
    assert a.candidates == counties
    assert a.flags == ["ambiguous"] and a.confidence < 0.5


@pytest.mark.parametrize(("text", "county"), STATED)
def test_a_stated_county_decides(text, county):
    """属/属于 X县 says where the site is."""
    a = geocode(text)
    assert a.county_name == county and "ambiguous" not in a.flags


@pytest.mark.parametrize(("text", "county"), [
    ("九嶷山国家森林公园", "宁远县"),
    ("蓝山国家森林公园", "蓝山县"),
    ("涔天河国家湿地公园", "江华瑶族自治县"),
    ("紫水国家湿地公园", "东安县"),
    ("九嶷山舜帝陵风景名胜区", "宁远县"),
])  # fmt: skip
def test_protected_places_named_alone_are_recognised(text, county):
    """Forest parks, wetland parks and scenic areas from the public lists give their county."""
    assert geocode(text).county_name == county


def test_a_single_county_with_its_feature_is_still_certain():
    """One county and a feature inside it: no ambiguity (the rule needs two counties)."""
    a = geocode("宁远县九嶷山")
    assert a.county_name == "宁远县" and a.flags == [] and a.confidence >= 0.8
