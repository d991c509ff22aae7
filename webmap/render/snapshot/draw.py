"""Draw a snapshot figure with matplotlib (Agg, no browser): map, legend, scale bar, stamps.

The map is drawn in EPSG:4546 (CGCS2000 3-degree Gauss-Kruger, CM 111E), so the scale bar is
in true metres. Colours and marker shapes come from ``webmap.ledger.vocabulary`` (through
``webmap.render.legend``), so the picture and the web map read the same.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from matplotlib import patheffects
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon, Rectangle
from matplotlib.path import Path as MplPath

from geo.crs import METRIC_CRS, STORAGE_CRS, get_transformer
from webmap.ledger.items import IssueItem
from webmap.ledger.vocabulary import (
    ILLUSTRATIVE_MARK,
    OTHER_ZONE_COLOR,
    RAG_COLORS,
    RAG_LEGEND,
    RAGS,
    SAMPLE_MARK,
    SHAPE_LABELS,
    ZONE_COLORS,
)
from webmap.render.captions import layer_lines
from webmap.render.legend import legend_items, status_shape
from webmap.render.snapshot.labels import LABEL_GID, Label, place_labels

DPI = 300
PAPER_PX = {"A4": (3508, 2480), "A3": (4961, 3508)}  # landscape at 300 dpi
MAP_RECT = (0.025, 0.10, 0.69, 0.76)  # left, bottom, width, height (figure fraction)
SIDE_RECT = (0.735, 0.10, 0.245, 0.76)
SIMPLIFY_M = 40.0
# the halo is drawn as a separate stroke-only copy so the label itself stays real PDF text
HALO = [patheffects.Stroke(linewidth=2.5, foreground="white")]
# a filled tick for 已销号 (matplotlib has no check marker)
CHECK = MplPath([(-0.7, 0.05), (-0.45, 0.3), (-0.2, 0.05), (0.45, 0.7), (0.7, 0.45), (-0.2, -0.45),
                 (-0.7, 0.05)], closed=True)  # fmt: skip
MARKERS = {
    "circle": "o",
    "triangle": "^",
    "square": "s",
    "diamond": "D",
    "star": "*",
    "check": CHECK,
}


@dataclass
class SnapshotSpec:
    """What the picture says about itself: title, filters, cut-off, query id and paper."""

    title: str
    description: str
    cutoff: str
    query_id: str
    size: str = "A4"
    focus: tuple[str, ...] = ()  # county codes framed (all counties when empty)
    basemap_stamp: str | None = None
    notes: list[str] = field(default_factory=list)


def metric_frame(layer):
    """Return a layer's frame in EPSG:4546, simplified for print (cached on the layer)."""
    key = "snapshot:metric"
    if key not in layer.cache:
        frame = layer.frame.to_crs(METRIC_CRS)
        frame["geometry"] = frame.geometry.simplify(SIMPLIFY_M, preserve_topology=True)
        layer.cache[key] = frame
    return layer.cache[key]


def new_figure(size: str) -> Figure:
    """Return an empty landscape page of the given paper size (A4 or A3)."""
    if size not in PAPER_PX:
        raise ValueError(f"纸张尺寸只能是 {'、'.join(PAPER_PX)}，收到“{size}”")
    w, h = PAPER_PX[size]
    return Figure(figsize=(w / DPI, h / DPI), dpi=DPI, facecolor="white")


def map_extent(
    counties, focus: tuple[str, ...], aspect: float
) -> tuple[float, float, float, float]:
    """Return (minx, maxx, miny, maxy) around the focus counties, padded to the axes' aspect."""
    frame = counties[counties["code"].isin(focus)] if focus else counties
    if frame.empty:
        frame = counties
    minx, miny, maxx, maxy = frame.total_bounds
    pad = 0.04 * max(maxx - minx, maxy - miny)
    minx, maxx, miny, maxy = minx - pad, maxx + pad, miny - pad, maxy + pad
    cx, cy, w, h = (minx + maxx) / 2, (miny + maxy) / 2, maxx - minx, maxy - miny
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    return cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2


