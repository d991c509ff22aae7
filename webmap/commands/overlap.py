"""``yzmap overlap``: sites against every constraint layer in use, as a report.

The layers are those in use (``layers_in_use``): protected areas (an imported authoritative
layer in place of the shipped illustrative one) and the imported drinking-water source zones,
red line and farmland (``geo.constraints``); the report is written by the same writer as the
``/overlap`` pages' exports (``webmap.render.overlap_report``) and names every layer's version,
or that a layer was not imported and so not checked.

A .csv, .parquet or .gpkg report is streamed: the sites are read in chunks (``--chunk-size``),
each chunk checked and its rows written before the next is read, so a million change patches
never sit in memory; the terminal gets counts, not a million lines. The chunks run here, on
``--workers`` local processes or on a ``--scheduler`` Dask cluster (``geo.parallel``), the
layers shipped to each worker once; the report is the same, rows in the same order. .xlsx and
.geojson reports are written whole, as the ``/overlap`` pages write them (XLSX holds at most
1,048,575 rows).
"""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from webmap.commands import open_ledger
from webmap.commands.cluster import cluster_errors, cluster_options, run_options
from webmap.commands.progress import progress, quiet_option, summary

OUTPUT_SUFFIXES = (".xlsx", ".csv", ".geojson", ".parquet", ".gpkg")
STREAMED_OUTPUTS = (".csv", ".parquet", ".gpkg")


def _parse_buffers(text: str) -> tuple[float, ...]:
    """Parse "0,500,1000" into floats, naming a bad entry."""
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError as exc:
        raise click.BadParameter(
            f"{text!r} 应为逗号分隔的米数，如 0,500,1000,5000", param_hint="--buffers"
        ) from exc
    if not values or any(v < 0 for v in values):
        raise click.BadParameter(f"{text!r} 应为非负米数", param_hint="--buffers")
    return values


@click.command("overlap")
@click.argument("sites_file", metavar="SITES", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False),
    help="报告文件：.csv、.parquet、.gpkg（分批流式写出，适合百万图斑）、.xlsx（最多 1,048,575 行）"
    "或 .geojson。",
)
@click.option(
    "--buffers", default="0,500,1000,5000", show_default=True, help="缓冲距离（米），逗号分隔。"
)
@click.option("--site-id-col", default=None, help="站点编号列（默认行号）。")
@click.option("--site-name-col", default=None, help="站点名称列。")
@click.option(
    "--category-col",
    default=None,
    help="站点类别列：规则类别（如 ``mine``、``hydropower``、``tourism``）或台账问题类别"
    "（经 data/boundaries/category_map.csv 对照），用于匹配分区规则。",
)
@click.option("--crs", default=None, help="站点坐标系，如 EPSG:4546。")
@click.option(
    "--datum",
    default=None,
    type=click.Choice(["gcj02", "bd09"]),
    help="经纬度为 GCJ-02 或 BD-09 时声明。",
)
@click.option("--lon-col", default=None, help="CSV 经度（或 X）列。")
@click.option("--lat-col", default=None, help="CSV 纬度（或 Y）列。")
@click.option("--source-layer", default=None, help="GeoPackage/KML 图层名。")
@click.option("--yes", is_flag=True, help="坐标系由数值推断时直接确认。")
@click.option(
    "--chunk-size",
    default=50_000,
    show_default=True,
    type=click.IntRange(min=1),
    help="流式输出（.csv/.parquet/.gpkg）时每批读取的站点数。",
)
@cluster_options
@quiet_option
def overlap(
    sites_file,
    out,
    buffers,
    site_id_col,
    site_name_col,
    category_col,
    crs,
    datum,
    lon_col,
    lat_col,
    source_layer,
    yes,
    chunk_size,
    workers,
    scheduler,
    processes,
    quiet,
) -> None:
    """将 SITES 中的站点与全部管控图层（自然保护地、饮用水水源保护区、生态保护红线、永久基本农田）
    叠加，每个站点×图层×地块×分区一行。"""
    from geo.errors import GeoError

    out_path = Path(out)
    if out_path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise click.BadParameter(
            f"{out!r} 的格式应为 {'、'.join(OUTPUT_SUFFIXES)} 之一", param_hint="--out"
        )
    if not out_path.parent.is_dir():
        raise click.BadParameter(f"目录 {out_path.parent} 不存在", param_hint="--out")
    columns = {"site_id_col": site_id_col, "site_name_col": site_name_col,
               "category_col": category_col}  # fmt: skip
    options = {"crs": crs, "datum": datum, "layer": source_layer, "lon_col": lon_col,
               "lat_col": lat_col}  # fmt: skip
    distances = _parse_buffers(buffers)
    run = run_options(workers, scheduler, processes)
    streamed = out_path.suffix.lower() in STREAMED_OUTPUTS
    if not streamed and (workers or scheduler):
        raise click.UsageError(
            "--workers/--scheduler 只用于 .csv、.parquet、.gpkg 输出（分批处理）"
        )
    with open_ledger(require_schema=False, create=False) as ledger:
        layers = ledger.layers
    try:
        if streamed:
            with cluster_errors():
                done = _overlap_streamed(sites_file, out_path, layers, distances, columns,
                                         options, yes, chunk_size, quiet, run)  # fmt: skip
        else:
            done = _overlap_whole(sites_file, out_path, layers, distances, columns, options,
                                  yes, quiet)  # fmt: skip
    except GeoError as exc:
        raise click.ClickException(str(exc)) from exc
    _echo_results(done, layers, out_path)


