"""``yzmap overlap``: sites against every constraint layer in use, as a report.

The layers are those in use (``layers_in_use``): protected areas (an imported authoritative
layer in place of the shipped illustrative one) and the imported drinking-water source zones,
red line and farmland (``geo.constraints``); the report is written by the same writer as the
``/overlap`` pages' exports (``webmap.render.overlap_report``) and names every layer's version,
or that a layer was not imported and so not checked.
"""

from __future__ import annotations

from pathlib import Path

import click

from webmap.commands import open_ledger
from webmap.commands.progress import progress, quiet_option, summary

OUTPUT_SUFFIXES = (".xlsx", ".csv", ".geojson")


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
    help="报告文件：.xlsx、.csv 或 .geojson。",
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
    quiet,
) -> None:
    """将 SITES 中的站点与全部管控图层（自然保护地、饮用水水源保护区、生态保护红线、永久基本农田）
    叠加，每个站点×图层×地块×分区一行。"""
    from geo.constraints import active_kinds, overlap_constraints
    from geo.errors import CRSNeedsConfirmation, GeoError
    from geo.importer import read_sites_file
    from webmap.ledger.constraints import missing_titles
    from webmap.render.overlap_report import layer_notes, round_rows, save_report, site_provenance

    out_path = Path(out)
    if out_path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise click.BadParameter(
            f"{out!r} 的格式应为 {'、'.join(OUTPUT_SUFFIXES)} 之一", param_hint="--out"
        )
    if not out_path.parent.is_dir():
        raise click.BadParameter(f"目录 {out_path.parent} 不存在", param_hint="--out")
    distances = _parse_buffers(buffers)
    options = {
        "crs": crs,
        "datum": datum,
        "layer": source_layer,
        "lon_col": lon_col,
        "lat_col": lat_col,
    }
    with open_ledger(require_schema=False, create=False) as ledger:
        layers = ledger.layers
    try:
        try:
            sites, report = read_sites_file(sites_file, confirm_crs=yes, **options)
        except CRSNeedsConfirmation as exc:
            click.echo(str(exc), err=True)
            click.confirm(f"按推断的坐标系 {exc.guess} 读取站点吗？", abort=True, err=True)
            sites, report = read_sites_file(sites_file, confirm_crs=True, **options)
        if not active_kinds(layers):
            raise click.ClickException(
                "没有任何管控图层：请先 yzmap boundaries import --layer protected-areas"
                "（或 water-source、redline、farmland）"
            )
        # the bar starts after reading: a CRS question must not share the terminal with it
        with progress(quiet) as step:
            step("叠加分析", 0, 2)
            rows = overlap_constraints(sites, layers, buffers=distances, site_id_col=site_id_col,
                                       site_name_col=site_name_col,
                                       category_col=category_col)  # fmt: skip
            step("叠加分析", 1, 2)
            rows = round_rows(rows)
            save_report(rows, sites, layers, site_provenance(report.to_dict()), out_path)
            step("叠加分析", 2, 2)
    except GeoError as exc:
        raise click.ClickException(str(exc)) from exc
    counts = rows["relation"].value_counts()
    relations = "，".join(f"{k} {v}" for k, v in counts.items())
    click.echo(f"{len(sites)} 个站点 → {len(rows)} 行（{relations}）；已写入 {out_path}")
    for key, value in layer_notes(layers):
        click.echo(f"{key}：{value}")
    _echo_touched(rows)
    missing = missing_titles(layers)
    if missing:
        click.echo(f"注意：未导入 {'、'.join(missing)} 图层，未检查这些管控要求", err=True)
    for warning in report.warnings:
        click.echo(f"注意：{warning}", err=True)
    summary(f"完成：{len(sites)} 个站点，{len(rows)} 行 → {out_path}")


def _echo_touched(rows) -> None:
    """Print each zone a site lies in or crosses: share, rule and its legal source."""
    from geo.constraints import touched
    from webmap.ledger.vocabulary import CONSTRAINT_TITLES

    for r in touched(rows).to_dict("records"):
        name = f"{r['site_id']} {r['site_name'] or ''}".strip()
        click.echo(f"{name}｜{CONSTRAINT_TITLES[r['layer_kind']]}｜{r['protected_area']}"
                   f"｜{r['zone'] or '未分区'}｜占比 {r['overlap_share']:.2%}"
                   f"｜{r['rule'] or '无规则'}｜依据：{r['rule_source'] or '—'}")  # fmt: skip


COMMANDS = [overlap]
