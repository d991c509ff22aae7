"""Gazetteer files and lookups: counts, codes, aliases, features and resolve_county."""

from __future__ import annotations

import csv
import shutil

import pytest

from geo.errors import BoundaryDataError
from geo.gazetteer import GAZETTEER_DIR, load_gazetteer


def read(name: str) -> list[dict[str, str]]:
    """Rows of one shipped gazetteer CSV."""
    with open(GAZETTEER_DIR / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_nbs_counts_and_parents():
    """195 townships and 3,331 villages, each under a known township and county."""
    townships, villages = read("townships.csv"), read("villages.csv")
    counties = {r["code"] for r in read("counties.csv")}
    assert len(townships) == 195 and len(villages) == 3331
    codes = {t["code_9"] for t in townships}
    assert all(t["county_code"] in counties for t in townships)
    assert all(v["township_code_9"] in codes and v["code_12"].startswith(v["township_code_9"])
               for v in villages)


def test_statistical_units_are_flagged_with_their_usual_county():
    """431171 and 431173 are statistical units under 冷水滩区 and 江永县."""
    rows = {r["code"]: r for r in read("counties.csv")}
    assert len(rows) == 13
    assert rows["431171"]["kind"] == rows["431173"]["kind"] == "statistical_unit"
    assert (rows["431171"]["usual_county_code"], rows["431173"]["usual_county_code"]) == (
        "431103", "431125")


def test_every_alias_and_feature_has_a_source():
    """Curated rows all cite where the fact comes from."""
    for name in ("aliases.csv", "features.csv", "variant_chars.csv"):
        assert all(r["source"].strip() for r in read(name)), name


def test_multi_county_features_are_marked():
    """湘江 and 潇水 list several counties; 舜皇山 reserve lies outside Yongzhou."""
    rows = {r["name"]: r for r in read("features.csv")}
    assert rows["湘江"]["multi_county"] == rows["潇水"]["multi_county"] == "yes"
    assert rows["湖南舜皇山国家级自然保护区"]["county_codes"] == "430528"
    assert rows["湖南东安舜皇山国家森林公园"]["county_codes"] == "431122"


@pytest.mark.parametrize("text,code", [
    ("祁阳县", "431181"), ("祁阳", "431181"), ("431121", "431181"), ("431181", "431181"),
    ("江华县", "431129"), ("冷水滩", "431103"), ("江华瑶族自治县", "431129"), ("道州", "431124"),
    ("芝山区", "431102"), ("湖南省永州市宁远县", "431126"), ("寧遠縣", "431126"),
    ("永州经开区", "431103"), ("431173", "431125"), ("431181000000", "431181"),
])
def test_resolve_county(text, code):
    """Declared county names, short forms, former names and codes resolve to the current county."""
    assert load_gazetteer().resolve_county(text).code == code


@pytest.mark.parametrize("text", ["邵阳县", "长沙市岳麓区", "", "某某县", "431221", "道县江永县"])
def test_resolve_county_rejects(text):
    """Outside, unknown, empty or two-county text resolves to nothing."""
    assert load_gazetteer().resolve_county(text) is None


def test_lookup_by_code_and_name():
    """Areas are found by 9/12-digit codes and names by their written forms."""
    g = load_gazetteer()
    assert g.area("431181116000").name == "文富市镇"
    assert g.area("431102001001").level == "village"
    kinds = {p.kind for p in g.find("湘江")}
    assert "feature" in kinds
    assert {p.code for p in g.find("新圩镇")} == {"431127105", "431128104"}
    assert {p.code for p in g.find("龙泉镇")} == {"431128001", "431128002"}


def test_loader_is_cached_per_directory(tmp_path):
    """The same directory gives the same object; another directory a new one."""
    assert load_gazetteer() is load_gazetteer(GAZETTEER_DIR)
    copy = tmp_path / "gz"
    shutil.copytree(GAZETTEER_DIR, copy)
    assert load_gazetteer(copy) is not load_gazetteer()


def test_missing_file_names_the_file(tmp_path):
    """A gazetteer directory without its files raises BoundaryDataError naming the file."""
    with pytest.raises(BoundaryDataError, match="variant_chars.csv"):
        load_gazetteer(tmp_path)


def test_variant_chars_come_from_opencc_or_a_curated_source():
    """Each variant row says where it comes from; OpenCC gives most, curated rows keep theirs."""
    rows = read("variant_chars.csv")
    origins = [r["source"].split()[0] for r in rows]
    assert set(origins) == {"OpenCC", "curated:"}
    assert origins.count("OpenCC") > 600 and origins.count("curated:") < 20
    assert {r["kind"] for r in rows} == {"traditional", "variant_char"}
    mapping = {r["variant"]: r["standard"] for r in rows}
    assert (mapping["濤"], mapping["縣"], mapping["県"], mapping["嶷"]) == ("涛", "县", "县", "疑")
    assert len(mapping) == len(rows)


def test_variant_chars_leave_names_and_ordinary_text_alone():
    """No mapped traditional character occurs in an NBS name, and every target does."""
    names = {ch for f, key in [("counties.csv", "name"), ("townships.csv", "name"),
                               ("villages.csv", "name"), ("outside_places.csv", "name")]
             for r in read(f) for ch in r[key]}
    opencc = [r for r in read("variant_chars.csv") if r["source"].startswith("OpenCC")]
    assert not [r["variant"] for r in opencc if r["variant"] in names]
    curated = [r["name"] + r["aliases"] for r in read("features.csv")]
    targets = names | set("".join(curated + [r["alias"] for r in read("aliases.csv")]))
    assert not [r["standard"] for r in opencc if r["standard"] not in targets]
    # 乾 (乾县, 大塘乾村), 迴 (迴龙村) and 予 (给予) are spelt so on purpose: not mapped
    skipped = {r["variant"]: r["reason"] for r in read("variant_chars_skipped.csv")}
    assert {"乾", "迴", "予"} <= set(skipped)
    g = load_gazetteer()
    assert g.normalise("给予乾县迴龙村") == "给予乾县迴龙村"
    assert g.normalise("江華瑤族自治縣濤圩鎮") == "江华瑶族自治县涛圩镇"
