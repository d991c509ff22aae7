"""The weekly dispatch notice (调度通报): per county, what falls due, what is overdue and what
was newly signed off in the week, as a DOCX (python-docx) and a PDF (matplotlib, CJK font).

Each list is a table (编号, 问题, 牵头单位, 整改时限) whose cells wrap: Word wraps the DOCX
and repeats the header row on a new page (``w:tblHeader``); the PDF is set by
``webmap.render.pdf_tables``, which does the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from webmap.ledger import briefs
from webmap.ledger.context import LedgerContext
from webmap.ledger.items import collect_items
from webmap.ledger.vocabulary import RAG_LABELS
from webmap.render import pdf_tables
from webmap.render.briefing import pages
from webmap.render.captions import beijing_time
from webmap.render.pdf_tables import Table
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
    made: str = field(default_factory=beijing_time)  # when it was written, Beijing time

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


def build_notice(session, layers, *, ctx: LedgerContext, as_of: date | None = None,
                 now: datetime | None = None, counties=()) -> Notice:  # fmt: skip
    """Gather the week ending on ``as_of`` (or today) from the shared query and the event log
    (of some county codes only, when given)."""
    query = briefs.base_query(ctx, as_of, counties)
    day = query.day
    items = collect_items(session, query)
    start, end = briefs.week_of(day)
    closed = briefs.closed_between(session, start, end)
    frame = layers.counties.frame
    chosen = frame[frame["code"].isin(query.county)] if query.county else frame
    counties = briefs.dispatch_counties(items, chosen, closed, day, DUE_DAYS)
    return Notice(day, start, counties, any(i.is_sample for i in items), beijing_time(now))


def summary_line(notice: Notice) -> str:
    """Return the opening sentence with the city totals."""
    due, overdue, closed = notice.totals()
    return (
        f"截至{notice.day:%Y年%m月%d日}，全市未来一周到期问题 {due} 个，"
        f"逾期未完成问题 {overdue} 个，"
        f"本周新销号问题 {closed} 个。各县市区情况如下："
    )


COLUMNS = ["编号", "问题", "牵头单位", "整改时限"]


def county_tables(county: briefs.DispatchCounty, day: date) -> list[tuple[str, list[list[str]]]]:
    """Return the three headed lists of one county, each issue as one table row."""

    def row(item, late: bool = False) -> list[str]:
        """Return one issue's cells; an overdue one says by how many days."""
        due = item.due_date.isoformat() if item.due_date else RAG_LABELS["none"]
        if late and item.due_date:
            due += f"（逾期 {(day - item.due_date).days} 天）"
        return [item.number, item.title or "—", item.lead_unit or "—", due]

    return [
        ("一周内到期", [row(i) for i in county.due]),
        ("逾期未完成", [row(i, late=True) for i in county.overdue]),
        ("本周新销号", [row(i) for i in county.closed]),
    ]


def footer_line(notice: Notice) -> str:
    """Return the closing line: who made the notice, when (Beijing time) and its data day."""
    return f"yzmap 生成于 {notice.made}，数据截至 {notice.day.isoformat()}"


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
        for head, rows in county_tables(county, notice.day):
            doc.add_paragraph(f"{head}（{len(rows)} 个）", style="Heading 2")
            if rows:
                _docx_table(doc, rows)
            else:
                doc.add_paragraph("无")
    doc.add_paragraph(footer_line(notice))
    doc.save(target)


def _docx_table(doc, rows: list[list[str]]) -> None:
    """Add a ruled table whose header row Word repeats on each page it runs onto."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm

    table = doc.add_table(rows=1, cols=len(COLUMNS))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, COLUMNS, strict=True):
        cell.text = text
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    table.rows[0]._tr.get_or_add_trPr().append(repeat)
    for cells in rows:
        for cell, text in zip(table.add_row().cells, cells, strict=True):
            cell.text = text
    # Word sizes columns to fit; these widths only start it off (A4 text width about 16 cm)
    for column, width in zip(table.columns, (2.4, 7.2, 3.6, 3.2), strict=True):
        for cell in column.cells:
            cell.width = Cm(width)


def write_pdf(notice: Notice, target, size: str = "A4") -> int:
    """Write the notice as a PDF (text pages in the packaged CJK font); return the page count."""
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    with matplotlib.rc_context(rc_params()):
        first = draw.new_figure(size)
        pages.page_header(first, NOTICE_TITLE, notice.subtitle)
        W, H = first.get_figwidth() * 72, first.get_figheight() * 72

        def more(n: int):
            """Start page ``n`` of the notice."""
            fig = draw.new_figure(size)
            pages.page_header(fig, f"{NOTICE_TITLE}（续）", notice.subtitle)
            return fig

        flow = pdf_tables.Flow(first, 0.87 * H, left=0.04 * W, width=0.92 * W, bottom=0.06 * H,
                               new_page=more, next_top=0.87 * H)  # fmt: skip
        if notice.sample:
            flow.text("（本通报含示例数据，非真实台账）", 9, color="#b2182b")
        flow.text(summary_line(notice), 10)
        for county in notice.counties:
            flow.space(8)
            flow.text(county.name, 12, keep=40)
            for head, rows in county_tables(county, notice.day):
                flow.space(3)
                flow.text(f"{head}（{len(rows)} 个）", 9.5, indent=8, keep=30)
                if rows:
                    flow.table(Table(COLUMNS, rows, 8), indent=16)
                else:
                    flow.text("无", 8.5, indent=16)
        flow.space(8)
        flow.text(footer_line(notice), 8, color="#333333")
        with PdfPages(target, metadata={"Title": NOTICE_TITLE}) as pdf:
            for n, fig in enumerate(flow.pages, start=1):
                pages.page_footer(fig, f"{NOTICE_TITLE}{notice.subtitle}", n)
                pdf.savefig(fig)
    return len(flow.pages)
