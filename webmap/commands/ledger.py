"""Ledger commands: ``yzmap import-ledger``, ``yzmap export-ledger`` and ``yzmap ledger status``.

Filters are the views' own parameters, parsed by ``IssueQuery.from_args`` so a command line
selects exactly what the same filters select on the map page and in the API.
"""

from __future__ import annotations

import sys
from datetime import date

import click

from webmap.commands import open_ledger, version_line
from webmap.ledger.vocabulary import FILTER_LABELS

# what each filter option takes, after its name (webmap.ledger.vocabulary.FILTER_LABELS)
FILTER_HINTS = {
    "county": "名称或代码，可重复",
    "source": "可重复",
    "status": "可重复",
    "deadline": "2021年底前/2022年/2023年及以后/持续推进",
    "rag": "red/amber/green/done/none 或 逾期/临期/正常/已销号/无时限",
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
def import_ledger_command(path: str, dry_run: bool, actor: str, day) -> None:
    """Import a ledger .xlsx/.csv: all rows in one transaction, or nothing and every error."""
    from webmap.ledger.io.importer import import_ledger

    with open_ledger() as ledger:
        layers = ledger.layers
        report = import_ledger(ledger.session, path, layers, actor=actor, dry_run=dry_run,
                               day=day.date() if day else ledger.ctx.today)  # fmt: skip
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
    for number, changed in sorted(report.updated.items()):
        click.echo(f"  更新 {number}: {', '.join(changed)}")
    click.echo(version_line(layers))


@click.command("export-ledger")
@click.option(
    "--format", "fmt", type=click.Choice(["xlsx", "csv", "geojson", "gpkg", "kml"]), required=True
)
@click.option("--out", type=click.Path(dir_okay=False), required=True)
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="按该日的状态筛选（导出当前记录）",
)
@filter_options
def export_ledger_command(fmt: str, out: str, as_of, **filters) -> None:
    """Export the issues the filters select (as the views select them) to a file, atomically."""
    from webmap.render.ledger_export import export_ledger

    with open_ledger() as ledger:
        query = build_query(filters, ledger.ctx, as_of.date() if as_of else None)
        n = export_ledger(ledger.session, query, fmt, out)
    click.echo(f"已导出 {n} 条问题到 {out}")


@click.group("ledger")
def ledger_group() -> None:
    """Look at the ledger (整改台账)."""


@ledger_group.command("status")
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="显示该日的台账（由事件日志重建），默认今天",
)
@filter_options
def status_command(as_of, **filters) -> None:
    """Print each issue's number, county, status, progress and RAG on a date, plus totals."""
    from webmap.render.ledger_status import format_status, ledger_status

    with open_ledger() as ledger:
        query = build_query(filters, ledger.ctx, as_of.date() if as_of else ledger.ctx.today)
        rows = ledger_status(ledger.session, query)
    click.echo(format_status(rows, query.day))


COMMANDS = [import_ledger_command, export_ledger_command, ledger_group]
