"""What an account needs to see anything: a known county, unit or roster name for its role.

A county editor without a county, a department without a known unit or a leader whose roster
name is not on the roster would sign in to an empty map ("共 0 条") with no hint why; these
checks refuse such accounts up front and list the valid choices.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from webmap.ledger.access import check_role
from webmap.ledger.events import LedgerError
from webmap.ledger.filters import COUNTIES, resolve_county
from webmap.ledger.models import LeaderAssignment, Unit

LEADER_ROLES = ("city-leader", "county-leader")
SHOWN = 30  # choices listed in a message before "等 N 个"


def choices_text(names) -> str:
    """Return choices for a message: all of them, or the first ``SHOWN`` and how many more.

    >>> choices_text(["甲", "乙"])
    '甲、乙'
    >>> choices_text([str(i) for i in range(40)]).endswith("29 等 40 个")
    True
    """
    names = list(names)
    head = "、".join(names[:SHOWN])
    return head if len(names) <= SHOWN else f"{head} 等 {len(names)} 个"


def county_choices() -> str:
    """Return the counties as "name（code）", for messages."""
    return choices_text(f"{name}（{code}）" for code, name in COUNTIES.items())


def check_county(text: str) -> str:
    """Return the county code for a code, name or alias, or raise naming the valid ones."""
    code = resolve_county(text)
    if code is None:
        close = [f"{n}（{c}）" for c, n in COUNTIES.items() if text and (text in n or n in text)]
        hint = f"是否指 {'、'.join(close)}？" if close else ""
        raise LedgerError(f"“{text}”不是永州市的县（市、区）。{hint}可用：{county_choices()}",
                          "county", text)  # fmt: skip
    return code


def check_account(session: Session, *, username: str, role: str, county: str | None,
                  unit: str | None) -> str | None:  # fmt: skip
    """Check an account's role and scope; return its county code (or None)."""
    try:
        check_role(role)
    except ValueError as exc:
        raise LedgerError(str(exc), "role", role) from None
    code = check_county(county) if county else None
    if role == "county" and code is None:
        raise LedgerError(f"county 角色须指定县（市、区），可用：{county_choices()}",
                          "county", None)  # fmt: skip
    if role == "department":
        units = session.scalars(select(Unit).order_by(Unit.name)).all()
        known = {u.name for u in units} | {a for u in units for a in (u.aliases or [])}
        if not unit or unit not in known:
            what = f"单位“{unit}”不在单位表中" if unit else "department 角色须指定单位"
            raise LedgerError(f"{what}，可用：{choices_text(u.name for u in units)}", "unit", unit)
    if role in LEADER_ROLES:
        roster = sorted(set(session.scalars(select(LeaderAssignment.name))))
        name = unit or username
        if name not in roster:
            raise LedgerError(
                f"领导账号须对应包联名单中的姓名（用单位/姓名参数指定），“{name}”不在名单中；"
                f"名单：{choices_text(roster) or '（空，请先导入台账或录入包联领导）'}",
                "unit", name,
            )  # fmt: skip
    return code
