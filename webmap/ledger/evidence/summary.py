"""Evidence figures: how many photos were checked and what was found, per issue or county.

One reading of the stored verdicts for the issue page, the 核查/备案 stages and the briefing
pack's county pages, so they always agree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from webmap.ledger.models import EvidencePhoto, Issue
from webmap.ledger.vocabulary import PHOTO_SUMMARY_LABELS


def tally(photos: Iterable) -> dict[str, int]:
    """Count photos checked, passed, far, early, reused and unverifiable (``PHOTO_SUMMARY_LABELS``).

    Each photo counts once in ``checked`` and once in every problem it has.
    """
    counts = Counter({key: 0 for key in PHOTO_SUMMARY_LABELS})
    for photo in photos:
        checks = photo.checks or {}
        counts["checked"] += 1
        counts["passed"] += photo.verdict == "pass"
        counts["unverified"] += photo.verdict == "unverified"
        counts["far"] += checks.get("location", {}).get("verdict") == "flag"
        counts["early"] += checks.get("time", {}).get("verdict") in ("flag", "warn")
        counts["reused"] += checks.get("reuse", {}).get("verdict") == "flag"
    return dict(counts)


def by_county(session: Session, numbers: Iterable[str] | None = None) -> dict[str | None, dict]:
    """Return the evidence tally per county code (of the given issues, or all)."""
    query = select(Issue.county_code, EvidencePhoto).join(Issue, Issue.id == EvidencePhoto.issue_id)
    if numbers is not None:
        query = query.where(Issue.number.in_(list(numbers)))
    grouped: dict[str | None, list] = {}
    for code, photo in session.execute(query):
        grouped.setdefault(code, []).append(photo)
    return {code: tally(photos) for code, photos in grouped.items()}
