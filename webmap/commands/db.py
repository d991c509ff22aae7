"""``yzmap init``: create or migrate the database, load defaults and, on request, the sample.

The app never migrates by itself on start; ``init`` does it and is safe to run again (Alembic
upgrades only what is missing, defaults are inserted only when absent).
"""

from __future__ import annotations

import click

from webmap.commands import app_context


@click.command("init")
@click.option("--sample", is_flag=True, help="Also load the sample ledger (示例, 60+ issues).")
@click.option("--if-empty", is_flag=True, help="With --sample: skip it when issues already exist.")
def init(sample: bool, if_empty: bool) -> None:
    """Create or upgrade the database and load shipped units and responsibility rules."""
    from webmap.ledger import db

    with app_context() as app:
        engine = db.get_engine()
        try:
            _migrate_and_seed(app, engine)
            if sample:
                _load_sample(app, if_empty)
        finally:
            engine.dispose()  # close pooled connections now, not at garbage collection


def _migrate_and_seed(app, engine) -> None:
    """Migrate to head, insert missing defaults and report the boundary layers in use."""
    from webmap.ledger import db
    from webmap.ledger.responsibility import load_defaults
    from webmap.web.context import get_layers

    before, head = db.schema_status(engine)
    db.upgrade_db(engine)
    state = "已是最新" if before == head else f"{before or '空库'} → {head}"
    click.echo(f"数据库：{engine.url.render_as_string(hide_password=True)}（结构 {state}）")
    with db.session_scope(app) as session:
        added = load_defaults(session, actor="yzmap init")
    click.echo(f"默认单位与责任规则：新增 {added} 条")
    versions = get_layers().versions()
    click.echo("边界图层：" + "，".join(f"{k} {v}" for k, v in versions.items()))


def _load_sample(app, if_empty: bool) -> None:
    """Load the sample ledger through ``webmap.ledger.sample`` (which commits it) unless skipped."""
    from sqlalchemy import func, select

    from webmap.ledger import db
    from webmap.ledger.models import Issue
    from webmap.web.context import get_layers

    try:
        from webmap.ledger.sample import load_sample
    except ImportError:
        raise click.ClickException("本版本未包含示例台账模块 webmap.ledger.sample") from None
    session = db.make_session(app)
    try:
        count = session.scalar(select(func.count(Issue.id)))
        if if_empty and count:
            click.echo(f"已有 {count} 个问题，跳过示例台账（--if-empty）")
            return
        try:
            issues = load_sample(session, get_layers())
        except ValueError as exc:  # already loaded
            raise click.ClickException(str(exc)) from None
        click.echo(f"示例台账：已加载 {len(issues)} 个问题（标记为 示例）")
    finally:
        session.close()


COMMANDS = [init]