def render_figure(spec: SnapshotSpec, items: list[IssueItem], layers, basemap=None) -> Figure:
    """Draw the whole snapshot page and return the figure (not yet saved)."""
    fig = new_figure(spec.size)
    w_px, h_px = PAPER_PX[spec.size]
    ax = fig.add_axes(MAP_RECT)
    aspect = (MAP_RECT[2] * w_px) / (MAP_RECT[3] * h_px)
    counties = metric_frame(layers.counties)
    extent = map_extent(counties, spec.focus, aspect)
    draw_map(ax, items, layers, extent, spec.focus, basemap)
    draw_scale_bar(ax, extent)
    draw_north_arrow(ax, extent)
    draw_header(fig, spec)
    draw_side_panel(fig.add_axes(SIDE_RECT), items, layers)
    draw_footer(fig, spec, layers, items, basemap)
    return fig


def draw_map(ax, items, layers, extent, focus=(), basemap=None) -> None:
    """Draw basemap, boundaries, protected areas, county names and issues on ``ax``."""
    minx, maxx, miny, maxy = extent
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if basemap is not None:
        ax.imshow(
            basemap.image, extent=basemap.extent, origin="upper", zorder=0, interpolation="nearest"
        )
    counties = metric_frame(layers.counties)
    if focus:
        counties[~counties["code"].isin(focus)].plot(
            ax=ax, color="#f2f2f2", edgecolor="#bbbbbb", linewidth=0.5, zorder=1
        )
    if layers.protected_areas is not None:
        _draw_protected_areas(ax, layers.protected_areas)
    counties.boundary.plot(ax=ax, color="#555555", linewidth=0.7, zorder=3)
    metric_frame(layers.city).boundary.plot(ax=ax, color="#222222", linewidth=1.6, zorder=3)
    labels = [Label(p.x, p.y, row.name, 11 if not focus else 14, "#333333", point=False,
                    zorder=4)
              for row in counties.itertuples() if not focus or row.code in focus
              for p in [row.geometry.representative_point()]]  # fmt: skip
    if layers.protected_areas is not None:
        labels += _protected_area_labels(layers.protected_areas)
    markers, issue_labels = _draw_items(ax, items, label=len(items) <= 40)
    draw_labels(ax, labels + issue_labels, extent, markers)
    ax.set_xlabel("")  # geopandas labels projected axes "Easting [metre]"; the scale bar says it
    ax.set_ylabel("")


def draw_labels(ax, labels: list[Label], extent, markers=()) -> None:
    """Place the labels without overlap (``labels.place_labels``) and draw them with halos."""
    pos = ax.get_position()
    size = (pos.width * ax.figure.get_figwidth() * 72, pos.height * ax.figure.get_figheight() * 72)
    for p in place_labels(labels, extent, size, obstacles=markers):
        lab = p.label
        arrow = {"arrowstyle": "-", "color": "#666666", "linewidth": 0.4} if p.leader else None
        for effects, gid in ((HALO, None), (None, LABEL_GID)):
            ax.annotate(lab.text, (lab.x, lab.y), xytext=(p.dx, p.dy), textcoords="offset points",
                        fontsize=lab.fontsize, color=lab.color, ha="center", va="center",
                        zorder=lab.zorder, path_effects=effects, annotation_clip=True,
                        arrowprops=arrow if gid else None, gid=gid)  # fmt: skip


def halo_text(ax, x, y, text: str, **kwargs) -> None:
    """Write a label with a white halo: a stroke-only copy under the plain (searchable) text."""
    ax.text(x, y, text, path_effects=HALO, clip_on=True, **kwargs)
    ax.text(x, y, text, clip_on=True, **kwargs)


def _draw_protected_areas(ax, layer) -> None:
    """Fill protected-area zones."""
    frame = metric_frame(layer)
    colors = frame["zone"].map(lambda z: ZONE_COLORS.get(z, OTHER_ZONE_COLOR))
    frame.plot(ax=ax, color=colors, alpha=0.35, edgecolor="#6a51a3", linewidth=0.3, zorder=2)


