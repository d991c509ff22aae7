"""A deterministic sample ledger (示例) modelled on Yongzhou's 2021 rectification plan.

``load_sample(session)`` writes 64 issues: the 30 provincial look-back problems with the plan's
20/5/5 deadline split, 8 protected-area issues placed inside the (illustrative) reserve zones,
and central-inspection, Yangtze warning-film, provincial daily-referral and city-referral issues,
spread over all 11 counties. Each issue's history (progress reports, sign-off stages with
evidence links, accountability actions) is written through ``webmap.workflow`` with its real
past dates, 2021-03-06 (feedback day) to 2024, so as-of views and dashboards have shape.
Every record has ``is_sample=True``; titles are invented in the style of the plan.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import shapely
from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.boundaries import LayerSet
from webmap.events import create_issue
from webmap.models import Issue
from webmap.workflow import Evidence, record_action, record_progress, transition

ACTOR = "示例数据"
FEEDBACK_DAY = date(2021, 3, 6)
SEED = 20210306

# county code -> (name, real townships from the NBS 2023 gazetteer)
COUNTIES = {
    "431102": ("零陵区", ("富家桥镇", "珠山镇", "邮亭圩镇")),
    "431103": ("冷水滩区", ("花桥街镇", "普利桥镇", "黄阳司镇")),
    "431181": ("祁阳市", ("观音滩镇", "茅竹镇", "大忠桥镇")),
    "431122": ("东安县", ("白牙市镇", "紫溪市镇", "井头圩镇")),
    "431123": ("双牌县", ("江村镇", "五里牌镇", "何家洞镇")),
    "431124": ("道县", ("梅花镇", "寿雁镇", "祥霖铺镇")),
    "431125": ("江永县", ("上江圩镇", "桃川镇", "粗石江镇")),
    "431126": ("宁远县", ("天堂镇", "湾井镇", "冷水镇")),
    "431127": ("蓝山县", ("毛俊镇", "楠市镇", "所城镇")),
    "431128": ("新田县", ("金陵镇", "骥村镇", "石羊镇")),
    "431129": ("江华瑶族自治县", ("大路铺镇", "白芒营镇", "河路口镇")),
}
# category -> (title pattern, lead department, target, measures)
CATEGORIES = {
    "畜禽养殖污染": (
        "{t}生猪养殖场粪污直排",
        "畜牧水产事务中心",
        "粪污资源化利用率达标，杜绝直排",
        "关停禁养区养殖场，配套建设粪污处理设施",
    ),
    "矿山生态修复": (
        "{t}废弃矿山生态修复滞后",
        "自然资源局",
        "完成矿山复绿",
        "清理废渣、覆土复绿、边坡治理",
    ),
    "小水电清理整改": (
        "{t}小水电站未落实生态流量",
        "水利局",
        "保障最小下泄生态流量",
        "安装生态流量泄放设施和在线监控，退出类电站拆除",
    ),
    "黑臭水体": (
        "{t}集镇黑臭水体",
        "住房和城乡建设局",
        "消除黑臭，水质稳定达标",
        "截污纳管、清淤疏浚、生态补水",
    ),
    "污水处理厂提标": (
        "{t}污水处理厂出水超标",
        "住房和城乡建设局",
        "出水稳定达到一级A标准",
        "实施提标改造，完善配套管网",
    ),
    "非法采砂": (
        "{t}河段非法采砂",
        "水利局",
        "取缔非法采砂点，修复河道",
        "联合执法打击，清理砂石堆场",
    ),
    "工业污染": (
        "{t}工业企业废气超标排放",
        "生态环境分局",
        "废气稳定达标排放",
        "停产整治，安装在线监测",
    ),
    "垃圾填埋场": (
        "{t}垃圾填埋场渗滤液外溢",
        "城市管理和综合执法局",
        "渗滤液全收集全处理",
        "建设渗滤液处理站，封场覆盖",
    ),
}
PA_CATEGORY = "自然保护区内违规建设"
PA_TITLES = (
    "{pa}{zone}内违规建设旅游设施",
    "{pa}{zone}内小水电站未退出",
    "{pa}{zone}内违规采石",
    "{pa}{zone}内违规修建道路",
)
# look-back due dates: 20 by end-2021, 5 in 2022, 5 in 2023 and later or ongoing (the plan)
LOOKBACK_DUES = (
    [date(2021, 6, 30)] * 4
    + [date(2021, 9, 30)] * 4
    + [date(2021, 12, 31)] * 12
    + [date(2022, 6, 30)] * 2
    + [date(2022, 12, 31)] * 3
    + [date(2023, 12, 31), date(2024, 6, 30), date(2025, 12, 31), None, None]
)
OTHER_SOURCES = (
    ("中央督察", "中央环保督察", 5),
    ("中央督察回头看", "中央督察回头看", 3),
    ("长江警示片", "2020年长江经济带警示片", 6),
    ("省日常交办", "省日常督察交办", 6),
    ("市交办", "市委市政府交办", 6),
)


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
                    f"{_prefix(source)}-{j + 1:02d}",
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


def _prefix(source: str) -> str:
    """Return the number prefix of a source type."""
    return {
        "中央督察": "ZY",
        "中央督察回头看": "ZYH",
        "长江警示片": "JSP",
        "省日常交办": "SRC",
        "市交办": "SJB",
        "专项督察": "ZXD",
    }[source]


def _plan(number, source, batch, code, category, due, i, counties, rng) -> dict:
    """Return one issue's values, placed at a random point in a named township of its county."""
    name, towns = COUNTIES[code]
    town = towns[i % len(towns)]
    pattern, dept, target, measures = CATEGORIES[category]
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
        "lead_unit": f"{name}{dept}",
        "partner_units": [f"{name}人民政府", f"{town}人民政府"],
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
                "lead_unit": f"{name}林业局",
                "partner_units": [f"{name}人民政府", f"{feat['name']}管理局"],
                "target": "拆除违规设施，恢复植被",
                "measures": "拆除、复绿，纳入保护地日常巡护",
                "is_sample": True,
            }
        )
    return out


