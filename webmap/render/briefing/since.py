"""The briefing pack's "since the last briefing" pages (上次汇报以来的变化): what changed in
the ledger between two days, both rebuilt from the event log (``webmap.ledger.trends``)."""

from __future__ import annotations

from matplotlib.figure import Figure

from webmap.ledger.trends import Changes
from webmap.ledger.vocabulary import RAG_COLORS, UNLOCATED_LABEL
from webmap.render.briefing import pages

COLUMNS = ["变化", "编号", "县（市、区）", "问题", "说明"]
SECTION_COLORS = {"新销号": RAG_COLORS["done"], "新逾期": RAG_COLORS["red"],
                  "问责措施": RAG_COLORS["amber"]}  # fmt: skip


def since_pages(changes: Changes, *, cutoff: str, size: str = "A4") -> list[Figure]:
    """Draw the changes between the two days as one table (new, closed, overdue, moved, actions)."""
    rows, colors = [], []
    for title, items in changes.sections():
        for c in items:
            rows.append([title, c.number, c.county_name or UNLOCATED_LABEL,
                         c.title, c.what])  # fmt: skip
            colors.append(SECTION_COLORS.get(title, "#333333"))
    counts = "，".join(f"{t} {len(i)}" for t, i in changes.sections())
    subtitle = f"{changes.start} 至 {changes.end}    {counts}    {cutoff}"
    return pages.list_pages("上次汇报以来的变化", subtitle, rows, COLUMNS, colors=colors, size=size,
                            note="两个日期的台账均由事件日志重建；问责措施为期间实施的措施。")
