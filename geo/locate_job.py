"""``yzmap locate`` as a job of independent tasks that a Dask cluster can run in parallel.

A task is small: for a CSV without quotes, a byte range aligned to line starts that the worker
reads and parses itself (or, for workers that do not see the file, the range's bytes);
otherwise a chunk the client read. ``locate_task`` (module level, so it pickles by reference)
locates it and returns the rows already encoded (CSV bytes without a header, or the path of a
part file holding them, written next to the output when the worker sees that folder) or as a
frame, with the counts the summary line needs, so the client only writes results in order.
"""

from __future__ import annotations

import dataclasses
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geo.boundaries import LayerSet
from geo.bulk_locate import TextCache, locate_chunk, locate_columns
from geo.locate import NOTE_PREFIX, OUTPUT_COLUMNS
from geo.part_files import sees_file, write_part
from geo.tables import TableError, csv_header, read_chunks, scan_csv
from geo.tables.csv_text import csv_fields, encode_csv_rows, join_csv_fields

__all__ = ["Counts", "CsvRange", "LocateOptions", "TaskResult", "default_rows", "for_workers",
           "locate_task", "output_columns", "plan_tasks"]

_SAMPLE_BYTES = 1 << 16
_TEXTS_KEPT = 200_000  # distinct address strings a worker remembers between tasks
_texts = TextCache()  # per process: geocoding depends on the shipped gazetteer only


@dataclass(frozen=True)
class LocateOptions:
    """Which columns hold what, how to read them and the output format (its suffix).

    ``parts`` (a ``geo.part_files.PartFolder.spec``) asks workers that see that folder to write
    CSV results there as part files rather than return them.
    """

    x_col: str | None = None
    y_col: str | None = None
    datum: str = "wgs84"
    crs: str | None = None
    county_col: str | None = None
    address_col: str | None = None
    out_suffix: str = ".csv"
    parts: tuple[str, str] | None = None


@dataclass(frozen=True)
class CsvRange:
    """Bytes ``start``..``end`` of a CSV: whole lines, parsed on the worker.

    ``data`` carries the bytes themselves, for workers that cannot see the file (a cluster on
    other machines); without it the worker reads them from ``path``, after checking the file
    still has ``stamp`` (``geo.part_files.file_stamp``) when one is given.
    """

    path: str
    start: int
    end: int
    encoding: str
    names: tuple[str, ...]
    data: bytes | None = None
    stamp: tuple[int, int] | None = None


@dataclass
class Counts:
    """The figures of the summary line, added up over chunks."""

    rows: int = 0
    located: int = 0
    outside: int = 0
    ambiguous: int = 0
    errors: int = 0
    notes: int = 0

    def add(self, other: Counts) -> None:
        """Add another chunk's counts."""
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class TaskResult:
    """A located chunk: CSV bytes (no header), a part file holding them, or a frame; its counts."""

    counts: Counts
    columns: list = field(default_factory=list)
    csv: bytes | None = None
    frame: pd.DataFrame | None = None
    part: str | None = None


def plan_tasks(path: Path, *, rows: int, sheet=None, layer=None) -> tuple[list, bool, Iterator]:
    """Return (input columns, whether rows carry a geometry, task sources) for ``path``.

    A CSV without quotes is cut into ``CsvRange`` byte ranges of about ``rows`` lines; anything
    else is read here in chunks of ``rows``. A task is ``(source, LocateOptions)``; for workers
    of a cluster, pass each source through ``for_workers``.
    """
    if path.suffix.lower() == ".csv":
        encoding, quotes = scan_csv(path)
        if not quotes:
            names = csv_header(path, encoding)
            return names, False, _csv_ranges(path, encoding, names, rows)
    chunks = read_chunks(path, rows=rows, sheet=sheet, layer=layer)
    first = next(chunks)
    geometry = _geometry_name(first)
    columns = [c for c in first.columns if c != geometry]

    def sources():
        """The first chunk, then the rest as they are read."""
        yield first
        yield from chunks

    return columns, geometry is not None, sources()


