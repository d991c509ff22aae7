"""``yzmap serve``: run the app under a production WSGI server."""

from __future__ import annotations

import gc
import os

import click

from webmap.commands.remind import start_daily


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址。")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535),
              help="监听端口。")  # fmt: skip
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256),
              help="每个工作进程的线程数。")  # fmt: skip
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="工作进程数（读请求随 CPU 核数扩展；Windows 上只能为 1）。")  # fmt: skip
def serve(host: str, port: int, threads: int, workers: int) -> None:
    """用 waitress 提供网页服务（无调试器、无自动重载；SIGTERM 时等待进行中的请求完成）。"""
    from webmap import create_app
    from webmap.config import load_config
    from webmap.ledger.db import database_name
    from webmap.ledger.logs import configure_from
    from webmap.web.server import serve as serve_app

    config = load_config()
    try:
        configure_from(config)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if workers > 1 and not hasattr(os, "fork"):
        raise click.BadParameter("此系统不支持多进程，请用 1", param_hint="--workers")

    def make_app(index: int):
        """Create one worker's app; the first worker also runs the daily reminders."""
        app = create_app()
        if index == 0:
            start_daily(app.config)  # None unless REMINDERS_DAILY_AT is set
        # the app's objects live as long as the process: moved out of the collector's reach,
        # they are not walked by every full collection (about 0.1 s each, every few requests of
        # a big API page), only the objects requests make are
        gc.freeze()
        return app

    database = database_name(config["DATABASE_URL"])  # the password is never printed
    click.echo(f"yzmap 服务地址 http://{host}:{port}/（数据库：{database}；"
               f"{workers} 个进程 × {threads} 线程）")  # fmt: skip
    try:
        serve_app(make_app, host, port, threads=threads, workers=workers,
                  grace=float(config["SHUTDOWN_GRACE_SECONDS"]))  # fmt: skip
    except OSError as exc:
        raise click.ClickException(f"无法监听 {host}:{port}：{exc.strerror or exc}") from None


COMMANDS = [serve]
