"""A deterministic sample ledger (示例) modelled on Yongzhou's 2021 rectification plan.

``load_sample(session, layers)`` writes 64 issues: the 30 provincial look-back problems with the
plan's 20/5/5 deadline split, 8 protected-area issues placed inside the (illustrative) reserve
zones, and central-inspection, Yangtze warning-film, provincial daily-referral and city-referral
issues, spread over all 11 counties. Each issue's history (progress reports, sign-off stages with
evidence links, accountability actions) is written through ``webmap.ledger.workflow`` with its
real past dates, 2021-03-06 (feedback day) to 2024, so as-of views and dashboards have shape.
Who answers for each issue comes from ``webmap.ledger.responsibility``: county by ``geo``
attribution, units by the sample's category × county rules, leaders from the fictitious 示例
rosters in ``webmap.ledger.sample_data.rosters``; a roster hand-over re-runs the assignment for
cases still open that day, and two manual overrides show that path. Data tables live in
``webmap.ledger.sample_data``. Every record has ``is_sample=True``; titles are invented in the
style of the plan.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import shapely
from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.boundaries import LayerSet
from webmap.ledger.events import create_issue
from webmap.ledger.models import Issue
from webmap.ledger.responsibility import assign_responsibility, override_responsibility
from webmap.ledger.responsibility_defaults import load_defaults
from webmap.ledger.sample_data import rosters
from webmap.ledger.sample_data.tables import (  # noqa: F401 (COUNTIES, CATEGORIES: bench/ledger.py)
    CATEGORIES,
    COUNTIES,
    LOOKBACK_DUES,
    OTHER_SOURCES,
    OUTCOME_CYCLE,
    PA_CATEGORY,
    PA_TITLES,
    SOURCE_PREFIXES,
)
from webmap.ledger.workflow import Evidence, record_action, record_progress, transition

_transition, _record_progress, _record_action = transition, record_progress, record_action

ACTOR = "示例数据"
FEEDBACK_DAY = date(2021, 3, 6)
SEED = 20210306
PUBLICITY_DAYS = 7  # the sample's own 公示 period: its 申请 comes 9 days after 公示


def _random_point_in(geom, rng: random.Random, inset: float = 0.01, avoid=None) -> Point:
    """Return a reproducible random point inside ``geom`` (inset in degrees), not in ``avoid``."""
    inner = geom.buffer(-inset) if geom.buffer(-inset).area > 0 else geom
    minx, miny, maxx, maxy = inner.bounds
    for _ in range(2000):
        p = Point(round(rng.uniform(minx, maxx), 6), round(rng.uniform(miny, maxy), 6))
        if inner.contains(p) and (avoid is None or not avoid.contains(p)):
            return p
    return inner.representative_point()


def _plans(layers: LayerSet, rng: random.Random) -> list[dict]:
    """Return the sample issues' ledger values (without history), in number order."""
    counties = layers.counties.frame.set_index("code").geometry
    if layers.protected_areas is not None:
        # ordinary issues stay outside protected areas; the 专项督察 ones are placed inside
        avoid = shapely.union_all(layers.protected_areas.frame.geometry.values).buffer(0.01)
        counties = counties.map(lambda g: (g, avoid))
    else:
        counties = counties.map(lambda g: (g, None))
    codes = list(COUNTIES)
    cats = list(CATEGORIES)
    plans = []
    for i, due in enumerate(LOOKBACK_DUES):
        plans.append(
            _plan(
                f"HKT-{i + 1:02d}",
                "回头看",
                "省督察回头看（2020年）",
                codes[i % 11],
                cats[i % len(cats)],
                due,
                i,
                counties,
                rng,
            )
        )
    k = 0
    for source, batch, n in OTHER_SOURCES:
        for j in range(n):
            due = date(2021 + (j % 3), (6, 12, 9)[j % 3], (30, 31, 30)[j % 3]) if j % 5 else None
            code = codes[(k * 4 + 3) % 11]
            plans.append(
                _plan(
                    f"{SOURCE_PREFIXES[source]}-{j + 1:02d}",
                    source,
                    batch,
                    code,
                    cats[(k + 3) % len(cats)],
                    due,
                    k,
                    counties,
                    rng,
                )
            )
            k += 1
    plans += _protected_area_plans(layers, rng)
    return plans


def _plan(number, source, batch, code, category, due, i, counties, rng) -> dict:
    """Return one issue's values, placed at a random point in a named township of its county."""
    name, towns = COUNTIES[code]
    town = towns[i % len(towns)]
    pattern, _dept, target, measures = CATEGORIES[category]
    geom, avoid = counties[code]
    point = _random_point_in(geom, rng, avoid=avoid)
    return {
        "number": number,
        "source_type": source,
        "batch": batch,
        "category": category,
        "title": pattern.format(t=town),
        "description": f"{name}{town}{pattern.format(t='')}问题（示例）",
        "location_text": f"永州市{name}{town}",
        "geometry": point,
        "declared_county": name,
        "county_code": code,
        "county_name": name,
        "due_date": due,
        "deadline_class": _deadline_class(due),
        "target": target,
        "measures": measures,
        "is_sample": True,
    }


