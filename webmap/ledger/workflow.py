"""Ledger workflow rules in one place: statuses, transitions, evidence, 公示, RAG, escalation.

Pure functions (``allowed_targets``, ``check_transition``, ``rag``, ``propose_escalation``…) hold
the rules; ``transition``, ``record_progress`` and ``record_action`` apply them to the database,
writing the change and its event in one savepoint, and raise ``WorkflowError`` on a refused move.

Sign-off (销号) stages and the evidence each needs (a stage is entered by moving to its status):

==========  =====================================  ==================================
stage       status entered                         evidence kinds required
==========  =====================================  ==================================
初审        初审                                   整改完成材料
公示        公示 (its date starts the period)      公示截图 or 公示链接
申请        申请 (≥ PUBLICITY_DAYS after 公示)     销号申请表
核查        核查                                   核查意见
备案        已销号                                 备案文件
==========  =====================================  ==================================

RAG: 已销号 is ``done``; 持续推进 or no due date is ``none``; otherwise ``red`` when the due date
has passed, ``amber`` when it is at most ``AMBER_DAYS`` away (due today included), else
``green``. The due date keeps counting through the sign-off stages: sign-off is due on time too.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import and_, or_
from sqlalchemy.orm import Session

from webmap.ledger.events import LedgerError, update_issue
from webmap.ledger.models import AccountabilityAction, Attachment, Issue, ProgressUpdate, SignOff
from webmap.ledger.vocabulary import (  # noqa: F401 - re-exported: the workflow's own words
    DONE,
    LADDER,
    LADDER_KINDS,
    ONGOING,
    RAG_LABELS,
    RAGS,
    REWORK,
    STAGE_OF_STATUS,
    STATUSES,
)

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "未启动": ("整改中", "持续推进"),
    "整改中": ("已完成待销号", "持续推进"),
    "持续推进": ("整改中", "已完成待销号"),
    "已完成待销号": ("初审", "整改中"),
    "初审": ("公示", "整改中"),
    "公示": ("申请", "整改中"),  # back to 整改中 when an objection is upheld
    "申请": ("核查", "整改中"),
    "核查": ("已销号", "整改中"),
    "已销号": ("整改中",),  # relapse (反弹) reopens the issue
}
# each inner tuple lists alternatives: one of them is enough
REQUIRED_EVIDENCE: dict[str, tuple[tuple[str, ...], ...]] = {
    "初审": (("整改完成材料",),),
    "公示": (("公示截图", "公示链接"),),
    "申请": (("销号申请表",),),
    "核查": (("核查意见",),),
    "备案": (("备案文件",),),
}


class WorkflowError(LedgerError):
    """A workflow move was refused; the Chinese message names the field and value."""


@dataclass(frozen=True)
class Evidence:
    """One piece of sign-off evidence: a stored file or a link."""

    kind: str
    filename: str | None = None
    sha256: str | None = None
    size: int | None = None
    mime: str | None = None
    stored_path: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Proposal:
    """The next escalation step the rules propose, with why."""

    kind: str
    days_overdue: int
    reason: str


def evidence_from_file(path: str | Path, kind: str, *, stored_path: str | None = None) -> Evidence:
    """Describe a file as evidence: name, sha256, size and MIME type."""
    path = Path(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return Evidence(kind, path.name, digest, path.stat().st_size, mime, stored_path or str(path))


def allowed_targets(status: str) -> tuple[str, ...]:
    """Return the statuses an issue in ``status`` may move to."""
    return TRANSITIONS.get(status, ())


def missing_evidence(stage: str, evidence) -> list[str]:
    """Return the evidence requirements of ``stage`` not met (each as '甲或乙')."""
    kinds = {e.kind for e in evidence if e.filename or e.url}
    return ["或".join(alts) for alts in REQUIRED_EVIDENCE.get(stage, ()) if not kinds & set(alts)]


def publicity_end(start: date, days: int) -> date:
    """Return the first day 申请 is allowed after a 公示 of ``days`` days from ``start``."""
    return start + timedelta(days=days)


def check_transition(
    issue: Issue,
    to_status: str,
    *,
    when: date,
    evidence=(),
    note=None,
    publicity_days: int,
    today: date | None = None,
) -> None:
    """Raise ``WorkflowError`` unless ``issue`` may move to ``to_status`` on ``when``.

    ``publicity_days`` is the 公示 period (``PUBLICITY_DAYS``) that must pass before 申请.
    """
    if to_status not in STATUSES:
        raise WorkflowError(f"未知状态：{to_status}", "status", to_status)
    if to_status not in allowed_targets(issue.status):
        allowed = "、".join(allowed_targets(issue.status)) or "无"
        raise WorkflowError(
            f"问题 {issue.number} 不能从「{issue.status}」变为「{to_status}」（可变为：{allowed}）",
            "status",
            to_status,
        )
    if when > (today or date.today()):
        raise WorkflowError(f"日期 {when} 晚于今天", "date", when.isoformat())
    if to_status == REWORK and issue.status != "未启动" and not (note or "").strip():
        raise WorkflowError("退回或重新整改须填写理由", "note", note)
    if to_status == "已完成待销号" and issue.progress < 100:
        raise WorkflowError(
            f"整改进度为 {issue.progress}%，须达到 100% 才能标记完成", "progress", issue.progress
        )
    stage = STAGE_OF_STATUS.get(to_status)
    if stage:
        missing = missing_evidence(stage, evidence)
        if missing:
            raise WorkflowError(f"{stage}缺少材料：{'；'.join(missing)}", "evidence", missing[0])
    if to_status == "申请":
        start = latest_stage_date(issue, "公示")
        end = publicity_end(start, publicity_days) if start else None
        if end is None or when < end:
            raise WorkflowError(
                f"公示期未满（公示开始 {start}，{end} 起方可申请）", "date", when.isoformat()
            )


def feasible_targets(issue: Issue, *, when: date, publicity_days: int) -> list[str]:
    """Return the statuses the issue may move to on ``when`` once the form supplies evidence.

    What a form can add (the stage's evidence, a reason) is assumed given; every other rule
    (progress 100 before 已完成待销号, the 公示 period before 申请) is checked, so a status list
    built from this offers only moves the workflow will accept.
    """
    out = []
    for status in allowed_targets(issue.status):
        stage = STAGE_OF_STATUS.get(status)
        supplied = [Evidence(alts[0], url="https://") for alts in REQUIRED_EVIDENCE.get(stage, ())]
        try:
            check_transition(issue, status, when=when, evidence=supplied, note="（表单填写）",
                             publicity_days=publicity_days, today=when)  # fmt: skip
        except WorkflowError:
            continue
        out.append(status)
    return out


def latest_stage_date(issue: Issue, stage: str) -> date | None:
    """Return the date of the issue's latest sign-off record for ``stage``, if any."""
    dates = [s.date for s in issue.signoffs if s.stage == stage]
    return max(dates) if dates else None


def transition(
    session: Session,
    issue: Issue,
    to_status: str,
    *,
    actor: str,
    date: date,
    evidence=(),
    note: str | None = None,
    publicity_days: int,
    today: date | None = None,
) -> Issue:
    """Move an issue to ``to_status``: validate, record sign-off and evidence, log the event.

    ``today`` (the context's day; the real date when None) is the latest date a move may carry.
    """
    when = date
    check_transition(issue, to_status, when=when, evidence=evidence, note=note,
                     publicity_days=publicity_days, today=today)  # fmt: skip
    stage = STAGE_OF_STATUS.get(to_status)
    detail = {"note": note} if note else {}
    with session.begin_nested():
        if stage:
            signoff = SignOff(stage=stage, signer=actor, date=when, note=note)
            signoff.attachments = [Attachment(**vars(e)) for e in evidence]
            issue.signoffs.append(signoff)
            detail |= {"stage": stage, "evidence": [vars(e) for e in evidence]}
        update_issue(
            session,
            issue,
            {"status": to_status},
            actor=actor,
            date=when,
            kind="status.changed",
            detail=detail,
        )
    return issue


def record_progress(
    session: Session,
    issue: Issue,
    *,
    percent: int,
    date: date,
    actor: str,
    text: str | None = None,
    author: str | None = None,
) -> ProgressUpdate:
    """Add a progress report and set the issue's progress (starting work if it had not begun)."""
    if not isinstance(percent, int) or not 0 <= percent <= 100:
        raise WorkflowError(f"进度须为 0 到 100 的整数，收到 {percent!r}", "progress", percent)
    if issue.status == DONE:
        raise WorkflowError(f"问题 {issue.number} 已销号，不能再报进度", "status", issue.status)
    changes = {"progress": percent}
    if issue.status == "未启动" and percent > 0:
        changes["status"] = REWORK
    with session.begin_nested():
        update = ProgressUpdate(date=date, percent=percent, text=text, author=author, actor=actor)
        issue.updates.append(update)
        update_issue(
            session,
            issue,
            changes,
            actor=actor,
            date=date,
            kind="progress.reported",
            detail={"text": text, "author": author},
        )
    return update


def rag(status: str, due_date: date | None, today: date, amber_days: int) -> str:
    """Return red, amber, green, done or none for an issue's status and due date on ``today``.

    >>> rag("整改中", date(2022, 6, 30), date(2022, 6, 1), 30)
    'amber'
    >>> rag("已销号", None, date.today(), 30)
    'done'
    """
    if status == DONE:
        return "done"
    if status == ONGOING or due_date is None:
        return "none"
    if due_date < today:
        return "red"
    return "amber" if (due_date - today).days <= amber_days else "green"


def rag_clause(value: str, today: date, amber_days: int):
    """Return the SQL condition on ``Issue`` equivalent to ``rag(...) == value``."""
    open_with_due = and_(Issue.status.not_in((DONE, ONGOING)), Issue.due_date.is_not(None))
    horizon = today + timedelta(days=amber_days)
    clauses = {
        "done": Issue.status == DONE,
        "none": and_(Issue.status != DONE, or_(Issue.status == ONGOING, Issue.due_date.is_(None))),
        "red": and_(open_with_due, Issue.due_date < today),
        "amber": and_(open_with_due, Issue.due_date >= today, Issue.due_date <= horizon),
        "green": and_(open_with_due, Issue.due_date > horizon),
    }
    if value not in clauses:
        raise WorkflowError(f"未知预警等级：{value}", "rag", value)
    return clauses[value]


def days_overdue(issue: Issue, today: date) -> int:
    """Return how many days an open issue is past its due date (0 if not overdue)."""
    if rag(issue.status, issue.due_date, today, amber_days=0) != "red":
        return 0
    return (today - issue.due_date).days


def propose_escalation(issue: Issue, today: date) -> Proposal | None:
    """Propose the lowest ladder step not yet applied whose overdue threshold is reached."""
    overdue = days_overdue(issue, today)
    applied = {a.kind for a in issue.actions if a.state == "applied"}
    for kind, threshold in LADDER:
        if kind in applied:
            continue
        if overdue >= threshold:
            return Proposal(kind, overdue, f"逾期 {overdue} 天（≥{threshold} 天），尚未{kind}")
        return None
    return None


def check_action(issue: Issue, kind: str, state: str) -> None:
    """Raise ``WorkflowError`` unless ``kind`` may be recorded as ``state`` for ``issue``."""
    if kind not in LADDER_KINDS:
        raise WorkflowError(
            f"未知问责措施：{kind}（可用：{'、'.join(LADDER_KINDS)}）", "kind", kind
        )
    if state not in ("proposed", "applied"):
        raise WorkflowError(f"未知措施状态：{state}", "state", state)
    if issue.status == DONE:
        raise WorkflowError(
            f"问题 {issue.number} 已销号，不能再采取问责措施", "status", issue.status
        )
    applied = {a.kind for a in issue.actions if a.state == "applied"}
    if state == "applied" and kind in applied:
        raise WorkflowError(f"问题 {issue.number} 已实施{kind}", "kind", kind)
    # 依规问责 may follow false rectification at any time; the other steps go in order
    earlier = LADDER_KINDS[: LADDER_KINDS.index(kind)]
    skipped = [k for k in earlier if k not in applied]
    if state == "applied" and kind != "依规问责" and skipped:
        raise WorkflowError(f"须先实施{skipped[0]}，才能{kind}", "kind", kind)


def record_action(
    session: Session,
    issue: Issue,
    kind: str,
    *,
    actor: str,
    date: date,
    state: str = "applied",
    unit: str | None = None,
    note: str | None = None,
) -> AccountabilityAction:
    """Record a proposed or applied accountability action and log it."""
    check_action(issue, kind, state)
    with session.begin_nested():
        action = AccountabilityAction(
            kind=kind, state=state, date=date, unit=unit, note=note, actor=actor
        )
        issue.actions.append(action)
        update_issue(
            session,
            issue,
            {},
            actor=actor,
            date=date,
            kind=f"action.{state}",
            detail={"action": kind, "unit": unit, "note": note},
        )
    return action
