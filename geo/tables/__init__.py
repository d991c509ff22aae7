"""Chunked table I/O for bulk commands: CSV, XLSX, Parquet/GeoParquet and GeoPackage.

``read_chunks`` yields DataFrames of at most ``rows`` rows (GeoDataFrames for GeoParquet and
GeoPackage), so memory stays bounded on files larger than RAM; ``TableWriter`` appends chunks to a
temporary file that replaces the target only when every chunk was written.

CSV cells are read as text ("" for an empty cell), as ``pandas.read_csv(dtype=str,
keep_default_na=False)`` reads them, and written exactly as ``DataFrame.to_csv`` writes them with
a UTF-8 BOM (Excel needs it to show Chinese).
"""

from __future__ import annotations

import codecs
import json
import os
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from geo.errors import GeoError
from geo.tables.csv_text import encode_csv_rows
from geo.tables.geoparquet import arrow_table, with_geometry
from geo.tables.xlsx_rows import XlsxSink, xlsx_cell, xlsx_frame

__all__ = ["READ_SUFFIXES", "WRITE_SUFFIXES", "XLSX_MAX_ROWS", "TableError", "TableWriter",
           "csv_encoding", "csv_header", "encode_csv_rows", "read_chunks", "read_table", "scan_csv"]

READ_SUFFIXES = (".csv", ".xlsx", ".parquet", ".gpkg")
WRITE_SUFFIXES = (".csv", ".xlsx", ".parquet", ".gpkg")
CSV_ENCODINGS = ("utf-8-sig", "gb18030")  # utf-8-sig also reads plain UTF-8; gb18030 covers GBK
XLSX_MAX_ROWS = 1_048_575  # Excel's 1,048,576 rows less the header
_SCAN_BYTES = 1 << 22
_BLOCK_BYTES = 1 << 24  # pyarrow CSV block: large blocks parse faster; a chunk is sliced from them


class TableError(GeoError):
    """A table file cannot be read or written; the message (zh-CN) names the file."""


def _suffix(path: Path) -> str:
    """The lower-case suffix, .xlsm read as .xlsx."""
    suffix = path.suffix.lower()
    return ".xlsx" if suffix == ".xlsm" else suffix


def _unsupported(path: Path, suffixes: tuple[str, ...], what: str) -> TableError:
    """The error for a file whose format is not in ``suffixes``."""
    shown = path.suffix or "(无扩展名)"
    return TableError(f"不支持的{what}格式 {shown}：只支持 {'、'.join(suffixes)}")


# -- reading ----------------------------------------------------------------------------------

def read_chunks(path: str | Path, *, rows: int, sheet: str | int | None = None,
                layer: str | None = None) -> Iterator[pd.DataFrame]:
    """Yield the rows of a CSV, XLSX, Parquet/GeoParquet or GeoPackage file, ``rows`` at a time.

    At least one frame is yielded (an empty one for a header-only file), so the columns are
    always known. CSV cells are str ("" when empty); XLSX cells are objects as
    ``pandas.read_excel(dtype=object)`` gives them; GeoParquet and GeoPackage chunks are
    GeoDataFrames in the file's CRS.
    """
    path = Path(path)
    suffix = _suffix(path)
    if suffix == ".csv":
        return _csv_chunks(path, rows)
    if suffix == ".xlsx":
        return _xlsx_chunks(path, rows, sheet)
    if suffix == ".parquet":
        return _parquet_chunks(path, rows)
    if suffix == ".gpkg":
        return _gpkg_chunks(path, rows, layer)
    raise _unsupported(path, READ_SUFFIXES, "输入")


def read_table(path: str | Path, *, sheet: str | int | None = None,
               layer: str | None = None) -> pd.DataFrame:
    """Read a whole table (all chunks concatenated); for small files."""
    parts = list(read_chunks(path, rows=1 << 20, sheet=sheet, layer=layer))
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


