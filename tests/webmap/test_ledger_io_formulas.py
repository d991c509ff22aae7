"""Formula injection in ledger exports: payloads come out inert in csv/xlsx and round-trip exactly.

Payloads follow OWASP's CSV injection guidance: cells starting with ``=``, ``+``, ``-``, ``@``,
tab or carriage return, plus an already-quoted ``'=`` to check the neutralising rule is reversible.
"""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.boundaries import load_shipped
from webmap.ledger import db
from webmap.ledger.io.formulas import FORMULA_STARTS, neutralise_text, restore_text
from webmap.ledger.io.importer import import_ledger
from webmap.ledger.io.template import COLUMNS
from webmap.ledger.models import Issue
from webmap.ledger.query import IssueQuery
from webmap.ledger.workflow import DONE, record_progress
from webmap.render.ledger_export import export_issues, export_ledger, read_xlsx_cells

DAY = dt.date(2024, 6, 1)
PAYLOADS = (
    '=HYPERLINK("http://x","点我")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "'=已带引号",
)
# issue attribute -> ledger header; every free-text field an official can type
TEXT_FIELDS = {
    "title": "问题名称",
    "description": "问题描述",
    "location_text": "具体位置",
    "lead_unit": "牵头单位",
    "partner_units": "责任单位",
    "target": "整改目标",
    "measures": "整改措施",
    "progress_text": "整改进展",
    "internal_notes": "内部备注",
}
NUMERIC_HEADERS = [c.header for c in COLUMNS if c.kind in ("number", "percent")]


@pytest.fixture(scope="module")
def layers():
    """Return the shipped boundary layers (loaded once)."""
    return load_shipped()


def _plant_payloads(session: Session, layers) -> dict[str, str]:
    """Load the sample, plant a payload in every text field of some issues; return them."""
    from webmap.ledger.sample import load_sample

    load_sample(session, layers)
    issues = session.scalars(select(Issue).where(Issue.status != DONE).order_by(Issue.number)).all()
    planted = {}
    with db.transaction(session):
        for issue, payload in zip(issues, PAYLOADS, strict=False):
            for name in ("title", "description", "location_text", "lead_unit", "target",
                         "measures", "internal_notes"):  # fmt: skip
                setattr(issue, name, payload)
            issue.partner_units = [_unit(payload), "示例配合单位"]
            record_progress(
                session, issue, percent=issue.progress, date=DAY, actor="t", text=payload
            )
            planted[issue.number] = payload
    assert len(planted) == len(PAYLOADS)
    return planted


def _unit(payload: str) -> str:
    """Return a payload as a unit name: a list cell is split at commas and each unit trimmed."""
    return payload.lstrip().replace(",", "")


def _export(session: Session, out: Path) -> dict[str, Path]:
    """Export every issue as csv and xlsx into ``out``."""
    paths = {}
    for fmt in ("csv", "xlsx"):
        paths[fmt] = out / f"ledger.{fmt}"
        export_ledger(session, IssueQuery(today=DAY), fmt, paths[fmt])
    return paths


