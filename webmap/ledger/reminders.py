"""Reminders (``yzmap remind``): which notices a day calls for, to whom, made once each.

The ledger is judged as it stood on the day asked for (``events.ledger_as_of``), so a run for a
past day finds what a run on that day would have found. Kinds (``vocabulary.NOTICE_KINDS``):

- ``due_soon``: open and due within the amber window (once per issue and due date);
- ``overdue``: past its due date for at most ``REMIND_CATCHUP_DAYS`` days (newly overdue);
- ``stalled``: 未启动 or 整改中 with no progress report for ``STALL_DAYS`` days (once per full
  ``STALL_DAYS`` of silence, so a long silence gives repeated stalls);
- ``publicity_ending`` / ``publicity_ended``: in 公示 and the period ends today or tomorrow / has
  ended (within the catch-up window);
- ``objection``: an objection received (once per objection);
- ``handover``: a roster line taking over a county or a case (once per issue and roster line).

Each notice has a ``key`` naming what it is about; a key already made is never made again, so
running twice for the same day sends nothing new. Recipients (``recipients_for``): the county
editors of the issue's county, the accounts of its lead unit, the leaders on the roster that
day (city leader of the county, county leader of the case, a manual override) and the city
office (every admin account, and ``CITY_OFFICE_EMAILS``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webmap.config import DEFAULTS
from webmap.ledger import workflow
from webmap.ledger.access import roster_name
from webmap.ledger.events import ledger_as_of
from webmap.ledger.models import (
    Event,
    Issue,
    LeaderAssignment,
    Notice,
    NoticeDelivery,
    NoticeRecipient,
    Objection,
    Responsibility,
    SignOff,
    User,
)
from webmap.ledger.publicity import publicity_window
from webmap.ledger.vocabulary import DONE, LEADER_KINDS, NOTICE_KINDS, PUBLICITY_STATUS

CHINA_TIME = timezone(timedelta(hours=8))  # the day an objection arrived, as Yongzhou counts it
STALL_STATUSES = ("未启动", "整改中")  # the statuses in which progress reports are expected
CITY_OFFICE = "市督察办"


@dataclass(frozen=True)
class Draft:
    """A notice a day calls for, before it is stored."""

    key: str
    kind: str
    issue_number: str | None
    county_code: str | None
    title: str
    body: str


@dataclass(frozen=True)
class Recipient:
    """Someone a notice is addressed to: a name, the account (if any), and why."""

    name: str
    username: str | None
    role: str


@dataclass
class RunReport:
    """What one reminder run made: new notices, and how many were already made before."""

    day: date
    created: list[Notice] = field(default_factory=list)
    existing: int = 0

    def by_kind(self) -> dict[str, int]:
        """Return how many new notices of each kind were made."""
        out: dict[str, int] = defaultdict(int)
        for n in self.created:
            out[n.kind] += 1
        return dict(out)


def _setting(ctx, name: str) -> int:
    """Return an integer reminder setting of the context (its default when unset)."""
    settings = ctx.settings or {}
    return int(settings.get(name) if settings.get(name) is not None else DEFAULTS[name])


def _draft(kind: str, state, key: str, what: str, day: date) -> Draft:
    """Return the notice of ``kind`` about an issue state, with its standard body."""
    lines = [
        f"{NOTICE_KINDS[kind]}：{what}",
        f"问题：{state.number} {state.title}",
        f"县（市、区）：{state.county_name or '—'}；牵头单位：{state.lead_unit or '—'}",
        f"状态：{state.status}，进度 {state.progress}%；整改时限：{state.due_date or '—'}",
        f"提醒日期：{day.isoformat()}",
    ]
    title = f"【{NOTICE_KINDS[kind]}】{state.number} {state.title}"[:300]
    return Draft(key, kind, state.number, state.county_code, title, "\n".join(lines))


def _last_progress(session: Session, day: date) -> dict[str, date]:
    """Return issue number -> the latest day it reported progress (or was created) by ``day``."""
    stmt = (select(Event.issue_number, func.max(Event.effective_date))
            .where(Event.kind.in_(("progress.reported", "issue.created")),
                   Event.effective_date <= day, Event.issue_number.is_not(None))
            .group_by(Event.issue_number))  # fmt: skip
    return dict(session.execute(stmt).all())


def _publicity_starts(session: Session, day: date) -> dict[str, date]:
    """Return issue number -> the start of its latest 公示 on or before ``day``."""
    stmt = (select(Issue.number, func.max(SignOff.date)).join(SignOff, SignOff.issue_id == Issue.id)
            .where(SignOff.stage == PUBLICITY_STATUS, SignOff.date <= day)
            .group_by(Issue.number))  # fmt: skip
    return dict(session.execute(stmt).all())


def deadline_drafts(state, day: date, amber_days: int, catchup: int) -> list[Draft]:
    """Return the due-soon or newly-overdue notice an issue state calls for on ``day``."""
    rag = workflow.rag(state.status, state.due_date, day, amber_days)
    due = state.due_date
    if rag == "amber":
        left = (due - day).days
        what = f"整改时限 {due}，{'今日到期' if left == 0 else f'还有 {left} 天'}"
        return [_draft("due_soon", state, f"due_soon:{state.number}:{due}", what, day)]
    if rag == "red" and (day - due).days <= catchup:
        what = f"已超过整改时限 {due}（逾期 {(day - due).days} 天）"
        return [_draft("overdue", state, f"overdue:{state.number}:{due}", what, day)]
    return []


def stall_draft(state, day: date, last: date | None, stall_days: int) -> list[Draft]:
    """Return the stalled notice of an open issue silent for a whole number of stall periods."""
    if state.status not in STALL_STATUSES or last is None:
        return []
    silent = (day - last).days
    if silent < stall_days:
        return []
    period = silent // stall_days
    key = f"stalled:{state.number}:{last}:{period}"
    return [_draft("stalled", state, key, f"自 {last} 起 {silent} 天无进展报告", day)]


def publicity_drafts(state, day: date, start: date | None, days: int, catchup: int) -> list:
    """Return the 公示 ending-soon or ended notice of an issue in 公示."""
    if state.status != PUBLICITY_STATUS or start is None:
        return []
    window = publicity_window(start, day, days)
    last = window["last"]
    if window["state"] == "open" and (last - day).days <= 1:
        what = f"公示期 {start} 至 {last}，{'今日' if last == day else '明日'}届满"
        return [_draft("publicity_ending", state, f"publicity_ending:{state.number}:{start}",
                       what, day)]  # fmt: skip
    if window["state"] == "ended" and (day - last).days <= catchup:
        what = f"公示期 {start} 至 {last} 已届满，可提交销号申请"
        return [_draft("publicity_ended", state, f"publicity_ended:{state.number}:{start}",
                       what, day)]  # fmt: skip
    return []


def objection_drafts(session: Session, states: dict, day: date, catchup: int) -> list[Draft]:
    """Return one notice per objection received in the catch-up window up to ``day``."""
    rows = session.scalars(select(Objection).order_by(Objection.id)).all()
    out = []
    for obj in rows:
        received = obj.created_at.astimezone(CHINA_TIME).date()  # stored in UTC
        state = states.get(obj.issue_number)
        if state is None or not (day - timedelta(days=catchup) < received <= day):
            continue
        what = f"{received} 收到公示异议：{obj.text[:80]}"
        out.append(_draft("objection", state, f"objection:{obj.id}", what, day))
    return out


def _predecessor(line: LeaderAssignment, lines: list[LeaderAssignment]) -> str | None:
    """Return the name of the leader a roster line takes over from, if it takes over."""
    for other in lines:
        same_post = (other.kind == line.kind and other.county_code == line.county_code
                     and other.issue_number == line.issue_number)  # fmt: skip
        if (same_post and other.name != line.name and other.valid_to is not None
                and other.valid_to < line.valid_from):  # fmt: skip
            return other.name
    return None


def handover_drafts(session: Session, states: dict, day: date, catchup: int) -> list[Draft]:
    """Return a notice per open issue whose city or case leader changes in the catch-up window."""
    lines = session.scalars(select(LeaderAssignment).order_by(LeaderAssignment.id)).all()
    out = []
    for line in lines:
        if not (day - timedelta(days=catchup) < line.valid_from <= day):
            continue
        before = _predecessor(line, lines)
        if before is None:
            continue
        if line.issue_number:
            affected = [states.get(line.issue_number)]
        else:
            affected = [s for s in states.values() if s.county_code == line.county_code]
        for state in affected:
            if state is None or state.status == DONE:
                continue
            what = f"{line.valid_from} 起责任领导由 {before} 交接给 {line.name}"
            key = f"handover:{state.number}:{line.id}"
            out.append(_draft("handover", state, key, what, day))
    return out


def draft_notices(session: Session, ctx, day: date) -> list[Draft]:
    """Return every notice ``day`` calls for (made or not), in issue and kind order."""
    catchup = _setting(ctx, "REMIND_CATCHUP_DAYS")
    stall_days = _setting(ctx, "STALL_DAYS")
    live = set(session.scalars(select(Issue.number)))
    # an issue removed since has no page to link to: it gets no notice
    states = {s.number: s for s in ledger_as_of(session, day) if s.number in live}
    last = _last_progress(session, day)
    starts = _publicity_starts(session, day)
    drafts = []
    for state in states.values():
        drafts += deadline_drafts(state, day, ctx.amber_days, catchup)
        drafts += stall_draft(state, day, last.get(state.number), stall_days)
        drafts += publicity_drafts(state, day, starts.get(state.number), ctx.publicity_days,
                                   catchup)  # fmt: skip
    drafts += objection_drafts(session, states, day, catchup)
    drafts += handover_drafts(session, states, day, catchup)
    order = list(NOTICE_KINDS)
    return sorted(drafts, key=lambda d: (d.issue_number or "", order.index(d.kind), d.key))


def leaders_of(session: Session, number: str, county_code: str | None, day: date) -> list[str]:
    """Return the leaders answering for an issue on ``day``: roster lines, then overrides."""
    valid = (LeaderAssignment.valid_from <= day) & (
        LeaderAssignment.valid_to.is_(None) | (LeaderAssignment.valid_to >= day))
    lines = session.scalars(select(LeaderAssignment).where(valid)
                            .order_by(LeaderAssignment.id)).all()  # fmt: skip
    names = [a.name for a in lines
             if (a.kind == "city_leader" and a.county_code and a.county_code == county_code)
             or (a.kind == "county_leader" and a.issue_number == number)]  # fmt: skip
    overrides = session.scalars(
        select(Responsibility.name).join(Issue, Issue.id == Responsibility.issue_id)
        .where(Issue.number == number, Responsibility.party_kind.in_(LEADER_KINDS),
               Responsibility.source == "override", Responsibility.overridden.is_(False))
    ).all()  # fmt: skip
    return list(dict.fromkeys([*names, *overrides]))


def recipients_for(session: Session, draft: Draft, state, day: date,
                   users: list[User]) -> list[Recipient]:  # fmt: skip
    """Return who a notice goes to: county editors, lead unit, leaders that day, city office."""
    out: list[Recipient] = []
    for u in users:
        if u.role == "county" and u.county_code and u.county_code == state.county_code:
            out.append(Recipient(u.username, u.username, "county"))
        elif u.role == "department" and u.unit and u.unit == state.lead_unit:
            out.append(Recipient(u.username, u.username, "department"))
    leader_accounts = {roster_name(u): u.username for u in users
                       if u.role in ("city-leader", "county-leader")}  # fmt: skip
    for name in leaders_of(session, state.number, state.county_code, day):
        account = leader_accounts.get(name)
        out.append(Recipient(account or name, account, "leader"))
    admins = [u.username for u in users if u.role == "admin"]
    out += [Recipient(a, a, "city") for a in admins] or [Recipient(CITY_OFFICE, None, "city")]
    return list({r.name: r for r in out}.values())


def email_targets(settings, recipients: list[Recipient]) -> list[str]:
    """Return the e-mail addresses of the recipients (``NOTICE_EMAILS``) and the city office."""
    book = settings.get("NOTICE_EMAILS") or {}
    found = [book.get(r.username or "") or book.get(r.name) for r in recipients]
    found += list(settings.get("CITY_OFFICE_EMAILS") or [])
    return list(dict.fromkeys(a for a in found if a))


def webhook_targets(settings) -> list[str]:
    """Return the group-robot URLs configured (``WEBHOOK_URL``: one URL or a list)."""
    value = settings.get("WEBHOOK_URL")
    return [value] if isinstance(value, str) and value else list(value or [])


def make_notices(session: Session, ctx, day: date) -> RunReport:
    """Store the notices ``day`` calls for that were never made, with recipients and deliveries.

    The caller commits (``yzmap remind`` does, in one transaction with the escalation queue).
    """
    settings = ctx.settings or {}
    drafts = draft_notices(session, ctx, day)
    made = set(session.scalars(select(Notice.key).where(Notice.key.in_([d.key for d in drafts]))))
    report = RunReport(day, existing=len(made))
    fresh = [d for d in drafts if d.key not in made]
    if not fresh:
        return report
    states = {s.number: s for s in ledger_as_of(session, day)}
    users = session.scalars(select(User).where(User.disabled.is_(False))
                            .order_by(User.username)).all()  # fmt: skip
    hooks = webhook_targets(settings)
    for d in fresh:
        recipients = recipients_for(session, d, states[d.issue_number], day, users)
        notice = Notice(key=d.key, kind=d.kind, issue_number=d.issue_number,
                        county_code=d.county_code, day=day, title=d.title, body=d.body)  # fmt: skip
        notice.recipients = [NoticeRecipient(name=r.name, username=r.username, role=r.role)
                             for r in recipients]  # fmt: skip
        channels = [("email", a) for a in email_targets(settings, recipients)]
        channels += [("webhook", url) for url in hooks]
        notice.deliveries = [NoticeDelivery(channel=c, target=t, state="pending", attempts=0,
                                            errors=[]) for c, t in channels]  # fmt: skip
        session.add(notice)
        report.created.append(notice)
    session.flush()
    return report


def unread_count(session: Session, username: str) -> int:
    """Return how many notices in a user's inbox are unread."""
    stmt = select(func.count(NoticeRecipient.id)).where(
        NoticeRecipient.username == username, NoticeRecipient.read_at.is_(None))
    return session.scalar(stmt) or 0
