"""``yzmap backup`` and ``yzmap restore``: database, boundary versions and uploads in one file."""

from __future__ import annotations

import click

from webmap.commands.progress import progress, quiet_option, summary
from webmap.commands.zh import os_error_message


def _counts_line(counts: dict) -> str:
    """Return the main counts as one Chinese line."""
    names = {"issues": "问题", "events": "事件", "users": "用户", "boundary_versions": "图层版本"}
    return "，".join(f"{label} {counts.get(t, 0)}" for t, label in names.items())


def _run(verb: str, step_function, path: str, quiet: bool):
    """Run a backup or restore step with a progress bar; stop with "<verb>失败：…" on an error."""
    from webmap.config import load_config
    from webmap.ledger.backup import BackupError

    try:
        with progress(quiet) as step:
            return step_function(load_config(), path, progress=step)
    except BackupError as exc:
        raise click.ClickException(f"{verb}失败：{exc}") from None
    except OSError as exc:
        raise click.ClickException(f"{verb}失败：{os_error_message(exc)}") from None


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@quiet_option
def backup(path: str, quiet: bool) -> None:
    """备份数据库（含导入的边界图层版本）与上传文件到 PATH（.tar 或 .tar.gz）。"""
    from webmap.ledger.backup import create_backup

    manifest = _run("备份", create_backup, path, quiet)
    summary(f"已备份到 {path}：{_counts_line(manifest['counts'])}，上传文件 {manifest['files']} 个")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@quiet_option
def restore(path: str, quiet: bool) -> None:
    """从 PATH 恢复到配置的空数据库，并核对各表行数与备份一致。"""
    from webmap.ledger.backup import restore_backup

    result = _run("恢复", restore_backup, path, quiet)
    summary(f"已恢复并核对行数一致：{_counts_line(result['found'])}，上传文件 {result['files']} 个")


COMMANDS = [backup, restore]