def _evidence(number: str, kind: str) -> tuple[Evidence, ...]:
    """Return a named (not stored) evidence record for a sample sign-off stage."""
    return (Evidence(kind, filename=f"示例-{number}-{kind}.pdf", mime="application/pdf"),)


def _sign_off(session, issue, start: date, stop_at: str = "已销号") -> None:
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
        )
        if status == stop_at:
            return


def _history(session, issue: Issue, outcome: str, rng: random.Random) -> None:
    """Write one issue's progress, sign-off and accountability history for ``outcome``."""
    start = FEEDBACK_DAY + timedelta(days=rng.randint(10, 40))
    due = issue.due_date
    if outcome == "ongoing":
        transition(session, issue, "持续推进", actor=ACTOR, date=start)
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
        _sign_off(session, issue, finish + timedelta(days=3), stop)
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
            out.append(
                (
                    "done",
                    "done",
                    "done",
                    "late",
                    "done",
                    "signing",
                    "done",
                    "late_escalated",
                    "checking",
                    "done",
                )[i % 10]
            )
    return out


def _attributed(layers: LayerSet, point: Point) -> dict:
    """Return county, protected area, zone and attribution evidence for a point, from ``geo``."""
    from geo.lookup import attribute_geometry
    from webmap.ledger_io.attribute import attribution_record

    att = attribute_geometry(layers, point)
    att.evidence.insert(0, "示例数据：坐标在所在县区内随机生成")
    return {
        "geometry": shapely.geometry.mapping(point),
        "county_code": att.county_code,
        "county_name": att.county_name,
        "protected_area": att.protected_area,
        "zone": att.zone,
        "attribution": attribution_record(att),
    }


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
        for plan, outcome in zip(plans, outcomes, strict=True):
            plan |= _attributed(layers, plan["geometry"])
            issue = create_issue(session, plan, actor=ACTOR, date=FEEDBACK_DAY)
            _history(session, issue, outcome, rng)
            issues.append(issue)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return issues
