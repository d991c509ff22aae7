"""XLSX rows in and out: cells as ``pandas.read_excel`` gives them, a write-only workbook sink."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["XlsxSink", "xlsx_cell", "xlsx_frame"]


def xlsx_cell(cell):
    """A cell value as pandas' openpyxl reader converts it (integral floats become int)."""
    from openpyxl.cell.cell import TYPE_ERROR, TYPE_NUMERIC

    if cell.value is None:
        return ""
    if cell.data_type == TYPE_ERROR:
        return np.nan
    if cell.data_type == TYPE_NUMERIC and not isinstance(cell.value, bool):
        as_int = int(cell.value)
        return as_int if as_int == cell.value else float(cell.value)
    return cell.value


def xlsx_frame(lines: list[list], columns: list, width: int) -> pd.DataFrame:
    """Rows of converted cells as read_excel would return them ("" read as NaN)."""
    from pandas.io.parsers import TextParser

    data = [(line + [""] * width)[:width] for line in lines if line] if lines else []
    # blank lines inside the data are skipped by read_excel as well
    if not data:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    return TextParser(data, header=None, names=columns, dtype=object).read()


class XlsxSink:
    """An openpyxl write-only workbook taking DataFrame chunks."""

    def __init__(self, path: Path, columns: list) -> None:
        """Start a workbook with one sheet and the header row."""
        from openpyxl import Workbook

        self.path = path
        self.book = Workbook(write_only=True)
        self.sheet = self.book.create_sheet("Sheet1")
        self.sheet.append([str(c) for c in columns])

    def write(self, frame: pd.DataFrame) -> None:
        """Append the rows; None and NaN become empty cells, geometries WKT."""
        if hasattr(frame, "to_wkt"):
            frame = frame.to_wkt()
        for row in frame.itertuples(index=False, name=None):
            self.sheet.append([None if (v is None or (isinstance(v, float) and v != v)) else v
                               for v in row])

    def close(self, save: bool) -> None:
        """Save the workbook; after an error too, as a write-only sheet must be finished (the
        caller then removes the file)."""
        self.book.save(self.path)
