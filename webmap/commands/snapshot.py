"""``yzmap snapshot``: a printable map (PNG 300 dpi or vector PDF) of the issues a filter selects.

The filters are the map view's own (``--county``, ``--rag`` ...), parsed into the same
``IssueQuery``, so the picture holds exactly the issues ``/?<same filters>`` shows. ``--county``
also frames the map on that county.
"""

from __future__ import annotations

from pathlib import Path

import click

from webmap.commands import open_ledger
from webmap.commands.ledger import build_query, filter_options
from webmap.commands.progress import progress, quiet_option, summary


@click.command("snapshot")
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    required=True,
    help="输出文件：.png（300 dpi）或 .pdf（矢量）",
)
@click.option(
    "--size", type=click.Choice(["A4", "A3"]), default="A4", show_default=True, help="纸张（横向）"
)
@click.option("--title", default=None, help="图名（默认按县区生成）")
@click.option(
    "--basemap",
    default="none",
    show_default=True,
    help="底图：none/tianditu_vec/tianditu_img/amap/osm（仅在已配置且可连接时绘制）",
)
@click.option(
    "--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None, help="按该日的台账状态出图（回看）"
)
@filter_options
@quiet_option
def snapshot_command(
    out: str, size: str, title: str | None, basemap: str, as_of, quiet: bool, **filters
) -> None:
    """把筛选出的问题（与地图页筛选结果一致）绘成 PNG 或 PDF 专题图。"""
    from geo.files import write_atomically
    from webmap.render.basemaps import BASEMAPS
    from webmap.render.snapshot import render_snapshot

    path = Path(out)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "pdf"):
        raise click.UsageError(f"--out 须以 .png 或 .pdf 结尾，收到“{out}”")
    if basemap not in BASEMAPS:
        raise click.UsageError(f"未知底图“{basemap}”，可选：{'、'.join(BASEMAPS)}")
    with progress(quiet) as step, open_ledger() as ledger:
        step("绘制专题图", 0, 2)
        query = build_query(filters, ledger.ctx, as_of.date() if as_of else None)
        layers = ledger.layers
        step("绘制专题图", 1, 2)
        with write_atomically(path) as handle:
            shot = render_snapshot(ledger.session, query, layers, handle, fmt=fmt,
                                   title=title, size=size, basemap=basemap,
                                   settings=ledger.config)  # fmt: skip
        step("绘制专题图", 2, 2)
    drawn = sum(1 for item in shot.items if item.located)
    summary(
        f"已生成 {out}：{shot.spec.title}，{len(shot.items)} 条问题（已绘 {drawn} 条），"
        f"查询标识 {shot.spec.query_id}"
        + ("" if shot.basemap_used or basemap == "none" else "；底图不可用，仅绘制行政区界")
    )


COMMANDS = [snapshot_command]
