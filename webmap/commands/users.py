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


def _check_account(role: str, county: str | None, unit: str | None) -> str | None:
    """Validate role and the scope it needs; return the county code (or None)."""
    from webmap.ledger.access import check_role
    from webmap.ledger.query import resolve_county

    try:
        check_role(role)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--role") from None
    code = None
    if county:
        code = resolve_county(county)
        if code is None:
            raise click.BadParameter(f"“{county}”不是永州市的县（市、区）", param_hint="--county")
    if role == "county" and code is None:
        raise click.BadParameter("county 角色须给出 --county", param_hint="--county")
    if role == "department" and not unit:
        raise click.BadParameter("department 角色须给出 --unit（单位名称）", param_hint="--unit")
    return code


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
    """Manage accounts (roles: admin county department reserve city-leader county-leader viewer)."""


@users.command("add")
@click.argument("name")
@click.option(
    "--role", required=True, help="admin|county|department|reserve|city-leader|county-leader|viewer"
)
@click.option("--county", default=None, help="County code or name (county role; leaders optional).")
@click.option(
    "--unit", default=None, help="Unit name (department role), or a leader's roster name."
)
@click.option("--password", default=None, help="Prompted (hidden, twice) when not given.")
def add(name: str, role: str, county: str | None, unit: str | None, password: str | None) -> None:
    """Create an account."""
    from webmap.ledger.models import User

    code = _check_account(role, county, unit)
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
    """List accounts: name, role, county, unit and whether disabled."""
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
    """Disable an account (its sessions end at their next request)."""
    _set_disabled(name, True)
    click.echo(f"已停用用户 {name}")


@users.command("enable")
@click.argument("name")
def enable(name: str) -> None:
    """Enable a disabled account again."""
    _set_disabled(name, False)
    click.echo(f"已启用用户 {name}")


@users.command("reset-password")
@click.argument("name")
@click.option("--password", default=None, help="Prompted (hidden, twice) when not given.")
def reset_password(name: str, password: str | None) -> None:
    """Set a new password (the user's open sessions end)."""
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
