"""Briefing pages drawn with matplotlib: county page, tables, overdue list, look-back page.

Each function returns ``Figure`` pages (A4 landscape, as the snapshot); ``pack`` puts them in a
PDF. Tables are plain text in the PDF, so the pack is searchable and pdftotext-readable; they are
laid out by ``webmap.render.pdf_tables``: cells wrap, nothing is cut, and a long table goes on
on the next page under its header.
"""

from __future__ import annotations

from datetime import date

from matplotlib.figure import Figure

from webmap.ledger.evidence.summary import tally as evidence_tally
from webmap.ledger.figures import CountyTally, LookbackRow, Tally
from webmap.ledger.vocabulary import PHOTO_SUMMARY_LABELS, RAG_COLORS, RAG_LABELS, SAMPLE_MARK
from webmap.render import pdf_tables
from webmap.render.captions import layer_line
from webmap.render.pdf_tables import Table
from webmap.render.snapshot import draw

LIST_RECT = (0.025, 0.07, 0.95, 0.80)  # a list page's table area (figure fraction)


def percent(value: float | None) -> str:
    """Return a rate as a whole percentage, or a dash when there is none.

    >>> percent(0.456), percent(None)
    ('46%', '—')
    """
    return "—" if value is None else f"{value:.0%}"


def issue_row(item, day: date) -> list[str]:
    """Return the table cells of one issue: number, title, status, deadline, warning, lead unit."""
    late = (
        f"（逾期 {(day - item.due_date).days} 天）" if item.rag == "red" and item.due_date else ""
    )
    due = item.due_date.isoformat() if item.due_date else "—"
    return [
        item.number,
        item.title or "—",
        item.status,
        due + late,
        RAG_LABELS.get(item.rag, ""),
        item.lead_unit or "—",
    ]


ISSUE_COLUMNS = ["编号", "问题", "状态", "整改时限", "预警", "牵头单位"]


def draw_table(fig: Figure, rect, columns: list[str], rows: list[list[str]],
               fontsize: float = 7.5, colors: list[str | None] | None = None,
               align: list[str] | None = None) -> int:  # fmt: skip
    """Draw a wrapped table in ``rect`` (figure fraction); return how many rows fitted."""
    return pdf_tables.draw_table(fig, rect, Table(columns, rows, fontsize, colors, align))


def page_header(fig: Figure, title: str, subtitle: str) -> None:
    """Write a page title and its one-line subtitle."""
    fig.text(0.025, 0.955, title, fontsize=18, ha="left", va="center")
    fig.text(0.025, 0.915, subtitle, fontsize=9, ha="left", va="center", color="#333333")


def page_footer(fig: Figure, text: str, page: int) -> None:
    """Write the footer line with the page number."""
    fig.text(0.025, 0.02, text, fontsize=7, color="#666666", ha="left", va="bottom")
    fig.text(0.98, 0.02, f"第 {page} 页", fontsize=7, color="#666666", ha="right", va="bottom")


def county_page(brief, layers, *, day: date, cutoff: str, size: str = "A4",
                evidence: dict | None = None) -> Figure:  # fmt: skip
    """Draw the first page of a county (see ``county_pages``)."""
    return county_pages(brief, layers, day=day, cutoff=cutoff, size=size, evidence=evidence)[0]


