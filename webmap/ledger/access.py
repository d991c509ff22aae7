"""Who may do what: roles, the role × action matrix, object rules and the read scope of a user.

Reading is governed by ``scope_for(user)``, a ``Scope`` that ``IssueQuery.apply`` adds to every
query, so pages, APIs, map data and exports show the same issues. Changing is governed by
``can(user, action, issue)``; every state-changing view declares its action with ``requires``
(``webmap.web.auth`` refuses a state-changing request to a view that declared none).

=============  =======================================  =========================================
role           reads (scope)                            may change
=============  =======================================  =========================================
admin          everything                               everything
county         issues of its county                     progress, status up to 申请, its county
department     issues its unit leads or partners on     progress of those issues
reserve        issues inside protected areas            protected-area layers, overlap work
city-leader    counties it supervises (roster)          nothing
county-leader  cases it owns (roster)                   nothing
viewer         everything internal                      nothing
(anonymous)    /public only                             objections to issues in 公示
=============  =======================================  =========================================
"""

from __future__ import annotations

from webmap.ledger.query import Scope
from webmap.ledger.vocabulary import CITY_ONLY_STATUSES

ROLES = ("admin", "county", "department", "reserve", "city-leader", "county-leader", "viewer")
ROLE_LABELS = {
    "admin": "市督察办（管理员）",
    "county": "县（市、区）填报员",
    "department": "部门填报员",
    "reserve": "自然保护地工作组",
    "city-leader": "市级包县领导",
    "county-leader": "县级包案领导",
    "viewer": "内部查看",
}
ACTIONS = {
    "issue.read": "查看问题",
    "issue.progress": "填报进展",
    "issue.transition": "变更状态、提交销号环节",
    "issue.verify": "核查、备案（市级）",
    "issue.disclosure": "设置公开与敏感",
    "objection.review": "处理公示异议",
    "audit.read": "查看审计日志",
    "users.manage": "管理账号",
    "layers.manage": "管理保护地图层与重叠分析",
    "escalation.decide": "确认、调整或驳回问责建议（市级）",
    "notice.read": "查看提醒、标记已读",
    "briefing.build": "生成汇报材料和调度通报（全市）",
    "ledger.import": "导入台账（全市）",
    "session": "登录与退出",
}
_EDITORS = ("county", "department")
MATRIX: dict[str, frozenset[str]] = {
    "admin": frozenset(ACTIONS),
    "county": frozenset({"issue.read", "issue.progress", "issue.transition", "notice.read",
                         "session"}),
    "department": frozenset({"issue.read", "issue.progress", "notice.read", "session"}),
    "reserve": frozenset({"issue.read", "layers.manage", "notice.read", "session"}),
    "city-leader": frozenset({"issue.read", "notice.read", "session"}),
    "county-leader": frozenset({"issue.read", "notice.read", "session"}),
    "viewer": frozenset({"issue.read", "notice.read", "session"}),
}


def check_role(role: str) -> str:
    """Return ``role`` if it is a known role, else raise ValueError naming it and the choices."""
    if role not in ROLES:
        raise ValueError(f"未知角色“{role}”，可选：{'、'.join(ROLES)}")
    return role


def roster_name(user) -> str:
    """Return the leader-roster name of a leader account (its unit field, else its username)."""
    return user.unit or user.username


def scope_for(user) -> Scope:
    """Return the read scope of a user (``None`` means anonymous: public issues only)."""
    if user is None:
        return Scope.public()
    role = user.role
    if role in ("admin", "viewer"):
        return Scope(kind="everything", role=role)
    if role == "county":
        return Scope(kind="county", counties=(user.county_code or "",), role=role)
    if role == "department":
        return Scope(kind="unit", unit=user.unit or "", role=role)
    if role == "reserve":
        return Scope(kind="protected", role=role)
    if role in ("city-leader", "county-leader"):
        return Scope(kind="leader", leader=roster_name(user), role=role)
    return Scope.public()  # unknown role: fail closed


def _owns(user, issue) -> bool:
    """Return True when an editor's county or unit answers for the issue."""
    if user.role == "county":
        return bool(user.county_code) and issue.county_code == user.county_code
    if user.role == "department":
        return bool(user.unit) and (
            issue.lead_unit == user.unit or user.unit in (issue.partner_units or [])
        )
    return False


def can(user, action: str, issue=None, *, to_status: str | None = None) -> bool:
    """Return True when ``user`` may do ``action`` (on ``issue``, moving it to ``to_status``)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if user is None or getattr(user, "disabled", False):
        return False
    if action not in MATRIX.get(user.role, frozenset()):
        return False
    if user.role == "admin" or issue is None or action == "issue.read":
        return True
    if user.role in _EDITORS and not _owns(user, issue):
        return False
    if action == "issue.transition" and to_status in CITY_ONLY_STATUSES:
        return False
    return True