def csv_encoding(path: Path) -> str:
    """The encoding of a CSV file: "utf-8-sig" if the whole file decodes as UTF-8, else gb18030."""
    return scan_csv(path)[0]


def scan_csv(path: Path) -> tuple[str, bool]:
    """Return (encoding, whether the file contains a double quote) from one pass over the bytes.

    The whole file is decoded with an incremental decoder (a few hundred MB/s) so an invalid
    byte late in a large file cannot stop the reading after output was already written. A file
    without quotes has no quoted line breaks, so it may be split at any line start.
    """
    quotes = False
    for encoding in ("utf-8", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as fh:
                while block := fh.read(_SCAN_BYTES):
                    decoder.decode(block)
                    quotes = quotes or b'"' in block
            decoder.decode(b"", final=True)
            return ("utf-8-sig" if encoding == "utf-8" else encoding), quotes
        except UnicodeDecodeError:
            continue
    raise TableError(f"{path}：无法识别文件编码（支持 UTF-8、UTF-8-SIG、GBK）")


def csv_header(path: Path, encoding: str) -> list[str]:
    """The header cells of a CSV, de-duplicated the way pandas does (a, a.1, a.2)."""
    import csv

    with path.open(encoding=encoding, newline="") as fh:
        header = next(csv.reader(fh), None)
    if not header:
        raise TableError(f"{path}：文件为空，没有表头和数据行")
    seen: dict[str, int] = {}
    names = []
    for name in header:
        base, k = name, seen.get(name, 0)
        while name in seen:
            k += 1
            name = f"{base}.{k}"
        seen[base] = k
        seen[name] = 0
        names.append(name)
    return names


def _csv_chunks(path: Path, rows: int) -> Iterator[pd.DataFrame]:
    """CSV chunks as text cells; pyarrow streams, pandas takes over for rows pyarrow refuses."""
    import pyarrow as pa
    from pyarrow import csv as pacsv

    encoding = csv_encoding(path)
    names = csv_header(path, encoding)
    done = 0
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(
                encoding="utf8" if encoding == "utf-8-sig" else encoding,
                column_names=names, skip_rows=1, block_size=_BLOCK_BYTES),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False),
        )
        yielded = False
        for batch in reader:
            for start in range(0, batch.num_rows, rows):
                frame = batch.slice(start, rows).to_pandas(types_mapper=None)
                frame.columns = names
                done += len(frame)
                yielded = True
                yield frame.astype(object) if len(frame) else frame
        if not yielded:
            yield pd.DataFrame({n: pd.Series([], dtype=object) for n in names})
    except pa.ArrowInvalid:
        # short rows (pandas pads them) or a layout pyarrow refuses: let pandas decide, from
        # the first row not yet yielded, so the cells are exactly what read_csv gives
        yield from _pandas_csv_chunks(path, rows, encoding, done)


def _pandas_csv_chunks(path: Path, rows: int, encoding: str, skip: int) -> Iterator[pd.DataFrame]:
    """CSV chunks read by pandas, the first ``skip`` data rows left out."""
    try:
        with pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding,
                         chunksize=rows) as reader:
            for frame in reader:
                if skip >= len(frame):
                    skip -= len(frame)
                    continue
                yield frame.iloc[skip:].reset_index(drop=True)
                skip = 0
    except pd.errors.EmptyDataError:
        raise TableError(f"{path}：文件为空，没有表头和数据行") from None
    except pd.errors.ParserError:  # e.g. an unclosed quote, a row with extra cells
        raise TableError(
            f"{path}：CSV 格式错误，无法按列读取（引号未闭合或某行的列数多于表头？）") from None


