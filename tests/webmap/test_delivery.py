"""Delivery: e-mail to a real local SMTP server (aiosmtpd), the group-robot webhook to a real
local HTTP receiver that fails first, retries, recorded failures, and no blocking."""

from __future__ import annotations

import json
import socket
import threading
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from tests.webmap.reminder_ledger import DAY, build
from webmap.ledger import db, reminders
from webmap.ledger.context import LedgerContext
from webmap.ledger.delivery import (
    DeliveryError,
    deliver_pending,
    robot_payload,
    send_webhook,
    smtp_parts,
)
from webmap.ledger.models import NoticeDelivery
from webmap.web import context as webctx


def _free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Sink:
    """aiosmtpd handler keeping every message it receives."""

    def __init__(self):
        """Start with no mail."""
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        """Keep the envelope recipients and the parsed message."""
        msg = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"


@pytest.fixture
def smtp_sink():
    """Run a real SMTP server on 127.0.0.1; yield (url, handler); stop it afterwards."""
    handler, port = _Sink(), _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield f"smtp://127.0.0.1:{port}", handler
    controller.stop()


@pytest.fixture
def robot():
    """Run a robot receiver that answers 500 to the first ``fail`` posts, then errcode 0."""
    state = {"fail": 1, "posts": []}

    class Handler(BaseHTTPRequestHandler):
        """Answer robot posts the way 企业微信 does (errcode 0), after the planned failures."""

        def do_POST(self):  # noqa: N802 - http.server's hook name
            """Record the body; fail while failures remain."""
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state["posts"].append(json.loads(body))
            failing = len(state["posts"]) <= state["fail"]
            self.send_response(500 if failing else 200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"errcode":0,"errmsg":"ok"}')

        def log_message(self, *args):
            """Keep the test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/cgi-bin/webhook/send?key=t", state
    server.shutdown()
    server.server_close()


@pytest.fixture
def ledger(app, make_issue, make_user):
    """The constructed reminder ledger; returns the app."""
    build(app, make_issue, make_user)
    return app


def _remind_and_deliver(app, **settings):
    """Make 2022-06-01's notices and deliver them with ``settings``; return the report."""
    app.config.update(DELIVERY_RETRY_SECONDS=0, **settings)
    with app.app_context():
        session = webctx.get_session()
        with db.transaction(session):
            reminders.make_notices(session, LedgerContext.from_settings(app.config), DAY)
        return deliver_pending(session, app.config, sleep=lambda s: None)


def _deliveries(app, channel: str) -> list[tuple]:
    """Return (state, attempts, error count) of every delivery of a channel."""
    with app.app_context():
        rows = webctx.get_session().scalars(select(NoticeDelivery).where(
            NoticeDelivery.channel == channel).order_by(NoticeDelivery.id)).all()
        return [(r.state, r.attempts, len(r.errors)) for r in rows]


def test_email_arrives_at_the_local_smtp_server(ledger, smtp_sink):
    """Each notice reaches its recipients' addresses and the city office's, once."""
    url, sink = smtp_sink
    report = _remind_and_deliver(ledger, SMTP_URL=url, CITY_OFFICE_EMAILS=["office@yz.test"],
                                 NOTICE_EMAILS={"lsj-editor": "lsj@yz.test"})  # fmt: skip
    assert report.failed == 0 and report.sent == len(sink.messages) > 0
    due = [(to, m) for to, m in sink.messages if "DUE-1" in m["Subject"]]
    assert sorted(to[0] for to, _ in due) == ["lsj@yz.test", "office@yz.test"]
    body = due[0][1].get_content()
    assert "临期提醒" in body and "2022-06-20" in body and "/issues/DUE-1" in body
    # 道县's hand-over is not the 冷水滩区 editor's business
    assert not any("HO-1" in m["Subject"] for to, m in sink.messages if "lsj@yz.test" in to)
    again = _remind_and_deliver(ledger, SMTP_URL=url)
    assert again.sent == again.failed == 0  # nothing new, nothing re-sent


