"""The briefing pack (汇报材料): one PDF with the city map, the per-county figures, a page per
county, the overdue list, the issues inside protected areas and the look-back targets, all made
from one ``IssueQuery`` (optionally as of a past day), counted by ``webmap.ledger.figures`` like
the dashboard and the public page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from webmap.ledger import briefs, figures, trends
from webmap.ledger.context import LedgerContext
from webmap.ledger.evidence.summary import by_county as evidence_by_county
from webmap.ledger.items import collect_items
from webmap.ledger.vocabulary import RAG_COLORS, UNLOCATED_LABEL
from webmap.render.briefing import pages
from webmap.render.briefing.since import since_pages
from webmap.render.snapshot import build_spec, draw
from webmap.render.snapshot.fonts import rc_params

PACK_TITLE = "永州市生态环境问题整改汇报材料"


@dataclass
class Pack:
    """What a written pack holds."""

    page_count: int
    counties: list[briefs.CountyBrief]
    items: list
    overdue: list
    figures: figures.Figures
    changes: trends.Changes | None = None  # the "since the last briefing" page, when asked for


def build_pack(session, layers, target, *, ctx: LedgerContext, as_of: date | None = None,
               size: str = "A4", now: datetime | None = None,
               since: date | None = None, counties=()) -> Pack:  # fmt: skip
    """Write the briefing pack PDF to ``target`` (path or binary file) and describe it.

    ``since`` (the day of the last briefing) adds the page of what changed from then to the
    pack's day, right after the county table; ``counties`` (codes) limits it to those counties.
    """
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    query = briefs.base_query(ctx, as_of, counties)
    day = query.day
    items, counted = collect_items(session, query), figures.figures(session, query)
    frame = layers.counties.frame
    chosen = frame[frame["code"].isin(query.county)] if query.county else frame
    counties = briefs.county_briefs(session, items, counted, chosen)
    spec = build_spec(query, title=f"{PACK_TITLE}·全市概览", size=size, now=now)
    overdue = sorted((i for i in items if i.rag == "red"),
                     key=lambda i: (i.county_code or "", i.due_date or day, i.number))  # fmt: skip
    footer = f"{PACK_TITLE}    {spec.cutoff}    查询标识 {spec.query_id}"
    with matplotlib.rc_context(rc_params()):
        pages_ = [draw.render_figure(spec, items, layers)]
        pages_.append(pages.county_table_page(counted.counties(), counted.total,
                                              cutoff=spec.cutoff, size=size))  # fmt: skip
        changes = None if since is None else trends.changes_between(session, query, since, day)
        if changes is not None:
            pages_ += since_pages(changes, cutoff=spec.cutoff, size=size)
        evidence = evidence_by_county(session, [i.number for i in items])
        for c in counties:
            pages_ += pages.county_pages(c, layers, day=day, cutoff=spec.cutoff, size=size,
                                         evidence=evidence.get(c.code))  # fmt: skip
        pages_ += pages.list_pages(
            "逾期问题清单",
            f"{spec.cutoff}    共 {len(overdue)} 条，按县区和整改时限排列",
            [[i.county_name or UNLOCATED_LABEL, *pages.issue_row(i, day)] for i in overdue],
            ["县（市、区）", *pages.ISSUE_COLUMNS],
            colors=[RAG_COLORS["red"]] * len(overdue),
            size=size,
        )
        pages_ += pages.protected_area_pages(items, layers, cutoff=spec.cutoff, size=size)
        pages_.append(pages.lookback_page(counted.lookback(), cutoff=spec.cutoff, size=size))
        meta = {"Title": PACK_TITLE, "Creator": "yzmap", "Subject": spec.cutoff}
        with PdfPages(target, metadata=meta) as pdf:
            for n, fig in enumerate(pages_, start=1):
                if n > 1:
                    pages.page_footer(fig, footer, n)
                pdf.savefig(fig)
    return Pack(len(pages_), counties, items, overdue, counted, changes)