def _open_sheet(path: Path, sheet):
    """Open a workbook read-only and return (workbook, worksheet)."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError):  # not a zip, or a zip without a workbook
        raise TableError(f"{path}：不是有效的 XLSX 文件") from None
    target = sheet if sheet is None or not str(sheet).isdigit() else int(sheet)
    if target is None:
        return book, book.worksheets[0]
    if isinstance(target, int):
        if target >= len(book.worksheets):
            book.close()
            raise TableError(f"无法读取工作表 {sheet!r}：共 {len(book.worksheets)} 个工作表")
        return book, book.worksheets[target]
    if target not in book.sheetnames:
        book.close()
        names = "、".join(book.sheetnames)
        raise TableError(f"无法读取工作表 {sheet!r}：没有这个工作表（有：{names}）")
    return book, book[target]


def _xlsx_chunks(path: Path, rows: int, sheet) -> Iterator[pd.DataFrame]:
    """XLSX chunks with read_excel's cells; openpyxl's read-only mode streams the sheet XML."""
    from pandas.io.parsers import TextParser

    book, ws = _open_sheet(path, sheet)
    try:
        lines = ([xlsx_cell(c) for c in r] for r in ws.iter_rows())
        header = next(lines, None)
        if header is None:
            raise TableError(f"{path}：工作表为空，没有表头和数据行")
        while header and header[-1] == "":
            header.pop()
        columns = list(TextParser([header], header=0, dtype=object).read().columns)
        width = len(columns)
        pending: list[list] = []
        blank_run: list[list] = []  # trailing blank rows are dropped, as read_excel does
        yielded = False
        for line in lines:
            if all(v == "" for v in line):
                blank_run.append([])
                continue
            pending.extend(blank_run)
            blank_run = []
            pending.append(line)
            if len(pending) >= rows:
                yield xlsx_frame(pending[:rows], columns, width)
                pending = pending[rows:]
                yielded = True
        if pending or not yielded:
            yield xlsx_frame(pending, columns, width)
    finally:
        book.close()


def _parquet_chunks(path: Path, rows: int) -> Iterator[pd.DataFrame]:
    """Parquet chunks; a GeoParquet file (with 'geo' metadata) gives GeoDataFrames."""
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid/OSError for a file that is not Parquet
        raise TableError(f"{path}：不是有效的 Parquet 文件（{exc}）") from None
    meta = pf.schema_arrow.metadata or {}
    geo = json.loads(meta[b"geo"]) if b"geo" in meta else None
    yielded = False
    for batch in pf.iter_batches(batch_size=rows):
        yielded = True
        yield with_geometry(batch.to_pandas(), geo)
    if not yielded:
        yield with_geometry(pf.schema_arrow.empty_table().to_pandas(), geo)


def _gpkg_chunks(path: Path, rows: int, layer: str | None) -> Iterator[pd.DataFrame]:
    """GeoPackage chunks as GeoDataFrames, streamed through pyogrio's Arrow reader."""
    import geopandas as gpd
    import pyogrio
    import shapely
    from pyogrio.errors import DataLayerError, DataSourceError

    try:
        with pyogrio.open_arrow(path, layer=layer, batch_size=rows, use_pyarrow=True) as source:
            meta, reader = source
            geom_col = meta.get("geometry_name") or "wkb_geometry"
            crs = meta.get("crs")
            yielded = False
            for batch in reader:
                frame = batch.to_pandas()
                wkb = frame.pop(geom_col).to_numpy(object) if geom_col in frame else None
                geoms = shapely.from_wkb(wkb) if wkb is not None else [None] * len(frame)
                yielded = True
                yield gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, index=frame.index,
                                                                     crs=crs), crs=crs)
            if not yielded:
                yield gpd.GeoDataFrame({f: [] for f in meta.get("fields", [])},
                                       geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    except (DataSourceError, DataLayerError) as exc:
        raise TableError(f"{path}：无法读取 GeoPackage（{exc}）") from None


# -- writing ----------------------------------------------------------------------------------

class TableWriter:
    """Append DataFrame chunks to a CSV, XLSX, Parquet/GeoParquet or GeoPackage file.

    The rows go to a temporary file next to ``path``; leaving the ``with`` block normally renames
    it to ``path``, an exception removes it, so ``path`` is never half-written. The first chunk
    fixes the columns.
    """

    def __init__(self, path: str | Path, *, layer: str | None = None) -> None:
        """Prepare to write ``path`` (its suffix picks the format)."""
        self.path = Path(path)
        self.layer = layer or self.path.stem
        self.suffix = _suffix(self.path)
        if self.suffix not in WRITE_SUFFIXES:
            raise _unsupported(self.path, WRITE_SUFFIXES, "输出")
        self.rows = 0
        self._tmp: Path | None = None
        self._sink = None
        self._columns: list | None = None

    def __enter__(self) -> TableWriter:
        """Create the temporary file."""
        fd, name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=f".tmp{self.suffix}",
                                    dir=self.path.parent or ".")
        os.close(fd)
        self._tmp = Path(name)
        if self.suffix == ".gpkg":
            self._tmp.unlink()  # GDAL creates the GeoPackage itself
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        """Rename the temporary file to the target, or remove it after an error."""
        try:
            self._close(ok=exc_type is None)
            if exc_type is None:
                if self._columns is None:
                    self.write(pd.DataFrame())
                    self._close(ok=True)
                os.replace(self._tmp, self.path)
        finally:
            if self._tmp is not None and self._tmp.exists():
                self._tmp.unlink()

    def write(self, frame: pd.DataFrame) -> None:
        """Append the rows of ``frame``."""
        if self.suffix == ".xlsx" and self.rows + len(frame) > XLSX_MAX_ROWS:
            raise TableError(
                f"{self.path.name}：XLSX 最多 {XLSX_MAX_ROWS:,} 行数据（Excel 的上限），"
                "结果超过了；请改用 .csv 或 .parquet 输出")
        if self._columns is None:
            self._columns = list(frame.columns)
            if self.suffix == ".xlsx":
                self._sink = XlsxSink(self._tmp, self._columns)
            elif self.suffix == ".csv":
                self._sink = self._tmp.open("w", encoding="utf-8-sig", newline="")
                frame.iloc[:0].to_csv(self._sink, index=False)
        elif list(frame.columns) != self._columns:
            raise ValueError(f"chunk columns differ from the first chunk: {list(frame.columns)}")
        if self.suffix == ".csv":
            if len(frame):
                self.write_bytes(encode_csv_rows(frame))
        elif self.suffix == ".xlsx":
            self._sink.write(frame)
        elif self.suffix == ".parquet":
            self._write_parquet(frame)
        else:
            self._write_gpkg(frame)
        self.rows += len(frame)

    def write_bytes(self, data: bytes) -> None:
        """Append CSV rows already encoded as UTF-8 (no header; after a first ``write``)."""
        self._sink.flush()
        self._sink.buffer.write(data)

    def _write_parquet(self, frame: pd.DataFrame) -> None:
        """Append a chunk to the Parquet file (GeoParquet when ``frame`` has a geometry)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = arrow_table(frame)
        if self._sink is None:
            schema = pa.schema([f.with_type(pa.string()) if pa.types.is_null(f.type) else f
                                for f in table.schema], metadata=table.schema.metadata)
            self._sink = pq.ParquetWriter(self._tmp, schema)
        self._sink.write_table(table.cast(self._sink.schema))

    def _write_gpkg(self, frame: pd.DataFrame) -> None:
        """Append a chunk to the GeoPackage layer."""
        import pyogrio

        if not len(frame) and self.rows:
            return
        kwargs = {}
        if getattr(frame, "geometry", None) is None or "geometry" not in frame:
            kwargs["geometry_type"] = None
        pyogrio.write_dataframe(frame, self._tmp, layer=self.layer, driver="GPKG",
                                append=self.rows > 0, **kwargs)

    def _close(self, ok: bool) -> None:
        """Close the open sink (if any)."""
        sink, self._sink = self._sink, None
        if sink is None:
            return
        if isinstance(sink, XlsxSink):
            sink.close(save=ok)
        else:
            sink.close()
