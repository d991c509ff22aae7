"""``yzmap locate``: attribute every row of a CSV or XLSX file to county, township and zone."""

from __future__ import annotations

import time
from pathlib import Path

import click

from webmap.commands import open_ledger, version_line
from webmap.commands.progress import progress, quiet_option, summary
from webmap.commands.zh import os_error_message

CSV_ENCODINGS = ("utf-8-sig", "gb18030")  # utf-8-sig also reads plain UTF-8; gb18030 covers GBK
OUTPUT_SUFFIXES = (".csv", ".xlsx")
# header spellings tried when no column option is given, per axis
LON_NAMES = ("经度", "lon", "lng", "longitude", "x", "东经")
LAT_NAMES = ("纬度", "lat", "latitude", "y", "北纬")


def read_table(path: Path, sheet: str | None = None):
    """Read a CSV (UTF-8, UTF-8 with BOM or GBK) or XLSX file as text/object cells."""
    import zipfile

    import pandas as pd

    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        target = sheet if sheet is None or not sheet.isdigit() else int(sheet)
        try:
            return pd.read_excel(path, sheet_name=0 if target is None else target, dtype=object,
                                 engine="openpyxl")
        except (zipfile.BadZipFile, KeyError):  # not a zip, or a zip without a workbook
            raise click.ClickException(f"{path}：不是有效的 XLSX 文件") from None
        except ValueError as exc:  # unknown sheet name
            raise click.ClickException(f"无法读取工作表 {sheet!r}：{exc}") from exc
    if suffix != ".csv":
        shown = suffix or "(无扩展名)"
        raise click.ClickException(f"不支持的输入格式 {shown}：只支持 .csv 和 .xlsx")
    for encoding in CSV_ENCODINGS:
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError:
            raise click.ClickException(f"{path}：文件为空，没有表头和数据行") from None
        except pd.errors.ParserError:  # e.g. an unclosed quote, a row with extra cells
            raise click.ClickException(
                f"{path}：CSV 格式错误，无法按列读取（引号未闭合或某行的列数多于表头？）") from None
    raise click.ClickException(f"{path}：无法识别文件编码（支持 UTF-8、UTF-8-SIG、GBK）")


def write_table(frame, out: Path) -> None:
    """Write CSV (with a BOM, so Excel reads the Chinese) or XLSX; ``out`` is never half-written."""
    from webmap.ledger.files import atomic_path

    with atomic_path(out) as tmp:
        if out.suffix.lower() == ".xlsx":
            frame.to_excel(tmp, index=False, engine="openpyxl")
        else:
            frame.to_csv(tmp, index=False, encoding="utf-8-sig")


def _pick_column(columns, given: str | None, names: tuple[str, ...], option: str) -> str | None:
    """Return the column named by an option (checked) or the first header matching ``names``."""
    if given is not None:
        if given not in columns:
            raise click.UsageError(
                f"{option}: 找不到列「{given}」；可用的列：{', '.join(map(str, columns))}")
        return given
    lowered = {str(c).strip().lower(): c for c in columns}
    return next((lowered[n] for n in names if n in lowered), None)


def _counter(step, total: int):
    """Return the ``progress(n)`` callback ``locate_frame`` takes (rows done since last call)."""
    done = [0]

    def advance(n: int) -> None:
        """Add ``n`` located rows to the bar."""
        done[0] += n
        step("定位中", done[0], total)

    return advance


def _summary(out, seconds: float, target: Path) -> str:
    """One line: rows, located, outside, ambiguous, errors, notes (提示) and time."""
    from geo.locate import NOTE_PREFIX

    flags = out["flags"].fillna("")
    errors = out["error"].dropna().astype(str)
    notes = int(errors.str.startswith(NOTE_PREFIX).sum())
    return (f"完成：共 {len(out)} 行，已定位 {int(out['county_code'].notna().sum())}，"
            f"市外 {int(flags.str.contains('outside_city').sum())}，"
            f"归属不明 {int(flags.str.contains('ambiguous').sum())}，"
            f"错误 {len(errors) - notes}，提示 {notes}，用时 {seconds:.1f} 秒 → {target}")


@click.command("locate")
@click.argument("input_path", metavar="INPUT", type=click.Path(exists=True, dir_okay=False,
                                                               path_type=Path))
@click.option("--out", "output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="输出文件（.csv 或 .xlsx）。")
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
@quiet_option
def locate(input_path, output, lon_col, lat_col, x_col, y_col, datum, crs, county_col,
           address_col, sheet, quiet):  # fmt: skip
    """把 INPUT 的每一行归属到县区、乡镇和保护地分区。

    使用在用的边界图层（内置图层，以及用 ``yzmap boundaries import`` 导入的权威图层），
    其版本随汇总行输出。输出列：输入的各列，然后是 lon、lat、county_code、county_name、
    township_code、township_name、village_name、protected_area、zone、precision、confidence、
    flags、candidates、constraints（点位所在的每个管控分区，写作 ``kind:name:zone``，以分号分隔：
    自然保护地、饮用水水源保护区、生态保护红线、永久基本农田）、error。以“提示：”开头的 error
    是对已定位行的说明（如按米制坐标推定了哪个坐标系），不是失败。
    """
    from geo.errors import GeoError
    from geo.locate import locate_frame

    if output.suffix.lower() not in OUTPUT_SUFFIXES:
        raise click.UsageError(f"--out: 输出文件须为 .csv 或 .xlsx，收到 {output.name}")
    if (lon_col or lat_col) and (x_col or y_col):
        raise click.UsageError("--lon-col/--lat-col 与 --x-col/--y-col 只能选一组")
    started = time.monotonic()
    df = read_table(input_path, sheet)
    cols = list(df.columns)
    x = _pick_column(cols, lon_col or x_col, LON_NAMES, "--lon-col/--x-col")
    y = _pick_column(cols, lat_col or y_col, LAT_NAMES, "--lat-col/--y-col")
    county = _pick_column(cols, county_col, (), "--county-col")
    address = _pick_column(cols, address_col, (), "--address-col")
    if (x is None) != (y is None) or (x is None and address is None and county is None):
        raise click.UsageError("请用 --lon-col/--lat-col 或 --x-col/--y-col 指明坐标列；"
                               f"可用的列：{', '.join(map(str, cols))}")
    with open_ledger(require_schema=False, create=False) as ledger:
        layers = ledger.layers
    try:
        with progress(quiet) as step:
            out = locate_frame(df, layers, x_col=x, y_col=y, datum=datum, crs=crs,
                               county_col=county, address_col=address,
                               progress=_counter(step, len(df)))  # fmt: skip
        write_table(out, output)
    except GeoError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"无法写出 {output}：{os_error_message(exc)}") from exc
    click.echo(_summary(out, time.monotonic() - started, output))
    summary(version_line(layers))


COMMANDS = [locate]
