"""The sample ledger: size, 20/5/5 split, placement, histories, 示例 marks, leaders, reasons."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from geo.boundaries import load_shipped
from webmap.ledger.events import current_state, ledger_as_of
from webmap.ledger.models import Event, Issue, LeaderAssignment, ResponsibilityRule
from webmap.ledger.responsibility import explain
from webmap.ledger.sample import load_sample
from webmap.ledger.sample_data.rosters import CASE_HANDOVER_DAY, HANDOVER_DAY, OVERRIDES
from webmap.ledger.vocabulary import PARTY_KINDS


@pytest.fixture
def sample(session):
    """Load the sample into the test database and return its issues."""
    layers = load_shipped()
    load_sample(session, layers)
    return session.scalars(select(Issue).order_by(Issue.number)).all(), layers


def test_sample_size_and_split(sample):
    """At least 60 issues; 30 look-back issues split 20/5/5 as the plan says."""
    issues, _ = sample
    assert len(issues) >= 60
    lookback = Counter(i.deadline_class for i in issues if i.source_type == "回头看")
    assert sum(lookback.values()) == 30
    assert lookback["2021年底前"] == 20 and lookback["2022年"] == 5
    assert lookback["2023年及以后"] + lookback["持续推进"] == 5
    assert {"中央督察", "长江警示片", "省日常交办", "市交办", "专项督察"} <= {
        i.source_type for i in issues
    }
    assert all(i.is_sample for i in issues)


def test_sample_is_placed_in_its_county(sample):
    """Every issue lies inside its county; all 11 counties and several reserve zones are used."""
    issues, layers = sample
    counties = layers.counties.frame.set_index("code").geometry
    for issue in issues:
        assert counties[issue.county_code].contains(issue.geometry), issue.number
        assert issue.location_text.startswith(f"永州市{issue.county_name}")
    assert len({i.county_code for i in issues}) == 11
    zoned = [i for i in issues if i.protected_area and i.zone]
    assert len(zoned) >= 5 and all(i.source_type == "专项督察" for i in zoned)


def test_sample_histories_have_shape(sample, session):
    """Histories span 2021-2024: signed off, overdue, ongoing and escalated issues exist."""
    issues, _ = sample
    status = Counter(i.status for i in issues)
    assert status["已销号"] >= 10 and status["持续推进"] >= 5 and status["整改中"] >= 3
    assert any(a.kind == "公开通报" for i in issues for a in i.actions)
    assert all(s.stage for i in issues for s in i.signoffs)
    early = {s.number: s for s in ledger_as_of(session, date(2021, 12, 31))}
    assert len(early) == len(issues)
    assert Counter(s.status for s in early.values()) != status  # the ledger moved after 2021
    final = {s.number: s for s in ledger_as_of(session, date(2025, 1, 1))}
    for issue in issues:
        assert final[issue.number] == current_state(issue, date(2025, 1, 1)), issue.number


def test_sample_is_deterministic(sample, tmp_path):
    """Loading the sample twice (two databases) gives the same issues."""
    from sqlalchemy.orm import Session

    from webmap.ledger import db

    issues, layers = sample
    engine = db.make_engine(f"sqlite:///{tmp_path / 'again.sqlite'}")
    db.upgrade_db(engine)
    with Session(engine) as other:
        again = sorted(load_sample(other, layers), key=lambda i: i.number)
        assert [(i.number, i.title, i.lon, i.lat, i.status) for i in again] == [
            (i.number, i.title, i.lon, i.lat, i.status) for i in issues
        ]
    engine.dispose()


def test_sample_refuses_second_load(sample, session):
    """Loading the sample into a database that has it already is refused."""
    with pytest.raises(ValueError, match="示例台账已加载"):
        load_sample(session)


# --- leader rosters and responsibility (issues 4 and 5) -------------------------------------


def _live(issue, kind: str) -> list:
    """Return the in-force reasons of one party kind for an issue."""
    return [r for r in explain(issue) if r.party_kind == kind and not r.overridden]


def test_every_county_has_one_city_leader_every_day(sample, session):
    """On every day of 2021-2024 each of the 11 counties has exactly one 示例 city leader."""
    issues, layers = sample
    lines = session.scalars(
        select(LeaderAssignment).where(LeaderAssignment.kind == "city_leader")
    ).all()
    assert all(a.name.startswith("示例·") and "示例" in a.title for a in lines)
    assert {len([a for a in lines if a.name == n]) for n in {a.name for a in lines}} <= {1, 2, 3}
    day = date(2021, 1, 1)
    while day <= date(2024, 12, 31):
        for code in layers.counties.frame["code"]:
            serving = [
                a.name
                for a in lines
                if a.county_code == code
                and a.valid_from <= day
                and (a.valid_to is None or a.valid_to >= day)
            ]
            assert len(serving) == 1, (code, day, serving)
        day += timedelta(days=1)


def test_handover_gives_issues_before_and_after_different_leaders(sample, session):
    """道县 changes city leader on 2023-03-01: cases closed before keep the old, open ones move."""
    issues, _ = sample
    daoxian = [i for i in issues if i.county_code == "431124"]
    closed_before = [
        i for i in daoxian if current_state(i, HANDOVER_DAY - timedelta(days=1)).status == "已销号"
    ]
    open_after = [i for i in daoxian if i.status != "已销号"]
    assert closed_before and open_after
    for issue in closed_before:
        assert [r.name for r in _live(issue, "city_leader")] == ["示例·市领导丙"], issue.number
    for issue in open_after:
        (leader,) = _live(issue, "city_leader")
        assert leader.name == "示例·市领导己" and str(HANDOVER_DAY) in leader.reason
    # the re-assignment is in the event log on the hand-over day, not on the load day
    kinds = session.execute(
        select(Event.effective_date).where(
            Event.issue_number == open_after[0].number, Event.kind == "responsibility.assigned"
        )
    ).scalars()
    assert HANDOVER_DAY in set(kinds)


def test_every_issue_has_a_county_leader_some_change(sample, session):
    """Each issue has one case leader in force; some cases changed hands on 2022-07-01."""
    issues, _ = sample
    for issue in issues:
        (leader,) = _live(issue, "county_leader")
        assert leader.name.startswith("示例·"), issue.number
    changed = session.scalars(
        select(LeaderAssignment.issue_number).where(
            LeaderAssignment.kind == "county_leader", LeaderAssignment.valid_to.is_not(None)
        )
    ).all()
    assert len(changed) >= 10
    moved = [i for i in issues if i.number in changed and i.status != "已销号"]
    assert moved and any(
        _live(i, "county_leader")[0].source == "roster"
        and str(CASE_HANDOVER_DAY) in _live(i, "county_leader")[0].reason
        for i in moved
    )


def test_explain_gives_a_reason_for_every_party(sample):
    """County from attribution, lead unit from a rule, each leader from a roster line: all said."""
    issues, _ = sample
    for issue in issues:
        reasons = {r.party_kind: r for r in explain(issue) if not r.overridden}
        assert set(reasons) == set(PARTY_KINDS), issue.number
        assert all(r.reason.strip() for r in reasons.values())
        county = reasons["county"]
        assert county.source == "attribution" and county.code == issue.county_code
        assert reasons["lead_unit"].name == issue.lead_unit
        if reasons["lead_unit"].source == "rule":
            assert f"类别「{issue.category}」" in reasons["lead_unit"].reason
        for kind in ("city_leader", "county_leader"):
            assert reasons[kind].source in ("roster", "override"), (issue.number, kind)
        assert set(issue.partner_units) == {r.name for r in _live(issue, "partner_unit")}


def test_manual_overrides_keep_reason_and_actor(sample):
    """Two overrides show the manual path: the computed party is kept but flagged overridden."""
    issues, _ = sample
    by_number = {i.number: i for i in issues}
    for number, (kind, names, reason, actor, _day) in OVERRIDES.items():
        issue = by_number[number]
        live = _live(issue, kind)
        assert [r.name for r in live] == names and live[0].source == "override"
        assert live[0].reason == reason and live[0].actor == actor
        assert any(r.overridden for r in explain(issue) if r.party_kind == kind)
    assert by_number["HKT-05"].lead_unit == "永州市水利局"


def test_sample_rosters_and_rules_load_once(sample, session):
    """Loading the rosters and rules again adds nothing; the sample's rules are marked 示例."""
    from webmap.ledger.sample import ACTOR, FEEDBACK_DAY
    from webmap.ledger.sample_data.rosters import load_rosters, load_rules

    issues, _ = sample
    # the plans in load (id) order: a case's place in it picks its leader
    plans = [
        {"number": i.number, "county_code": i.county_code}
        for i in sorted(issues, key=lambda i: i.id)
    ]
    assert load_rules(session, actor=ACTOR, day=FEEDBACK_DAY) == 0
    before = session.scalar(select(func.count(LeaderAssignment.id)))
    assert before >= 6 + len(issues)
    assert load_rosters(session, plans) == 0
    assert session.scalar(select(func.count(LeaderAssignment.id))) == before
    notes = session.scalars(
        select(ResponsibilityRule.note).where(ResponsibilityRule.updated_by == ACTOR)
    ).all()
    assert len(notes) >= 99 and all(n.startswith(("示例", "默认")) for n in notes)