def _read_asking(read, yes: bool):
    """Call ``read(confirm_crs)``; on a guessed CRS ask the user (unless ``--yes``) and retry."""
    from geo.errors import CRSNeedsConfirmation

    try:
        return read(yes)
    except CRSNeedsConfirmation as exc:
        click.echo(str(exc), err=True)
        click.confirm(f"按推断的坐标系 {exc.guess} 读取站点吗？", abort=True, err=True)
        return read(True)


def _require_layers(layers) -> None:
    """Stop when no constraint layer is in use: there is nothing to check against."""
    from geo.constraints import active_kinds

    if not active_kinds(layers):
        raise click.ClickException(
            "没有任何管控图层：请先 yzmap boundaries import --layer protected-areas"
            "（或 water-source、redline、farmland）"
        )


def _overlap_whole(sites_file, out_path, layers, distances, columns, options, yes, quiet) -> dict:
    """Read every site, check them at once and write an .xlsx or .geojson report."""
    from geo.constraints import overlap_constraints
    from geo.importer import read_sites_file
    from webmap.render.overlap_report import (
        check_xlsx_rows,
        round_rows,
        save_report,
        site_provenance,
    )

    sites, report = _read_asking(
        lambda confirm: read_sites_file(sites_file, confirm_crs=confirm, **options), yes
    )
    _require_layers(layers)
    # the bar starts after reading: a CRS question must not share the terminal with it
    with progress(quiet) as step:
        step("叠加分析", 0, 2)
        rows = overlap_constraints(sites, layers, buffers=distances, **columns)
        step("叠加分析", 1, 2)
        rows = round_rows(rows)
        if out_path.suffix.lower() == ".xlsx":
            try:
                check_xlsx_rows(rows)
            except ValueError as exc:
                raise click.ClickException(str(exc)) from exc
        save_report(rows, sites, layers, site_provenance(report.to_dict()), out_path)
        step("叠加分析", 2, 2)
    counts = rows["relation"].value_counts().to_dict()
    return {"sites": len(sites), "rows": len(rows), "relations": counts,
            "touched": _touched(rows), "touched_total": None, "report": report}  # fmt: skip


def _overlap_streamed(sites_file, out_path, layers, distances, columns, options, yes, chunk_size,
                      quiet, run: dict) -> dict:  # fmt: skip
    """Read the sites in chunks, check each chunk and append its rows to the report."""
    from geo.constraints import OverlapJob
    from geo.importing.site_chunks import open_site_stream
    from geo.parallel import run_ordered
    from webmap.render.overlap_report import ReportJob, report_chunk, stream_report

    stream = _read_asking(lambda confirm: open_site_stream(
        sites_file, rows=chunk_size, confirm_crs=confirm, **options), yes)  # fmt: skip
    _require_layers(layers)
    fmt = out_path.suffix.lower().lstrip(".")
    job = ReportJob(OverlapJob(layers, tuple(distances), **columns, with_geometry=fmt == "gpkg"),
                    fmt)  # fmt: skip
    with progress(quiet) as step, run_ordered(report_chunk, stream.chunks(), shared=job,
                                              **run) as results:  # fmt: skip
        tally = stream_report(results, out_path,
                              on_chunk=lambda t: step("叠加分析（站点）", stream.features))
    relations = dict(tally.relations.most_common())
    touched = pd.concat(tally.touched, ignore_index=True) if tally.touched else None
    return {"sites": stream.features, "rows": tally.rows, "relations": relations,
            "touched": touched, "touched_total": tally.touched_total,
            "report": stream.report()}  # fmt: skip


def _touched(rows):
    """Return the rows of zones a site lies in or crosses."""
    from geo.constraints import touched

    return touched(rows)


def _echo_results(done: dict, layers, out_path: Path) -> None:
    """Print the summary, the layer versions, the touched zones and the warnings."""
    from webmap.ledger.constraints import missing_titles
    from webmap.render.overlap_report import layer_notes

    relations = "，".join(f"{k} {v}" for k, v in done["relations"].items())
    click.echo(f"{done['sites']} 个站点 → {done['rows']} 行（{relations}）；已写入 {out_path}")
    for key, value in layer_notes(layers):
        click.echo(f"{key}：{value}")
    if done["touched"] is not None:
        _echo_touched(done["touched"])
    shown = 0 if done["touched"] is None else len(done["touched"])
    if done["touched_total"] is not None and done["touched_total"] > shown:
        click.echo(f"……另有 {done['touched_total'] - shown} 条位于或跨越管控分区的记录，见报告")
    missing = missing_titles(layers)
    if missing:
        click.echo(f"注意：未导入 {'、'.join(missing)} 图层，未检查这些管控要求", err=True)
    for warning in done["report"].warnings:
        click.echo(f"注意：{warning}", err=True)
    summary(f"完成：{done['sites']} 个站点，{done['rows']} 行 → {out_path}")


def _echo_touched(rows) -> None:
    """Print each zone a site lies in or crosses: share, rule and its legal source."""
    from webmap.ledger.vocabulary import CONSTRAINT_TITLES

    for r in rows.to_dict("records"):
        name = f"{r['site_id']} {r['site_name'] or ''}".strip()
        click.echo(f"{name}｜{CONSTRAINT_TITLES[r['layer_kind']]}｜{r['protected_area']}"
                   f"｜{r['zone'] or '未分区'}｜占比 {r['overlap_share']:.2%}"
                   f"｜{r['rule'] or '无规则'}｜依据：{r['rule_source'] or '—'}")  # fmt: skip


COMMANDS = [overlap]
