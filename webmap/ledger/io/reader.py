"""Read a ledger file (.xlsx or .csv in UTF-8 or GBK) into raw rows keyed by template field.

The header row is found by matching cells against the template, so title rows (merged or not),
notes above the table and blank lines are skipped; row numbers are those Excel shows.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from webmap.ledger.io.template import BY_FIELD, REQUIRED_GROUPS, match_header, normalise_header

HEADER_SCAN_ROWS = 30  # how far down a title block may push the header row
MIN_HEADER_MATCHES = 3


@dataclass
class CellError:
    """One problem in a ledger file, located as a user sees it in Excel."""

    row: int | None
    column: str
    value: object
    message: str

    def __str__(self) -> str:
        """Format as 第N行 【列】 值: 问题."""
        where = f"第{self.row}行" if self.row else "文件"
        shown = "" if self.value is None else str(self.value)
        return f"{where} 【{self.column}】 “{shown}”: {self.message}"


class LedgerFileError(Exception):
    """A ledger file cannot be imported; carries every error found, not just the first."""

    def __init__(self, errors: list[CellError]):
        """Keep the errors and summarise them as the message."""
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


@dataclass
class RawRow:
    """One data row: its Excel row number and the raw cell values by field."""

    row: int
    values: dict[str, object]


@dataclass
class LedgerSheet:
    """What was read from a file: where the header was, which headers meant what, the rows."""

    path: str
    header_row: int
    headers: dict[str, str]  # field -> header text as written in the file
    ignored_headers: list[str] = field(default_factory=list)
    rows: list[RawRow] = field(default_factory=list)


def read_ledger(path: str | Path) -> LedgerSheet:
    """Read an .xlsx or .csv ledger; raise LedgerFileError when it is not a ledger."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        records = _xlsx_records(path)
    elif suffix in (".csv", ".txt"):
        records = _csv_records(path)
    else:
        raise LedgerFileError(
            [CellError(None, "文件", path.name, "不支持的文件类型，请使用 .xlsx 或 .csv")]
        )
    return _sheet_from_records(str(path), records)


def _xlsx_records(path: Path):
    """Return (excel_row, cells) from the first sheet that looks like a ledger.

    Read with calamine (Rust): openpyxl's XML parsing took most of a 10,000-row import.
    """
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
        sheets = [wb.get_sheet_by_index(i) for i in range(len(wb.sheet_names))]
    except Exception as exc:  # calamine raises zip, xml and its own errors alike for a bad file
        raise LedgerFileError(
            [
                CellError(
                    None,
                    "文件",
                    path.name,
                    f"无法作为 Excel 工作簿打开（{exc.__class__.__name__}）",
                )
            ]
        ) from exc
    rows: list = []
    # a workbook may carry an instructions sheet first: take the first sheet with a header row
    for sheet in sheets:
        # skip_empty_area=False keeps the rows above the first filled cell: numbers match Excel's
        rows = list(enumerate(sheet.to_python(skip_empty_area=False), start=1))
        if _find_header(rows) is not None:
            return rows
    return rows


def _csv_records(path: Path) -> list[tuple[int, list]]:
    """Return (line_number, cells) from a CSV in UTF-8 (with or without BOM) or GBK/GB18030."""
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # gb18030 decodes any byte string, so this is only reached for binary junk
        raise LedgerFileError([CellError(None, "文件", path.name, "无法识别文件编码")])
    if "\x00" in text:
        raise LedgerFileError([CellError(None, "文件", path.name, "不是文本 CSV 文件")])
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    out = []
    line = 1
    for cells in reader:
        out.append((line, cells))
        line = reader.line_num + 1  # a quoted cell may span lines; number rows as the editor does
    return out


def _find_header(rows: list[tuple[int, list]]) -> int | None:
    """Return the index in ``rows`` of the header row, or None when no row looks like one."""
    best, best_score = None, 0
    for idx, (_, cells) in enumerate(rows[:HEADER_SCAN_ROWS]):
        fields = {match_header(c) for c in cells} - {None}
        score = len(fields)
        if score > best_score:
            best, best_score = idx, score
    return best if best_score >= MIN_HEADER_MATCHES else None


def _map_headers(cells: list) -> tuple[dict[str, int], dict[str, str], list[str]]:
    """Map fields to column indexes; a canonical header wins over a synonym for the same field."""
    chosen: dict[str, tuple[int, int]] = {}  # field -> (priority, column index)
    headers: dict[str, str] = {}
    ignored: list[str] = []
    for col, cell in enumerate(cells):
        name = match_header(cell)
        if name is None:
            if cell not in (None, ""):
                ignored.append(str(cell))
            continue
        rank = BY_FIELD[name].names.index(normalise_header(cell))
        if name in chosen and chosen[name][0] <= rank:
            ignored.append(str(cell))
            continue
        if name in chosen:
            ignored.append(headers[name])
        chosen[name] = (rank, col)
        headers[name] = str(cell).strip()
    return {f: c for f, (_, c) in chosen.items()}, headers, ignored


def _is_blank(value: object) -> bool:
    """Tell whether a cell is empty or only whitespace."""
    return value is None or (isinstance(value, str) and not value.strip())


def _sheet_from_records(path: str, rows: list[tuple[int, list]]) -> LedgerSheet:
    """Locate the header, check required columns and collect the non-blank data rows."""
    idx = _find_header(rows)
    name = Path(path).name
    if idx is None:
        raise LedgerFileError(
            [
                CellError(
                    None,
                    "文件",
                    name,
                    "不是整改台账：前30行中找不到表头（如 编号、问题名称、所在县区）",
                )
            ]
        )
    header_row, cells = rows[idx]
    columns, headers, ignored = _map_headers(cells)
    missing = [g for g in REQUIRED_GROUPS if not any(f in columns for f in g)]
    if missing:
        errors = [
            CellError(header_row, "/".join(BY_FIELD[f].header for f in g), None, "缺少必需列")
            for g in missing
        ]
        raise LedgerFileError(errors)
    sheet = LedgerSheet(path=path, header_row=header_row, headers=headers, ignored_headers=ignored)
    for row_number, cells in rows[idx + 1 :]:
        values = {f: (cells[c] if c < len(cells) else None) for f, c in columns.items()}
        if all(_is_blank(v) for v in values.values()):
            continue
        sheet.rows.append(RawRow(row=row_number, values=values))
    return sheet
