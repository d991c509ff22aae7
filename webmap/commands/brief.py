"""``yzmap brief``: the briefing pack PDF and the weekly dispatch notice (DOCX + PDF).

The dispatch notice is written beside the pack as ``<pack>-调度通报.docx`` and ``.pdf`` unless
``--dispatch-out`` names the DOCX (the PDF then takes the same name with ``.pdf``).
"""

from __future__ import annotations

from pathlib import Path

import click

from webmap.commands import open_ledger
from webmap.commands.progress import progress, quiet_option, summary


def dispatch_paths(out: Path, dispatch_out: str | None) -> tuple[Path, Path]:
    """Return the DOCX and PDF paths of the dispatch notice for a pack written to ``out``."""
    docx = Path(dispatch_out) if dispatch_out else out.with_name(f"{out.stem}-调度通报.docx")
    if docx.suffix.lower() != ".docx":
        raise click.UsageError(f"--dispatch-out 须以 .docx 结尾，收到“{dispatch_out}”")
    return docx, docx.with_suffix(".pdf")


@click.command("brief")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="汇报材料 PDF")
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="按该日的台账状态生成（回看；调度通报为截至该日的一周）",
)
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="上次汇报日期：加一页“上次汇报以来的变化”（两日台账均由事件日志重建）",
)
@click.option("--dispatch-out", default=None, help="调度通报 DOCX 路径（默认与汇报材料同目录）")
@click.option("--size", type=click.Choice(["A4", "A3"]), default="A4", show_default=True,
              help="纸张")  # fmt: skip
@quiet_option
def brief_command(out: str, as_of, since, dispatch_out: str | None, size: str,
                  quiet: bool) -> None:  # fmt: skip
    """生成汇报材料 PDF（全市地图、各县区数据与分页、逾期清单、回看）和调度通报。"""
    from geo.files import write_atomically
    from webmap.render.briefing import dispatch
    from webmap.render.briefing.pack import build_pack

    path = Path(out)
    if path.suffix.lower() != ".pdf":
        raise click.UsageError(f"--out 须以 .pdf 结尾，收到“{out}”")
    docx_path, notice_pdf = dispatch_paths(path, dispatch_out)
    day = as_of.date() if as_of else None
    with progress(quiet) as step, open_ledger() as ledger:
        step("生成汇报材料", 0, 4)
        ctx, session, layers = ledger.ctx, ledger.session, ledger.layers
        if day is not None and day > ctx.today:
            raise click.UsageError(f"--as-of {day} 晚于今天")
        start = since.date() if since else None
        if start is not None and start >= (day or ctx.today):
            raise click.UsageError(f"--since {start} 须早于汇报日期 {day or ctx.today}")
        step("生成汇报材料", 1, 4)
        with write_atomically(path) as handle:
            pack = build_pack(session, layers, handle, ctx=ctx, as_of=day, size=size,
                              since=start)  # fmt: skip
        step("生成汇报材料", 2, 4)
        notice = dispatch.build_notice(session, layers, ctx=ctx, as_of=day)
        with write_atomically(docx_path) as handle:
            dispatch.write_docx(notice, handle)
        step("生成汇报材料", 3, 4)
        with write_atomically(notice_pdf) as handle:
            dispatch.write_pdf(notice, handle, size=size)
        step("生成汇报材料", 4, 4)
    if pack.changes is not None:
        counts = "，".join(f"{t} {len(i)}" for t, i in pack.changes.sections())
        click.echo(f"上次汇报（{pack.changes.start}）以来：{counts}")
    due, overdue, closed = notice.totals()
    click.echo(
        f"已生成汇报材料 {out}：{pack.page_count} 页，{len(pack.items)} 条问题，"
        f"逾期 {len(pack.overdue)} 条"
    )
    summary(
        f"已生成调度通报 {docx_path} 和 {notice_pdf}：一周内到期 {due}，逾期 {overdue}，"
        f"本周新销号 {closed}"
    )


COMMANDS = [brief_command]
