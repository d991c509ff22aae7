"""One issue as its detail page tells it: parties in Chinese, and progress and sign-off by date."""

from __future__ import annotations

from webmap.ledger.models import ANY
from webmap.ledger.vocabulary import PARTY_KIND_LABELS, PARTY_KINDS, PARTY_SOURCE_LABELS


def display_reason(text: str) -> str:
    """Word a stored reason for a reader: a rule's wildcard ``*`` reads as 不限.

    >>> display_reason("规则 类别「*」× 县区「道县」 指定牵头单位")
    '规则 类别「不限」× 县区「道县」 指定牵头单位'
    """
    return (text or "").replace(f"「{ANY}」", "「不限」")


def responsibility_rows(responsibilities) -> list[dict]:
    """Return the issue's parties for the detail table, in Chinese, in party order.

    Within a kind the parties in force come first (a manual override before computed ones), then
    the parties an override replaced, so each replaced row sits right under its replacement.
    """
    order = {k: i for i, k in enumerate(PARTY_KINDS)}
    rows = sorted(responsibilities, key=lambda r: (order.get(r.party_kind, len(order)),
                                                   bool(r.overridden), r.source != "override"))
    return [{"kind": PARTY_KIND_LABELS.get(r.party_kind, r.party_kind), "name": r.name,
             "reason": display_reason(r.reason),
             "source": PARTY_SOURCE_LABELS.get(r.source, r.source),
             "actor": r.actor if r.source == "override" else None,
             "overridden": bool(r.overridden)} for r in rows]  # fmt: skip


def issue_timeline(issue) -> list[tuple]:
    """Return progress reports and sign-off stages by date: (kind, day, what, text, who, files)."""
    updates = [("进展", u.date, f"{u.percent}%", u.text, u.author or u.actor, [])
               for u in issue.updates]  # fmt: skip
    # a stage's signer is shown once, as its author (it used to appear twice on each line)
    stages = [("销号·" + s.stage, s.date, "", s.note, s.signer, s.attachments)
              for s in issue.signoffs]  # fmt: skip
    return sorted(updates + stages, key=lambda t: t[1])


def attributed_with(issue, slot: str = "protected_areas") -> dict | None:
    """Return the boundary layer version an issue was placed with, and whether it is 示意.

    >>> class I: attribution = {"layer_versions": {"protected_areas": "illustrative:2026-11"}}
    >>> attributed_with(I())
    {'version': 'illustrative:2026-11', 'illustrative': True}
    """
    version = ((issue.attribution or {}).get("layer_versions") or {}).get(slot)
    if not version:
        return None
    return {"version": version, "illustrative": version.startswith("illustrative:")}
