"""Sending stored notices: e-mail over SMTP and 企业微信/钉钉 group-robot webhooks.

Every ``NoticeDelivery`` row is one notice for one target. ``deliver_pending`` tries each row
that is pending, or failed with fewer than ``DELIVERY_MAX_ATTEMPTS`` attempts, up to
``DELIVERY_RETRIES`` times in this run (pausing ``DELIVERY_RETRY_SECONDS``, doubled each time);
every attempt's error is recorded on the row, and the row is committed on its own, so one
unreachable server never blocks the others and a crash loses nothing already sent. The next run
(``yzmap remind`` or the daily job) retries what is still failed.

The robot message is the JSON both 企业微信 and 钉钉 robots accept:
``{"msgtype": "text", "text": {"content": "..."}}``; a robot that answers HTTP 200 with a
non-zero ``errcode`` has refused the message, and that counts as a failure.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from webmap.config import DEFAULTS
from webmap.ledger.models import Notice, NoticeDelivery, utcnow


class DeliveryError(RuntimeError):
    """One attempt to send a notice failed (the message says why, in Chinese)."""


@dataclass
class DeliveryReport:
    """How a delivery round went: rows sent and rows left failed."""

    sent: int = 0
    failed: int = 0


def _get(settings: Mapping, name: str):
    """Return a delivery setting, its default when unset."""
    value = settings.get(name)
    return DEFAULTS[name] if value is None else value


def issue_link(settings: Mapping, notice: Notice) -> str:
    """Return the absolute link to the notice's issue page (``PUBLIC_BASE_URL``)."""
    base = str(settings.get("PUBLIC_BASE_URL") or DEFAULTS["PUBLIC_BASE_URL"]).rstrip("/")
    return f"{base}/issues/{notice.issue_number}" if notice.issue_number else f"{base}/inbox"


def message_text(settings: Mapping, notice: Notice) -> str:
    """Return the plain text of a notice as e-mail and robots carry it."""
    return f"{notice.title}\n\n{notice.body}\n\n查看：{issue_link(settings, notice)}"


def smtp_parts(url: str) -> dict:
    """Split ``smtp[s]://user:pass@host:port?starttls=1`` into connection settings."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise DeliveryError(f"SMTP_URL 应形如 smtp://用户:密码@主机:端口，收到“{url}”")
    query = parse_qs(parts.query)
    return {"ssl": parts.scheme == "smtps", "host": parts.hostname,
            "port": parts.port or (465 if parts.scheme == "smtps" else 25),
            "user": unquote(parts.username) if parts.username else None,
            "password": unquote(parts.password) if parts.password else None,
            "starttls": query.get("starttls", ["0"])[0] in ("1", "true")}  # fmt: skip


def send_email(settings: Mapping, notice: Notice, address: str) -> None:
    """Send one notice to one address through ``SMTP_URL``; raise ``DeliveryError`` on failure."""
    url = settings.get("SMTP_URL")
    if not url:
        raise DeliveryError("未配置 SMTP_URL，无法发送邮件")
    conn = smtp_parts(url)
    msg = EmailMessage()
    msg["Subject"] = notice.title
    msg["From"] = settings.get("SMTP_FROM") or DEFAULTS["SMTP_FROM"]
    msg["To"] = address
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain="yzmap")
    msg.set_content(message_text(settings, notice))
    timeout = float(_get(settings, "DELIVERY_TIMEOUT"))
    client = smtplib.SMTP_SSL if conn["ssl"] else smtplib.SMTP
    try:
        with client(conn["host"], conn["port"], timeout=timeout) as smtp:
            if conn["starttls"]:
                smtp.starttls(context=ssl.create_default_context())
            if conn["user"]:
                smtp.login(conn["user"], conn["password"] or "")
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"邮件发送失败（{conn['host']}:{conn['port']}）：{exc}") from exc


def robot_payload(settings: Mapping, notice: Notice) -> dict:
    """Return the 企业微信/钉钉 robot text message of a notice."""
    return {"msgtype": "text", "text": {"content": message_text(settings, notice)}}


def send_webhook(settings: Mapping, notice: Notice, url: str) -> None:
    """POST one notice to a group robot; raise ``DeliveryError`` unless it was accepted."""
    data = json.dumps(robot_payload(settings, notice), ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    timeout = float(_get(settings, "DELIVERY_TIMEOUT"))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310 - configured
            body = resp.read().decode("utf-8", "replace")
    except (OSError, urllib.error.URLError) as exc:
        raise DeliveryError(f"群机器人推送失败：{exc}") from exc
    try:
        answer = json.loads(body) if body.strip() else {}
    except ValueError:
        answer = {}
    if isinstance(answer, dict) and answer.get("errcode") not in (None, 0):
        raise DeliveryError(f"群机器人拒收：errcode={answer.get('errcode')} {answer.get('errmsg')}")


SENDERS: dict[str, Callable[[Mapping, Notice, str], None]] = {
    "email": send_email,
    "webhook": send_webhook,
}


def _attempt(settings: Mapping, row: NoticeDelivery, tries: int, pause: float,
             sleep: Callable[[float], None]) -> bool:  # fmt: skip
    """Try one delivery up to ``tries`` times, recording each failure; return True when sent."""
    for n in range(tries):
        row.attempts += 1
        try:
            SENDERS[row.channel](settings, row.notice, row.target)
        except DeliveryError as exc:
            row.errors = [*row.errors, {"at": utcnow().isoformat(timespec="seconds"),
                                        "error": str(exc)}]  # fmt: skip
            if n + 1 < tries:
                sleep(pause * 2**n)
            continue
        row.state, row.sent_at = "sent", utcnow()
        return True
    row.state = "failed"
    return False


def deliver_pending(session: Session, settings: Mapping, *,
                    sleep: Callable[[float], None] = time.sleep) -> DeliveryReport:  # fmt: skip
    """Send every pending delivery and retry failed ones; commit each row's outcome on its own."""
    tries = max(1, int(_get(settings, "DELIVERY_RETRIES")))
    pause = float(_get(settings, "DELIVERY_RETRY_SECONDS"))
    most = int(_get(settings, "DELIVERY_MAX_ATTEMPTS"))
    stmt = (select(NoticeDelivery.id)
            .where(or_(NoticeDelivery.state == "pending",
                       (NoticeDelivery.state == "failed") & (NoticeDelivery.attempts < most)))
            .order_by(NoticeDelivery.id))  # fmt: skip
    report = DeliveryReport()
    for row_id in session.scalars(stmt).all():
        row = session.get(NoticeDelivery, row_id)
        sent = _attempt(settings, row, max(1, min(tries, most - row.attempts)), pause, sleep)
        session.commit()
        report.sent += sent
        report.failed += not sent
    return report
