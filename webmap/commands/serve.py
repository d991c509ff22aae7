"""``yzmap serve``: run the app under a production WSGI server."""

from __future__ import annotations

import click


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--threads", default=8, show_default=True, type=int, help="Worker threads.")
def serve(host: str, port: int, threads: int) -> None:
    """Serve yzmap with waitress (no debugger, no reloader)."""
    from waitress import serve as waitress_serve

    from webmap import create_app
    from webmap.ledger.db import database_name

    app = create_app()
    database = database_name(app.config["DATABASE_URL"])
    click.echo(f"yzmap 服务地址 http://{host}:{port}/（数据库：{database}）")
    waitress_serve(app, host=host, port=port, threads=threads)


COMMANDS = [serve]