def _protected_area_labels(layer) -> list[Label]:
    """Return one label per area saying 示意 when the layer is illustrative (none otherwise)."""
    if layer.info.authoritative:
        return []
    key = "snapshot:area-points"  # unioning the zones of each area is the slow part; once
    if key not in layer.cache:
        frame = metric_frame(layer)
        layer.cache[key] = [(name, part.geometry.union_all().representative_point())
                            for name, part in frame.groupby("name")]  # fmt: skip
    return [Label(p.x, p.y, f"{name.removeprefix('湖南')}（{ILLUSTRATIVE_MARK}）", 6, "#54278f",
                  point=False, zorder=4) for name, p in layer.cache[key]]  # fmt: skip


def _to_metric():
    """Return the shared WGS84 -> EPSG:4546 transformer (lon, lat order)."""
    # building a pyproj Transformer costs ~0.15 s; the cached one is built once per process
    return get_transformer(STORAGE_CRS, METRIC_CRS)


def _draw_items(ax, items: list[IssueItem], label: bool):
    """Draw lines/polygons in their RAG colour and one status-shaped marker per issue.

    Returns the marker positions and the issue-number labels (when ``label``) to place.
    """
    import shapely

    tf = _to_metric()
    groups: dict[tuple[str, str], list[tuple[float, float]]] = {}
    markers, labels = [], []
    for item in items:
        geom = item.shape
        if geom is None:
            continue
        color = RAG_COLORS.get(item.rag, RAG_COLORS["none"])
        if item.geometry is not None:
            metric = shapely.transform(
                geom, lambda c: np.column_stack(tf.transform(c[:, 0], c[:, 1]))
            )
            _draw_extent(ax, metric, color)
        x, y = tf.transform(item.lon, item.lat)
        groups.setdefault((status_shape(item.status), item.rag), []).append((x, y))
        markers.append((x, y))
        if label:
            labels.append(Label(x, y, item.number, 5.5))
    for (shape, rag), pts in groups.items():
        xs, ys = zip(*pts, strict=True)
        ax.scatter(
            xs,
            ys,
            marker=MARKERS.get(shape, "o"),
            s=46 if shape != "star" else 80,
            c=RAG_COLORS.get(rag, RAG_COLORS["none"]),
            edgecolors="#111111",
            linewidths=0.5,
            zorder=6,
        )
    return markers, labels


def _draw_extent(ax, geom, color: str) -> None:
    """Draw a projected line or polygon issue outline."""
    parts = getattr(geom, "geoms", [geom])
    for part in parts:
        if part.geom_type == "Polygon":
            ax.add_patch(
                Polygon(
                    np.asarray(part.exterior.coords)[:, :2],
                    closed=True,
                    facecolor=color,
                    alpha=0.35,
                    edgecolor=color,
                    linewidth=1.2,
                    zorder=5,
                )
            )
        elif part.geom_type == "LineString":
            xy = np.asarray(part.coords)
            ax.plot(xy[:, 0], xy[:, 1], color=color, linewidth=1.8, zorder=5)


def nice_length(span_m: float) -> float:
    """Return a round scale-bar length near a fifth of the map width (1, 2 or 5 x 10^n metres).

    >>> nice_length(130_000), nice_length(40_000)
    (20000.0, 5000.0)
    """
    target = span_m / 5
    exp = 10 ** math.floor(math.log10(target))
    return float(max(m * exp for m in (1, 2, 5) if m * exp <= target))