def _deadline_class(due: date | None) -> str:
    """Return the plan's deadline class for a due date."""
    if due is None:
        return "持续推进"
    return "2021年底前" if due.year <= 2021 else "2022年" if due.year == 2022 else "2023年及以后"


def _protected_area_plans(layers: LayerSet, rng: random.Random) -> list[dict]:
    """Return 8 protected-area issues, each inside a named reserve zone."""
    if layers.protected_areas is None:
        return []
    frame = layers.protected_areas.frame
    zoned = frame[frame["zone"].notna()].reset_index(drop=True)
    out = []
    for j in range(8):
        feat = zoned.iloc[(j * 2) % len(zoned)]
        point = _random_point_in(feat.geometry, rng, inset=0.002)
        code = next(
            c
            for c, g in layers.counties.frame.set_index("code").geometry.items()
            if g.contains(point)
        )
        name = COUNTIES[code][0]
        due = (date(2021, 12, 31), date(2022, 12, 31), date(2023, 6, 30), None)[j % 4]
        out.append(
            {
                "number": f"ZXD-{j + 1:02d}",
                "source_type": "专项督察",
                "batch": "自然保护地专项督察（2020年）",
                "category": PA_CATEGORY,
                "title": PA_TITLES[j % 4].format(
                    pa=feat["name"].removeprefix("湖南"), zone=feat["zone"]
                ),
                "description": f"{feat['name']}{feat['zone']}内存在违规建设（示例）",
                "location_text": f"永州市{name}{feat['name']}",
                "geometry": point,
                "declared_county": name,
                "county_code": code,
                "county_name": name,
                "protected_area": feat["name"],
                "zone": feat["zone"],
                "due_date": due,
                "deadline_class": _deadline_class(due),
                "target": "拆除违规设施，恢复植被",
                "measures": "拆除、复绿，纳入保护地日常巡护",
                "is_sample": True,
            }
        )
    return out


def _evidence(number: str, kind: str) -> tuple[Evidence, ...]:
    """Return a named (not stored) evidence record for a sample sign-off stage."""
    return (Evidence(kind, filename=f"示例-{number}-{kind}.pdf", mime="application/pdf"),)


def _hooked(write, before):
    """Return ``write`` calling ``before(date)`` first, so dated side events keep their order."""

    def call(session, issue, *args, date, **kwargs):
        """Run the pending side events up to ``date``, then the write itself."""
        before(date)
        return write(session, issue, *args, date=date, **kwargs)

    return call


def _sign_off(session, issue, start: date, stop_at: str = "已销号", transition=transition) -> None:
    """Walk an issue at 100% through 已完成待销号 and the sign-off stages up to ``stop_at``."""
    steps = (
        ("已完成待销号", 0, ()),
        ("初审", 12, ("整改完成材料",)),
        ("公示", 20, ("公示链接",)),
        ("申请", 29, ("销号申请表",)),
        ("核查", 45, ("核查意见",)),
        ("已销号", 60, ("备案文件",)),
    )
    for status, offset, kinds in steps:
        evidence = tuple(e for k in kinds for e in _evidence(issue.number, k))
        transition(
            session,
            issue,
            status,
            actor=ACTOR,
            date=start + timedelta(days=offset),
            evidence=evidence,
            publicity_days=PUBLICITY_DAYS,
        )
        if status == stop_at:
            return


def _history(session, issue: Issue, outcome: str, rng: random.Random, before=None) -> None:
    """Write one issue's progress, sign-off and accountability history for ``outcome``.

    ``before(day)`` runs before each write: it slots in the roster hand-overs and overrides
    that fall earlier, because an issue's events must be recorded in date order.
    """
    hook = before or (lambda day: None)
    transition, record_progress, record_action = (
        _hooked(w, hook) for w in (_transition, _record_progress, _record_action)
    )
    start = FEEDBACK_DAY + timedelta(days=rng.randint(10, 40))
    due = issue.due_date
    if outcome == "ongoing":
        transition(session, issue, "持续推进", actor=ACTOR, date=start,
                   publicity_days=PUBLICITY_DAYS)
        for year, pct in ((2021, 30), (2022, 50), (2023, 70), (2024, 80)):
            record_progress(
                session,
                issue,
                percent=pct,
                date=date(year, 11, 30),
                actor=ACTOR,
                text=f"{year}年度持续推进，完成阶段任务（示例）",
            )
        return
    if outcome == "not_started":
        return
    record_progress(
        session, issue, percent=20, date=start, actor=ACTOR, text="已制定整改方案并启动（示例）"
    )
    mid = start + timedelta(days=rng.randint(60, 120))
    record_progress(
        session, issue, percent=60, date=mid, actor=ACTOR, text="主体工程推进过半（示例）"
    )
    if outcome == "open":
        return
    if outcome in ("done", "signing", "checking"):
        finish = max(mid + timedelta(days=30), (due or mid) - timedelta(days=rng.randint(5, 40)))
        if outcome == "done" and rng.random() < 0.25 and due is not None:
            finish = due + timedelta(days=rng.randint(10, 40))  # finished late but signed off
        record_progress(
            session, issue, percent=100, date=finish, actor=ACTOR, text="整改任务全部完成（示例）"
        )
        stop = {"done": "已销号", "signing": "公示", "checking": "核查"}[outcome]
        _sign_off(session, issue, finish + timedelta(days=3), stop, transition)
        return
    # late: stuck below 100% past the due date; the ladder starts
    record_progress(
        session,
        issue,
        percent=75,
        date=max(mid, (due or mid)) + timedelta(days=10),
        actor=ACTOR,
        text="受资金和用地影响，进度滞后（示例）",
    )
    if outcome == "late_escalated" and due is not None:
        unit = issue.lead_unit
        record_action(
            session,
            issue,
            "警示约谈",
            actor=ACTOR,
            date=due + timedelta(days=20),
            unit=unit,
            note="逾期未完成，约谈牵头单位负责人（示例）",
        )
        record_action(
            session,
            issue,
            "公开通报",
            actor=ACTOR,
            date=due + timedelta(days=50),
            unit=unit,
            note="在全市通报（示例）",
        )
        record_progress(
            session,
            issue,
            percent=85,
            date=due + timedelta(days=90),
            actor=ACTOR,
            text="约谈后加快推进（示例）",
        )