def county_pages(brief, layers, *, day: date, cutoff: str, size: str = "A4",
                 evidence: dict | None = None) -> list[Figure]:  # fmt: skip
    """Draw one county: its map, open and overdue issues, leaders and its photos' checks.

    The issue table and the leaders go on on further pages (full width) when they do not fit.
    """
    fig = draw.new_figure(size)
    w_px, h_px = draw.PAPER_PX[size]
    rect = (0.025, 0.16, 0.42, 0.71)
    ax = fig.add_axes(rect)
    counties = draw.metric_frame(layers.counties)
    extent = draw.map_extent(counties, (brief.code,), (rect[2] * w_px) / (rect[3] * h_px))
    draw.draw_map(ax, brief.items, layers, extent, (brief.code,))
    draw.draw_scale_bar(ax, extent)
    draw.draw_north_arrow(ax, extent)
    open_items, tally = brief.open_items, brief.tally
    title = f"{brief.name}：整改问题情况"
    subtitle = f"{cutoff}    共 {tally.total} 条，未销号 {tally.open} 条，逾期 {tally.overdue} 条"
    page_header(fig, title, subtitle)
    evidence_table(fig, evidence or evidence_tally(()))
    if any(i.is_sample for i in brief.items):
        fig.text(0.98, 0.955, f"{SAMPLE_MARK}数据", fontsize=10, color="#b2182b", ha="right",
                 va="center")  # fmt: skip

    def more(n: int) -> Figure:
        """Start continuation page ``n`` of the county."""
        page = draw.new_figure(size)
        page_header(page, f"{title}（续）", subtitle)
        return page

    W, H = fig.get_figwidth() * 72, fig.get_figheight() * 72
    flow = pdf_tables.Flow(fig, 0.88 * H, left=0.47 * W, width=0.51 * W, bottom=0.05 * H,
                           new_page=more, next_top=0.88 * H,
                           next_columns=(0.025 * W, 0.95 * W))  # fmt: skip
    flow.table(Table(ISSUE_COLUMNS, [issue_row(i, day) for i in open_items], 7.5,
                     [RAG_COLORS.get(i.rag) for i in open_items]))  # fmt: skip
    flow.space(12)
    flow.text("包联领导：", 8.5, keep=12)
    for line in brief.leaders or ["（未录入包联领导）"]:
        flow.text(line, 8.5, indent=8)
    return flow.pages


EVIDENCE_RECT = (0.025, 0.035, 0.42, 0.105)


def evidence_table(fig: Figure, counts: dict) -> None:
    """Draw a county's evidence tally: photos checked, passed, far, early, reused, unverifiable."""
    draw_table(fig, EVIDENCE_RECT, ["现场照片核验", *PHOTO_SUMMARY_LABELS.values()],
               [["", *(str(counts[k]) for k in PHOTO_SUMMARY_LABELS)]],
               fontsize=7)  # fmt: skip


def list_pages(
    title: str, subtitle: str, rows: list[list[str]], columns, colors=None,
    size: str = "A4", note: str | None = None, fontsize: float = 7.5,
) -> list[Figure]:
    """Draw a long table over as many pages as it needs, its header on each."""
    first = draw.new_figure(size)
    W, H = first.get_figwidth() * 72, first.get_figheight() * 72
    laid = pdf_tables.lay_out(Table(columns, rows, fontsize, colors), LIST_RECT[2] * W)
    room = LIST_RECT[3] * H
    laid = pdf_tables.split_tall_rows(laid, room)
    spans = pdf_tables.page_breaks(laid, room, room)
    pages = []
    for n, (start, end) in enumerate(spans):
        fig = first if n == 0 else draw.new_figure(size)
        more = f"（续 {n + 1}/{len(spans)}）" if len(spans) > 1 else ""
        page_header(fig, title + more, subtitle)
        if rows:
            pdf_tables.draw_rows(fig, LIST_RECT[0] * W, (LIST_RECT[1] + LIST_RECT[3]) * H, laid,
                                 start, end)  # fmt: skip
        else:
            draw_table(fig, LIST_RECT, columns, [], fontsize)
        if note:
            fig.text(0.025, 0.045, note, fontsize=7, color="#333333", ha="left", va="bottom")
        pages.append(fig)
    return pages


