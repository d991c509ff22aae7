"""Reading and validating ledger files: headers, title rows, encodings, bad cells (no database)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from webmap.ledger.io.reader import LedgerFileError, read_ledger
from webmap.ledger.io.template import match_header
from webmap.ledger.io.validate import parse_due, validate_sheet

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("编号", "number"),
        ("序 号", "number"),
        ("问题编号", "number"),
        ("来源", "source"),
        ("问题标题", "title"),
        ("具体问题", "description"),
        ("问题内容", "description"),
        ("问题地点", "location_text"),
        ("地址", "location_text"),
        ("属地", "declared_county"),
        ("配合单位", "partner_units"),
        ("整改\n时限", "due_date"),
        ("整改状态", "status"),
        ("完成情况", "status"),
        ("经度(°)", "lon"),
        ("内部备注", "internal_notes"),
        ("合计", None),
    ],
)
def test_header_synonyms(header, field):
    """Each synonym officials write maps to its template field; unknown text maps to none."""
    assert match_header(header) == field


def test_title_rows_and_blank_lines_are_skipped():
    """Merged title rows above the table and blank lines inside it are tolerated."""
    sheet = read_ledger(DATA / "ledger_title_rows.xlsx")
    assert sheet.header_row == 4
    assert [r.row for r in sheet.rows] == [5, 7, 9]
    assert sheet.headers["number"] == "序 号"
    rows, errors = validate_sheet(sheet)
    assert errors == []
    first, second, third = (r.values for r in rows)
    assert first["declared_county"] == "431122"
    assert first["due_date"] == dt.date(2021, 12, 31) and first["deadline_class"] == "2021年底前"
    assert first["status"] == "已完成待销号" and first["progress_pct"] == 100
    assert first["partner_units"] == ["东安县生态环境分局", "芦洪市镇人民政府"]
    assert second["declared_county"] == "431123" and second["progress_pct"] == 60
    assert second["due_date"] == dt.date(2022, 6, 30) and second["deadline_class"] == "2022年"
    assert second["internal_notes"] == "内部：涉及历史遗留"
    assert third["due_date"] is None and third["deadline_class"] == "持续推进"
    assert third["is_public"] is False and third["declared_county"] == "431129"


def test_gbk_csv():
    """A CSV saved by Excel in GBK reads with its Chinese intact."""
    sheet = read_ledger(DATA / "ledger_gbk.csv")
    rows, errors = validate_sheet(sheet)
    assert errors == []
    assert [r.values["number"] for r in rows] == ["SJ-01", "SJ-02"]
    assert rows[0].values["title"] == "潇水非法采砂" and rows[0].values["status"] == "已销号"
    assert rows[1].values["deadline_class"] == "2023年及以后"
    assert [r.row for r in rows] == [2, 3]


def test_utf8_bom_csv(tmp_path):
    """A UTF-8 CSV with a byte-order mark (Excel's "CSV UTF-8") reads too."""
    path = tmp_path / "l.csv"
    path.write_text("编号,问题名称,所在县区\nX-1,非法采砂,道县\n", encoding="utf-8-sig")
    rows, errors = validate_sheet(read_ledger(path))
    assert errors == [] and rows[0].values["number"] == "X-1"


def test_not_a_ledger():
    """A workbook without ledger headers is refused with a message saying so."""
    with pytest.raises(LedgerFileError, match="不是整改台账"):
        read_ledger(DATA / "ledger_not_a_ledger.xlsx")


def test_garbage_file_is_refused(tmp_path):
    """A file with an .xlsx name that is not a workbook is refused cleanly."""
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"not a zip file")
    with pytest.raises(LedgerFileError, match="无法作为 Excel"):
        read_ledger(path)


def test_missing_required_column(tmp_path):
    """A table without any column saying where the issue is names the missing column."""
    path = tmp_path / "l.csv"
    path.write_text(
        "编号,问题名称,牵头单位,整改时限\nX-1,非法采砂,水利局,2021-12-31\n", encoding="utf-8"
    )
    with pytest.raises(LedgerFileError) as info:
        read_ledger(path)
    assert "缺少必需列" in str(info.value) and "所在县区" in str(info.value)


def test_bad_rows_are_all_named():
    """Every bad row is reported with its Excel row number, its header and its value."""
    rows, errors = validate_sheet(read_ledger(DATA / "ledger_bad_rows.xlsx"))
    by_row = {e.row: e for e in errors}
    assert sorted(by_row) == [3, 4, 5, 6, 7, 8]
    assert by_row[3].column == "所在县区" and by_row[3].value == "长沙县"
    assert by_row[4].column == "整改时限" and by_row[4].value == "明年春天"
    assert "永州市范围" in by_row[5].message
    assert "投影坐标" in by_row[6].message
    assert by_row[7].column == "坐标系" and by_row[7].value == "北京54"
    assert "编号重复" in by_row[8].message and "第2行" in by_row[8].message
    assert str(by_row[3]).startswith("第3行 【所在县区】 “长沙县”")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-12-31", (dt.date(2021, 12, 31), None)),
        ("2021年底前", (dt.date(2021, 12, 31), None)),
        ("2022年6月底前", (dt.date(2022, 6, 30), None)),
        ("2024年2月", (dt.date(2024, 2, 29), None)),
        ("2021.10.1", (dt.date(2021, 10, 1), None)),
        (44561, (dt.date(2021, 12, 31), None)),
        ("持续推进", (None, "持续推进")),
        ("长期坚持", (None, "持续推进")),
        ("2023年及以后", (None, "2023年及以后")),
    ],
)
def test_parse_due(text, expected):
    """Deadline cells in the forms officials write read as a date or a deadline class."""
    assert parse_due(text) == expected


@pytest.mark.parametrize(
    "text", ["明年", "2021-13-01", "2021-02-30", "2021年13月", "2021-13", "尽快"]
)
def test_parse_due_rejects(text):
    """Text that is not a date is refused in Chinese rather than guessed (2021-13: not January)."""
    with pytest.raises(ValueError, match="不是"):
        parse_due(text)


def test_row_numbers_when_table_starts_lower_right(tmp_path):
    """Row numbers stay Excel's when the table starts at B3 (empty rows and column before it)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws["B3"], ws["C3"], ws["D3"] = "编号", "问题名称", "所在县区"
    ws["B4"], ws["C4"], ws["D4"] = "X-1", "非法采砂", "道县"
    wb.save(tmp_path / "offset.xlsx")
    sheet = read_ledger(tmp_path / "offset.xlsx")
    assert sheet.header_row == 3 and [r.row for r in sheet.rows] == [4]
    assert sheet.rows[0].values == {"number": "X-1", "title": "非法采砂", "declared_county": "道县"}