def _csv_ranges(path: Path, encoding: str, names: list, rows: int) -> Iterator[CsvRange]:
    """Byte ranges of about ``rows`` lines each, every one starting at a line start."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        fh.readline()  # the header
        start = fh.tell()
        sample = fh.read(_SAMPLE_BYTES)
        per_line = len(sample) / max(sample.count(b"\n"), 1)
        step = max(int(per_line * rows), 1)
        while start < size:
            # hand-written rather than dask.bytes.read_bytes: the task must stay a plain
            # descriptor that runs without Dask in the serial path
            fh.seek(min(start + step, size))
            fh.readline()  # to the next line start (also for gb18030: 0x0A is never a trail byte)
            end = min(fh.tell(), size)
            yield CsvRange(str(path), start, end, encoding, tuple(names))
            start = end


def for_workers(source, stamp: tuple[int, int] | None):
    """A task source made ready for Dask workers, which may run elsewhere and in another folder.

    A ``CsvRange`` gets an absolute path and the input's ``stamp`` when every worker sees that
    file (``stamp`` given), else the range's bytes; a chunk read here (a frame) is unchanged.
    """
    if not isinstance(source, CsvRange):
        return source
    if stamp is not None:
        return dataclasses.replace(source, path=os.path.abspath(source.path), stamp=stamp)
    with open(source.path, "rb") as fh:
        fh.seek(source.start)
        return dataclasses.replace(source, data=fh.read(source.end - source.start))


def locate_task(task, layers: LayerSet) -> TaskResult:
    """Locate one task (a ``CsvRange`` or a frame, with its options) and encode the result."""
    source, options = task
    if len(_texts.found) > _TEXTS_KEPT:
        _texts.found.clear()
        _texts.townships.clear()
    if isinstance(source, CsvRange) and options.out_suffix == ".csv":
        return _as_part(_locate_range_to_csv(source, options, layers), options)
    chunk = _read_range(source)[1] if isinstance(source, CsvRange) else source
    lonlat = None
    geometry = _geometry_name(chunk)
    if geometry is not None:
        if options.x_col is None:
            lonlat = _points_lonlat(chunk.geometry)
        chunk = pd.DataFrame(chunk.drop(columns=[geometry]))
    out = locate_chunk(chunk, layers, x_col=options.x_col, y_col=options.y_col,
                       datum=options.datum, crs=options.crs, county_col=options.county_col,
                       address_col=options.address_col, lonlat=lonlat, cache=_texts)
    result = TaskResult(_counts(out), list(out.columns))
    if options.out_suffix == ".csv":
        result.csv = encode_csv_rows(out) if len(out) else b""
        return _as_part(result, options)
    if options.out_suffix in (".gpkg", ".parquet"):
        result.frame = _with_points(out)
    else:
        result.frame = out
    return result


def _locate_range_to_csv(source: CsvRange, options: LocateOptions, layers) -> TaskResult:
    """A CSV range to CSV: the input cells go out as parsed (Arrow), only the output is built.

    Cells of a range hold no quote, comma or line break (the file has no quotes), so they are
    written back unquoted, exactly as ``to_csv`` would write them.
    """
    import pyarrow as pa

    table, chunk = _read_range(source)
    if table is not None:
        for name in {options.x_col, options.y_col} - {None}:
            _plain_numbers(table, chunk, name)
    out = locate_columns(chunk, layers, x_col=options.x_col, y_col=options.y_col,
                         datum=options.datum, crs=options.crs, county_col=options.county_col,
                         address_col=options.address_col, cache=_texts)
    columns = output_columns(list(source.names))
    result = TaskResult(_counts(out), columns)
    if not len(out):
        result.csv = b""
    elif table is None:  # parsed by the fallback: cells may be NaN
        result.csv = encode_csv_rows(pd.concat([chunk.set_axis(columns[:chunk.shape[1]], axis=1),
                                                out], axis=1))
    else:
        inputs = [pa.concat_arrays(c.chunks) if c.num_chunks != 1 else c.chunk(0)
                  for c in table.columns]
        fields = inputs + [csv_fields(out[c]) for c in out.columns]
        if any(f is None for f in fields):
            frame = pd.concat([table.to_pandas().astype(object).set_axis(
                columns[:table.num_columns], axis=1), out], axis=1)
            result.csv = encode_csv_rows(frame)
        else:
            result.csv = join_csv_fields(fields)
    return result


def _as_part(result: TaskResult, options: LocateOptions) -> TaskResult:
    """Move the CSV bytes of ``result`` into a part file when the options name a folder this
    worker sees (the client copies it into the output), so only the counts travel back."""
    if result.csv:
        part = write_part(options.parts, result.csv)
        if part is not None:
            result.part, result.csv = part, None
    return result


def _geometry_name(frame: pd.DataFrame) -> str | None:
    """The active geometry column of a GeoDataFrame, None for a plain frame."""
    name = getattr(frame, "_geometry_column_name", None)
    return name if name in frame.columns else None


def _read_range(task: CsvRange) -> tuple:
    """Parse a byte range of a CSV as text cells, as ``geo.tables.read_chunks`` would.

    Returns (the Arrow table, or None when the fallback parser read it; the cells as a frame).
    """
    import pyarrow as pa
    from pyarrow import csv as pacsv

    data = task.data
    if data is None:
        if task.stamp is not None and not sees_file(task.path, task.stamp):
            raise TableError(f"{task.path}：工作进程看到的文件与本机的不同（大小或修改时间不符），"
                             "可能是文件在定位过程中被改动，或工作进程在另一台机器上")
        with open(task.path, "rb") as fh:
            fh.seek(task.start)
            data = fh.read(task.end - task.start)
    names = list(task.names)
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(
                encoding="utf8" if task.encoding == "utf-8-sig" else task.encoding,
                column_names=names, block_size=max(len(data), 1 << 20)),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False))
        frame = table.to_pandas()
        frame.columns = names
        return table, frame.astype(object)
    except pa.ArrowInvalid:  # short rows (pandas pads them) or a row with extra cells
        return None, _split_lines(task, data.decode(task.encoding), names)


def _split_lines(task: CsvRange, text: str, names: list) -> pd.DataFrame:
    """Parse lines without quotes as ``pandas.read_csv`` does: short rows padded with NaN,
    blank lines skipped, a row with more cells than the header an error naming it.

    Hand-written because pandas, given only part of a file, reads a first row with an extra
    cell as an index instead of refusing it; ranges hold no quotes, so a split is exact.
    """
    width = len(names)
    rows = []
    for line in text.split("\n"):
        line = line[:-1] if line.endswith("\r") else line
        if not line:
            continue
        cells = line.split(",")
        if len(cells) > width:
            raise TableError(f"{task.path}：CSV 格式错误，一行有 {len(cells)} 列，多于表头的 "
                             f"{width} 列：「{line[:80]}」")
        rows.append(cells + [np.nan] * (width - len(cells)))
    return pd.DataFrame(rows, columns=names, dtype=object)


def _plain_numbers(table, chunk: pd.DataFrame, name: str) -> None:
    """Give ``chunk`` column ``name`` as float64 when every cell is a plain decimal number.

    Arrow's parser is about 20x faster than the cell-by-cell route and gives the same doubles
    (both round correctly; checked bit for bit on 20 million cells); anything else (DMS text,
    blanks, signs, spaces) keeps the text for ``geo.coords`` to read.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    cells = table.column(list(chunk.columns).index(name))
    if len(cells) and pc.all(pc.match_substring_regex(cells, r"^-?[0-9]+(\.[0-9]+)?$")).as_py():
        chunk[name] = pc.cast(cells, pa.float64()).to_numpy()


