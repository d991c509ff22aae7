"""``yzmap locate``: attribute every row of a table to county, township, zone and constraints.

CSV, XLSX, Parquet/GeoParquet or GeoPackage in and out, streamed in chunks (``geo.locate_job``):
memory stays bounded whatever the file size, and the output is written whole or not at all.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterator
from contextlib import ExitStack, nullcontext
from pathlib import Path

import click

from webmap.commands import open_ledger, version_line
from webmap.commands.cluster import cluster_errors, cluster_options, run_options, uses_cluster
from webmap.commands.progress import progress, quiet_option, summary
from webmap.commands.zh import os_error_message

OUTPUT_SUFFIXES = (".csv", ".xlsx", ".parquet", ".gpkg")
# header spellings tried when no column option is given, per axis
LON_NAMES = ("经度", "lon", "lng", "longitude", "x", "东经")
LAT_NAMES = ("纬度", "lat", "latitude", "y", "北纬")


def read_table(path: Path, sheet: str | None = None):
    """Read a whole CSV (UTF-8, UTF-8 with BOM or GBK), XLSX, Parquet or GeoPackage table."""
    from geo.tables import TableError
    from geo.tables import read_table as read_any

    try:
        return read_any(path, sheet=sheet)
    except TableError as exc:
        raise click.ClickException(str(exc)) from None


def write_table(frame, out: Path) -> None:
    """Write CSV (with a BOM, so Excel reads the Chinese), XLSX, Parquet or GeoPackage whole;
    ``out`` is never half-written."""
    from geo.tables import TableWriter

    with TableWriter(out) as writer:
        writer.write(frame)


def _pick_column(columns, given: str | None, names: tuple[str, ...], option: str) -> str | None:
    """Return the column named by an option (checked) or the first header matching ``names``."""
    if given is not None:
        if given not in columns:
            raise click.UsageError(
                f"{option}: 找不到列「{given}」；可用的列：{', '.join(map(str, columns))}")
        return given
    lowered = {str(c).strip().lower(): c for c in columns}
    return next((lowered[n] for n in names if n in lowered), None)


def _summary(counts, seconds: float, target: Path) -> str:
    """One line: rows, located, outside, ambiguous, errors, notes (提示) and time."""
    return (f"完成：共 {counts.rows} 行，已定位 {counts.located}，市外 {counts.outside}，"
            f"归属不明 {counts.ambiguous}，错误 {counts.errors}，提示 {counts.notes}，"
            f"用时 {seconds:.1f} 秒 → {target}")


@dataclasses.dataclass
class _Tasks:
    """The tasks of a run: each source with the options, both settled before the first is taken
    (on a cluster, once the workers said which of this machine's files they see)."""

    sources: Iterator
    options: object

    def __iter__(self) -> Iterator:
        """``(source, options)`` for every source."""
        return ((source, self.options) for source in self.sources)


def _run(sources, columns, source_path: Path, output: Path, options, layers, step,
         cluster: dict) -> object:
    """Stream the task sources through ``locate_task`` in order into ``output``; return counts."""
    from geo.locate_job import Counts, locate_task, output_columns
    from geo.parallel import run_ordered
    from geo.part_files import PartFolder, take_part
    from geo.tables import TableWriter

    counts = Counts()
    tasks = _Tasks(sources, options)
    on_cluster = uses_cluster(cluster)
    if on_cluster:
        from geo.lookup import warm_indexes

        warm_indexes(layers)  # built here once, shipped built to every worker
    # left in reverse: the run (cancelling its tasks) before the part folder is removed, then
    # the output's temporary file is renamed, or removed after an error or Ctrl-C
    with ExitStack() as stack:
        writer = stack.enter_context(TableWriter(output))
        parts = (stack.enter_context(PartFolder(output))
                 if on_cluster and options.out_suffix == ".csv" else None)
        run = stack.enter_context(run_ordered(locate_task, tasks, shared=layers, **cluster))
        if on_cluster:
            _share_files(run.start(), tasks, source_path, parts)
        for result in run:
            if result.csv is not None or result.part is not None:
                if writer.rows == 0 and counts.rows == 0:
                    writer.write(pd_empty(result.columns))
                writer.write_bytes(result.csv if result.part is None else take_part(result.part))
            else:
                writer.write(result.frame)
            counts.add(result.counts)
            step("定位中", counts.rows, None)
        if counts.rows == 0 and writer.rows == 0:
            writer.write(pd_empty(output_columns(columns)))
    return counts


def _share_files(run, tasks: _Tasks, source_path: Path, parts) -> None:
    """Fit the tasks to what the workers see of this machine's files.

    Workers that see the input read their byte ranges themselves, else the ranges carry their
    bytes; workers that see the part folder write their results there, so neither the input
    nor the results pass through the scheduler (on one machine, the usual case for
    ``--workers`` and a local ``--scheduler``, they are several hundred MB each way).
    """
    from geo.locate_job import for_workers
    from geo.part_files import file_stamp, sees_file, sees_folder

    stamp = file_stamp(source_path)
    sees_input = all(run.on_every_worker(sees_file, os.path.abspath(source_path), stamp))
    source_stamp = stamp if sees_input else None
    tasks.sources = (for_workers(source, source_stamp) for source in tasks.sources)
    # a worker that does not see the folder returns its result as data: any one seeing it helps
    if parts is not None and any(run.on_every_worker(sees_folder, parts.spec)):
        tasks.options = dataclasses.replace(tasks.options, parts=parts.spec)


def pd_empty(columns):
    """An empty frame with ``columns`` (fixes the output header)."""
    import pandas as pd

    return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})


