"""Map snapshots: a printable picture (PNG 300 dpi or vector PDF) of exactly one ``IssueQuery``.

``render_snapshot(session, query, layers, target, fmt=...)`` collects the item list of the query
(``webmap.ledger.items.collect_items``), fetches a basemap only when configured and reachable
(``basemap.fetch_basemap``), draws the page (``draw.render_figure``) with the packaged CJK font
(``fonts``) and writes it. The returned ``Snapshot`` keeps the render list, so callers and tests
can check the picture holds the issues the map view shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from webmap.ledger.items import IssueItem, collect_items
from webmap.ledger.query import COUNTIES, IssueQuery
from webmap.render.captions import cutoff_text, describe_filters, query_id
from webmap.render.snapshot import draw
from webmap.render.snapshot.fonts import rc_params

FORMATS = ("png", "pdf")
CITY_TITLE = "永州市生态环境问题整改分布图"


@dataclass
class Snapshot:
    """A written snapshot: what it drew and how it described itself."""

    items: list[IssueItem]
    spec: draw.SnapshotSpec
    fmt: str
    basemap_used: bool

    @property
    def numbers(self) -> list[str]:
        """Return the issue numbers in the render list."""
        return [item.number for item in self.items]


def default_title(query: IssueQuery) -> str:
    """Return the picture title: the city, or the one or few counties the query keeps."""
    if query.county:
        names = "、".join(COUNTIES.get(c, c) for c in query.county)
        return f"永州市{names}生态环境问题整改分布图"
    return CITY_TITLE


def build_spec(
    query: IssueQuery, *, title: str | None = None, size: str = "A4", now: datetime | None = None
) -> draw.SnapshotSpec:
    """Return the caption of a snapshot of ``query``."""
    return draw.SnapshotSpec(
        title=title or default_title(query),
        description=describe_filters(query),
        cutoff=cutoff_text(query, now),
        query_id=query_id(query),
        size=size,
        focus=tuple(query.county),
    )


def render_snapshot(
    session,
    query: IssueQuery,
    layers,
    target,
    *,
    fmt: str = "png",
    title: str | None = None,
    size: str = "A4",
    basemap: str = "none",
    settings: Mapping | None = None,
    now: datetime | None = None,
) -> Snapshot:
    """Draw the snapshot of ``query`` (judged on its day) and write it to ``target``."""
    import matplotlib

    if fmt not in FORMATS:
        raise ValueError(f"导出格式只能是 {'、'.join(FORMATS)}，收到“{fmt}”")
    items = collect_items(session, query)
    spec = build_spec(query, title=title, size=size, now=now)
    base = None
    if basemap != "none":
        base = _basemap(basemap, settings or {}, layers, spec)
    if base is None and basemap != "none":
        spec.notes.append("底图不可用（未配置或无法连接），仅绘制行政区界")
    with matplotlib.rc_context(rc_params()):
        fig = draw.render_figure(spec, items, layers, basemap=base)
        save_figure(fig, target, fmt, spec, query)
    return Snapshot(items=items, spec=spec, fmt=fmt, basemap_used=base is not None)


def _basemap(key: str, config, layers, spec: draw.SnapshotSpec):
    """Fetch the basemap for the snapshot's map frame, or None."""
    from webmap.render.snapshot.basemap import fetch_basemap

    w_px, h_px = draw.PAPER_PX[spec.size]
    cols, rows = int(draw.MAP_RECT[2] * w_px), int(draw.MAP_RECT[3] * h_px)
    counties = draw.metric_frame(layers.counties)
    extent = draw.map_extent(counties, spec.focus, cols / rows)
    # half resolution is plenty under the overlays and halves the warp time
    return fetch_basemap(key, config, extent, (cols // 2, rows // 2))


def save_figure(fig, target, fmt: str, spec: draw.SnapshotSpec, query: IssueQuery) -> None:
    """Write the figure as PNG (300 dpi) or PDF (vector), with title and query in its metadata."""
    if fmt == "pdf":
        meta = {
            "Title": spec.title,
            "Subject": spec.description,
            "Keywords": f"yzmap;{spec.query_id};{query.to_args()}",
            "Creator": "yzmap",
        }
    else:
        meta = {
            "Title": spec.title,
            "Description": spec.description,
            "Comment": f"query={query.to_args()} id={spec.query_id}",
            "Software": "yzmap",
        }
    fig.savefig(target, format=fmt, dpi=draw.DPI, metadata=meta)