def _points_lonlat(geoms) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 lon/lat of point geometries; NaN for missing, empty or non-point geometries."""
    import shapely

    if geoms.crs is not None and not geoms.crs.equals("EPSG:4326"):
        geoms = geoms.to_crs("EPSG:4326")
    values = np.asarray(geoms.array, dtype=object)
    point = shapely.get_type_id(values) == 0
    lon = np.where(point, shapely.get_x(values), np.nan)
    lat = np.where(point, shapely.get_y(values), np.nan)
    return lon, lat


def _with_points(out: pd.DataFrame):
    """The located rows with their WGS84 point as geometry (None where not located)."""
    import geopandas as gpd
    import shapely

    lon = pd.to_numeric(out["lon"], errors="coerce").to_numpy(float)
    lat = pd.to_numeric(out["lat"], errors="coerce").to_numpy(float)
    points = shapely.points(lon, lat)
    points[~(np.isfinite(lon) & np.isfinite(lat))] = None
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(points, index=out.index, crs="EPSG:4326"))


def _counts(out: pd.DataFrame) -> Counts:
    """Rows, located, outside the city, ambiguous, errors and notes (提示) of a located chunk."""
    # flags take few distinct values: test each distinct one, then count its rows
    codes, flags = pd.factorize(out["flags"].to_numpy(object), use_na_sentinel=False)
    per_flags = np.bincount(codes, minlength=len(flags))
    outside = [isinstance(f, str) and "outside_city" in f for f in flags]
    ambiguous = [isinstance(f, str) and "ambiguous" in f for f in flags]
    errors = out["error"].dropna().astype(str)
    notes = int(errors.str.startswith(NOTE_PREFIX).sum())
    return Counts(rows=len(out), located=int(out["county_code"].notna().sum()),
                  outside=int(per_flags[np.array(outside, dtype=bool)].sum()),
                  ambiguous=int(per_flags[np.array(ambiguous, dtype=bool)].sum()),
                  errors=len(errors) - notes, notes=notes)


def output_columns(columns: list) -> list:
    """The output header for input ``columns``: clashing names get ``_input``."""
    return [f"{c}_input" if c in OUTPUT_COLUMNS else c for c in columns] + list(OUTPUT_COLUMNS)


def default_rows() -> int:
    """Rows per task: ``YZMAP_LOCATE_CHUNK_ROWS`` or 50,000."""
    return int(os.environ.get("YZMAP_LOCATE_CHUNK_ROWS", "50000"))
