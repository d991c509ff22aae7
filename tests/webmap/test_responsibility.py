"""Responsibility: county by attribution, units by rule, leaders by roster, overrides."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from geo.models import Attribution
from webmap.ledger import db
from webmap.ledger.events import LedgerError, ledger_as_of
from webmap.ledger.models import ANY, Event, LeaderAssignment
from webmap.ledger.responsibility import (
    assign_responsibility,
    explain,
    matching_rules,
    override_responsibility,
)
from webmap.ledger.responsibility_defaults import load_defaults
from webmap.ledger.rules import set_rule
from webmap.web.context import get_layers

DAY = date(2021, 3, 6)


@pytest.fixture
def rules(session):
    """Load the shipped defaults plus one county-specific rule and two roster lines."""
    with db.transaction(session):
        load_defaults(session, actor="admin", date=DAY)
        set_rule(
            session, "水污染", "431124", "道县水利局", ["道县生态环境分局"], actor="admin", date=DAY
        )
        session.add_all(
            [
                LeaderAssignment(
                    kind="city_leader",
                    name="王副市长",
                    title="副市长",
                    county_code="431102",
                    valid_from=date(2021, 1, 1),
                    valid_to=date(2021, 12, 31),
                ),
                LeaderAssignment(
                    kind="city_leader",
                    name="刘副市长",
                    title="副市长",
                    county_code="431102",
                    valid_from=date(2022, 1, 1),
                ),
                LeaderAssignment(
                    kind="county_leader",
                    name="陈副县长",
                    issue_number="HT-01",
                    valid_from=date(2021, 1, 1),
                ),
            ]
        )


def _att(code: str, name: str) -> Attribution:
    """Return an attribution placing a point in a county, with evidence."""
    return Attribution(
        lon=111.6,
        lat=26.2,
        county_code=code,
        county_name=name,
        precision="coordinates",
        confidence=0.95,
        township_name="某镇",
        evidence=[f"坐标落在{name}边界内"],
    )


def test_defaults_are_idempotent(session, rules):
    """Loading the shipped defaults twice adds nothing the second time."""
    with db.transaction(session):
        assert load_defaults(session, actor="admin", date=DAY) == 0


def test_rule_precedence(session, rules):
    """(category, county) beats (category, *) beats (*, county)."""
    got = [(r.category, r.county_code) for r in matching_rules(session, "水污染", "431124")]
    assert got == [("水污染", "431124"), ("水污染", ANY), (ANY, "431124")]


def test_assign_from_attribution_rules_and_roster(make_issue, session, rules):
    """County comes from attribution (overriding the declared one); units and leaders follow."""
    issue = make_issue(
        "HT-01", county_code="431103", county_name="冷水滩区", declared_county="冷水滩区"
    )
    with db.transaction(session):
        reasons = assign_responsibility(
            session,
            issue,
            actor="admin",
            date=date(2021, 6, 1),
            attribution=_att("431102", "零陵区"),
        )
    by_kind = {}
    for r in reasons:
        by_kind.setdefault(r.party_kind, []).append(r)
    assert by_kind["county"][0].name == "零陵区" and by_kind["county"][0].source == "attribution"
    assert "坐标落在零陵区边界内" in by_kind["county"][0].reason
    assert by_kind["lead_unit"][0].name == "零陵区人民政府"
    assert [r.name for r in by_kind["partner_unit"]] == ["永州市生态环境局", "永州市水利局"]
    assert [r.name for r in by_kind["city_leader"]] == ["王副市长"]  # roster valid in 2021
    assert [r.name for r in by_kind["county_leader"]] == ["陈副县长"]
    assert (issue.county_code, issue.lead_unit, issue.township_name) == (
        "431102",
        "零陵区人民政府",
        "某镇",
    )
    assert issue.attribution["evidence"] == ["坐标落在零陵区边界内"]


def test_roster_follows_the_date(make_issue, session, rules):
    """A city leader is taken from the roster line valid on the assignment date."""
    issue = make_issue("HT-02", county_code="431102")
    with db.transaction(session):
        reasons = assign_responsibility(
            session, issue, actor="admin", date=date(2022, 3, 1), locate=False
        )
    leaders = [r for r in reasons if r.party_kind == "city_leader"]
    assert [r.name for r in leaders] == ["刘副市长"] and "2022-03-01" in leaders[0].reason


def test_county_specific_rule_sets_lead(make_issue, session, rules):
    """A category × county rule names its own lead, and partners merge across rules."""
    issue = make_issue("HT-03", county_code="431124", county_name="道县")
    with db.transaction(session):
        assign_responsibility(session, issue, actor="admin", date=DAY, locate=False)
    assert issue.lead_unit == "道县水利局"
    assert issue.partner_units == ["道县生态环境分局", "永州市生态环境局", "永州市水利局"]
    declared = [r for r in explain(issue) if r.party_kind == "county"][0]
    assert declared.source == "declared"


def test_override_survives_reassignment(make_issue, session, rules):
    """A manual lead unit stays in force after re-assignment; the rule's choice is kept, flagged."""
    issue = make_issue("HT-01", county_code="431102")
    with db.transaction(session):
        assign_responsibility(session, issue, actor="admin", date=DAY, locate=False)
        override_responsibility(
            session,
            issue,
            "lead_unit",
            "永州市生态环境局",
            reason="跨县问题由市局牵头",
            actor="市督察办",
            date=date(2021, 4, 1),
        )
        assign_responsibility(session, issue, actor="admin", date=date(2021, 5, 1), locate=False)
    leads = [r for r in explain(issue) if r.party_kind == "lead_unit"]
    assert [(r.name, r.source, r.overridden) for r in leads] == [
        ("永州市生态环境局", "override", False),
        ("零陵区人民政府", "rule", True),
    ]
    assert leads[0].actor == "市督察办" and leads[0].reason == "跨县问题由市局牵头"
    assert issue.lead_unit == "永州市生态环境局"
    state = ledger_as_of(session, date(2021, 4, 1))[0]
    assert state.lead_unit == "永州市生态环境局"
    ev = session.scalars(select(Event).where(Event.kind == "responsibility.overridden")).one()
    assert ev.after["reason"] == "跨县问题由市局牵头" and ev.actor == "市督察办"