def draw_scale_bar(ax, extent) -> None:
    """Draw a 4-segment scale bar in kilometres in the lower right of the map (EPSG:4546 metres)."""
    minx, maxx, miny, maxy = extent
    length = nice_length(maxx - minx)
    x0 = maxx - (maxx - minx) * 0.05 - length
    y0 = miny + (maxy - miny) * 0.04
    h = (maxy - miny) * 0.008
    ax.add_patch(
        Rectangle(
            (x0 - length * 0.08, y0 - h * 3.2),
            length * 1.3,
            h * 8.2,
            facecolor="white",
            alpha=0.8,
            edgecolor="none",
            zorder=8,
        )
    )
    for i in range(4):
        ax.add_patch(
            Rectangle(
                (x0 + i * length / 4, y0),
                length / 4,
                h,
                facecolor="#111111" if i % 2 == 0 else "white",
                edgecolor="#111111",
                linewidth=0.6,
                zorder=9,
            )
        )
    for frac in (0, 0.5, 1):
        km = length * frac / 1000
        ax.text(
            x0 + length * frac,
            y0 + h * 1.8,
            f"{km:g}",
            fontsize=7,
            ha="center",
            va="bottom",
            zorder=9,
        )
    ax.text(x0 + length * 1.12, y0 + h / 2, "公里", fontsize=7, ha="left", va="center", zorder=9)
    ax.text(
        x0 + length / 2,
        y0 - h * 1.2,
        "CGCS2000 / 3度带 CM111°E（EPSG:4546）",
        fontsize=5,
        ha="center",
        va="top",
        color="#444444",
        zorder=9,
    )


def north_angle(extent) -> float:
    """Return the angle (degrees, anticlockwise from grid up) of true north at the map centre."""
    minx, maxx, miny, maxy = extent
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    lon, lat = get_transformer(METRIC_CRS, STORAGE_CRS).transform(cx, cy)
    nx, ny = _to_metric().transform(lon, lat + 0.05)
    return math.degrees(math.atan2(-(nx - cx), ny - cy))


def draw_north_arrow(ax, extent) -> None:
    """Draw a north arrow pointing to true north in the upper right of the map."""
    minx, maxx, miny, maxy = extent
    size = (maxy - miny) * 0.06
    cx, cy = maxx - (maxx - minx) * 0.05, maxy - (maxy - miny) * 0.12
    a = math.radians(north_angle(extent))
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    left = np.array([[0, size], [-size * 0.35, -size * 0.45], [0, -size * 0.2]]) @ rot.T
    right = np.array([[0, size], [size * 0.35, -size * 0.45], [0, -size * 0.2]]) @ rot.T
    for half, face in ((left, "#111111"), (right, "white")):  # a dark and a light half
        ax.add_patch(Polygon(half + (cx, cy), closed=True, facecolor=face, edgecolor="#111111",
                             linewidth=0.6, zorder=9))  # fmt: skip
    tip = np.array([0, size * 1.35]) @ rot.T + (cx, cy)
    halo_text(ax, tip[0], tip[1], "北", fontsize=11, ha="center", va="center", zorder=9)


def draw_header(fig: Figure, spec: SnapshotSpec) -> None:
    """Write the title, the filter line and the cut-off / query identifier line."""
    fig.text(0.025, 0.955, spec.title, fontsize=20, ha="left", va="center")
    fig.text(
        0.025,
        0.915,
        f"筛选条件：{spec.description}",
        fontsize=10,
        ha="left",
        va="center",
        color="#333333",
    )
    fig.text(
        0.025,
        0.885,
        f"{spec.cutoff}    查询标识：{spec.query_id}",
        fontsize=9,
        ha="left",
        va="center",
        color="#333333",
    )


def rag_counts(items: list[IssueItem]) -> Counter:
    """Count the items by RAG class."""
    return Counter(item.rag for item in items)


def zone_legend(layer, limit: int = 8) -> list[tuple[str, str]]:
    """Return (zone, colour) for the zones of a protected-area layer, most common first."""
    zones = layer.frame["zone"].fillna("范围").astype(str).value_counts().index.tolist()
    return [(z, ZONE_COLORS.get(z, OTHER_ZONE_COLOR)) for z in zones[:limit]]