def lookback_page(table: list[LookbackRow], *, cutoff: str, size: str = "A4") -> Figure:
    """Draw the look-back deadline classes (20/5/5) against what was finished and on time."""
    fig = draw.new_figure(size)
    page_header(
        fig,
        "省督察“回头看”问题：按整改时限的目标与完成情况",
        f"{cutoff}    目标：2021年底前 20 个、2022年 5 个、2023年及以后（含持续推进）5 个",
    )
    rows = [
        [
            r.deadline_class,
            str(r.target),
            str(r.total),
            str(r.finished),
            str(r.on_time),
            str(r.overdue_open),
            percent(r.rate),
        ]
        for r in table
    ]
    cols = [
        "整改时限",
        "方案目标（个）",
        "台账问题数",
        "已完成整改",
        "按时完成",
        "逾期未完成",
        "完成率",
    ]
    draw_table(fig, (0.025, 0.62, 0.95, 0.26), cols, rows, fontsize=9,
               align=["left", *["right"] * 6])  # fmt: skip
    ax = fig.add_axes((0.08, 0.10, 0.86, 0.45))
    labels = [r.deadline_class for r in table]
    x = range(len(table))
    for offset, key, label, color in (
        (-0.27, "target", "方案目标", "#bdbdbd"),
        (0, "finished", "已完成整改", RAG_COLORS["green"]),
        (0.27, "on_time", "按时完成", RAG_COLORS["done"]),
    ):
        values = [getattr(r, key) for r in table]
        bars = ax.bar([i + offset for i in x], values, width=0.25, color=color, label=label)
        ax.bar_label(bars, fontsize=7)
    ax.set_xticks(list(x), labels, fontsize=9)
    ax.set_ylabel("问题数（个）", fontsize=9)
    ax.legend(fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


COUNTY_COLUMNS = ["县（市、区）", "问题数", "已完成整改", "已销号", "未销号", "逾期", "临期",
                  "完成率", "按时完成率"]  # fmt: skip


def county_row(name: str, t: Tally) -> list[str]:
    """Return one line of the county figures table."""
    counts = (t.total, t.finished, t.signed_off, t.open, t.overdue, t.due_soon)
    return [name, *map(str, counts), percent(t.rate), percent(t.on_time_rate)]


def county_table_page(counties: list[CountyTally], total: Tally, *, cutoff: str,
                      size: str = "A4") -> Figure:  # fmt: skip
    """Draw the per-county figures (the dashboard's and the public page's numbers) and the city."""
    fig = draw.new_figure(size)
    page_header(fig, "各县（市、区）整改情况", f"{cutoff}    按县（市、区）代码排列；"
                "“已完成整改”含已完成待销号及各销号环节")  # fmt: skip
    rows = [county_row(c.name, c) for c in sorted(counties, key=lambda c: (c.code == "", c.code))]
    rows.append(county_row("全市合计", total))
    draw_table(fig, (0.025, 0.30, 0.95, 0.58), COUNTY_COLUMNS, rows, fontsize=9,
               align=["left", *["right"] * 8])  # fmt: skip
    return fig


PA_COLUMNS = ["县（市、区）", "编号", "问题", "自然保护地", "功能分区", "状态", "整改时限"]


def protected_area_pages(items, layers, *, cutoff: str, size: str = "A4") -> list[Figure]:
    """List the issues inside protected areas with area and zone, naming the layer version used."""
    inside = sorted((i for i in items if i.protected_area),
                    key=lambda i: (i.county_code or "", i.protected_area, i.number))  # fmt: skip
    layer = layers.protected_areas
    version = "无保护地图层" if layer is None else layer_line("protected_areas", layer)
    rows = [[i.county_name or "—", i.number, i.title, i.protected_area, i.zone or "—", i.status,
             i.due_date.isoformat() if i.due_date else "—"] for i in inside]  # fmt: skip
    return list_pages("自然保护地内的问题", f"{cutoff}    共 {len(inside)} 条，按县区和保护地排列",
                      rows, PA_COLUMNS, colors=[RAG_COLORS.get(i.rag) for i in inside],
                      size=size, note=f"边界：{version}")  # fmt: skip
