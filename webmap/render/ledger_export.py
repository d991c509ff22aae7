"""Write ledger rows to xlsx, csv, geojson, gpkg, kml or a zipped Shapefile, atomically.

The one exporter of the ledger (``yzmap export-ledger``, the map page's 下载本视图数据): every
format carries the template's columns (``webmap.ledger.io.template.COLUMNS``) in template order.
xlsx and csv keep the Chinese headers, so they are ledgers ``import-ledger`` reads back; the GIS
formats (``typed_export``) use the ASCII field names with the Chinese headers as aliases. The
xlsx is typed (numbers, dates, 是否公开 as a boolean, empty cells for blanks; 示例 stays a mark),
the csv is text by nature (numbers bare, dates ISO). Output is deterministic (rows by number,
fixed decimals, no timestamps in the files) so that export → import → export gives identical
files: byte-identical csv, geojson and kml; cell-identical xlsx; feature-identical gpkg
(GeoPackage stores its own timestamps).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from geo.files import atomic_path
from webmap.ledger.io.formulas import neutralise_row, neutralise_text
from webmap.ledger.io.rows import headers, issue_row
from webmap.ledger.io.template import COLUMNS
from webmap.ledger.vocabulary import SAMPLE_MARK
from webmap.render.typed_export import GIS_FORMATS, typed_rows, write_gis

FORMATS = ("xlsx", "csv", "geojson", "gpkg", "kml", "shp")


class Judged(NamedTuple):
    """The day an export judges warning classes on, and the amber window."""

    day: dt.date
    amber_days: int

SHEET_TITLE = "整改台账"
_FIXED_TIME = dt.datetime(2021, 3, 6)  # workbook metadata date: the feedback date, not "now"


def export_issues(issues: Iterable, fmt: str, out: str | Path, *, day: dt.date,
                  amber_days: int) -> int:  # fmt: skip
    """Write the issues to ``out`` in ``fmt`` (RAG judged on ``day``); return the row count."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    issues = sorted(issues, key=lambda i: i.number)
    with atomic_path(out) as tmp:
        if fmt in GIS_FORMATS:
            write_gis(issues, fmt, tmp, day, amber_days)
        else:
            {"xlsx": _write_xlsx, "csv": _write_csv}[fmt](issues, tmp, Judged(day, amber_days))
    return len(issues)


def _write_csv(issues: list, path: Path, today: Judged) -> None:
    """Write UTF-8 CSV with a BOM so Excel opens the Chinese correctly; formula text neutralised."""
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(headers())
        for issue in issues:
            w.writerow(neutralise_row(issue_row(issue, *today)))


def _write_xlsx(issues: list, path: Path, today: Judged) -> None:
    """Write one sheet: bold frozen header row, typed cells (numbers, dates, booleans, blanks).

    Text is neutralised like the csv, and every text cell is typed as a string: openpyxl would
    otherwise store any string starting with ``=`` as a formula.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    wb.properties.created = wb.properties.modified = _FIXED_TIME
    ws = wb.create_sheet(SHEET_TITLE)
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for h in headers():
        cell = WriteOnlyCell(ws, value=h)
        cell.font = bold
        header_cells.append(cell)
    ws.append(header_cells)
    for row in typed_rows(issues, *today):
        ws.append([_xlsx_cell(ws, c.field, row[c.field]) for c in COLUMNS])
    wb.save(path)


def _xlsx_cell(ws, field: str, value):
    """Return a write-only cell of the value's type (None for an empty cell), never a formula."""
    from openpyxl.cell import WriteOnlyCell

    if value is None or (field == "is_sample" and not value):
        return None
    if field == "is_sample":
        # a mark officials read, as in the template; a real ledger leaves the column empty
        value = SAMPLE_MARK
    if isinstance(value, str):
        cell = WriteOnlyCell(ws, value=neutralise_text(value))
        cell.data_type = "s"
        return cell
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, dt.date):
        cell.number_format = "yyyy-mm-dd"
    return cell


def read_xlsx_cells(path: str | Path) -> list[list[object]]:
    """Return every cell value of the first sheet (what "cell-identical" compares)."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    try:
        return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    finally:
        wb.close()


def export_ledger(session, query, fmt: str, out: str | Path) -> int:
    """Export the issues an ``IssueQuery`` selects (the views' own filter object) to ``out``."""
    from sqlalchemy.orm import selectinload

    from webmap.ledger.models import Issue

    stmt = query.select(session).options(
        selectinload(Issue.updates), selectinload(Issue.responsibilities)
    )
    issues = session.scalars(stmt).all()
    if query.as_of is not None:
        # the rows as they stood that day (rebuilt from the event log), judged on that day
        return export_issues(past_rows(session, query, issues), fmt, out, day=query.as_of,
                             amber_days=query.amber_days)  # fmt: skip
    return export_issues(issues, fmt, out, day=query.today or dt.date.today(),
                         amber_days=query.amber_days)  # fmt: skip


def past_rows(session, query, issues) -> list:
    """Return the query's issues as rebuilt on ``query.as_of``, with the progress reported by then.

    Responsibility records carry no history, so the 责任领导 column is today's.
    """
    from dataclasses import asdict
    from types import SimpleNamespace

    from shapely.geometry import shape

    live = {i.number: i for i in issues}
    rows = []
    for state in query.states(session):
        issue = live.get(state.number)
        if issue is None:
            continue
        values = asdict(state)
        values["geometry"] = shape(state.geometry) if state.geometry else None
        values["updates"] = [u for u in issue.updates if u.date <= query.as_of]
        values["responsibilities"] = issue.responsibilities
        rows.append(SimpleNamespace(**values))
    return rows
