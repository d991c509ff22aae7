"""Tables in the PDF and DOCX outputs never clip: the longest names come out whole."""

from __future__ import annotations

import re
import subprocess
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from tests.webmap.helpers import make_sample_app
from webmap.ledger.boundaries import shipped_layers
from webmap.ledger.briefs import DispatchCounty
from webmap.ledger.items import IssueItem
from webmap.ledger.models import Issue
from webmap.render import pdf_tables
from webmap.render.pdf_tables import Table, text_width, wrap

DATA = Path(__file__).resolve().parents[2] / "data" / "boundaries"
DAY = date(2024, 12, 31)
DUE = date(2021, 12, 31)
LATE = f"{DUE.isoformat()}（逾期 {(DAY - DUE).days} 天）"


def longest(values) -> str:
    """Return the longest of some names."""
    return max((str(v) for v in values if isinstance(v, str)), key=len)


@pytest.fixture(scope="module")
def names(tmp_path_factory, sqlite_template) -> dict[str, str]:
    """Return the longest county, township and protected-area names and the longest lead unit."""
    layers = shipped_layers(DATA)
    app = make_sample_app(tmp_path_factory.mktemp("sample"), sqlite_template)
    with app.app_context():
        from webmap.web.context import get_session

        unit = get_session().scalar(select(Issue.lead_unit).order_by(
            func.length(Issue.lead_unit).desc()).limit(1))  # fmt: skip
    app.extensions["db"]["engine"].dispose()
    return {
        "county": longest(layers.counties.frame["name"]),
        "township": longest(pd.read_csv(DATA / "gazetteer" / "townships.csv")["name"]),
        "protected_area": longest([*pd.read_csv(DATA / "protected_areas.csv")["name"],
                                   *layers.protected_areas.frame["name"]]),
        "lead_unit": unit,
    }


def raw_text(path) -> str:
    """Return a PDF's text in drawing order with all white space removed (lines of a cell join)."""
    out = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, check=True)
    return re.sub(r"\s+", "", out.stdout.decode("utf-8"))


def squeeze(value: str) -> str:
    """Return text without white space, to compare with ``raw_text``."""
    return re.sub(r"\s+", "", value)


def item(names: dict[str, str]) -> IssueItem:
    """Return an overdue issue with the longest names in it."""
    return IssueItem(number="HKT-2021-0001", title=f"{names['township']}{names['protected_area']}"
                     "内违规建设项目未按要求整改到位并持续排放污水", county_code="431129",
                     status="整改中", rag="red", due_date=DUE, lon=111.6, lat=26.0,
                     geometry=None, is_sample=False, lead_unit=names["lead_unit"],
                     county_name=names["county"])  # fmt: skip


def test_wrap_keeps_every_character_within_the_width():
    """Wrapped lines are no wider than asked and together hold the whole text."""
    text = "江华瑶族自治县涔天河水库扩建工程湖南涔天河国家湿地公园（逾期 1096 天）HKT-2021-0001"
    for width in (30, 55, 120, 400):
        lines = wrap(text, width, 8)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")
        assert all(text_width(line, 8) <= width for line in lines if len(line) > 1)


def test_columns_fill_the_width_and_fit_their_content():
    """Columns share the whole width; a short column keeps its natural width when text fits."""
    table = Table(["编号", "问题"], [["HKT-01", "短"], ["HKT-02", "一个很长的问题" * 20]], 8)
    widths = pdf_tables.column_widths(table, 400)
    assert sum(widths) == pytest.approx(400)
    assert widths[0] >= text_width("HKT-02", 8) and widths[1] > widths[0]


def test_briefing_tables_hold_the_longest_names(names, tmp_path):
    """An overdue-list row with the longest names, on a pack page, comes out whole."""
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    from webmap.render.briefing import pages
    from webmap.render.snapshot.fonts import rc_params

    issue = item(names)
    rows = [[issue.county_name, *pages.issue_row(issue, DAY)]] * 60  # runs onto a second page
    with matplotlib.rc_context(rc_params()):
        columns = ["县（市、区）", *pages.ISSUE_COLUMNS]
        figs = pages.list_pages("逾期问题清单", "测试", rows, columns, colors=["#d7191c"] * 60)
        with PdfPages(tmp_path / "list.pdf") as pdf:
            for fig in figs:
                pdf.savefig(fig)
    assert len(figs) >= 2
    text = raw_text(tmp_path / "list.pdf")
    for value in (*names.values(), LATE, issue.title):
        assert squeeze(value) in text, value
    assert text.count("牵头单位") == len(figs)  # the header is repeated on each page


def test_site_sheet_holds_the_longest_protected_area(names, tmp_path):
    """The site sheet's zone table and notes come out whole, on as many pages as they need."""
    from shapely.geometry import Point

    from webmap.render import site_sheet

    row = {"layer_kind": "protected_area", "protected_area": names["protected_area"],
           "level": "国家级", "zone": "一般控制区（合理利用区）", "relation": "inside",
           "overlap_m2": 0.0, "overlap_length_m": 0.0, "overlap_share": 1.0, "distance_m": 0.0,
           "rule": "禁止开发性、生产性建设活动" * 6, "rule_source": "《自然保护区条例》第三十二条",
           "rule_confidence": "high"}  # fmt: skip
    sheet = {"site_id": "HKT-2021-0001", "site_name": names["township"] + "采石场",
             "geom_type": "Point", "geometry": Point(111.6, 26.2), "rows": [row] * 40,
             "rules": [{"zone": "自然保护地·一般控制区", "rule": row["rule"],
                        "source": row["rule_source"], "confidence": "high"}],
             "constraints": [], "boundary_distance_m": 0.0, "illustrative": True,
             "versions": [("来源", names["county"])],
             "generated": "2024-12-31 20:15（北京时间，UTC+8）",
             "extent": (590000.0, 610000.0, 2890000.0, 2910000.0)}  # fmt: skip
    site_sheet.render_sheet_pdf(sheet, shipped_layers(), tmp_path / "sheet.pdf")
    text = raw_text(tmp_path / "sheet.pdf")
    for value in (names["protected_area"], names["township"], names["county"], row["rule"]):
        assert squeeze(value) in text, value
    assert text.count("保护地/地块") >= 2  # 40 zone rows continue under a repeated header


def test_dispatch_notice_tables_hold_the_longest_names(names, tmp_path):
    """The dispatch notice lists whole titles and units in DOCX tables and in the PDF."""
    from docx import Document

    from webmap.render.briefing import dispatch

    issue = item(names)
    county = DispatchCounty("431129", names["county"], [issue], [issue], [])
    notice = dispatch.Notice(DAY, date(2024, 12, 25), [county], False)
    dispatch.write_docx(notice, tmp_path / "n.docx")
    dispatch.write_pdf(notice, tmp_path / "n.pdf")
    doc = Document(str(tmp_path / "n.docx"))
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    for value in (issue.title, names["lead_unit"], LATE):
        assert value in cells, value
    header = doc.tables[0].rows[0]._tr
    assert header.trPr is not None and header.trPr.find(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tblHeader") is not None
    text = raw_text(tmp_path / "n.pdf")
    for value in (issue.title, names["lead_unit"], LATE, names["county"]):
        assert squeeze(value) in text, value
