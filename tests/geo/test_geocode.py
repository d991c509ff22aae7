"""Address geocoder: the table of real-name cases and focused behaviour tests."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from geo.geocode import geocode, geocode_many

CASES = Path(__file__).resolve().parent.parent / "data" / "address_cases.csv"


def read_cases() -> list[dict[str, str]]:
    """Rows of tests/data/address_cases.csv."""
    with open(CASES, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_case_table_covers_every_trap():
    """The table has at least 150 strings and every kind of trap the issue lists."""
    rows = read_cases()
    traps = {r["trap"] for r in rows}
    assert len(rows) >= 150
    assert {"market_town", "village_contains_other_county", "company_contains_other_county",
            "township_two_counties", "township_also_outside", "border_two_counties",
            "two_counties_listed", "outside_city", "suffix_confused", "traditional_chars",
            "former_name", "statistical_unit", "feature", "typo"} <= traps


@pytest.mark.parametrize("case", read_cases(), ids=lambda c: f"{c['trap']}:{c['text']}")
def test_address_case(case):
    """Each string gives the expected county, township, ambiguity and outside flag."""
    a = geocode(case["text"])
    ambiguous, outside = "ambiguous" in a.flags, "outside_city" in a.flags
    assert ambiguous == (case["ambiguous"] == "yes"), a.evidence
    assert outside == (case["outside"] == "yes"), a.evidence
    if ambiguous:
        assert a.confidence < 0.5
        assert len(a.candidates) >= 2
    if case["county_code"]:
        if not ambiguous:
            assert a.county_code == case["county_code"], a.evidence
        assert any(a.county_name == c or c in a.candidates for c in a.candidates)
    elif not ambiguous:
        assert a.county_code is None, a.evidence
    if case["township_code"] and not ambiguous:
        assert a.township_code == case["township_code"], a.evidence


def test_market_town_is_not_a_city():
    """高溪市镇 is a town of 冷水滩区, not a 市."""
    a = geocode("高溪市镇某养猪场")
    assert (a.county_name, a.township_name, a.precision) == ("冷水滩区", "高溪市镇", "township")


def test_village_is_read_under_its_township():
    """A village name fixes the village under the township named, with village precision."""
    a = geocode("冷水滩区岚角山街道新田前社区")
    assert a.county_code == "431103" and a.precision == "village"
    assert a.village_name == "新田前社区"


def test_ambiguous_township_lists_all_counties():
    """新圩镇 exists in 蓝山县 and 新田县: both are candidates and no county is chosen."""
    a = geocode("新圩镇")
    assert a.county_code is None and a.flags == ["ambiguous"]
    assert set(a.candidates) >= {"蓝山县", "新田县"} and a.confidence < 0.5


def test_city_context_removes_outside_namesakes():
    """八宝镇 alone collides with towns elsewhere; 永州市八宝镇 does not."""
    assert "ambiguous" in geocode("八宝镇").flags
    a = geocode("永州市八宝镇")
    assert a.flags == [] and a.county_name == "祁阳市" and a.confidence >= 0.8


def test_border_with_named_township_is_decided():
    """A township named in one of two bordering counties says which county it is."""
    a = geocode("宁远县九疑山瑶族乡与蓝山县交界")
    assert a.county_name == "宁远县" and a.flags == []


def test_outside_place_is_flagged_not_forced_in():
    """A place in 邵阳市 is outside_city with no Yongzhou county."""
    a = geocode("湖南省邵阳市新宁县某养殖场")
    assert a.flags == ["outside_city"] and a.county_code is None
    assert a.candidates == ["湖南省邵阳市新宁县"]


def test_same_name_outside_county_needs_its_context():
    """东安区 alone is read as 东安县; with 牡丹江市 it is the 东安区 outside Yongzhou."""
    assert geocode("东安区").county_code == "431122"
    assert geocode("牡丹江市东安区").flags == ["outside_city"]


def test_typo_lowers_confidence():
    """A one-character typo in a township is tolerated with confidence at most 0.7."""
    a = geocode("祁阳县八室镇")
    assert a.township_name == "八宝镇" and a.confidence <= 0.7
    assert any("错别字" in e for e in a.evidence)


def test_evidence_explains_each_part():
    """Evidence names the county and township and the text they came from."""
    a = geocode("祁阳县文富市镇")
    assert a.evidence[0].startswith("县区: 祁阳市") and "祁阳县" in a.evidence[0]
    assert any(e.startswith("乡镇: 文富市镇") for e in a.evidence)


def test_protected_area_is_reported():
    """A reserve named with its county fills protected_area."""
    a = geocode("宁远县九嶷山国家级自然保护区实验区")
    assert a.protected_area == "湖南九嶷山国家级自然保护区" and a.county_name == "宁远县"


def test_empty_and_unplaceable_text():
    """Empty or placeless text gives precision none and confidence 0."""
    for text in ("", None, "某养殖场"):
        a = geocode(text)
        assert (a.precision, a.confidence, a.county_code) == ("none", 0.0, None)


def test_geocode_many_returns_independent_results():
    """geocode_many keeps order and repeated strings do not share mutable lists."""
    out = geocode_many(["道县", "蓝山县", "道县"])
    assert [a.county_name for a in out] == ["道县", "蓝山县", "道县"]
    out[0].flags.append("x")
    assert out[2].flags == []


TRADITIONAL = Path(__file__).resolve().parent.parent / "data" / "traditional_names.csv"


def read_traditional(level: str) -> list[dict[str, str]]:
    """Rows of tests/data/traditional_names.csv (OpenCC s2t forms of NBS names) at one level."""
    with open(TRADITIONAL, encoding="utf-8", newline="") as fh:
        return [r for r in csv.DictReader(fh) if r["level"] == level]


def sample_townships(n: int = 50) -> list[dict[str, str]]:
    """``n`` townships whose traditional form differs, taken in turn from each county by code."""
    queues: dict[str, list[dict[str, str]]] = {}
    for row in sorted(read_traditional("township"), key=lambda r: r["code"]):
        if row["traditional"] != row["simplified"]:
            queues.setdefault(row["county_code"], []).append(row)
    out: list[dict[str, str]] = []
    while len(out) < n and any(queues.values()):
        for county in sorted(queues):
            if queues[county] and len(out) < n:
                out.append(queues[county].pop(0))
    return out


def outcome(text: str) -> tuple:
    """The parts of a geocode result that traditional and simplified text must share."""
    a = geocode(text)
    return (a.county_code, a.township_code, a.village_name, a.flags, a.candidates, a.precision,
            a.confidence)


@pytest.mark.parametrize("row", read_traditional("county"), ids=lambda r: r["traditional"])
def test_traditional_county_name_geocodes_like_simplified(row):
    """Every county name written in traditional characters is read as the simplified name."""
    simplified = outcome(row["simplified"])
    assert simplified[0] is not None
    assert outcome(row["traditional"]) == simplified


def test_township_sample_spans_every_county():
    """The 50 sampled townships are distinct and come from all 13 county-level units."""
    rows = sample_townships()
    assert len({r["code"] for r in rows}) == 50
    assert {r["county_code"] for r in rows} == {r["code"] for r in read_traditional("county")}


@pytest.mark.parametrize("row", sample_townships(), ids=lambda r: r["traditional"])
def test_traditional_township_name_geocodes_like_simplified(row):
    """A township in traditional characters, alone or after its county, reads as simplified."""
    assert outcome(row["traditional"]) == outcome(row["simplified"])
    county = {r["code"]: r for r in read_traditional("county")}[row["county_code"]]
    a = geocode(county["traditional"] + row["traditional"] + "某养殖场")
    assert a.township_code == row["code"] and a.flags == [], a.evidence


def test_traditional_text_missing_from_the_old_table():
    """濤 was not in the hand-made table: 江華瑤族自治縣濤圩鎮 now finds 涛圩镇 of 江华县."""
    a = geocode("江華瑤族自治縣濤圩鎮")
    assert (a.county_code, a.township_code, a.township_name) == ("431129", "431129105", "涛圩镇")
    assert a.flags == [] and a.precision == "township"
