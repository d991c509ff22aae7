"""Ledger commands: ``yzmap import-ledger``, ``yzmap export-ledger`` and ``yzmap ledger status``.

Filters are the views' own parameters, parsed by ``IssueQuery.from_args`` so a command line
selects exactly what the same filters select on the map page and in the API.
"""

from __future__ import annotations

import sys
from datetime import date

import click

from webmap.commands import open_ledger, version_line
from webmap.commands.progress import progress, quiet_option, summary
from webmap.ledger.vocabulary import FILTER_LABELS

# what each filter option takes, after its name (webmap.ledger.vocabulary.FILTER_LABELS)
FILTER_HINTS = {
    "county": "名称或代码，可重复",
    "source": "可重复",
    "status": "可重复",
    "deadline": "2021年底前/2022年/2023年及以后/持续推进",
    "rag": "逾期/临期/正常/已销号/无时限，或 red/amber/green/done/none",
    "category": "可重复",
    "protected_area": "名称，可重复",
}


def filter_options(func):
    """Add the view filters (repeatable) plus --q, --leader and --bbox to a command."""
    for name, hint in reversed(FILTER_HINTS.items()):
        text = f"{FILTER_LABELS[name]}（{hint}）"
        func = click.option(f"--{name.replace('_', '-')}", name, multiple=True, help=text)(func)
    func = click.option("--q", "q", default=None, help=FILTER_LABELS["q"])(func)
    func = click.option("--leader", default=None, help=FILTER_LABELS["leader"])(func)
    help_bbox = f"{FILTER_LABELS['bbox']}（最小经度,最小纬度,最大经度,最大纬度，WGS84）"
    return click.option("--bbox", default=None, help=help_bbox)(func)


def build_query(filters: dict, ctx, as_of: date | None = None):
    """Turn CLI filter values into the shared ``IssueQuery``; bad values stop with its message."""
    from webmap.ledger.query import IssueQuery, QueryError

    args = {k: list(v) if isinstance(v, tuple) else v for k, v in filters.items() if v}
    if as_of:
        args["as_of"] = as_of.isoformat()
    try:
        return IssueQuery.from_args(args, strict=True, context=ctx)
    except QueryError as exc:
        raise click.UsageError(str(exc)) from exc


@click.command("import-ledger")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="只检查，不写入数据库")
@click.option("--actor", default="import", show_default=True, help="记录在事件日志中的操作人")
@click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="变更生效日期（默认今天）",
)
@quiet_option
def import_ledger_command(path: str, dry_run: bool, actor: str, day, quiet: bool) -> None:
    """导入台账 .xlsx/.csv：全部行在一个事务中写入；有错误时不写入任何行，并列出每处错误。"""
    from webmap.ledger.io.importer import import_ledger

    # one transaction: the bar shows the phases (layers, then read, check and write)
    with progress(quiet) as step, open_ledger() as ledger:
        step("导入台账", 0, 2)
        layers = ledger.layers
        step("导入台账", 1, 2)
        report = import_ledger(ledger.session, path, layers, actor=actor, dry_run=dry_run,
                               day=day.date() if day else ledger.ctx.today)  # fmt: skip
        step("导入台账", 2, 2)
    for warning in report.warnings:
        click.echo(f"注意：{warning}", err=True)
    if not report.ok:
        for error in report.errors:
            click.echo(str(error), err=True)
        click.echo(f"导入失败：{len(report.errors)} 处错误，数据库未作任何修改。", err=True)
        sys.exit(1)
    verb = "检查通过（未写入）" if dry_run else "导入完成"
    click.echo(
        f"{verb}：共 {report.rows} 行，新增 {len(report.created)}，更新 {len(report.updated)}，"
        f"未变 {len(report.unchanged)}。"
    )
    will = "将" if dry_run else "已"
    click.echo(f"公开：{report.public} 行{will}在进展公开页面显示（“是否公开”为空或“是”；"
               f"涉及敏感点位的请在问题页设为敏感，公开时模糊到乡镇）。")  # fmt: skip
    if report.unlocated:
        click.echo(f"注意：{len(report.unlocated)} 行没有坐标，地图和详情页不会标点；"
                   "请补充经纬度后重新导入：", err=True)  # fmt: skip
        for line in report.unlocated[:50]:
            click.echo(f"  {line}", err=True)
        if len(report.unlocated) > 50:
            click.echo(f"  ……另有 {len(report.unlocated) - 50} 行", err=True)
    for number, changed in sorted(report.updated.items()):
        click.echo(f"  更新 {number}：{', '.join(changed)}")
    summary(version_line(layers))


@click.command("export-ledger")
@click.option(
    "--format", "fmt", type=click.Choice(["xlsx", "csv", "geojson", "gpkg", "kml", "shp"]),
    required=True,
    help="输出格式：xlsx/csv 为可再导入的台账；geojson/gpkg/kml/shp 为带类型字段的 GIS 数据"
    "（shp 为含 .cpg、.prj 和 fields.csv 的 zip 包）",
)
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="输出文件")
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="导出该日的台账（由事件日志重建）",
)
@filter_options
@quiet_option
def export_ledger_command(fmt: str, out: str, as_of, quiet: bool, **filters) -> None:
    """按筛选条件导出问题（与页面筛选结果一致）到文件；写完才替换，不留半个文件。"""
    from webmap.render.ledger_export import export_ledger

    with progress(quiet) as step, open_ledger() as ledger:
        step("导出台账", 0, 1)
        query = build_query(filters, ledger.ctx, as_of.date() if as_of else None)
        n = export_ledger(ledger.session, query, fmt, out)
        step("导出台账", 1, 1)
    summary(f"已导出 {n} 条问题到 {out}")


@click.group("ledger")
def ledger_group() -> None:
    """查看整改台账。"""


@ledger_group.command("status")
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="显示该日的台账（由事件日志重建），默认今天",
)
@filter_options
def status_command(as_of, **filters) -> None:
    """列出某日每个问题的编号、县区、状态、进展和红黄绿灯，以及合计。"""
    from webmap.render.ledger_status import format_status, ledger_status

    with open_ledger() as ledger:
        query = build_query(filters, ledger.ctx, as_of.date() if as_of else ledger.ctx.today)
        rows = ledger_status(ledger.session, query)
    click.echo(format_status(rows, query.day))


COMMANDS = [import_ledger_command, export_ledger_command, ledger_group]
