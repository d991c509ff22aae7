"""Failed-login counters kept in the database, shared by every worker process and restarts.

Same interface as the in-memory ``webmap.web.auth.LoginLimiter`` (``blocked``, ``fail``,
``clear``) plus ``retry_after``, the seconds until a blocked attempt may be tried again, which
the login view sends as ``Retry-After`` with its 429. Keys are hashed before they are stored.
Each call works in the request's session and commits at once (a second session would wait
for the SQLite write lock the request's own session holds).
"""

from __future__ import annotations

import hashlib
import math
from datetime import timedelta

from flask import Flask
from sqlalchemy import delete, func, select

from webmap.ledger.db import transaction
from webmap.ledger.models import RateHit, utcnow
from webmap.web.context import get_session


def _digest(key: str) -> str:
    """Return the stored form of a limiter key."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class DatabaseLimiter:
    """Sliding-window counters per key in the ``rate_hits`` table."""

    def __init__(self, app: Flask):
        """Keep the app whose database holds the counters."""
        self.app = app

    def _oldest_over(self, session, key: str, limit: int, since):
        """Return the time of the hit that makes ``key`` reach ``limit`` in the window, or None."""
        stmt = (select(RateHit.at).where(RateHit.key == _digest(key), RateHit.at > since)
                .order_by(RateHit.at.desc()).offset(limit - 1).limit(1))  # fmt: skip
        return session.scalar(stmt)

    def retry_after(self, keys_limits: dict[str, int], window: float) -> int:
        """Return seconds until no key is at its limit (0 when none is blocked now)."""
        now = utcnow()
        since = now - timedelta(seconds=window)
        session = get_session()
        with transaction(session):  # ends the read at once: no lock held past it
            found = [self._oldest_over(session, k, n, since) for k, n in keys_limits.items()]
        waits = [(at + timedelta(seconds=window) - now).total_seconds() for at in found if at]
        return max(1, math.ceil(max(waits))) if waits else 0

    def blocked(self, keys_limits: dict[str, int], window: float) -> bool:
        """Return True when any key has reached its limit within the window."""
        return self.retry_after(keys_limits, window) > 0

    def fail(self, *keys: str) -> None:
        """Record one failure against each key (and drop hits older than a day)."""
        session = get_session()
        with transaction(session):
            now = utcnow()
            session.add_all(RateHit(key=_digest(k), at=now) for k in keys)
            session.execute(delete(RateHit).where(RateHit.at < now - timedelta(days=1)))

    def clear(self, key: str) -> None:
        """Forget a key's failures (after a successful login)."""
        session = get_session()
        with transaction(session):
            session.execute(delete(RateHit).where(RateHit.key == _digest(key)))

    def count(self, key: str, window: float) -> int:
        """Return the key's hits within the window (for tests and the operator)."""
        since = utcnow() - timedelta(seconds=window)
        stmt = select(func.count(RateHit.id)).where(RateHit.key == _digest(key), RateHit.at > since)
        return get_session().scalar(stmt)