def draw_side_panel(ax, items: list[IssueItem], layers) -> None:
    """Draw the legend (RAG colours with counts, status shapes, layers) and the totals."""
    ax.axis("off")
    counts = rag_counts(items)
    rag_handles = [
        Line2D([], [], marker="o", linestyle="", markersize=8, markerfacecolor=RAG_COLORS[k],
               markeredgecolor="#111111", markeredgewidth=0.5)
        for k in RAGS
    ]  # fmt: skip
    rag_labels = [f"{RAG_LEGEND[k]}（{counts.get(k, 0)}）" for k in RAGS]
    first = ax.legend(rag_handles, rag_labels, title="颜色：预警等级（条数）", loc="upper left",
                      fontsize=8, title_fontsize=9, frameon=False, alignment="left")  # fmt: skip
    ax.add_artist(first)
    legend = legend_items()
    shape_of = {v: k for k, v in SHAPE_LABELS.items()}
    status_handles = [
        Line2D([], [], marker=MARKERS[shape_of[sym]], linestyle="", markersize=8,
               markerfacecolor="#bdbdbd", markeredgecolor="#111111", markeredgewidth=0.5)
        for sym, _ in legend["status"]
    ]  # fmt: skip
    second = ax.legend(status_handles, [label for _, label in legend["status"]],
                       title="形状：整改状态", loc="upper left", bbox_to_anchor=(0, 0.72),
                       fontsize=8, title_fontsize=9, frameon=False, alignment="left")  # fmt: skip
    ax.add_artist(second)
    layer_handles = [
        Line2D([], [], color="#222222", linewidth=1.6),
        Line2D([], [], color="#555555", linewidth=0.7),
    ]
    layer_labels = ["市界", "县（市、区）界"]
    pa = layers.protected_areas
    if pa is not None:
        suffix = "" if pa.info.authoritative else f"（{ILLUSTRATIVE_MARK}）"
        for zone, color in zone_legend(pa):
            layer_handles.append(Patch(facecolor=color, alpha=0.35, edgecolor="#6a51a3",
                                       linewidth=0.3))  # fmt: skip
            layer_labels.append(f"自然保护地·{zone}{suffix}")
    ax.legend(layer_handles, layer_labels, title="图层", loc="upper left",
              bbox_to_anchor=(0, 0.42), fontsize=8, title_fontsize=9, frameon=False,
              alignment="left")  # fmt: skip
    drawn = sum(1 for i in items if i.shape is not None)
    total = f"本图共 {len(items)} 条问题，已绘 {drawn} 条"
    if drawn < len(items):
        total += f"（{len(items) - drawn} 条无坐标）"
    ax.text(0, 0.06, total, fontsize=9, transform=ax.transAxes, va="top")


def draw_footer(fig: Figure, spec: SnapshotSpec, layers, items, basemap) -> None:
    """Write the basemap stamp (lower left), boundary source, 示意/示例 notes and watermark."""
    lines = []
    if basemap is not None:
        lines.append(basemap.stamp)
    lines += layer_lines(layers)
    if layers.protected_areas is not None and not layers.protected_areas.info.authoritative:
        lines.append("自然保护地范围为示意，不作为执法和审批依据")
    lines += spec.notes
    fig.text(
        0.025,
        0.088,
        "\n".join(lines),
        fontsize=7,
        ha="left",
        va="top",
        color="#333333",
        linespacing=1.4,
    )
    fig.text(
        0.98,
        0.02,
        f"yzmap 生成 · 查询标识 {spec.query_id}",
        fontsize=7,
        ha="right",
        va="bottom",
        color="#666666",
    )
    if any(item.is_sample for item in items):
        fig.text(
            0.37,
            0.47,
            SAMPLE_MARK,
            fontsize=120,
            color="#999999",
            alpha=0.18,
            rotation=20,
            ha="center",
            va="center",
            zorder=20,
        )
        fig.text(
            0.735,
            0.088,
            "示例：图中含示例数据（非真实台账）",
            fontsize=8,
            color="#b2182b",
            ha="left",
            va="top",
        )
