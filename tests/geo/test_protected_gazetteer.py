"""Protected places in the gazetteer (#16 part 4): each name alone gives its county or counties.

Every protected entry of ``features.csv`` (nature reserves, forest, wetland and geo parks,
important wetlands, scenic areas) is geocoded by its full name, by each listed alias and by the
name without the 湖南 prefix: a one-county place gives that county, a place across a county line
gives all its counties flagged ``ambiguous``, a place outside the city gives ``outside_city``.
"""

from __future__ import annotations

import csv

import pytest

from geo.gazetteer import GAZETTEER_DIR, load_gazetteer
from geo.geocode import geocode

PROTECTED_KINDS = ("protected_area", "scenic_area")


def _rows() -> list[dict[str, str]]:
    """Rows of the shipped features.csv."""
    with open(GAZETTEER_DIR / "features.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


PROTECTED = [r for r in _rows() if r["kind"] in PROTECTED_KINDS]


def _forms(row: dict[str, str]) -> list[str]:
    """The full name, every alias and the name without the 湖南 prefix."""
    forms = [row["name"], *filter(None, row["aliases"].split(";"))]
    if row["name"].startswith("湖南") and not row["name"].startswith("湖南省"):
        forms.append(row["name"].removeprefix("湖南"))
    return list(dict.fromkeys(forms))


def _cases() -> list[tuple[str, str]]:
    """(entry name, written form) for every protected entry and form."""
    return [(r["name"], form) for r in PROTECTED for form in _forms(r)]


def test_there_are_protected_entries_of_every_level():
    """National, provincial and other protected places are all listed (not only the 3 NNRs)."""
    names = {r["name"] for r in PROTECTED}
    assert len(PROTECTED) >= 25
    assert {"湖南祁阳小鲵省级自然保护区", "零陵何仙姑省级森林公园",
            "宁远九嶷山省级地质公园", "祁阳市浯溪省级重要湿地"} <= names


@pytest.mark.parametrize("name,form", _cases())
def test_name_alone_gives_its_counties(name, form):
    """A protected place written alone (full or short) gives its county, or all of them."""
    g = load_gazetteer()
    row = next(r for r in PROTECTED if r["name"] == name)
    codes = row["county_codes"].split(";")
    a = geocode(form, g)
    if row["in_yongzhou"] == "no":
        assert "outside_city" in a.flags and a.county_code is None, a.evidence
    elif row["multi_county"] == "yes":
        inside = [g.county_name(c) for c in codes if c in g.areas]
        assert a.flags == ["ambiguous"] and a.county_code is None, a.evidence
        assert set(inside) <= set(a.candidates), a.candidates
        assert len(set(a.candidates)) == len(codes), a.candidates
    else:
        assert a.county_code == codes[0] and "ambiguous" not in a.flags, a.evidence
    if row["kind"] == "protected_area" and len(codes) == 1 and row["in_yongzhou"] != "no":
        assert a.protected_area == name


def test_every_entry_has_a_source():
    """Every row cites a source; protected rows name a URL, the staged list or say verify."""
    rows = _rows()
    assert all(r["source"].strip() for r in rows)
    for r in PROTECTED:
        src = r["source"]
        assert "http" in src or "reference-data" in src or "verify" in src, r["name"]


def test_new_entries_cite_a_page():
    """Entries added from public pages name the page (URL) they come from."""
    added = {"湖南祁阳小鲵省级自然保护区", "湖南千家峒国家森林公园", "道县月岩国家森林公园",
             "湖南太白峰国家森林公园", "湖南湘江源国家森林公园", "零陵何仙姑省级森林公园",
             "祁阳大江省级森林公园", "宁远九嶷山省级地质公园", "祁阳市浯溪省级重要湿地",
             "江永千家峒水利风景区", "古宅水库", "源口水库"}
    rows = {r["name"]: r for r in _rows()}
    assert added <= set(rows)
    assert all("http" in rows[n]["source"] for n in added)


@pytest.mark.parametrize("text,code", [
    ("祁阳小鲵自然保护区", "431181"),
    ("小鲵省级自然保护区", "431181"),
    ("湖南祁阳小鲵省级自然保护区", "431181"),
    ("祁陽小鯢自然保護區", "431181"),
])
def test_provincial_reserve_named_alone(text, code):
    """A provincial nature reserve named alone (no county written) is recognised."""
    a = geocode(text)
    assert a.county_code == code and a.flags == [], a.evidence
    assert a.protected_area == "湖南祁阳小鲵省级自然保护区"


def test_provincial_reserve_in_a_ledger_sentence():
    """Written inside a ledger sentence, the reserve still decides the county and is reported."""
    a = geocode("位于祁阳小鲵自然保护区实验区内的养殖场")
    assert a.county_name == "祁阳市" and a.protected_area == "湖南祁阳小鲵省级自然保护区"


def test_cross_county_reserve_keeps_both_counties():
    """都庞岭 lies in 道县 and 江永县: named alone it stays ambiguous between them."""
    a = geocode("都庞岭自然保护区")
    assert a.county_code is None and a.flags == ["ambiguous"]
    assert set(a.candidates) == {"道县", "江永县"}
