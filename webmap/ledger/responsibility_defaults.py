"""The shipped responsibility defaults: county government and sector department units and rules.

Each county government leads in its county (属地) and the sector departments named for a
category partner (管行业必须管环保); admins edit the rules afterwards. ``load_defaults`` only
adds what is missing, so it is safe to run on every ``yzmap init``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from webmap.ledger.filters import COUNTIES
from webmap.ledger.models import ANY, ResponsibilityRule, Unit
from webmap.ledger.rules import set_rule

CITY_DEPARTMENTS = {
    "水污染": ["永州市生态环境局", "永州市水利局"],
    "大气污染": ["永州市生态环境局"],
    "固体废物": ["永州市生态环境局", "永州市住房和城乡建设局"],
    "矿山开采": ["永州市自然资源和规划局"],
    "河道采砂": ["永州市水利局"],
    "自然保护地": ["永州市林业局"],
    "畜禽养殖": ["永州市农业农村局", "永州市生态环境局"],
    "工业污染": ["永州市工业和信息化局", "永州市生态环境局"],
}


def county_government(code: str) -> str:
    """Return the name of a county's government unit."""
    name = COUNTIES[code]
    return f"{name}管委会" if name.endswith(("开发区", "管理区")) else f"{name}人民政府"


def load_defaults(session: Session, *, actor: str = "system", date: dt.date | None = None) -> int:
    """Insert the shipped units and rules that are missing; return how many rows were added."""
    day = date or dt.date.today()
    added = 0
    units = {n for n in session.scalars(select(Unit.name))}
    wanted = [(county_government(c), "county_gov", c) for c in COUNTIES]
    wanted += [
        (d, "department", None) for d in sorted({d for ds in CITY_DEPARTMENTS.values() for d in ds})
    ]
    for name, kind, code in wanted:
        if name not in units:
            session.add(Unit(name=name, kind=kind, county_code=code, aliases=[]))
            added += 1
    existing = set(
        session.execute(select(ResponsibilityRule.category, ResponsibilityRule.county_code))
    )
    for code in COUNTIES:
        if (ANY, code) not in existing:
            set_rule(
                session,
                ANY,
                code,
                county_government(code),
                ["永州市生态环境局"],
                actor=actor,
                date=day,
                note="默认：属地政府牵头",
            )
            added += 1
    for category, departments in CITY_DEPARTMENTS.items():
        if (category, ANY) not in existing:
            set_rule(
                session,
                category,
                ANY,
                "",
                departments,
                actor=actor,
                date=day,
                note="默认：行业主管部门为责任单位",
            )
            added += 1
    session.flush()
    return added
