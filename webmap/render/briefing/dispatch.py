"""The weekly dispatch notice (调度通报): per county, what falls due, what is overdue and what
was newly signed off in the week, as a DOCX (python-docx) and a PDF (matplotlib, CJK font)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from webmap.ledger import briefs
from webmap.ledger.context import LedgerContext
from webmap.ledger.items import collect_items
from webmap.ledger.vocabulary import RAG_LABELS
from webmap.render.briefing import pages
from webmap.render.snapshot import draw
from webmap.render.snapshot.fonts import rc_params

NOTICE_TITLE = "永州市生态环境问题整改调度通报"
DUE_DAYS = 7  # "due" means falling due within the coming week, today included


@dataclass
class Notice:
    """One week's dispatch notice."""

    day: date
    start: date
    counties: list[briefs.DispatchCounty]
    sample: bool

    @property
    def subtitle(self) -> str:
        """Return the period line of the notice."""
        return (
            f"（{self.start:%Y年%m月%d日}—{self.day:%Y年%m月%d日}，"
            f"{self.day:%Y}年第{self.day.isocalendar().week}周）"
        )

    def totals(self) -> tuple[int, int, int]:
        """Return city totals of due, overdue and newly closed issues."""
        return (
            sum(len(c.due) for c in self.counties),
            sum(len(c.overdue) for c in self.counties),
            sum(len(c.closed) for c in self.counties),
        )


def build_notice(session, layers, *, ctx: LedgerContext, as_of: date | None = None) -> Notice:
    """Gather the week ending on ``as_of`` (or today) from the shared query and the event log."""
    query = briefs.base_query(ctx, as_of)
    day = query.day
    items = collect_items(session, query)
    start, end = briefs.week_of(day)
    closed = briefs.closed_between(session, start, end)
    counties = briefs.dispatch_counties(items, layers.counties.frame, closed, day, DUE_DAYS)
    return Notice(day, start, counties, any(i.is_sample for i in items))


def summary_line(notice: Notice) -> str:
    """Return the opening sentence with the city totals."""
    due, overdue, closed = notice.totals()
    return (
        f"截至{notice.day:%Y年%m月%d日}，全市未来一周到期问题 {due} 个，"
        f"逾期未完成问题 {overdue} 个，"
        f"本周新销号问题 {closed} 个。各县市区情况如下："
    )


def county_lines(county: briefs.DispatchCounty, day: date) -> list[tuple[str, list[str]]]:
    """Return the three headed lists of one county, each item as one line of text."""

    def fmt(item, extra: str = "") -> str:
        """Describe one issue on one line."""
        due = item.due_date.isoformat() if item.due_date else RAG_LABELS["none"]
        unit = item.lead_unit or "—"
        return f"{item.number} {pages.short(item.title, 30)}（{unit}，时限 {due}{extra}）"

    late = lambda i: f"，逾期 {(day - i.due_date).days} 天" if i.due_date else ""  # noqa: E731
    return [
        ("一周内到期", [fmt(i) for i in county.due]),
        ("逾期未完成", [fmt(i, late(i)) for i in county.overdue]),
        ("本周新销号", [fmt(i) for i in county.closed]),
    ]


def write_docx(notice: Notice, target) -> None:
    """Write the notice as a Word document (East Asian fonts set for Chinese Word)."""
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "仿宋"
    style.font.size = Pt(12)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "仿宋")
    for name in ("Title", "Heading 1", "Heading 2"):
        doc.styles[name].element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "黑体")
    doc.add_heading(NOTICE_TITLE, level=0)
    doc.add_paragraph(notice.subtitle)
    if notice.sample:
        doc.add_paragraph("（本通报含示例数据，非真实台账）")
    doc.add_paragraph(summary_line(notice))
    for county in notice.counties:
        doc.add_heading(county.name, level=1)
        for head, lines in county_lines(county, notice.day):
            doc.add_paragraph(f"{head}（{len(lines)} 个）", style="Heading 2")
            for line in lines or ["无"]:
                doc.add_paragraph(line, style="List Bullet" if lines else None)
    doc.add_paragraph(f"yzmap 生成，数据截至 {notice.day.isoformat()}")
    doc.save(target)


def write_pdf(notice: Notice, target, size: str = "A4") -> int:
    """Write the notice as a PDF (text pages in the packaged CJK font); return the page count."""
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    lines: list[tuple[str, float]] = [(summary_line(notice), 10)]
    if notice.sample:
        lines.insert(0, ("（本通报含示例数据，非真实台账）", 9))
    for county in notice.counties:
        lines.append((county.name, 12))
        for head, items in county_lines(county, notice.day):
            lines.append((f"  {head}（{len(items)} 个）", 9.5))
            lines += [(f"      · {t}", 8.5) for t in items]
    per_page = 38
    chunks = [lines[i : i + per_page] for i in range(0, len(lines), per_page)]
    with (
        matplotlib.rc_context(rc_params()),
        PdfPages(target, metadata={"Title": NOTICE_TITLE}) as pdf,
    ):
        for n, chunk in enumerate(chunks, start=1):
            fig = draw.new_figure(size)
            pages.page_header(fig, NOTICE_TITLE, notice.subtitle)
            for k, (text, fontsize) in enumerate(chunk):
                fig.text(0.04, 0.86 - k * 0.021, text, fontsize=fontsize, ha="left", va="top")
            pages.page_footer(fig, f"{NOTICE_TITLE}{notice.subtitle}", n)
            pdf.savefig(fig)
    return len(chunks)