def test_briefing_lists_leaders_of_every_county(sample, session):
    """Briefing county pages find a city leader for every county (no 未录入包联领导)."""
    from webmap.ledger.briefs import leaders_for

    issues, layers = sample
    day = date(2024, 6, 30)
    for code in layers.counties.frame["code"]:
        numbers = [i.number for i in issues if i.county_code == code]
        lines = leaders_for(session, code, numbers, day)
        assert any("包县督导" in line for line in lines), code
        assert any("包案" in line for line in lines), code
    assert any(line.startswith("示例·市领导己") for line in leaders_for(session, "431124", [], day))


def test_leader_pages_list_their_issues(sample, app, logged_in_client):
    """/leaders lists the 示例 leaders with counts; one leader's page lists their late issues."""
    from webmap.ledger.workflow import rag

    issues, _ = sample
    app.config["TODAY"] = "2024-06-30"
    client = logged_in_client("viewer")
    resp = client.get("/leaders")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "尚未录入包联领导" not in html
    rows = re.findall(r'<a href="/leaders/(\d+)">([^<]+)</a>.*?class="num">(\d+)<', html, re.S)
    by_name = {name: (int(i), int(total)) for i, name, total in rows}
    assert {f"示例·市领导{c}" for c in "甲乙丙丁戊己"} <= set(by_name)
    daoxian = [i for i in issues if i.county_code == "431124"]
    leader_id, total = by_name["示例·市领导己"]
    assert total == len(daoxian)
    page = client.get(f"/leaders/{leader_id}").get_data(as_text=True)
    assert f"共 {len(daoxian)} 个问题" in page
    late = [i.number for i in daoxian if rag(i.status, i.due_date, date(2024, 6, 30), 30) == "red"]
    assert late and all(f">{n}</a>" in page for n in late)
    assert client.get("/leaders/999999").status_code == 404
    detail = client.get(f"/issues/{late[0]}").get_data(as_text=True)
    assert "示例·市领导己" in detail
