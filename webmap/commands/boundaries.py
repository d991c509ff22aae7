"""``yzmap boundaries import|list|activate``: authoritative layers stored in the database."""

from __future__ import annotations

import click

from webmap.commands import cli_actor, open_ledger
from webmap.commands.progress import progress, quiet_option, summary
from webmap.ledger.vocabulary import ILLUSTRATIVE_MARK, IMPORTABLE_LAYERS

# the command line spells layer names with hyphens: protected-areas, townships
LAYER_CHOICES = {layer.replace("_", "-"): layer for layer in IMPORTABLE_LAYERS}


def _parse_fields(values: tuple[str, ...]) -> dict[str, str]:
    """Turn ``--field name=COL`` options into a mapping, naming a malformed one."""
    mapping = {}
    for item in values:
        target, sep, col = item.partition("=")
        if not sep or not target.strip() or not col.strip():
            raise click.BadParameter(
                f"{item!r} 应写作 目标=列名，如 name=BHQMC", param_hint="--field"
            )
        mapping[target.strip()] = col.strip()
    return mapping


def _read(path, kind, options, confirm):
    """Run the importer, asking once for confirmation when the CRS had to be guessed."""
    from geo.errors import CRSNeedsConfirmation
    from geo.importer import read_boundary_file

    try:
        return read_boundary_file(path, kind=kind, confirm_crs=confirm, **options)
    except CRSNeedsConfirmation as exc:
        click.echo(str(exc), err=True)
        click.confirm(f"按推断的坐标系 {exc.guess} 导入吗？", abort=True, err=True)
        return read_boundary_file(path, kind=kind, confirm_crs=True, **options)


def _echo_report(result, stored, active) -> None:
    """Print what was read, how, what was repaired and which version is now in use."""
    r = result.report
    click.echo(
        f"已导入 {r.source_file}（{r.format}"
        f"{'，' + r.member if r.member != r.source_file else ''}）"
        f"：{r.features} 个要素"
    )
    click.echo(f"坐标系：{r.crs}，{r.crs_method}")
    click.echo("字段映射：" + "，".join(f"{k}←{v}" for k, v in r.field_map.items()))
    for repair in r.repairs:
        click.echo(f"修复：{repair.describe()}")
    for warning in r.warnings:
        click.echo(f"注意：{warning}")
    click.echo(f"版本：{stored.layer}/{stored.version}（有效日期 {result.layer.info.vintage}）")
    if active is not None and active.version == stored.version:
        shipped = stored.layer in ("protected_areas", "townships")  # the rest ship no stand-in
        click.echo("该版本现已启用" + ("，替代内置示意图层" if shipped else ""))
    elif active is not None:
        click.echo(
            f"当前启用的仍是 {active.version}（有效日期更新或已固定）；"
            f"用 yzmap boundaries activate {stored.layer} {stored.version} 启用"
        )


@click.group("boundaries")
def boundaries() -> None:
    """导入、列出和启用权威边界图层（保护地分区、乡镇、饮用水水源保护区、生态保护红线、永久基本农田）。"""


@boundaries.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--layer",
    "layer_choice",
    required=True,
    type=click.Choice(sorted(LAYER_CHOICES)),
    help="导入为哪个图层。",
)
@click.option("--crs", default=None, help="坐标系，如 EPSG:4546（覆盖文件声明或推断）。")
@click.option(
    "--datum",
    default=None,
    type=click.Choice(["gcj02", "bd09"]),
    help="经纬度是高德/腾讯（gcj02）或百度（bd09）坐标时声明。",
)
@click.option("--vintage", default=None, help="边界的有效日期，如 2023-06-30（默认今天）。")
@click.option("--field", "fields", multiple=True,
              help="字段映射 目标=列名，如 ``zone=GNFQ``；可重复。")  # fmt: skip
@click.option(
    "--source-layer", default=None, help="GeoPackage/KML 图层名，或压缩包内的 Shapefile 名称。"
)
@click.option("--yes", is_flag=True, help="坐标系由数值推断时直接确认，不再询问。")
@quiet_option
def import_command(file, layer_choice, crs, datum, vintage, fields, source_layer, yes,
                   quiet) -> None:  # fmt: skip
    """导入 FILE（zip Shapefile、GeoPackage、GeoJSON、KML/KMZ）为新的权威版本。"""
    from geo.errors import GeoError
    from webmap.ledger import boundaries as store
    from webmap.ledger.db import transaction

    layer = LAYER_CHOICES[layer_choice]
    kind = store.KIND_OF[layer]
    options = {
        "crs": crs,
        "datum": datum,
        "vintage": vintage,
        "field_map": _parse_fields(fields),
        "layer": source_layer,
    }
    with open_ledger() as ledger:
        session = ledger.session
        try:
            result = _read(file, kind, options, yes)
            # after reading: a CRS question must not share the terminal with the bar
            with progress(quiet) as step:
                step("保存图层版本", 0, 1)
                with transaction(session):
                    stored = store.save_import(session, result, actor=cli_actor())
                step("保存图层版本", 1, 1)
            active = store.active_version(session, layer)
        except GeoError as exc:
            raise click.ClickException(f"{exc}（图层未改变）") from exc
    _echo_report(result, stored, active)
    summary(f"完成：{stored.layer}/{stored.version}，{len(result.layer.frame)} 个要素")


@boundaries.command("list")
def list_command() -> None:
    """列出已导入的边界版本；* 表示正在使用。"""
    from webmap.ledger import boundaries as store

    with open_ledger() as ledger:
        session = ledger.session
        shipped = store.shipped_layers(ledger.config["BOUNDARIES_DIR"])
        for layer in store.LAYERS:
            active = store.active_version(session, layer)
            builtin = getattr(shipped, layer)
            click.echo(f"{layer}:")
            for v in store.list_versions(session, layer):
                mark = "*" if active is not None and v.version == active.version else " "
                m = v.meta
                click.echo(
                    f" {mark} {v.version}  有效日期 {m['vintage']}  导入 {m['imported_at']}  "
                    f"{m['source_file']}  {m['features']} 个要素  {m['crs']}"
                )
            if builtin is not None:
                mark = "*" if active is None else " "
                note = "" if builtin.info.authoritative else f"（{ILLUSTRATIVE_MARK}）"
                click.echo(f" {mark} 内置 {builtin.info.version}{note}")
            elif active is None:
                click.echo("   （无）")


@boundaries.command("activate")
@click.argument("layer", type=click.Choice(list(IMPORTABLE_LAYERS)))
@click.argument("version", required=False)
@click.option("--latest", is_flag=True, help="取消固定，使用有效日期最新的版本。")
def activate_command(layer, version, latest) -> None:
    """启用 LAYER 的某个已导入版本 VERSION（或 --latest）。"""
    from geo.errors import GeoError
    from webmap.ledger import boundaries as store
    from webmap.ledger.db import transaction

    if bool(version) == latest:
        raise click.UsageError("请给出 VERSION 或 --latest 之一")
    with open_ledger() as ledger:
        try:
            with transaction(ledger.session):
                active = store.set_active(ledger.session, layer, None if latest else version,
                                          actor=cli_actor(), day=ledger.ctx.today)  # fmt: skip
        except GeoError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"{layer} 启用：{active.version if active else '内置图层'}")


COMMANDS = [boundaries]