def test_webhook_is_retried_and_its_failure_recorded(ledger, robot):
    """The robot refuses the first post: that attempt is recorded and the retry gets through."""
    url, state = robot
    report = _remind_and_deliver(ledger, WEBHOOK_URL=url)
    assert report.failed == 0 and report.sent == 7
    rows = _deliveries(ledger, "webhook")
    assert rows[0] == ("sent", 2, 1) and all(r == ("sent", 1, 0) for r in rows[1:])
    assert len(state["posts"]) == 8
    post = state["posts"][-1]
    assert post["msgtype"] == "text" and "【" in post["text"]["content"]


def test_a_dead_channel_fails_recorded_and_does_not_block_the_others(ledger, smtp_sink, robot):
    """A robot that always fails is left failed after the retries; e-mail still goes out; the
    next run retries it and it gets through once the robot is back."""
    smtp_url, sink = smtp_sink
    url, state = robot
    state["fail"] = 10_000
    report = _remind_and_deliver(ledger, WEBHOOK_URL=url, SMTP_URL=smtp_url,
                                 CITY_OFFICE_EMAILS=["office@yz.test"], DELIVERY_RETRIES=3)
    assert report.failed == 7 and report.sent == 7 == len(sink.messages)
    assert _deliveries(ledger, "webhook") == [("failed", 3, 3)] * 7
    with ledger.app_context():
        row = webctx.get_session().scalars(select(NoticeDelivery).where(
            NoticeDelivery.channel == "webhook")).first()
        assert "群机器人推送失败" in row.errors[-1]["error"] and "500" in row.errors[-1]["error"]
    state["fail"] = 0
    later = _remind_and_deliver(ledger, WEBHOOK_URL=url, SMTP_URL=smtp_url)
    assert later.sent == 7 and _deliveries(ledger, "webhook") == [("sent", 4, 3)] * 7
    assert len(sink.messages) == 7  # e-mail already sent is not sent again


def test_unreachable_smtp_is_a_recorded_failure(ledger):
    """No server on the port: every e-mail is failed with the Chinese reason, nothing raises."""
    report = _remind_and_deliver(ledger, SMTP_URL=f"smtp://127.0.0.1:{_free_port()}",
                                 CITY_OFFICE_EMAILS=["office@yz.test"], DELIVERY_RETRIES=2)
    assert report.sent == 0 and report.failed == 7
    assert _deliveries(ledger, "email") == [("failed", 2, 2)] * 7


@pytest.fixture
def refusing_robot():
    """Run a receiver answering 200 with errcode 93000 (a wrong key); yield its URL."""

    class Handler(BaseHTTPRequestHandler):
        """Refuse every post the way a robot with a wrong key does."""

        def do_POST(self):  # noqa: N802 - http.server's hook name
            """Answer 200 with an error code."""
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"errcode":93000,"errmsg":"invalid webhook url"}')

        def log_message(self, *args):
            """Keep the test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class _Fake:
    """A notice-like object."""

    title, body, issue_number = "【临期提醒】A-1", "正文", "A-1"


def test_robot_errcode_is_a_failure(robot, refusing_robot):
    """A robot answering 200 with a non-zero errcode has refused the message."""
    url, state = robot
    state["fail"] = 0
    send_webhook({}, _Fake(), url)  # accepted: errcode 0
    with pytest.raises(DeliveryError, match="errcode=93000"):
        send_webhook({}, _Fake(), refusing_robot)


def test_payload_and_smtp_url_shapes():
    """The robot JSON is the 企业微信/钉钉 text message; a bad SMTP URL names itself."""
    payload = robot_payload({"PUBLIC_BASE_URL": "http://yz.intranet"}, _Fake())
    assert payload == {"msgtype": "text", "text": {
        "content": "【临期提醒】A-1\n\n正文\n\n查看：http://yz.intranet/issues/A-1"}}
    assert smtp_parts("smtps://u%40x:p@mail.yz:2465?starttls=0")["user"] == "u@x"
    with pytest.raises(Exception, match="SMTP_URL 应形如"):
        smtp_parts("mail.yz:25")
