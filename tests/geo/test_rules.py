"""The zone rule table and the ledger category map (data/boundaries/category_map.csv)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from geo.errors import BoundaryDataError
from geo.rules import (
    CATEGORY_MAP_PATH,
    RULES_PATH,
    load_category_map,
    load_zone_rules,
)

# the rule category each ledger category used by the sample ledger and the shipped
# responsibility defaults is meant to get (the review of category_map.csv, written out)
INTENDED = {
    "畜禽养殖污染": "livestock",
    "矿山生态修复": "mine",
    "小水电清理整改": "hydropower",
    "黑臭水体": "pollution",
    "污水处理厂提标": "pollution",
    "非法采砂": "mine",
    "工业污染": "pollution",
    "垃圾填埋场": "pollution",
    "自然保护区内违规建设": "construction",
    "水污染": "pollution",
    "大气污染": "pollution",
    "固体废物": "pollution",
    "矿山开采": "mine",
    "河道采砂": "mine",
    "畜禽养殖": "livestock",
    "自然保护地": "*",
}


@pytest.fixture(scope="module")
def table():
    """Return the shipped rule table with the shipped category map."""
    return load_zone_rules()


def test_every_ledger_category_in_use_has_its_intended_rule_category(table):
    """Sample categories, the PA category and the city department table all map as intended."""
    from webmap.ledger.responsibility_defaults import CITY_DEPARTMENTS
    from webmap.ledger.sample_data.tables import CATEGORIES, PA_CATEGORY

    in_use = {*CATEGORIES, PA_CATEGORY, *CITY_DEPARTMENTS}
    assert in_use <= set(INTENDED), in_use - set(INTENDED)
    got = {c: table.resolve_category(c).rule_category for c in in_use}
    assert got == {c: INTENDED[c] for c in in_use}
    assert {table.resolve_category(c).how for c in in_use} == {"exact"}


def test_small_hydropower_issue_in_core_zone_gets_the_hydropower_core_rule(table):
    """小水电清理整改 in a 核心区 is the hydropower row, not the general one."""
    rule = table.rule_for("reserve3", "核心区", "小水电清理整改")
    assert (rule.scheme, rule.zone, rule.site_category) == ("reserve3", "核心区", "hydropower")
    assert "水电站" in rule.rule and "第二十七条" in rule.source
    assert not rule.fallback
    assert rule.resolution == "类别“小水电清理整改”→ hydropower（类别对照表：精确匹配）"
    general = table.rule_for("reserve3", "核心区")
    assert general.site_category == "*" and general.rule != rule.rule


def test_unknown_category_falls_back_to_general_rule_and_says_so(table):
    """A category the map does not know gets ``*`` with fallback set and a Chinese note."""
    rule = table.rule_for("reserve3", "缓冲区", "噪声扰民")
    assert rule.site_category == "*" and rule.fallback
    assert rule.resolution == "类别“噪声扰民”不在类别对照表中，采用通用规则（*）"
    assert rule.rule == table.rule_for("reserve3", "缓冲区").rule


def test_mapped_category_without_a_specific_row_names_the_fallback(table):
    """水污染 maps to pollution; the core zone has no pollution row, so ``*`` stands in, noted."""
    rule = table.rule_for("reserve3", "核心区", "水污染")
    assert rule.site_category == "*" and rule.fallback
    assert "pollution" in rule.resolution and "没有该类专门规则" in rule.resolution
    experimental = table.rule_for("reserve3", "实验区", "水污染")
    assert experimental.site_category == "pollution" and not experimental.fallback


def test_general_map_target_and_empty_category_are_not_fallbacks(table):
    """自然保护地 is mapped to ``*`` on purpose; no category at all needs no note."""
    broad = table.rule_for("reserve3", "核心区", "自然保护地")
    assert broad.site_category == "*" and not broad.fallback
    for empty in (None, "", "  "):
        rule = table.rule_for("reserve3", "核心区", empty)
        assert (rule.site_category, rule.fallback, rule.resolution) == ("*", False, "")


def test_rule_categories_pass_through_in_any_case(table):
    """Uploaded site files may give mine/hydropower/tourism directly (any case)."""
    assert table.rule_for("reserve3", "缓冲区", "Tourism").site_category == "tourism"
    rule = table.rule_for("reserve3", "实验区", "mine")
    assert rule.site_category == "mine" and rule.resolution == ""


def test_substring_rules_and_normalisation(table):
    """Free-text categories: substring rules, full-width spaces and line breaks ignored."""
    cases = {
        "某镇小水电站生态流量不足": ("hydropower", "水电"),
        "废弃矿山复绿": ("mine", "矿"),
        "生猪养殖粪污": ("livestock", "养殖"),
        "景区违建": ("construction", "违建"),
    }
    for text, (target, key) in cases.items():
        got = table.resolve_category(text)
        assert (got.rule_category, got.how, got.key) == (target, "contains", key), text
    spaced = table.resolve_category("小水电\u3000清理\n整改")
    assert (spaced.rule_category, spaced.how) == ("hydropower", "exact")


def test_longest_substring_wins_then_file_order(tmp_path):
    """A longer key beats a shorter one; equal lengths keep the order of the file."""
    path = tmp_path / "map.csv"
    path.write_text(
        "ledger_category,match,rule_category,note\n"
        "污染,contains,pollution,\n"
        "水电,contains,hydropower,\n"
        "养殖污染,contains,livestock,\n",
        encoding="utf-8",
    )
    cmap = load_category_map(path)
    assert cmap.resolve("某水电站污染").rule_category == "pollution"  # same length: first listed
    assert cmap.resolve("养殖污染整治").rule_category == "livestock"  # longer key wins


def test_every_map_target_is_a_rule_category_with_rows(table):
    """Each non-general target of the shipped map has at least one rule in the table."""
    with CATEGORY_MAP_PATH.open(encoding="utf-8-sig", newline="") as fh:
        targets = {row["rule_category"] for row in csv.DictReader(fh)} - {"*"}
    assert targets <= table.rule_categories
    assert {"construction", "livestock", "pollution"} <= targets


def _copy_with(tmp_path: Path, extra_line: str) -> Path:
    """Return a copy of the shipped category map with one line appended."""
    path = tmp_path / "category_map.csv"
    shutil.copyfile(CATEGORY_MAP_PATH, path)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(extra_line + "\n")
    return path


def test_bad_category_map_rows_are_named(tmp_path):
    """Bad match, unknown target, duplicate key, empty field: errors name line, field, value."""
    lines = len(CATEGORY_MAP_PATH.read_text(encoding="utf-8").splitlines())
    bad = _copy_with(tmp_path, "渔业,startswith,pollution,")
    with pytest.raises(
        BoundaryDataError, match=rf"line {lines + 1}: field 'match' is 'startswith'"
    ):
        load_category_map(bad)
    typo = _copy_with(tmp_path, "渔业,exact,hydropowr,")
    with pytest.raises(BoundaryDataError, match="hydropowr"):
        load_zone_rules(RULES_PATH, typo)
    twice = _copy_with(tmp_path, "水污染,exact,mine,")
    with pytest.raises(
        BoundaryDataError, match=r"'ledger_category' '水污染' \(exact\) is listed twice"
    ):
        load_category_map(twice)
    empty = _copy_with(tmp_path, "渔业,exact,,")
    with pytest.raises(BoundaryDataError, match="field 'rule_category' is empty"):
        load_category_map(empty)


def test_rules_without_a_map_still_work(tmp_path):
    """``category_map=None`` keeps the old behaviour: only rule categories match."""
    bare = load_zone_rules(RULES_PATH, None)
    assert bare.rule_for("reserve3", "核心区", "hydropower").site_category == "hydropower"
    rule = bare.rule_for("reserve3", "核心区", "小水电清理整改")
    assert rule.site_category == "*" and rule.fallback