@pytest.mark.parametrize(
    ("kind", "names", "reason", "field"),
    [
        ("mayor", "某人", "理由", "party_kind"),
        ("lead_unit", "某局", " ", "reason"),
        ("county", "长沙县", "理由", "name"),
        ("lead_unit", [], "理由", "name"),
    ],
)
def test_override_refusals(make_issue, session, kind, names, reason, field):
    """Unknown party kinds, missing reasons, unknown counties and empty names are refused."""
    issue = make_issue("HT-01")
    with pytest.raises(LedgerError) as err:
        override_responsibility(session, issue, kind, names, reason=reason, actor="x", date=DAY)
    assert err.value.field == field


def test_set_rule_refusals(session):
    """A rule for an unknown county, or with neither lead nor partners, is refused."""
    with pytest.raises(LedgerError) as err:
        set_rule(session, "水污染", "长沙县", "某局", actor="admin", date=DAY)
    assert (err.value.field, err.value.value) == ("county_code", "长沙县")
    with pytest.raises(LedgerError):
        set_rule(session, "水污染", ANY, "", [], actor="admin", date=DAY)


def test_rule_edit_is_logged(session):
    """Editing a rule replaces it and logs before and after."""
    with db.transaction(session):
        set_rule(session, "噪声", ANY, "市生态环境局", actor="admin", date=DAY)
        set_rule(session, "噪声", ANY, "市公安局", ["市生态环境局"], actor="admin2", date=DAY)
    ev = session.scalars(select(Event).where(Event.kind == "rule.set").order_by(Event.id)).all()[-1]
    assert ev.before["lead_unit"] == "市生态环境局" and ev.after["lead_unit"] == "市公安局"
    assert len(matching_rules(session, "噪声", None)) == 1


def test_geo_locate_is_used_when_available(make_issue, app, session, rules):
    """Without a precomputed attribution the shipped boundaries place the issue's point."""
    pytest.importorskip("geo.locate")
    issue = make_issue(
        "HT-09",
        county_code=None,
        county_name=None,
        geometry={"type": "Point", "coordinates": [111.6035, 26.2083]},
    )
    with db.transaction(session):
        reasons = assign_responsibility(session, issue, actor="admin", date=DAY,
                                        layers=get_layers())  # fmt: skip
    county = [r for r in reasons if r.party_kind == "county"][0]
    assert (county.code, county.source) == ("431102", "attribution")
    assert issue.county_code == "431102"
