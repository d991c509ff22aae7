"""``yzmap overlap``: sites against the protected-area zones in use, as a report.

The zones are those of the boundary layers in use (``layers_in_use``: an imported authoritative
layer in place of the shipped illustrative one); the report is written by the same writer as the
``/overlap`` pages' exports (``webmap.render.overlap_report``).
"""

from __future__ import annotations

from pathlib import Path

import click

from webmap.commands import open_ledger

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
    help="站点类别列：规则类别（mine、hydropower、tourism 等）或台账问题类别"
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
) -> None:
    """将 SITES 中的站点与保护地分区叠加，每个站点×保护地×分区一行。"""
    from geo.errors import CRSNeedsConfirmation, GeoError
    from geo.importer import read_sites_file
    from geo.overlap import overlap_sites
    from webmap.render.overlap_report import round_rows, save_report, site_provenance

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
        if layers.protected_areas is None:
            raise click.ClickException(
                "没有保护地图层：请先 yzmap boundaries import --layer protected-areas"
            )
        rows = overlap_sites(sites, layers.protected_areas, buffers=distances,
                             site_id_col=site_id_col, site_name_col=site_name_col,
                             category_col=category_col)  # fmt: skip
    except GeoError as exc:
        raise click.ClickException(str(exc)) from exc
    rows = round_rows(rows)
    save_report(rows, sites, layers.protected_areas, site_provenance(report.to_dict()), out_path)
    counts = rows["relation"].value_counts()
    summary = "，".join(f"{k} {v}" for k, v in counts.items())
    click.echo(
        f"{len(sites)} 个站点 → {len(rows)} 行（{summary}）；边界版本 "
        f"{layers.protected_areas.info.version}；已写入 {out_path}"
    )
    for warning in report.warnings:
        click.echo(f"注意: {warning}", err=True)


COMMANDS = [overlap]
