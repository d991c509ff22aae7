"""Briefing pages drawn with matplotlib: county page, tables, overdue list, look-back page.

Each function returns one ``Figure`` (A4 landscape, as the snapshot); ``pack`` puts them in a
PDF. Tables are plain text in the PDF, so the pack is searchable and pdftotext-readable.
"""

from __future__ import annotations

from datetime import date

from matplotlib.figure import Figure

from webmap.ledger.figures import CountyTally, LookbackRow, Tally
from webmap.ledger.vocabulary import RAG_COLORS, RAG_LABELS, SAMPLE_MARK
from webmap.render.captions import layer_line
from webmap.render.snapshot import draw

ROWS_PER_PAGE = 24
HEADER_COLOR = "#e8eef5"


def percent(value: float | None) -> str:
    """Return a rate as a whole percentage, or a dash when there is none.

    >>> percent(0.456), percent(None)
    ('46%', '—')
    """
    return "—" if value is None else f"{value:.0%}"


def short(text: str | None, width: float) -> str:
    """Cut text to ``width`` ems (CJK one em, ASCII about half) with an ellipsis.

    >>> short("永州市零陵区某某生猪养殖场粪污直排", 8), short("HKT-01", 3.5)
    ('永州市零陵区某…', 'HKT-01')
    """
    text = text or ""
    used, out = 0.0, []
    for ch in text:
        used += 0.55 if ord(ch) < 0x2E80 else 1.0
        out.append(ch)
        if used > width:
            return "".join(out[:-2]) + "…"
    return text


def issue_row(item, day: date) -> list[str]:
    """Return the table cells of one issue: number, title, status, deadline, warning, lead unit."""
    late = (
        f"（逾期 {(day - item.due_date).days} 天）" if item.rag == "red" and item.due_date else ""
    )
    due = item.due_date.isoformat() if item.due_date else "—"
    return [
        item.number,
        short(item.title, 22),
        item.status,
        due + late,
        RAG_LABELS.get(item.rag, ""),
        short(item.lead_unit, 14),
    ]


ISSUE_COLUMNS = ["编号", "问题", "状态", "整改时限", "预警", "牵头单位"]
ISSUE_WIDTHS = [0.09, 0.31, 0.11, 0.21, 0.09, 0.19]


def draw_table(
    ax,
    columns: list[str],
    rows: list[list[str]],
    widths: list[float],
    fontsize: float = 7.5,
    colors: list[str | None] | None = None,
) -> None:
    """Draw a simple ruled table filling ``ax`` from the top (one line per row)."""
    ax.axis("off")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    n = max(len(rows), 1) + 1
    height_in = ax.get_position().height * ax.figure.get_figheight()
    line = min(1.0 / n, fontsize * 2.4 / 72 / height_in)  # about 2.4 lines of text per row
    lefts = [sum(widths[:i]) for i in range(len(widths))]
    axes_in = ax.get_position().width * ax.figure.get_figwidth()
    # cut each cell to what its column holds (in ems of the table's font size)
    fits = [max(w * axes_in * 72 / fontsize - 1.2, 2) for w in widths]
    rows = [[short(text, fit) for text, fit in zip(row, fits, strict=True)] for row in rows]
    ax.add_patch(_rect(0, 1 - line, 1, line, HEADER_COLOR))
    for x, text in zip(lefts, columns, strict=True):
        ax.text(x + 0.005, 1 - line / 2, text, fontsize=fontsize, va="center", ha="left")
    for r, row in enumerate(rows, start=1):
        y = 1 - line * (r + 0.5)
        if colors and colors[r - 1]:
            ax.add_patch(_rect(0, 1 - line * (r + 1), 0.008, line, colors[r - 1]))
        for x, text in zip(lefts, row, strict=True):
            ax.text(x + 0.012, y, text, fontsize=fontsize, va="center", ha="left")
        ax.plot([0, 1], [1 - line * (r + 1)] * 2, color="#dddddd", linewidth=0.4)
    if not rows:
        ax.text(0.012, 1 - line * 1.5, "（无）", fontsize=fontsize, va="center")


def _rect(x, y, w, h, color):
    """Return a filled rectangle in axes coordinates."""
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, facecolor=color, edgecolor="none")


def page_header(fig: Figure, title: str, subtitle: str) -> None:
    """Write a page title and its one-line subtitle."""
    fig.text(0.025, 0.955, title, fontsize=18, ha="left", va="center")
    fig.text(0.025, 0.915, subtitle, fontsize=9, ha="left", va="center", color="#333333")


def page_footer(fig: Figure, text: str, page: int) -> None:
    """Write the footer line with the page number."""
    fig.text(0.025, 0.02, text, fontsize=7, color="#666666", ha="left", va="bottom")
    fig.text(0.98, 0.02, f"第 {page} 页", fontsize=7, color="#666666", ha="right", va="bottom")


