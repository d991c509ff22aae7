"""``yzmap overlap``: sites against the protected-area zones in use, as a report."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

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


def _notes(report_rows, layer, sites_report) -> list[tuple[str, str]]:
    """Return the 说明 lines written beside the table: data versions and how it was computed."""
    info = layer.info
    return [
        ("保护地边界版本", info.version),
        ("边界性质", "权威" if info.authoritative else "示意（非权威边界，仅供演示）"),
        ("边界有效日期", info.vintage),
        (
            "站点文件",
            f"{sites_report.source_file}（{sites_report.format}，{sites_report.crs}，{sites_report.crs_method}）",
        ),
        (
            "计算方法",
            "在 EPSG:4546（CGCS2000 3 度带高斯-克吕格，中央经线 111°E）中计算，"
            "按投影长度比改正到椭球面；面积单位 m²，距离单位 m",
        ),
        ("规则来源", "data/boundaries/zone_rules.csv（摘要，非条文原文；以现行有效文本为准）"),
        ("行数", str(len(report_rows))),
    ]


def _write(rows, sites, notes, out: Path) -> None:
    """Write to a temporary file beside ``out`` and rename it, so ``out`` is never half-written."""
    import geopandas as gpd
    import pandas as pd

    handle, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.stem}.", suffix=out.suffix)
    os.close(handle)
    try:
        suffix = out.suffix.lower()
        if suffix == ".xlsx":
            with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
                rows.drop(columns="site_index").to_excel(writer, sheet_name="重叠分析", index=False)
                pd.DataFrame(notes, columns=["项目", "内容"]).to_excel(
                    writer, sheet_name="说明", index=False
                )
        elif suffix == ".csv":
            rows.drop(columns="site_index").to_csv(
                tmp, index=False, encoding="utf-8-sig"
            )  # BOM so Excel reads the Chinese
        else:
            geoms = sites.geometry.to_numpy()[rows["site_index"].to_numpy()]
            frame = gpd.GeoDataFrame(rows.drop(columns="site_index"), geometry=geoms, crs=sites.crs)
            Path(tmp).unlink()
            frame.to_file(tmp, driver="GeoJSON")
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
    help="站点类别列：规则类别（mine、hydropower、tourism 等）或台账问题类别（经 data/boundaries/category_map.csv 对照），用于匹配分区规则。",
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
    from geo.boundaries import load_shipped
    from geo.errors import CRSNeedsConfirmation, GeoError
    from geo.importer import read_sites_file
    from geo.overlap import overlap_sites
    from webmap.commands import app_context
    from webmap.ledger import boundaries as boundary_store

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
    with app_context() as app:
        try:
            try:
                sites, report = read_sites_file(sites_file, confirm_crs=yes, **options)
            except CRSNeedsConfirmation as exc:
                click.echo(str(exc), err=True)
                click.confirm(f"按推断的坐标系 {exc.guess} 读取站点吗？", abort=True, err=True)
                sites, report = read_sites_file(sites_file, confirm_crs=True, **options)
            layers = boundary_store.active_layers(
                load_shipped(app.config["BOUNDARIES_DIR"]),
                boundary_store.store_root(app.instance_path, app.config),
            )
            if layers.protected_areas is None:
                raise click.ClickException(
                    "没有保护地图层：请先 yzmap boundaries import --layer protected-areas"
                )
            rows = overlap_sites(
                sites,
                layers.protected_areas,
                buffers=distances,
                site_id_col=site_id_col,
                site_name_col=site_name_col,
                category_col=category_col,
            )
        except GeoError as exc:
            raise click.ClickException(str(exc)) from exc
    # centimetres and 1e-6 of a share are beyond the boundaries' own accuracy
    rows = rows.round(
        {
            "overlap_m2": 2,
            "overlap_length_m": 2,
            "distance_m": 2,
            "boundary_distance_m": 2,
            "overlap_share": 6,
        }
    )
    notes = _notes(rows, layers.protected_areas, report)
    _write(rows, sites, notes, out_path)
    counts = rows["relation"].value_counts()
    summary = "，".join(f"{k} {v}" for k, v in counts.items())
    click.echo(
        f"{len(sites)} 个站点 → {len(rows)} 行（{summary}）；边界版本 "
        f"{layers.protected_areas.info.version}；已写入 {out_path}"
    )
    for warning in report.warnings:
        click.echo(f"注意: {warning}", err=True)


COMMANDS = [overlap]
