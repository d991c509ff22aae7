"""Personal access tokens: create, list, revoke and check them (no Flask; the web layer reads them).

A token is ``yzm_`` + 32 random URL-safe bytes. Only its SHA-256 digest is stored (a token has
enough entropy that a slow password hash adds nothing), so the text is shown once, at creation.
A token acts as its user: same role, same read scope (``webmap.ledger.access.scope_for``); it is
read-only unless created with ``write``. Every accepted use updates ``last_used_at`` and the use
count; the first use of each day is also written to the audit (event) log, so the log shows
which token read the ledger on which day without a row per request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from webmap.ledger.events import record_event
from webmap.ledger.models import AccessToken, User, utcnow

PREFIX = "yzm_"
SHOWN = 10  # characters of the token kept in clear to tell tokens apart in lists


class TokenError(ValueError):
    """A token request names a user, date or token that cannot be used."""


@dataclass
class NewToken:
    """A token just created: the row, and its text (shown once)."""

    row: AccessToken
    text: str


def digest(text: str) -> str:
    """Return the stored digest of a token text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _audit_fields(token: AccessToken, username: str) -> dict:
    """Return what the audit log keeps of a token (never its text or digest)."""
    return {"token_id": token.id, "name": token.name, "username": username,
            "prefix": token.prefix, "write": bool(token.write),
            "expires_on": token.expires_on.isoformat() if token.expires_on else None}  # fmt: skip


def create_token(session, user: User, *, name: str, actor: str, write: bool = False,
                 expires_on: date | None = None,
                 today: date | None = None) -> NewToken:  # fmt: skip
    """Create a token for ``user``; the text is in the result only, never stored."""
    today = today or date.today()
    if user.disabled:
        raise TokenError(f"用户“{user.username}”已停用，不能创建令牌")
    if expires_on is not None and expires_on < today:
        raise TokenError(f"参数 expires 的值“{expires_on.isoformat()}”无效：到期日早于今天")
    name = (name or "").strip() or "GIS 客户端"
    if len(name) > 120:
        raise TokenError(f"参数 name 的值“{name[:20]}…”无效：名称不能超过 120 字")
    text = PREFIX + secrets.token_urlsafe(32)
    row = AccessToken(user_id=user.id, name=name, prefix=text[:SHOWN], digest=digest(text),
                      write=bool(write), expires_on=expires_on, created_by=actor,
                      use_count=0)  # fmt: skip
    session.add(row)
    session.flush()
    record_event(session, "token.created", actor=actor, effective=today,
                 after=_audit_fields(row, user.username))  # fmt: skip
    return NewToken(row, text)


def list_tokens(session, user: User | None = None) -> list[tuple[AccessToken, User]]:
    """Return (token, user) pairs, newest first; only ``user``'s when given."""
    stmt = select(AccessToken, User).join(User, User.id == AccessToken.user_id)
    if user is not None:
        stmt = stmt.where(AccessToken.user_id == user.id)
    return [(token, user) for token, user in session.execute(stmt.order_by(AccessToken.id.desc()))]


def revoke_token(session, token_id: int, *, actor: str, user: User | None = None,
                 today: date | None = None) -> AccessToken:  # fmt: skip
    """Revoke a token by id (only ``user``'s own when given); revoking twice is harmless."""
    token = session.get(AccessToken, token_id)
    if token is None or (user is not None and token.user_id != user.id):
        raise TokenError(f"令牌 {token_id} 不存在")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        owner = session.get(User, token.user_id)
        record_event(session, "token.revoked", actor=actor, effective=today or date.today(),
                     before=_audit_fields(token, owner.username if owner else "?"))  # fmt: skip
    return token


def state(token: AccessToken, today: date) -> str:
    """Return the token's state in Chinese: 有效, 已撤销 or 已过期."""
    if token.revoked_at is not None:
        return "已撤销"
    if token.expires_on is not None and token.expires_on < today:
        return "已过期"
    return "有效"


def check_token(session, text: str, *, today: date, username: str | None = None,
                ) -> tuple[AccessToken, User] | None:  # fmt: skip
    """Return the (token, user) a token text authenticates, or None.

    None for an unknown, revoked or expired token, a disabled user, or (HTTP Basic) a username
    other than the token's owner.
    """
    if not text or not text.startswith(PREFIX) or len(text) > 200:
        return None
    found = session.execute(
        select(AccessToken, User).join(User, User.id == AccessToken.user_id)
        .where(AccessToken.digest == digest(text))
    ).first()  # fmt: skip
    if found is None:
        return None
    token, user = found
    # the digest lookup found it; compare again in constant time as a belt-and-braces check
    if not hmac.compare_digest(token.digest, digest(text)) or state(token, today) != "有效":
        return None
    if user.disabled or (username is not None and username != user.username):
        return None
    return token, user


def record_use(session, token: AccessToken, user: User, *, address: str, path: str,
               today: date) -> None:  # fmt: skip
    """Note a use of the token; the first use of a day also goes to the audit log."""
    last: datetime | None = token.last_used_at
    token.last_used_at = utcnow()
    token.last_used_ip = address[:64]
    token.use_count = (token.use_count or 0) + 1
    if last is None or last.date() != token.last_used_at.date():
        record_event(session, "token.used", actor=f"token:{user.username}:{token.prefix}",
                     effective=today, after={"token_id": token.id, "address": address,
                                             "path": path[:200]})  # fmt: skip