def county_page(brief, layers, *, day: date, cutoff: str, size: str = "A4") -> Figure:
    """Draw one county: its map, a table of open and overdue issues, and its leaders."""
    fig = draw.new_figure(size)
    w_px, h_px = draw.PAPER_PX[size]
    rect = (0.025, 0.07, 0.42, 0.80)
    ax = fig.add_axes(rect)
    counties = draw.metric_frame(layers.counties)
    extent = draw.map_extent(counties, (brief.code,), (rect[2] * w_px) / (rect[3] * h_px))
    draw.draw_map(ax, brief.items, layers, extent, (brief.code,))
    draw.draw_scale_bar(ax, extent)
    draw.draw_north_arrow(ax, extent)
    open_items, tally = brief.open_items, brief.tally
    page_header(
        fig,
        f"{brief.name}：整改问题情况",
        f"{cutoff}    共 {tally.total} 条，未销号 {tally.open} 条，逾期 {tally.overdue} 条",
    )
    shown = open_items[: ROWS_PER_PAGE - 6]
    tab = fig.add_axes((0.47, 0.30, 0.51, 0.58))
    draw_table(
        tab,
        ISSUE_COLUMNS,
        [issue_row(i, day) for i in shown],
        ISSUE_WIDTHS,
        colors=[RAG_COLORS.get(i.rag) for i in shown],
    )
    notes = []
    if len(open_items) > len(shown):
        notes.append(f"另有 {len(open_items) - len(shown)} 条未销号问题，见“逾期问题清单”及台账。")
    leaders = brief.leaders or ["（未录入包联领导）"]
    fig.text(
        0.47,
        0.27,
        "包联领导：\n" + "\n".join(leaders[:8]) + ("\n" + "\n".join(notes) if notes else ""),
        fontsize=8.5,
        ha="left",
        va="top",
        linespacing=1.5,
    )
    if any(i.is_sample for i in brief.items):
        fig.text(0.98, 0.955, f"{SAMPLE_MARK}数据", fontsize=10, color="#b2182b", ha="right",
                 va="center")  # fmt: skip
    return fig


def list_pages(
    title: str, subtitle: str, rows: list[list[str]], columns, widths, colors=None,
    size: str = "A4", note: str | None = None,
) -> list[Figure]:
    """Draw a long table over as many pages as it needs (``ROWS_PER_PAGE`` rows each)."""
    pages = []
    chunks = [rows[i : i + ROWS_PER_PAGE] for i in range(0, len(rows), ROWS_PER_PAGE)] or [[]]
    for n, chunk in enumerate(chunks):
        fig = draw.new_figure(size)
        more = f"（续 {n + 1}/{len(chunks)}）" if len(chunks) > 1 else ""
        page_header(fig, title + more, subtitle)
        part = colors[n * ROWS_PER_PAGE : (n + 1) * ROWS_PER_PAGE] if colors else None
        draw_table(fig.add_axes((0.025, 0.07, 0.95, 0.80)), columns, chunk, widths, colors=part)
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
    draw_table(
        fig.add_axes((0.025, 0.62, 0.95, 0.26)),
        cols,
        rows,
        [0.2, 0.14, 0.13, 0.13, 0.13, 0.14, 0.13],
        fontsize=9,
    )
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
    draw_table(fig.add_axes((0.025, 0.30, 0.95, 0.58)), COUNTY_COLUMNS, rows,
               [0.19, 0.09, 0.1, 0.09, 0.09, 0.09, 0.09, 0.12, 0.14], fontsize=9)  # fmt: skip
    return fig


PA_COLUMNS = ["县（市、区）", "编号", "问题", "自然保护地", "功能分区", "状态", "整改时限"]
PA_WIDTHS = [0.12, 0.09, 0.29, 0.17, 0.1, 0.11, 0.12]


def protected_area_pages(items, layers, *, cutoff: str, size: str = "A4") -> list[Figure]:
    """List the issues inside protected areas with area and zone, naming the layer version used."""
    inside = sorted((i for i in items if i.protected_area),
                    key=lambda i: (i.county_code or "", i.protected_area, i.number))  # fmt: skip
    layer = layers.protected_areas
    version = "无保护地图层" if layer is None else layer_line("protected_areas", layer)
    rows = [[i.county_name or "—", i.number, i.title, i.protected_area, i.zone or "—", i.status,
             i.due_date.isoformat() if i.due_date else "—"] for i in inside]  # fmt: skip
    return list_pages("自然保护地内的问题", f"{cutoff}    共 {len(inside)} 条，按县区和保护地排列",
                      rows, PA_COLUMNS, PA_WIDTHS, colors=[RAG_COLORS.get(i.rag) for i in inside],
                      size=size, note=f"边界：{version}")  # fmt: skip