def _outcomes(plans: list[dict], rng: random.Random) -> list[str]:
    """Choose each issue's outcome reproducibly: most signed off, some late, some ongoing."""
    out = []
    for i, p in enumerate(plans):
        if p["due_date"] is None:
            out.append("ongoing")
        elif p["due_date"] > date(2025, 1, 1):
            out.append("open" if i % 2 else "not_started")
        else:
            out.append(OUTCOME_CYCLE[i % len(OUTCOME_CYCLE)])
    return out


def _attributed(layers: LayerSet, point: Point) -> tuple[dict, object]:
    """Return the issue fields (county, protected area, zone, evidence) and the attribution."""
    from geo.lookup import attribute_geometry
    from webmap.ledger.io.attribute import attribution_record

    att = attribute_geometry(layers, point)
    att.evidence.insert(0, "示例数据：坐标在所在县区内随机生成")
    fields = {
        "geometry": shapely.geometry.mapping(point),
        "county_code": att.county_code,
        "county_name": att.county_name,
        "protected_area": att.protected_area,
        "zone": att.zone,
        "attribution": attribution_record(att),
    }
    return fields, att


def _side_events(session, issue: Issue, plan: dict, index: int, att) -> list[tuple]:
    """Return the issue's dated side events: roster hand-overs (re-assignment) and overrides."""

    def reassign(day):
        """Re-run the assignment on a hand-over day while the case is still open."""
        if issue.status != "已销号":
            assign_responsibility(session, issue, actor=ACTOR, date=day, attribution=att)

    events = [(day, reassign) for day in rosters.roster_changes(plan, index)]
    if plan["number"] in rosters.OVERRIDES:
        kind, names, reason, actor, day = rosters.OVERRIDES[plan["number"]]
        events.append(
            (day, lambda _day: override_responsibility(
                session, issue, kind, names, reason=reason, actor=actor, date=day))
        )  # fmt: skip
    return sorted(events, key=lambda e: e[0])


def _write_issue(session, plan: dict, index: int, outcome: str, att, rng) -> Issue:
    """Create one issue, assign who answers for it, then write its history and side events."""
    issue = create_issue(session, plan, actor=ACTOR, date=FEEDBACK_DAY)
    assign_responsibility(session, issue, actor=ACTOR, date=FEEDBACK_DAY, attribution=att)
    pending = _side_events(session, issue, plan, index, att)

    def before(day):
        """Run the side events dated on or before ``day``."""
        while pending and pending[0][0] <= day:
            when, run = pending.pop(0)
            run(when)

    _history(session, issue, outcome, rng, before)
    before(date.max)  # hand-overs after the last progress report (still-open cases)
    return issue


def load_sample(session: Session, layers: LayerSet | None = None) -> list[Issue]:
    """Write the sample ledger (committing it) and return its issues; refuses to load twice."""
    from geo.boundaries import load_shipped

    if session.scalar(select(Issue.id).where(Issue.is_sample.is_(True)).limit(1)) is not None:
        raise ValueError("示例台账已加载")
    layers = layers or load_shipped()
    rng = random.Random(SEED)
    plans = _plans(layers, rng)
    outcomes = _outcomes(plans, rng)
    issues = []
    try:
        load_defaults(session, actor=ACTOR, date=FEEDBACK_DAY)
        located = []
        for plan in plans:
            fields, att = _attributed(layers, plan["geometry"])
            located.append(att)
            plan |= fields
        rosters.load_rules(session, actor=ACTOR, day=FEEDBACK_DAY)
        rosters.load_rosters(session, plans)
        for i, (plan, outcome, att) in enumerate(zip(plans, outcomes, located, strict=True)):
            issues.append(_write_issue(session, plan, i, outcome, att, rng))
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return issues
