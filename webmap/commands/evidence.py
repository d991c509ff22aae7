"""``yzmap evidence add|check``: field photos from the command line, checked as on the web.

``add`` keeps the photos on an issue (as progress photos, or for a sign-off stage) in one
transaction: a refused photo leaves nothing stored. ``check`` prints the verdicts without
storing anything. Both print one line per photo, or JSON lines with ``--json``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from webmap.commands import cli_actor, open_ledger
from webmap.ledger.vocabulary import PHOTO_CHECK_LABELS, PHOTO_PHASES, PHOTO_VERDICT_LABELS

STAGES = ("初审", "公示", "申请", "核查", "备案")


@click.group("evidence")
def evidence() -> None:
    """现场照片：核验拍摄位置、时间、是否重复使用，并存入问题。"""


def _issue(session, number: str):
    """Return the issue with this number or stop naming it."""
    from sqlalchemy import select

    from webmap.ledger.models import Issue

    issue = session.scalar(select(Issue).where(Issue.number == number))
    if issue is None:
        raise click.ClickException(f"问题编号 {number} 不存在")
    return issue


def _uploads(paths, phase: str, datum: str | None):
    """Read the photo files as uploads."""
    from webmap.ledger.evidence.store import PhotoUpload

    return [PhotoUpload(Path(p).name, Path(p).read_bytes(), phase=phase, declared_datum=datum)
            for p in paths]  # fmt: skip


def _print(found, as_json: bool) -> None:
    """Print one photo's verdicts: a line of text, or a JSON line."""
    if as_json:
        click.echo(json.dumps(found.as_dict(), ensure_ascii=False))
        return
    parts = [f"{PHOTO_CHECK_LABELS[name]}：{check.message}" for name, check in found.checks.items()
             if check.verdict != "pass" or name == "location"]  # fmt: skip
    click.echo(f"{found.filename}\t{PHOTO_VERDICT_LABELS[found.verdict]}\t" + "；".join(parts))


def _reference(issue, stage: str | None, today):
    """Return the date a photo is judged against: the stage's latest sign-off date, else today."""
    from webmap.ledger.evidence.store import latest_signoff

    signoff = latest_signoff(issue, stage) if stage else None
    return signoff.date if signoff is not None else today


photo_options = [
    click.argument("photos", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False)),
    click.option("--phase", type=click.Choice(PHOTO_PHASES), default="整改中", show_default=True,
                 help="照片反映的阶段"),
    click.option("--stage", type=click.Choice(STAGES), default=None,
                 help="照片所属销号环节（按该环节日期核对拍摄时间）"),
    click.option("--datum", type=click.Choice(["GCJ-02"]), default=None,
                 help="照片 GPS 为 GCJ-02（部分国产手机）时声明，按 WGS84 换算"),
    click.option("--json", "as_json", is_flag=True, help="每张照片输出一行 JSON"),
]  # fmt: skip


def with_photo_options(func):
    """Add the photo arguments and options shared by add and check."""
    for option in reversed(photo_options):
        func = option(func)
    return func


@evidence.command("add")
@click.argument("number")
@with_photo_options
@click.option("--actor", default=None, help="记录的上传人（默认 cli:当前系统用户）")
def add(number, photos, phase, stage, datum, as_json, actor):
    """核验照片并存入问题 NUMBER（一次全部存入，任何一张无法读取则都不存）。"""
    from webmap.config import upload_dir
    from webmap.ledger.db import transaction
    from webmap.ledger.events import LedgerError
    from webmap.ledger.evidence.checks import EvidenceRules
    from webmap.ledger.evidence.store import store_photo

    with open_ledger() as ledger:
        session = ledger.session
        issue = _issue(session, number)
        rules = EvidenceRules.from_settings(ledger.config)
        now = datetime.now(UTC)
        try:
            with transaction(session):
                found = [store_photo(session, issue, upload, root=upload_dir(ledger.config),
                                     actor=actor or cli_actor(), rules=rules, stage=stage,
                                     reference_day=_reference(issue, stage, ledger.ctx.today),
                                     uploaded_at=now, day=ledger.ctx.today)
                         for upload in _uploads(photos, phase, datum)]  # fmt: skip
        except LedgerError as exc:
            raise click.ClickException(f"{exc.message}（未存入任何照片）") from exc
    for item in found:
        _print(item, as_json)
    if not as_json:
        click.echo(f"已存入问题 {number} 的照片 {len(found)} 张", err=True)


@evidence.command("check")
@with_photo_options
@click.option("--issue", "number", required=True, help="对照的问题编号")
def check(photos, phase, stage, datum, as_json, number):
    """只核验照片（位置、时间、重复、完整性），不存入。"""
    from webmap.ledger.events import LedgerError
    from webmap.ledger.evidence.checks import EvidenceRules
    from webmap.ledger.evidence.store import inspect_photo

    with open_ledger() as ledger:
        issue = _issue(ledger.session, number)
        rules = EvidenceRules.from_settings(ledger.config)
        now = datetime.now(UTC)
        for upload in _uploads(photos, phase, datum):
            try:
                found = inspect_photo(ledger.session, issue, upload, rules=rules, uploaded_at=now,
                                      reference_day=_reference(issue, stage, ledger.ctx.today))
            except LedgerError as exc:
                raise click.ClickException(exc.message) from exc
            _print(found, as_json)


COMMANDS = [evidence]
