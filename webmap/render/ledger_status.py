"""The ledger as it stood on a day: one line per issue plus totals (``yzmap ledger status``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from webmap.ledger.workflow import RAG_LABELS, rag


@dataclass(frozen=True)
class StatusRow:
    """One issue's state on the day asked for."""

    number: str
    county: str
    status: str
    progress: int
    rag: str
    is_sample: bool


def ledger_status(session, query) -> list[StatusRow]:
    """Return the issues the query selects as they stood on its day (rebuilt from events)."""
    day, states = query.day, query.states(session)
    return [
        StatusRow(
            s.number,
            s.county_name or s.declared_county or "",
            s.status,
            s.progress,
            rag(s.status, s.due_date, day, query.amber_days),
            s.is_sample,
        )
        for s in states
    ]


def format_status(rows: list[StatusRow], day: date) -> str:
    """Format the rows as an aligned table followed by totals by status and RAG."""
    lines = [
        f"台账状态（{day.isoformat()}）",
        f"{'编号':<10}{'县市区':<10}{'状态':<8}{'进度':>6}  预警",
    ]
    for r in rows:
        mark = " 示例" if r.is_sample else ""
        lines.append(
            f"{r.number:<12}{r.county:<10}{r.status:<8}{r.progress:>5}%  {RAG_LABELS[r.rag]}{mark}"
        )
    lines.append(f"合计 {len(rows)} 条")
    by_status = Counter(r.status for r in rows)
    lines.append("按状态：" + "，".join(f"{k} {v}" for k, v in sorted(by_status.items())))
    by_rag = Counter(r.rag for r in rows)
    lines.append(
        "按预警：" + "，".join(f"{RAG_LABELS[k]} {by_rag[k]}" for k in RAG_LABELS if by_rag[k])
    )
    return "\n".join(lines)
