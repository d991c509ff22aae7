"""``yzmap remind``: make the day's reminders and escalation proposals, then deliver them.

For cron (daily at 07:30, as the account that runs the service, with its environment)::

    30 7 * * *  cd /srv/yzmap && .venv/bin/yzmap remind >> instance/remind.log 2>&1

or set ``REMINDERS_DAILY_AT = "07:30"`` and ``yzmap serve`` runs the same job itself
(``start_daily``; APScheduler, in the server process). Running twice for one day makes nothing
new; deliveries that failed are retried by the next run.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import click

from webmap.commands import open_ledger
from webmap.commands.progress import progress, quiet_option, summary


def run_reminders(session, ctx, day: date, settings: Mapping, *, deliver: bool = True):
    """Make the notices and proposals of ``day`` (one transaction), then deliver pending ones."""
    from webmap.ledger import escalation, reminders
    from webmap.ledger.db import transaction
    from webmap.ledger.delivery import DeliveryReport, deliver_pending

    with transaction(session):
        report = reminders.make_notices(session, ctx, day)
        proposals = escalation.propose(session, ctx, day)
    sent = deliver_pending(session, settings) if deliver else DeliveryReport()
    return report, proposals, sent


def summary_lines(report, proposals, sent) -> list[str]:
    """Return the Chinese summary of a run: counts by kind, recipients, deliveries, proposals."""
    from webmap.ledger.vocabulary import NOTICE_KINDS

    kinds = report.by_kind()
    lines = [f"提醒日期 {report.day}：新增提醒 {len(report.created)} 条，"
             f"此前已生成 {report.existing} 条（不再重复）"]  # fmt: skip
    if kinds:
        lines.append("按类型：" + "，".join(f"{NOTICE_KINDS[k]} {v}" for k, v in kinds.items()))
    for n in report.created:
        names = "、".join(r.name for r in n.recipients)
        lines.append(f"  {n.title} → {names}")
    lines.append(f"发送：成功 {sent.sent}，失败 {sent.failed}（失败的将在下次运行时重试）")
    lines.append(f"新增问责建议 {len(proposals)} 条" + "".join(
        f"\n  {p.issue_number} {p.kind}：{p.reason}" for p in proposals))
    return lines


@click.command("remind")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="提醒日期（默认今天）；按该日的台账状态判断")  # fmt: skip
@click.option("--no-send", is_flag=True, help="只生成站内提醒，不发送邮件和群机器人消息")
@quiet_option
def remind_command(day, no_send: bool, quiet: bool) -> None:
    """生成当日提醒（站内、邮件、群机器人）和升级督办建议。"""
    with progress(quiet) as step, open_ledger() as ledger:
        step("生成提醒", 0, 1)
        when = day.date() if day else ledger.ctx.today
        if when > ledger.ctx.today:
            raise click.UsageError(f"--date 的值 {when} 晚于今天（{ledger.ctx.today}）")
        report, proposals, sent = run_reminders(ledger.session, ledger.ctx, when, ledger.config,
                                                deliver=not no_send)  # fmt: skip
        step("生成提醒", 1, 1)
    summary("\n".join(summary_lines(report, proposals, sent)))


def parse_daily(value) -> tuple[int, int] | None:
    """Read ``REMINDERS_DAILY_AT`` ("HH:MM"); None when off; a clear error when malformed."""
    if not value:
        return None
    try:
        hour, minute = (int(p) for p in str(value).split(":"))
        if not (0 <= hour < 24 and 0 <= minute < 60):
            raise ValueError
    except ValueError:
        raise click.UsageError(f"设置 REMINDERS_DAILY_AT 应为 HH:MM，收到“{value}”") from None
    return hour, minute


def daily_job(config: Mapping) -> None:
    """Run the reminders for today on a fresh session (the scheduler calls this)."""
    from sqlalchemy.orm import Session

    from webmap.ledger.context import LedgerContext
    from webmap.ledger.db import make_engine

    engine = make_engine(config["DATABASE_URL"])
    try:
        with Session(engine, expire_on_commit=False) as session:
            ctx = LedgerContext.from_settings(config)
            report, proposals, sent = run_reminders(session, ctx, ctx.today, config)
            click.echo("\n".join(summary_lines(report, proposals, sent)))
    finally:
        engine.dispose()


def start_daily(config: Mapping):
    """Start the in-process daily reminder job when ``REMINDERS_DAILY_AT`` is set; else None."""
    at = parse_daily(config.get("REMINDERS_DAILY_AT"))
    if at is None:
        return None
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger

    scheduler = BackgroundScheduler(daemon=True)
    # one instance at a time, and a run missed while the server was down is made up within an hour
    scheduler.add_job(daily_job, CronTrigger(hour=at[0], minute=at[1]), args=[config],
                      id="yzmap-remind", max_instances=1, coalesce=True,
                      misfire_grace_time=3600)  # fmt: skip
    scheduler.start()
    click.echo(f"每日提醒已开启：每天 {at[0]:02d}:{at[1]:02d} 运行")
    return scheduler


COMMANDS = [remind_command]
