"""``yzmap users add|list|disable|enable|reset-password``; every change goes to the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import click

from webmap.commands import cli_actor, open_ledger


@contextmanager
def _session() -> Iterator:
    """Yield a session of the configured database, committed at the end of the block."""
    from webmap.ledger.db import transaction

    with open_ledger() as ledger, transaction(ledger.session):
        yield ledger.session


def _public_fields(user) -> dict:
    """Return what the audit log keeps of an account (never the password hash)."""
    return {"username": user.username, "role": user.role, "county": user.county_code,
            "unit": user.unit, "disabled": bool(user.disabled)}  # fmt: skip


def _check_account(session, name: str, role: str, county: str | None,
                   unit: str | None) -> str | None:  # fmt: skip
    """Validate role and the scope it needs (``webmap.ledger.accounts``); return the county code."""
    from webmap.ledger.accounts import check_account
    from webmap.ledger.events import LedgerError

    try:
        return check_account(session, username=name, role=role, county=county, unit=unit)
    except LedgerError as exc:
        raise click.BadParameter(exc.message, param_hint=f"--{exc.field}") from None


def _hash(password: str) -> str:
    """Hash a password or fail with the rule it broke."""
    from webmap.web.auth import hash_password

    try:
        return hash_password(password)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--password") from None


def _find(session, name: str):
    """Return the user called ``name`` or stop with an error naming it."""
    from sqlalchemy import select

    from webmap.ledger.models import User

    user = session.scalar(select(User).where(User.username == name))
    if user is None:
        raise click.ClickException(f"没有用户“{name}”")
    return user


def _log(session, kind: str, before: dict | None, after: dict | None) -> None:
    """Append an account change to the event (audit) log."""
    from webmap.ledger.events import record_event

    record_event(session, kind, actor=cli_actor(), effective=date.today(), before=before,
                 after=after)  # fmt: skip


@click.group("users")
def users() -> None:
    """管理账户。

    角色：admin、county、department、reserve、city-leader、county-leader、viewer。
    """


@users.command("add")
@click.argument("name")
@click.option(
    "--role", required=True,
    help="角色：admin|county|department|reserve|city-leader|county-leader|viewer",
)  # fmt: skip
@click.option("--county", default=None, help="县区代码或名称（county 角色必填；领导角色可选）。")
@click.option(
    "--unit", default=None, help="单位名称（department 角色），或领导在名册中的姓名。"
)
@click.option("--password", default=None, help="不给出时提示输入（不回显，输入两次）。")
def add(name: str, role: str, county: str | None, unit: str | None, password: str | None) -> None:
    """新建账户。"""
    from webmap.ledger.models import User

    with open_ledger() as ledger:  # check before asking for a password
        code = _check_account(ledger.session, name, role, county, unit)
    if password is None:
        password = click.prompt("密码", hide_input=True, confirmation_prompt="再次输入密码")
    password_hash = _hash(password)
    with _session() as session:
        from sqlalchemy import select

        if session.scalar(select(User.id).where(User.username == name)) is not None:
            raise click.ClickException(f"用户“{name}”已存在")
        user = User(username=name, role=role, county_code=code, unit=unit,
                    password_hash=password_hash, disabled=False)  # fmt: skip
        session.add(user)
        session.flush()
        _log(session, "user.created", None, _public_fields(user))
    click.echo(f"已创建用户 {name}（{role}）")


@users.command("list")
def list_users() -> None:
    """列出账户：用户名、角色、县区、单位和是否停用。"""
    from sqlalchemy import select

    from webmap.ledger.models import User

    with _session() as session:
        rows = session.scalars(select(User).order_by(User.username)).all()
        for u in rows:
            state = "停用" if u.disabled else "启用"
            click.echo(f"{u.username}\t{u.role}\t{u.county_code or '-'}\t{u.unit or '-'}\t{state}")


def _set_disabled(name: str, disabled: bool) -> None:
    """Disable or enable an account and log the change."""
    with _session() as session:
        user = _find(session, name)
        before = _public_fields(user)
        user.disabled = disabled
        session.flush()
        _log(session, "user.disabled" if disabled else "user.enabled", before, _public_fields(user))


@users.command("disable")
@click.argument("name")
def disable(name: str) -> None:
    """停用账户（其已登录的会话在下一次请求时结束）。"""
    _set_disabled(name, True)
    click.echo(f"已停用用户 {name}")


@users.command("enable")
@click.argument("name")
def enable(name: str) -> None:
    """重新启用已停用的账户。"""
    _set_disabled(name, False)
    click.echo(f"已启用用户 {name}")


@users.command("reset-password")
@click.argument("name")
@click.option("--password", default=None, help="不给出时提示输入（不回显，输入两次）。")
def reset_password(name: str, password: str | None) -> None:
    """设置新密码（该用户已登录的会话随即结束）。"""
    if password is None:
        password = click.prompt("新密码", hide_input=True, confirmation_prompt="再次输入新密码")
    password_hash = _hash(password)
    with _session() as session:
        user = _find(session, name)
        user.password_hash = password_hash
        session.flush()
        _log(session, "user.password_reset", None, {"username": name})
    click.echo(f"已重置用户 {name} 的密码")


COMMANDS = [users]
