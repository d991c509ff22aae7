"""The sample ledger's leader rosters, responsibility rules and manual overrides (all 示例).

Every name here is fictitious and carries the 示例 mark ("示例·市领导甲"); none is a real
official. City leaders supervise 1-3 counties each (市级领导包县) and together cover all 11 on
every day from 2021-01-01 on; 道县 changes city leader on 2023-03-01 (``HANDOVER_DAY``). Each
sample issue has a county leader owning the case (县级领导包案, "示例·道县领导甲"); every
fifth case changes hands on 2022-07-01 (``CASE_HANDOVER_DAY``). Rules (category × county)
name each county's sector department as lead unit with the county government as partner, so
``assign_responsibility`` derives the units instead of the sample hard-coding them.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from webmap.ledger.models import ANY, LeaderAssignment, ResponsibilityRule
from webmap.ledger.responsibility_defaults import county_government
from webmap.ledger.rules import set_rule
from webmap.ledger.sample_data.tables import CATEGORIES, COUNTIES, PA_CATEGORY
from webmap.ledger.vocabulary import SAMPLE_MARK

ROSTER_START = date(2021, 1, 1)
HANDOVER_DAY = date(2023, 3, 1)  # 道县: 示例·市领导丙 hands over to 示例·市领导己
CASE_HANDOVER_DAY = date(2022, 7, 1)
CITY_TITLE = "市委常委、副市长（示例）"

# name -> (county codes, valid_from, valid_to inclusive or None)
CITY_LEADERS = (
    ("示例·市领导甲", ("431102", "431103"), ROSTER_START, None),
    ("示例·市领导乙", ("431181", "431122"), ROSTER_START, None),
    ("示例·市领导丙", ("431123",), ROSTER_START, None),
    ("示例·市领导丙", ("431124",), ROSTER_START, date(2023, 2, 28)),
    ("示例·市领导丁", ("431125", "431126", "431127"), ROSTER_START, None),
    ("示例·市领导戊", ("431128", "431129"), ROSTER_START, None),
    ("示例·市领导己", ("431124",), HANDOVER_DAY, None),
)
CASE_LEADER_SUFFIXES = ("甲", "乙", "丙")
# sector departments of the city that join a category's cases as partners (管行业必须管环保)
CITY_PARTNERS = {
    "畜禽养殖污染": ["永州市农业农村局"],
    "矿山生态修复": ["永州市自然资源和规划局"],
    "小水电清理整改": ["永州市水利局"],
    "黑臭水体": ["永州市住房和城乡建设局"],
    "非法采砂": ["永州市水利局"],
    PA_CATEGORY: ["永州市林业局"],
}
# number -> (party kind, names, reason, actor, date): the manual path, with reason and actor
OVERRIDES = {
    "HKT-05": (
        "lead_unit",
        ["永州市水利局"],
        "跨县河段问题，市政府专题会议决定改由市水利局牵头（示例）",
        "示例·市督察办",
        date(2021, 3, 20),
    ),
    "JSP-02": (
        "county_leader",
        ["示例·县委书记"],
        "长江警示片问题由县委书记亲自包案（示例）",
        "示例·县督察办",
        date(2021, 3, 12),
    ),
}


def county_short(code: str) -> str:
    """Return a county's name for leader names, shortened (江华瑶族自治县 -> 江华县)."""
    name = COUNTIES[code][0]
    return "江华县" if name.startswith("江华") else name


def case_leaders(code: str, index: int) -> list[tuple[str, date, date | None]]:
    """Return the county leader lines (name, from, to) owning one case, in date order."""
    short = county_short(code)
    first = f"示例·{short}领导{CASE_LEADER_SUFFIXES[index % 3]}"
    if index % 5 != 4:
        return [(first, ROSTER_START, None)]
    second = f"示例·{short}领导{CASE_LEADER_SUFFIXES[(index + 1) % 3]}"
    day_before = date.fromordinal(CASE_HANDOVER_DAY.toordinal() - 1)
    return [(first, ROSTER_START, day_before), (second, CASE_HANDOVER_DAY, None)]


def load_rosters(session: Session, plans: list[dict]) -> int:
    """Insert the sample city and case roster lines that are missing; return how many."""
    have = set(
        session.execute(
            select(
                LeaderAssignment.name,
                LeaderAssignment.county_code,
                LeaderAssignment.issue_number,
                LeaderAssignment.valid_from,
            )
        )
    )
    wanted = [
        LeaderAssignment(
            kind="city_leader",
            name=name,
            title=CITY_TITLE,
            county_code=code,
            valid_from=start,
            valid_to=end,
        )
        for name, codes, start, end in CITY_LEADERS
        for code in codes
    ]
    for i, plan in enumerate(plans):
        code = plan["county_code"]
        for name, start, end in case_leaders(code, i):
            wanted.append(
                LeaderAssignment(
                    kind="county_leader",
                    name=name,
                    title=f"{COUNTIES[code][0]}领导（示例）",
                    county_code=code,
                    issue_number=plan["number"],
                    valid_from=start,
                    valid_to=end,
                )
            )
    added = [a for a in wanted if (a.name, a.county_code, a.issue_number, a.valid_from) not in have]
    session.add_all(added)
    session.flush()
    return len(added)


def load_rules(session: Session, *, actor: str, day: date) -> int:
    """Set the sample's category × county rules and city partner rules that are missing."""
    have = set(session.execute(select(ResponsibilityRule.category, ResponsibilityRule.county_code)))
    departments = {c: v[1] for c, v in CATEGORIES.items()} | {PA_CATEGORY: "林业局"}
    added = 0
    for category, dept in departments.items():
        for code, (name, _towns) in COUNTIES.items():
            if (category, code) not in have:
                note = f"{SAMPLE_MARK}：{category}由县级主管部门牵头、属地政府配合"
                set_rule(
                    session,
                    category,
                    code,
                    f"{name}{dept}",
                    [county_government(code)],
                    actor=actor,
                    date=day,
                    note=note,
                )
                added += 1
        if category in CITY_PARTNERS and (category, ANY) not in have:
            set_rule(
                session,
                category,
                ANY,
                "",
                CITY_PARTNERS[category],
                actor=actor,
                date=day,
                note=f"{SAMPLE_MARK}：市级行业主管部门为责任单位",
            )
            added += 1
    return added


def roster_changes(plan: dict, index: int) -> list[date]:
    """Return the days after the start when the issue's city or case leader changes hands."""
    days = {
        start
        for _name, codes, start, _end in CITY_LEADERS
        if plan["county_code"] in codes and start > ROSTER_START
    }
    days |= {
        start for _n, start, _e in case_leaders(plan["county_code"], index) if start > ROSTER_START
    }
    return sorted(days)