@click.command("locate")
@click.argument("input_path", metavar="INPUT", type=click.Path(exists=True, dir_okay=False,
                                                               path_type=Path))
@click.option("--out", "output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="输出文件：.csv、.xlsx、.parquet 或 .gpkg（后两种带 WGS84 点几何）。")
@click.option("--lon-col", help="经度列（或 --x-col）。")
@click.option("--lat-col", help="纬度列（或 --y-col）。")
@click.option("--x-col", help="X/东坐标列（投影坐标配合 --crs）。")
@click.option("--y-col", help="Y/北坐标列。")
@click.option("--datum", default="wgs84", show_default=True,
              type=click.Choice(["wgs84", "cgcs2000", "gcj02", "bd09"]), help="经纬度的坐标基准。")
@click.option("--crs", help="投影坐标的坐标系，如 EPSG:4546。")
@click.option("--county-col", help="申报的县区列，用于核对。")
@click.option("--address-col", help="地址列：无坐标的行按地址定位，有坐标的行用地址核对"
              "（不一致标记 declared_mismatch）。")
@click.option("--sheet", help="XLSX 工作表名称或序号（默认第一个）。")
@click.option("--layer", help="GeoPackage 图层名（默认第一个）。")
@click.option("--chunk-rows", type=click.IntRange(min=1), default=None,
              help="每块行数（默认 50000，或环境变量 YZMAP_LOCATE_CHUNK_ROWS）；"
              "按块读写，内存不随文件增大。")
@cluster_options
@quiet_option
def locate(input_path, output, lon_col, lat_col, x_col, y_col, datum, crs, county_col,
           address_col, sheet, layer, chunk_rows, workers, scheduler, processes,
           quiet):  # fmt: skip
    """把 INPUT 的每一行归属到县区、乡镇和保护地分区。

    使用在用的边界图层（内置图层，以及用 ``yzmap boundaries import`` 导入的权威图层），
    其版本随汇总行输出。输出列：输入的各列，然后是 lon、lat、county_code、county_name、
    township_code、township_name、village_name、protected_area、zone、precision、confidence、
    flags、candidates、constraints（点位所在的每个管控分区，写作 ``kind:name:zone``，以分号分隔：
    自然保护地、饮用水水源保护区、生态保护红线、永久基本农田）、error。以“提示：”开头的 error
    是对已定位行的说明（如按米制坐标推定了哪个坐标系），不是失败。

    输入可为 .csv、.xlsx、.parquet（可带几何）或 .gpkg；带点几何的 .parquet、.gpkg
    在没有坐标列时直接按点几何定位。文件按块读取和写出，内存占用不随文件增大；输出 .parquet、.gpkg
    时每个已定位行带 WGS84 点几何。
    """
    from geo.errors import GeoError
    from geo.locate_job import LocateOptions, default_rows, plan_tasks

    if output.suffix.lower() not in OUTPUT_SUFFIXES:
        raise click.UsageError(
            f"--out: 输出文件须为 {'、'.join(OUTPUT_SUFFIXES)}，收到 {output.name}")
    if (lon_col or lat_col) and (x_col or y_col):
        raise click.UsageError("--lon-col/--lat-col 与 --x-col/--y-col 只能选一组")
    cluster = run_options(workers, scheduler, processes)
    started = time.monotonic()
    try:
        cols, geometry, sources = plan_tasks(input_path, rows=chunk_rows or default_rows(),
                                             sheet=sheet, layer=layer)
    except GeoError as exc:
        raise click.ClickException(str(exc)) from None
    x = _pick_column(cols, lon_col or x_col, LON_NAMES, "--lon-col/--x-col")
    y = _pick_column(cols, lat_col or y_col, LAT_NAMES, "--lat-col/--y-col")
    county = _pick_column(cols, county_col, (), "--county-col")
    address = _pick_column(cols, address_col, (), "--address-col")
    if (x is None) != (y is None) or (x is None and not geometry and address is None
                                      and county is None):
        raise click.UsageError("请用 --lon-col/--lat-col 或 --x-col/--y-col 指明坐标列；"
                               f"可用的列：{', '.join(map(str, cols))}")
    options = LocateOptions(x_col=x, y_col=y, datum=datum, crs=crs, county_col=county,
                            address_col=address, out_suffix=output.suffix.lower())
    with open_ledger(require_schema=False, create=False) as ledger:
        layers = ledger.layers
    try:
        with progress(quiet) as step, cluster_errors() if uses_cluster(cluster) else nullcontext():
            counts = _run(sources, cols, input_path, output, options, layers, step, cluster)
    except GeoError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"无法写出 {output}：{os_error_message(exc)}") from exc
    click.echo(_summary(counts, time.monotonic() - started, output))
    summary(version_line(layers))


COMMANDS = [locate]
