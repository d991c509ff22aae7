"""The briefing pack (汇报材料): one PDF with the city map, a page per county, the overdue list
and the look-back targets, all made from one ``IssueQuery`` (optionally as of a past day)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from webmap.ledger import briefs as data
from webmap.render import maps
from webmap.render.briefing import pages
from webmap.render.snapshot import build_spec, draw
from webmap.render.snapshot.fonts import rc_params

PACK_TITLE = "永州市生态环境问题整改汇报材料"


@dataclass
class Pack:
    """What a written pack holds."""

    page_count: int
    counties: list
    items: list
    overdue: list
    lookback: list


def build_pack(
    session,
    layers,
    target,
    *,
    today: date,
    as_of: date | None = None,
    size: str = "A4",
    amber_days: int = 30,
    now: datetime | None = None,
) -> Pack:
    """Write the briefing pack PDF to ``target`` (path or binary file) and describe it."""
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    day = as_of or today
    query = data.base_query(as_of, today)
    items, counties = data.county_briefs(
        session, query, layers.counties.frame, day=day, amber_days=amber_days
    )
    spec = build_spec(query, title=f"{PACK_TITLE}·全市概览", size=size, now=now)
    overdue = sorted(
        (i for i in items if i.rag == "red"),
        key=lambda i: (i.county_code or "", i.due_date or day, i.number),
    )
    lookback = data.lookback_table(session, items, day)
    footer = f"{PACK_TITLE}    {spec.cutoff}    查询标识 {spec.query_id}"
    with matplotlib.rc_context(rc_params()):
        figures = [draw.render_figure(spec, items, layers)]
        figures += [
            pages.county_page(c, layers, day=day, cutoff=spec.cutoff, size=size) for c in counties
        ]
        figures += pages.list_pages(
            "逾期问题清单",
            f"{spec.cutoff}    共 {len(overdue)} 条，按县区和整改时限排列",
            [[i.county_name or "未定位", *pages.issue_row(i, day)] for i in overdue],
            ["县（市、区）", *pages.ISSUE_COLUMNS],
            [0.1, *(w * 0.9 for w in pages.ISSUE_WIDTHS)],
            colors=[maps.RAG_COLORS["red"]] * len(overdue),
            size=size,
        )
        figures.append(pages.lookback_page(lookback, cutoff=spec.cutoff, size=size))
        with PdfPages(
            target, metadata={"Title": PACK_TITLE, "Creator": "yzmap", "Subject": spec.cutoff}
        ) as pdf:
            for n, fig in enumerate(figures, start=1):
                if n > 1:
                    pages.page_footer(fig, footer, n)
                pdf.savefig(fig)
    return Pack(len(figures), counties, items, overdue, lookback)
