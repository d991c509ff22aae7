"""The filter vocabulary: one county table from the gazetteer, parsing split from IssueQuery."""

from __future__ import annotations

import shutil

import pytest
from werkzeug.datastructures import MultiDict

import webmap.ledger.filters
import webmap.ledger.query
import webmap.ledger.vocabulary
from geo.errors import BoundaryDataError
from geo.gazetteer import GAZETTEER_DIR, county_names
from webmap.ledger.filters import parse_filters, reject_unknown
from webmap.ledger.io.validate import COUNTIES as LEDGER_COUNTIES
from webmap.ledger.query import COUNTIES, INTERNAL_FIELDS, IssueQuery, QueryError

# the table webmap.ledger.query used to write out by hand (DOMAIN.md §2), in its order
FORMER_COUNTIES = {
    "431102": "零陵区",
    "431103": "冷水滩区",
    "431181": "祁阳市",
    "431122": "东安县",
    "431123": "双牌县",
    "431124": "道县",
    "431125": "江永县",
    "431126": "宁远县",
    "431127": "蓝山县",
    "431128": "新田县",
    "431129": "江华瑶族自治县",
    "431171": "永州经济技术开发区",
    "431173": "永州市回龙圩管理区",
}


def test_counties_come_from_the_gazetteer_with_the_former_content_and_order():
    """COUNTIES equals the former hand-written table, item by item and in order."""
    assert list(COUNTIES.items()) == list(FORMER_COUNTIES.items())
    assert COUNTIES == county_names()
    assert LEDGER_COUNTIES is COUNTIES


def test_county_names_orders_a_renamed_county_by_its_former_code(tmp_path):
    """Without the 431121 -> 431181 alias row, 祁阳市 sorts by its own code, last."""
    shutil.copy(GAZETTEER_DIR / "counties.csv", tmp_path / "counties.csv")
    lines = (GAZETTEER_DIR / "aliases.csv").read_text(encoding="utf-8").splitlines(True)
    kept = [line for line in lines if not line.startswith("431121,")]
    assert len(kept) == len(lines) - 1
    (tmp_path / "aliases.csv").write_text("".join(kept), encoding="utf-8")
    names = county_names(tmp_path)
    assert list(names)[-1] == "431181"
    assert sorted(names.items()) == sorted(FORMER_COUNTIES.items())


def test_county_names_returns_a_fresh_dict_and_names_a_missing_file(tmp_path):
    """Mutating one result does not leak into the next; a missing CSV names its path."""
    county_names()["431102"] = "changed"
    assert county_names()["431102"] == "零陵区"
    with pytest.raises(BoundaryDataError, match="counties.csv"):
        county_names(tmp_path)


def test_query_re_exports_the_parsing_names():
    """Callers importing from webmap.ledger.query get the very objects of webmap.ledger.filters."""
    for name in (
        "COUNTIES",
        "COUNTY_ALIASES",
        "LIST_PARAMS",
        "QueryError",
        "resolve_county",
    ):
        assert getattr(webmap.ledger.query, name) is getattr(webmap.ledger.filters, name)
    assert webmap.ledger.filters.RAG_ALIASES is webmap.ledger.vocabulary.RAG_ALIASES


def test_parse_filters_gives_every_field_but_scope_and_today():
    """parse_filters returns one value per IssueQuery filter field, canonicalised."""
    args = MultiDict(
        [
            ("county", "祁阳县,道县"),
            ("county", "431124"),
            ("rag", "逾期"),
            ("bbox", "111，25，112，26"),
            ("q", "砂石,码头"),
        ]
    )
    values = parse_filters(args)
    assert set(values) == set(IssueQuery.__dataclass_fields__) - INTERNAL_FIELDS
    assert values["county"] == ("431181", "431124")
    assert values["rag"] == ("red",)
    assert values["bbox"] == (111.0, 25.0, 112.0, 26.0)
    assert values["q"] == "砂石,码头"
    assert IssueQuery.from_args(args) == IssueQuery(**values)


def test_reject_unknown_names_the_parameter():
    """Strict parsing names the first unknown parameter and its value."""
    reject_unknown({"county": "道县"}, {"county"})
    with pytest.raises(QueryError) as err:
        reject_unknown({"county": "道县", "basemap": "tdt"}, {"county"})
    assert (err.value.param, err.value.value) == ("basemap", "tdt")
    with pytest.raises(QueryError, match="basemap"):
        IssueQuery.from_args({"basemap": "tdt"}, strict=True)
