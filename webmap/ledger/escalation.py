"""The escalation queue: ladder steps the rules propose, and the city office's decisions on them.

``propose(session, ctx, day)`` looks at every issue as it stood on ``day`` and proposes the
lowest ladder step (``vocabulary.LADDER``) not yet applied by then when one of these holds:

- it is overdue by at least the step's threshold (``workflow.LADDER``: 1, 30, 60, 90, 180 days);
- it has been reported stalled ``STALL_REPEATS`` times or more (``stalled`` notices);
- an objection was upheld during its 公示 (the issue went back from 公示 to 整改中).

One proposal is kept per issue and step (a declined step is not proposed again: the office has
answered it, with its reason). ``decide`` confirms it, applies another step instead ("changed")
or declines it; confirming goes through ``workflow.record_action``, so the action is checked
against the ladder order, logged in the event (audit) log and shown on the issue page (and, for
公开通报, on the public page); a decline is logged as ``escalation.declined``.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webmap.config import DEFAULTS
from webmap.ledger import workflow
from webmap.ledger.events import ledger_as_of, record_event
from webmap.ledger.models import (
    AccountabilityAction,
    EscalationProposal,
    Event,
    Issue,
    Notice,
)
from webmap.ledger.vocabulary import DONE, LADDER, LADDER_KINDS, PUBLICITY_STATUS, REWORK

DECISIONS = {"confirm": "confirmed", "change": "changed", "decline": "declined"}


class EscalationError(workflow.WorkflowError):
    """A decision on a proposal was refused; the message names the field and value."""


def _applied_by(session: Session, day: date) -> dict[str, set[str]]:
    """Return issue number -> the ladder steps applied on or before ``day``."""
    stmt = (select(Issue.number, AccountabilityAction.kind)
            .join(AccountabilityAction, AccountabilityAction.issue_id == Issue.id)
            .where(AccountabilityAction.state == "applied", AccountabilityAction.date <= day))
    out: dict[str, set[str]] = {}
    for number, kind in session.execute(stmt):
        out.setdefault(number, set()).add(kind)
    return out


def _stall_counts(session: Session, day: date) -> dict[str, int]:
    """Return issue number -> how many stalled notices it had up to ``day``."""
    stmt = (select(Notice.issue_number, func.count(Notice.id))
            .where(Notice.kind == "stalled", Notice.day <= day).group_by(Notice.issue_number))
    return dict(session.execute(stmt).all())


def _upheld_counts(session: Session, day: date) -> dict[str, int]:
    """Return issue number -> objections upheld (公示 sent back to 整改中) up to ``day``."""
    stmt = (select(Event.issue_number, Event.before, Event.after)
            .where(Event.kind == "status.changed", Event.effective_date <= day))
    out: dict[str, int] = {}
    for number, before, after in session.execute(stmt):
        moved = ((before or {}).get("status"), (after or {}).get("status"))
        if moved == (PUBLICITY_STATUS, REWORK):
            out[number] = out.get(number, 0) + 1
    return out


def next_step(overdue: int, applied: set[str], stalls: int, upheld: int,
              stall_repeats: int) -> tuple[str, str] | None:  # fmt: skip
    """Return (step, reason) the rules propose for an issue, or None.

    >>> next_step(35, {"警示约谈"}, 0, 0, 2)
    ('公开通报', '逾期 35 天（≥30 天）')
    >>> next_step(0, set(), 2, 0, 2)
    ('警示约谈', '已 2 次进展停滞')
    """
    step = next(((k, t) for k, t in LADDER if k not in applied), None)
    if step is None:
        return None
    kind, threshold = step
    reasons = []
    if overdue >= threshold:
        reasons.append(f"逾期 {overdue} 天（≥{threshold} 天）")
    if stalls >= stall_repeats:
        reasons.append(f"已 {stalls} 次进展停滞")
    if upheld:
        reasons.append(f"公示异议成立 {upheld} 次")
    return (kind, "；".join(reasons)) if reasons else None


def propose(session: Session, ctx, day: date) -> list[EscalationProposal]:
    """Add the proposals ``day`` calls for that were never made; return the new ones."""
    settings = ctx.settings or {}
    repeats = int(settings.get("STALL_REPEATS") or DEFAULTS["STALL_REPEATS"])
    live = set(session.scalars(select(Issue.number)))
    applied, stalls = _applied_by(session, day), _stall_counts(session, day)
    upheld = _upheld_counts(session, day)
    made = set(session.execute(select(EscalationProposal.issue_number, EscalationProposal.kind)))
    new = []
    for state in ledger_as_of(session, day):
        if state.number not in live or state.status == DONE:
            continue
        red = workflow.rag(state.status, state.due_date, day, 0) == "red"
        overdue = (day - state.due_date).days if red else 0
        step = next_step(overdue, applied.get(state.number, set()), stalls.get(state.number, 0),
                         upheld.get(state.number, 0), repeats)  # fmt: skip
        if step is None or (state.number, step[0]) in made:
            continue
        proposal = EscalationProposal(issue_number=state.number, kind=step[0], reason=step[1],
                                      days_overdue=overdue, proposed_on=day, state="proposed")
        session.add(proposal)
        new.append(proposal)
    session.flush()
    return new


def queue(session: Session, state: str = "proposed") -> list[EscalationProposal]:
    """Return the proposals in a state ("all" for every one), oldest first."""
    stmt = select(EscalationProposal).order_by(EscalationProposal.proposed_on,
                                               EscalationProposal.id)  # fmt: skip
    if state != "all":
        stmt = stmt.where(EscalationProposal.state == state)
    return list(session.scalars(stmt))


def decide(session: Session, proposal: EscalationProposal, decision: str, *, actor: str,
           day: date, kind: str | None = None, note: str | None = None):  # fmt: skip
    """Confirm, change (apply ``kind`` instead) or decline a proposal; return the action if any."""
    if decision not in DECISIONS:
        raise EscalationError(f"未知处理方式：{decision}（可用：confirm、change、decline）",
                              "decision", decision)  # fmt: skip
    if proposal.state != "proposed":
        raise EscalationError(f"该问责建议已处理（{proposal.state}）", "proposal", proposal.id)
    note = (note or "").strip() or None
    if decision in ("change", "decline") and not note:
        raise EscalationError("调整或驳回问责建议须填写理由", "note", note)
    chosen = kind if decision == "change" else proposal.kind
    if decision == "change" and (chosen not in LADDER_KINDS or chosen == proposal.kind):
        raise EscalationError(f"调整后的措施须为另一问责措施，收到“{chosen}”", "kind", chosen)
    issue = session.scalar(select(Issue).where(Issue.number == proposal.issue_number))
    if issue is None:
        raise EscalationError(f"问题编号“{proposal.issue_number}”不存在", "issue",
                              proposal.issue_number)  # fmt: skip
    action = None
    with session.begin_nested():
        if decision == "decline":
            record_event(session, "escalation.declined", actor=actor, effective=day,
                         issue_number=issue.number,
                         after={"action": proposal.kind, "reason": proposal.reason,
                                "note": note})  # fmt: skip
        else:
            text = f"问责建议（{proposal.reason}）经市督察办确认" + (f"：{note}" if note else "")
            action = workflow.record_action(session, issue, chosen, actor=actor, date=day,
                                            unit=issue.lead_unit, note=text)  # fmt: skip
        proposal.state, proposal.decided_kind = DECISIONS[decision], chosen
        proposal.decided_by, proposal.decided_on, proposal.decision_note = actor, day, note
        session.flush()
    return action


PUBLIC_STEP = "公开通报"  # the one ladder step that is itself a disclosure


def public_notices(session: Session, day: date, number: str | None = None) -> list[dict]:
    """Return the 公开通报 applied by ``day`` to public issues (or to ``number``), newest first.

    Only the date, the issue and the unit are public; the office's note stays internal.
    """
    stmt = (select(AccountabilityAction.date, AccountabilityAction.unit, Issue.number, Issue.title,
                   Issue.county_name)
            .join(Issue, Issue.id == AccountabilityAction.issue_id)
            .where(AccountabilityAction.kind == PUBLIC_STEP,
                   AccountabilityAction.state == "applied", AccountabilityAction.date <= day,
                   Issue.public.is_(True))
            .order_by(AccountabilityAction.date.desc(), Issue.number))  # fmt: skip
    if number is not None:
        stmt = stmt.where(Issue.number == number)
    return [dict(r._mapping) for r in session.execute(stmt)]
