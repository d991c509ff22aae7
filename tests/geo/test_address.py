"""Text helpers: normalisation, name forms and the longest-match trie."""

from __future__ import annotations

import pytest

from geo.address import NameTrie, county_stem, normalise_text, township_stem, village_base


@pytest.mark.parametrize("name,base", [
    ("蒋家田社区居委会", "蒋家田"), ("鹿坪村", "鹿坪"), ("新村村委会", "新村"),
    ("柳子街社区", "柳子街"),
    ("东岳宫居委会", "东岳宫"),
])
def test_village_base(name, base):
    """NBS committee suffixes are stripped to the name people use."""
    assert village_base(name) == base


def test_stems():
    """Stems keep at least two characters; 道县 and single-character stems have none."""
    assert township_stem("高溪市镇") == "高溪市" and township_stem("龙泉街道") == "龙泉"
    assert township_stem("原种场") is None
    assert county_stem("冷水滩区") == "冷水滩" and county_stem("道县") is None


def test_normalise_keeps_separators_and_drops_noise():
    """Brackets and spaces go; list separators become 、 so connectors survive."""
    assert normalise_text(" 道县 ， 江永县（交界）") == "道县、江永县交界"


def test_scan_prefers_longest_name():
    """The longest name at a position wins and matching resumes after it."""
    t = NameTrie()
    for name, entry in [("江永", "county"), ("江永村", "village"), ("道县", "county2")]:
        t.add(name, entry)
    found = [(m.text, m.entries) for m in t.scan("道县江永村江永")]
    assert found == [("道县", ("county2",)), ("江永村", ("village",)), ("江永", ("county",))]


def test_trie_keeps_several_entries_per_name():
    """A name shared by two places returns both, once each."""
    t = NameTrie()
    t.add("新圩镇", "a")
    t.add("新圩镇", "b")
    t.add("新圩镇", "a")
    assert t.get("新圩镇") == ("a", "b") and t.get("新圩") == ()
