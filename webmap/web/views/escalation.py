"""``/escalation``: the queue of proposed accountability steps, and the city office's decision
(confirm, apply another step instead, or decline, each with its reason) on each."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from sqlalchemy import select

from webmap.ledger import escalation
from webmap.ledger.events import LedgerError
from webmap.ledger.models import EscalationProposal
from webmap.ledger.vocabulary import LADDER, LADDER_KINDS, PROPOSAL_STATE_LABELS
from webmap.web.auth import current_user, requires
from webmap.web.context import get_session, today

bp = Blueprint("escalation", __name__)

STATES = ("proposed", "confirmed", "changed", "declined", "all")


@bp.app_context_processor
def inject_proposals() -> dict:
    """Let the issue page list an issue's escalation proposals and their decisions."""

    def proposals_for(number: str) -> list[EscalationProposal]:
        """Return the proposals made for one issue, oldest first."""
        stmt = (select(EscalationProposal).where(EscalationProposal.issue_number == number)
                .order_by(EscalationProposal.id))  # fmt: skip
        return list(get_session().scalars(stmt))

    return {"escalation_proposals": proposals_for, "proposal_states": PROPOSAL_STATE_LABELS}


@bp.route("/escalation")
@requires("escalation.decide")
def queue():
    """Proposals in one state (default: waiting for a decision), oldest first."""
    state = request.args.get("state") or "proposed"
    if state not in STATES:
        abort(400, f"参数 state 只能是 {'、'.join(STATES)}，收到“{state}”")
    proposals = escalation.queue(get_session(), state)
    return render_template("escalation/queue.html", proposals=proposals, state=state,
                           states=PROPOSAL_STATE_LABELS, kinds=LADDER_KINDS,
                           ladder=LADDER)  # fmt: skip


@bp.route("/escalation/<int:proposal_id>/decide", methods=["POST"])
@requires("escalation.decide")
def decide(proposal_id):
    """Confirm, change or decline one proposal; a refused decision is a 400 naming why."""
    session = get_session()
    proposal = session.get(EscalationProposal, proposal_id)
    if proposal is None:
        abort(404, f"问责建议 {proposal_id} 不存在")
    decision = (request.form.get("decision") or "").strip()
    note = (request.form.get("note") or "").strip()
    if len(note) > 2000:
        abort(400, f"字段 note 超过 2000 字（收到 {len(note)} 字）")
    try:
        escalation.decide(session, proposal, decision, actor=current_user().username,
                          day=today(), kind=request.form.get("kind"), note=note)  # fmt: skip
        session.commit()
    except LedgerError as exc:
        session.rollback()
        abort(400, exc.message)
    return redirect(url_for("escalation.queue"))