def _csv_rows(path: Path) -> list[dict[str, str]]:
    """Read an exported csv back as dicts keyed by header."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _empty_database(session: Session, database_url: str, tmp_path: Path) -> Session:
    """Return a session on an empty database of the same backend (PostGIS: truncate in place)."""
    from sqlalchemy import text

    from webmap.ledger.models import Base

    if database_url.startswith("sqlite"):
        engine = db.make_engine(f"sqlite:///{tmp_path / 'second.sqlite'}")
        db.upgrade_db(engine)
        return Session(engine)
    session.close()
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    admin = db.make_engine(database_url)
    with admin.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    admin.dispose()
    return session


def _expected_cell(header: str, payload: str) -> str:
    """Return the raw value a payload field should hold in an export."""
    value = _unit(payload) + "、示例配合单位" if header == "责任单位" else payload
    return "'" + value


def test_payloads_are_inert_in_csv_and_xlsx(session, layers, tmp_path):
    """Every text field starting with = + - @ tab or CR is written with a leading apostrophe."""
    planted = _plant_payloads(session, layers)
    paths = _export(session, tmp_path)

    rows = {r["编号"]: r for r in _csv_rows(paths["csv"])}
    for number, payload in planted.items():
        for header in TEXT_FIELDS.values():
            assert rows[number][header] == _expected_cell(header, payload), (number, header)
    for row in rows.values():  # no cell of any row, planted or not, can start a formula
        for header, value in row.items():
            assert not value.startswith(FORMULA_STARTS), (row["编号"], header, value)

    wb = load_workbook(paths["xlsx"])
    ws = wb.worksheets[0]
    header_row = [c.value for c in ws[1]]
    seen = 0
    for cells in ws.iter_rows(min_row=2):
        number = cells[0].value
        for header, cell in zip(header_row, cells, strict=True):
            if cell.value is None:
                continue
            # typed cells (numbers, dates, booleans) or text; never a formula
            assert cell.data_type in ("s", "n", "d", "b"), (number, header, cell.value)
            if cell.data_type != "s":
                continue
            assert not cell.value.startswith(FORMULA_STARTS), (number, header, cell.value)
            if number in planted and header in TEXT_FIELDS.values():
                assert cell.value == _expected_cell(header, planted[number]), (number, header)
                seen += 1
    wb.close()
    assert seen == len(planted) * len(TEXT_FIELDS)
    with zipfile.ZipFile(paths["xlsx"]) as z:  # no formula element anywhere in the sheet XML
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
        assert sheets and not any(b"<f>" in z.read(n) or b"<f " in z.read(n) for n in sheets)


@pytest.mark.parametrize("source", ["xlsx", "csv"])
def test_round_trip_with_payloads_is_identical(session, layers, tmp_path, database_url, source):
    """Export → import (xlsx or csv) into an empty database → export: identical, payloads intact."""
    planted = _plant_payloads(session, layers)
    first = _export(session, tmp_path / "a")
    other = _empty_database(session, database_url, tmp_path)
    report = import_ledger(other, first[source], layers, actor="t", day=DAY)
    assert report.ok, [str(e) for e in report.errors]
    issues = {i.number: i for i in other.scalars(select(Issue))}
    for number, payload in planted.items():  # the database holds the text as typed, no apostrophe
        issue = issues[number]
        assert issue.title == issue.description == issue.internal_notes == payload
        assert issue.lead_unit == issue.target == issue.measures == payload
        assert issue.location_text == payload
        assert issue.partner_units == [_unit(payload), "示例配合单位"]
        assert issue.updates[-1].text == payload
    second = _export(other, tmp_path / "b")
    if other is not session:
        other.close()
        other.get_bind().dispose()
    assert first["csv"].read_bytes() == second["csv"].read_bytes()
    assert read_xlsx_cells(first["xlsx"]) == read_xlsx_cells(second["xlsx"])


def test_negative_numbers_are_not_mangled(session, make_issue, tmp_path):
    """Numeric columns keep a minus sign as a sign; only text columns get the apostrophe."""
    issue = make_issue("NEG-1", title="-5 亩林地被占")
    # values the database refuses (progress is checked 0-100): set in memory, never flushed
    issue.lon, issue.lat, issue.progress = -111.5, -26.25, -5
    paths = {fmt: tmp_path / f"neg.{fmt}" for fmt in ("csv", "xlsx")}
    with session.no_autoflush:
        for fmt, path in paths.items():
            export_issues([issue], fmt, path, day=DAY, amber_days=30)
    session.rollback()
    row = _csv_rows(paths["csv"])[0]
    assert (row["经度"], row["纬度"], row["完成进度"]) == ("-111.500000", "-26.250000", "-5")
    assert row["问题名称"] == "'-5 亩林地被占"
    header, values = read_xlsx_cells(paths["xlsx"])
    cells = dict(zip(header, values, strict=True))
    assert [cells[h] for h in NUMERIC_HEADERS] == [-111.5, -26.25, -5]  # typed numbers
    assert cells["问题名称"] == "'-5 亩林地被占"


def test_import_strips_only_the_exporters_apostrophe(session, layers, tmp_path):
    """A hand-written ledger keeps ordinary apostrophes; '= loses exactly one apostrophe."""
    path = tmp_path / "hand.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["编号", "问题名称", "所在县区", "整改目标", "整改措施", "内部备注"])
        w.writerow(["Q-1", "'=A1", "零陵区", "''+A1", "'普通文字", "'"])
    report = import_ledger(session, path, layers, actor="t", day=DAY)
    assert report.ok, [str(e) for e in report.errors]
    issue = session.scalar(select(Issue).where(Issue.number == "Q-1"))
    assert (issue.title, issue.target, issue.measures, issue.internal_notes) == (
        "=A1",
        "'+A1",
        "'普通文字",
        "'",
    )


@pytest.mark.parametrize(
    "value",
    ["", "普通", "'", "''", "'a", "=", "=1", "'=1", "''=1", "-", "-5", "@x", "\t", "\t=1", "\r\n",
     "'\t", "+", "a=1", "'''@", "＝全角"],
)  # fmt: skip
def test_neutralise_then_restore_is_identity(value):
    """restore_text undoes neutralise_text for every value; the result never starts a formula."""
    written = neutralise_text(value)
    assert restore_text(written) == value
    assert not written.startswith(FORMULA_STARTS)
    assert written == value or written == "'" + value
