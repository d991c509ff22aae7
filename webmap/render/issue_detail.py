"""One issue as its detail page tells it: parties in Chinese, and progress and sign-off by date."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from webmap.ledger.evidence.summary import tally
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


class TimelineEntry(NamedTuple):
    """One line of an issue's timeline: a progress report or a sign-off stage."""

    kind: str
    day: date
    what: str
    text: str | None
    who: str
    files: list
    photos: list  # the evidence photos sent with it
    evidence: dict | None  # the tally of all photos so far, at the 核查 and 备案 stages


TALLIED_STAGES = ("核查", "备案")  # the verifier decides on these: show what the photos say


def issue_timeline(issue, photos=()) -> list[TimelineEntry]:
    """Return progress reports and sign-off stages by date, each with its checked photos."""
    by_update, by_attachment = {}, {}
    for photo in photos:
        if photo.update_id is not None:
            by_update.setdefault(photo.update_id, []).append(photo)
        if photo.attachment_id is not None:
            by_attachment.setdefault(photo.attachment_id, []).append(photo)
    updates = [TimelineEntry("进展", u.date, f"{u.percent}%", u.text, u.author or u.actor, [],
                             by_update.get(u.id, []), None) for u in issue.updates]  # fmt: skip
    # a stage's signer is shown once, as its author (it used to appear twice on each line)
    stages = [TimelineEntry(
        "销号·" + s.stage, s.date, "", s.note, s.signer, s.attachments,
        [p for a in s.attachments for p in by_attachment.get(a.id, [])],
        tally(p for p in photos if p.uploaded_at.date() <= s.date)
        if s.stage in TALLIED_STAGES else None) for s in issue.signoffs]  # fmt: skip
    return sorted(updates + stages, key=lambda t: t.day)


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
