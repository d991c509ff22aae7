"""``yzmap init``: create or migrate the database, load defaults and, on request, the sample.

The app never migrates by itself on start; ``init`` does it and is safe to run again (Alembic
upgrades only what is missing, defaults are inserted only when absent). Boundary versions kept in
the instance folder by earlier releases are moved into the database here, once.
"""

from __future__ import annotations

import click

from webmap.commands import open_ledger, version_line
from webmap.commands.progress import progress, quiet_option, summary


@click.command("init")
@click.option("--sample", is_flag=True, help="同时加载示例台账（示例，60 余条问题）。")
@click.option("--if-empty", is_flag=True, help="与 --sample 同用：已有问题时跳过示例台账。")
@quiet_option
def init(sample: bool, if_empty: bool, quiet: bool) -> None:
    """创建或升级数据库，载入内置单位与责任规则。"""
    from webmap.ledger.db import database_name, schema_status, upgrade_db

    total = 4 if sample else 3
    with progress(quiet) as step, open_ledger(require_schema=False) as ledger:
        step("初始化", 0, total)
        engine = ledger.session.get_bind()
        before, head = schema_status(engine)
        upgrade_db(engine)
        state = "已是最新" if before == head else f"{before or '空库'} → {head}"
        click.echo(f"数据库：{database_name(engine)}（结构 {state}）")
        step("初始化", 1, total)
        _seed(ledger)
        step("初始化", 2, total)
        layers = version_line(ledger.layers)
        click.echo(layers)
        step("初始化", 3, total)
        if sample:
            _load_sample(ledger, if_empty)
            step("初始化", 4, total)
    summary(f"完成：数据库 {database_name(engine)} 已就绪")


def _seed(ledger) -> None:
    """Insert missing defaults and move boundary versions of earlier releases in, once."""
    from webmap.ledger.boundaries import legacy_root, mark_legacy_moved, migrate_legacy_store
    from webmap.ledger.db import database_name, transaction
    from webmap.ledger.responsibility_defaults import load_defaults

    session = ledger.session
    with transaction(session):
        added = load_defaults(session, actor="yzmap init")
    click.echo(f"默认单位与责任规则：新增 {added} 条")
    root = legacy_root(ledger.config)
    with transaction(session):
        moved, notes = migrate_legacy_store(session, root, actor="yzmap init")
    for note in notes:
        click.echo(f"注意：{note}", err=True)
    if moved or notes:  # committed: now the folder may say where its versions went
        mark_legacy_moved(root, database_name(session.get_bind()), moved)
    if moved:
        click.echo(f"已将 {root} 中的 {len(moved)} 个边界版本迁入数据库：{'、'.join(moved)}")


def _load_sample(ledger, if_empty: bool) -> None:
    """Load the sample ledger through ``webmap.ledger.sample`` (which commits it) unless skipped."""
    from sqlalchemy import func, select

    from webmap.ledger.models import Issue
    from webmap.ledger.sample import load_sample

    count = ledger.session.scalar(select(func.count(Issue.id)))
    if if_empty and count:
        click.echo(f"已有 {count} 个问题，跳过示例台账（--if-empty）")
        return
    try:
        issues = load_sample(ledger.session, ledger.layers)
    except ValueError as exc:  # already loaded
        raise click.ClickException(str(exc)) from None
    click.echo(f"示例台账：已加载 {len(issues)} 个问题（标记为 示例）")


COMMANDS = [init]
