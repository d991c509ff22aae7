"""Dashboard figures from plain issue rows: per county, per deadline class, per source, fair ranking.

Rows are dicts with ``county_code``, ``county_name``, ``source_type``, ``deadline_class``,
``done`` (completed), ``on_time`` (completed by its deadline), ``overdue``, ``due_soon`` and
``due`` (its deadline has passed or it is done, so it counts towards the on-time rate).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable

# the look-back plan: 20 problems by end-2021, 5 in 2022, 5 in 2023 and later / ongoing
LOOKBACK_TARGETS = {"2021年底前": 20, "2022年": 5, "2023年及以后": 5, "持续推进": 0}
Z95 = 1.96


def wilson_lower(successes: int, trials: int, z: float = Z95) -> float:
    """Return the lower bound of the Wilson score interval for successes/trials (0 when no trials).

    >>> round(wilson_lower(1, 1), 3), round(wilson_lower(18, 20), 3)
    (0.207, 0.699)
    """
    if trials <= 0:
        return 0.0
    p = successes / trials
    denom = 1 + z * z / trials
    centre = p + z * z / (2 * trials)
    margin = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return (centre - margin) / denom


def _blank() -> dict:
    """Return zeroed counters for one group."""
    return {"total": 0, "done": 0, "overdue": 0, "due_soon": 0, "due": 0, "on_time": 0}


def _add(acc: dict, row: dict) -> None:
    """Count one row into a group's counters."""
    acc["total"] += 1
    for key in ("done", "overdue", "due_soon", "due", "on_time"):
        acc[key] += 1 if row.get(key) else 0


def by_county(rows: Iterable[dict]) -> list[dict]:
    """Return per-county counters with completion rate, on-time rate and its Wilson lower bound."""
    groups: dict[str, dict] = defaultdict(_blank)
    names: dict[str, str] = {}
    for row in rows:
        code = row.get("county_code") or ""
        names[code] = row.get("county_name") or "未定位"
        _add(groups[code], row)
    out = []
    for code, acc in groups.items():
        acc = dict(acc, code=code, name=names[code])
        acc["rate"] = acc["done"] / acc["total"] if acc["total"] else None
        acc["on_time_rate"] = acc["on_time"] / acc["due"] if acc["due"] else None
        acc["score"] = wilson_lower(acc["on_time"], acc["due"])
        out.append(acc)
    return out


def rank_counties(counties: list[dict]) -> list[dict]:
    """Order counties by the Wilson lower bound of their on-time rate, best first, with ranks."""
    ranked = sorted(counties, key=lambda c: (-c["score"], -c["due"], c["code"]))
    for i, county in enumerate(ranked, start=1):
        county["rank"] = i
    return ranked


def by_key(rows: Iterable[dict], key: str) -> dict[str, dict]:
    """Return counters grouped by one field (``source_type``, ``deadline_class``...)."""
    groups: dict[str, dict] = defaultdict(_blank)
    for row in rows:
        _add(groups[row.get(key) or "未填写"], row)
    return dict(groups)


def lookback(rows: Iterable[dict]) -> list[dict]:
    """Compare the 20/5/5 look-back targets by deadline class with what was done, and on time."""
    groups = by_key((r for r in rows if r.get("source_type") == "回头看"), "deadline_class")
    out = []
    for cls, target in LOOKBACK_TARGETS.items():
        acc = groups.get(cls, _blank())
        out.append({"deadline_class": cls, "target": target, **acc})
    return out
