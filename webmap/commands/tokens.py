"""``yzmap tokens create|list|revoke``: personal access tokens for GIS clients (QGIS, GDAL)."""

from __future__ import annotations

from datetime import date

import click

from webmap.commands import cli_actor, open_ledger


@click.group("tokens")
def tokens() -> None:
    """个人访问令牌（HTTP Basic 认证以用户名加令牌作密码，或 Bearer 认证）。"""


@tokens.command("create")
@click.argument("username")
@click.option("--name", "label", default="GIS 客户端", help="令牌的备注名，便于辨认。")
@click.option("--expires", default=None, help="最后有效日，YYYY-MM-DD（默认不过期）。")
@click.option("--write", is_flag=True, help="允许修改数据的请求（默认只读）。")
def create(username: str, label: str, expires: str | None, write: bool) -> None:
    """为 USERNAME 创建令牌，令牌只显示这一次。"""
    from sqlalchemy import select

    from webmap.ledger import tokens as store
    from webmap.ledger.db import transaction
    from webmap.ledger.models import User

    try:
        day = date.fromisoformat(expires) if expires else None
    except ValueError:
        raise click.BadParameter(f"“{expires}”不是 YYYY-MM-DD 日期",
                                 param_hint="--expires") from None
    with open_ledger() as ledger, transaction(ledger.session):
        user = ledger.session.scalar(select(User).where(User.username == username))
        if user is None:
            raise click.ClickException(f"没有用户“{username}”")
        try:
            new = store.create_token(ledger.session, user, name=label, actor=cli_actor(),
                                     write=write, expires_on=day, today=ledger.ctx.today)
        except store.TokenError as exc:
            raise click.ClickException(str(exc)) from None
        token_id = new.row.id
    access = "读写" if write else "只读"
    click.echo(f"已为 {username} 创建令牌 #{token_id}（{access}），只显示这一次：",
               err=True)  # fmt: skip
    click.echo(new.text)


@tokens.command("list")
@click.option("--user", "username", default=None, help="只列出该用户的令牌。")
def list_tokens(username: str | None) -> None:
    """列出令牌：编号、用户、备注名、前缀、权限、有效期、最近使用、使用次数、状态。"""
    from webmap.ledger import tokens as store

    with open_ledger() as ledger:
        for token, user in store.list_tokens(ledger.session):
            if username and user.username != username:
                continue
            used = token.last_used_at.strftime("%Y-%m-%d %H:%M") if token.last_used_at else "-"
            click.echo("\t".join([str(token.id), user.username, token.name, token.prefix + "…",
                                  "读写" if token.write else "只读",
                                  str(token.expires_on or "-"), used, str(token.use_count),
                                  store.state(token, ledger.ctx.today)]))  # fmt: skip


@tokens.command("revoke")
@click.argument("token_id", type=int)
def revoke(token_id: int) -> None:
    """按编号撤销令牌（编号见 ``yzmap tokens list``）。"""
    from webmap.ledger import tokens as store
    from webmap.ledger.db import transaction

    with open_ledger() as ledger, transaction(ledger.session):
        try:
            store.revoke_token(ledger.session, token_id, actor=cli_actor(), today=ledger.ctx.today)
        except store.TokenError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"已撤销令牌 #{token_id}")


COMMANDS = [tokens]
