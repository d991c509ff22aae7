"""Overlap results on a map and on paper: the overlap map and the one-page sheet per site.

``build_sheet`` turns one site's ``geo.overlap`` rows into what the sheet shows (zone table,
distances, rules with their sources, data versions, 示意 when the boundaries are illustrative);
``render_sheet_pdf`` draws that on one A4 page with matplotlib and the packaged CJK font
(``webmap.render.snapshot.fonts``), text kept as text so it can be searched and copied. The web
maps use the Leaflet files the app serves (``MapAssets``), never a CDN. Relation words and the
version notes are the overlap report's (``webmap.render.overlap_report``).
"""

from __future__ import annotations

import textwrap

import folium
import shapely
import shapely.geometry
from markupsafe import escape

from geo.crs import METRIC_CRS
from webmap.ledger.vocabulary import (
    ILLUSTRATIVE_MARK,
    OTHER_ZONE_COLOR,
    RELATION_COLORS,
    RELATION_GROUPS,
    SCHEME_LABELS,
    ZONE_COLORS,
)
from webmap.render import maps
from webmap.render.captions import beijing_time
from webmap.render.maps import ILLUSTRATIVE_NOTE, MapAssets
from webmap.render.overlap_report import relation_group, relation_label, version_notes

SIMPLIFY_DEG = 0.00005  # about 5 m: zones stay faithful at sheet scale
_SEVERITY = ("inside", "partly", "buffer", "outside")


def filter_choices(rows) -> dict[str, list[str]]:
    """Return the protected areas and zones present in a result, for the filter form."""
    return {
        "pa": sorted({v for v in rows["protected_area"].dropna()}),
        "zone": sorted({v for v in rows["zone"].dropna()}),
    }


def _zone_features(layer) -> dict:
    """Return the zones as GeoJSON labelled by scheme (cached on the layer; escaped text)."""
    key = "site_sheet:zones"
    if key not in layer.cache:
        features = []
        for row in layer.frame.itertuples(index=False):
            if row.geometry is None or row.geometry.is_empty:
                continue
            geom = row.geometry.simplify(SIMPLIFY_DEG, preserve_topology=True)
            zone = row.zone if isinstance(row.zone, str) else "范围"
            scheme = SCHEME_LABELS.get(row.zone_scheme, str(row.zone_scheme or "未分区"))
            features.append(
                {
                    "type": "Feature",
                    "geometry": shapely.geometry.mapping(geom),
                    "properties": {
                        "name": str(escape(row.name)),
                        "zone": str(escape(zone)),
                        "level": str(escape(getattr(row, "level", "") or "")),
                        "scheme": scheme,
                    },
                }
            )
        layer.cache[key] = features
    return layer.cache[key]


def add_zones(m: folium.Map, layer) -> None:
    """Add one overlay per zone, named with its scheme and 示意 when illustrative."""
    by_zone: dict[tuple[str, str], list] = {}
    for f in _zone_features(layer):
        by_zone.setdefault((f["properties"]["scheme"], f["properties"]["zone"]), []).append(f)
    suffix = "" if layer.info.authoritative else f"（{ILLUSTRATIVE_MARK}）"
    for (scheme, zone), features in sorted(by_zone.items()):
        color = ZONE_COLORS.get(zone, OTHER_ZONE_COLOR)
        folium.GeoJson(
            {"type": "FeatureCollection", "features": features},
            name=f"{zone}·{scheme}{suffix}",
            style_function=lambda f, c=color: {
                "color": c,
                "weight": 1,
                "fillColor": c,
                "fillOpacity": 0.3,
            },
            tooltip=folium.GeoJsonTooltip(
                ["name", "level", "zone", "scheme"], aliases=["保护地", "级别", "分区", "分区体系"]
            ),
        ).add_to(m)
    if not layer.info.authoritative:
        maps.CornerNote(ILLUSTRATIVE_NOTE, "bottomright").add_to(m)


def _worst(rows) -> dict[int, str]:
    """Return site_index -> most severe relation group among its rows."""
    out: dict[int, str] = {}
    for index, relation in zip(rows["site_index"], rows["relation"], strict=True):
        group = relation_group(relation)
        current = out.get(int(index))
        if current is None or _SEVERITY.index(group) < _SEVERITY.index(current):
            out[int(index)] = group
    return out


def add_sites(m: folium.Map, sites, rows, sheet_url) -> None:
    """Add the sites that have rows in ``rows``, coloured by their most severe relation."""
    worst = _worst(rows)
    features = []
    for index, group in sorted(worst.items()):
        site = sites.iloc[index]
        label = escape(f"{site['site_id']} {site['site_name'] or ''}".strip())
        features.append(
            {
                "type": "Feature",
                "geometry": shapely.geometry.mapping(site.geometry),
                "properties": {
                    "site": str(label),
                    "relation": RELATION_GROUPS[group],
                    "color": RELATION_COLORS[group],
                    "sheet": f'<a href="{escape(sheet_url(index))}">单页报告</a>',
                },
            }
        )
    if not features:
        return
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name="站点",
        marker=folium.CircleMarker(radius=6, fill=True, fill_opacity=0.9, weight=1),
        style_function=lambda f: {
            "color": f["properties"]["color"],
            "weight": 1.5,
            "fillColor": f["properties"]["color"],
            "fillOpacity": 0.7,
        },
        popup=folium.GeoJsonPopup(["site", "relation", "sheet"], aliases=["站点", "关系", "报告"]),
    ).add_to(m)


def _fit(m: folium.Map, bounds) -> None:
    """Fit the map to (minx, miny, maxx, maxy) in degrees, padded a little."""
    minx, miny, maxx, maxy = bounds
    pad = max(maxx - minx, maxy - miny, 0.01) * 0.1
    m.fit_bounds([[miny - pad, minx - pad], [maxy + pad, maxx + pad]])


def build_overlap_map(sites, rows, layer, sheet_url, assets: MapAssets) -> folium.Map:
    """Build the overlap page map: zones by scheme, the sites in the table, layer control."""
    m = maps.new_map()
    add_zones(m, layer)
    add_sites(m, sites, rows, sheet_url)
    shown = sites.iloc[sorted(_worst(rows))] if len(rows) else sites.iloc[0:0]
    _fit(m, shown.total_bounds if len(shown) else layer.frame.total_bounds)
    folium.LayerControl(collapsed=False).add_to(m)
    maps.make_offline(m, assets)
    return m


def sheet_extent(site_geom, nearest_m: float | None) -> tuple[float, float, float, float]:
    """Return the sheet map window in EPSG:4546 (minx, maxx, miny, maxy): site plus context."""
    import geopandas as gpd

    metric = gpd.GeoSeries([site_geom], crs="EPSG:4326").to_crs(METRIC_CRS).iloc[0]
    reach = 1000.0 if nearest_m is None or nearest_m != nearest_m else nearest_m * 1.15
    pad = min(max(reach, 1000.0, max(*_size(metric)) * 0.3), 30000.0)
    minx, miny, maxx, maxy = metric.buffer(pad).bounds
    return minx, maxx, miny, maxy


def _size(geom) -> tuple[float, float]:
    """Return the width and height of a geometry's bounds."""
    minx, miny, maxx, maxy = geom.bounds
    return maxx - minx, maxy - miny


def build_sheet(site, rows, layer, provenance: dict) -> dict:
    """Collect what one site's sheet shows (``site``: one-row frame, ``rows``: its overlap rows)."""
    first = site.iloc[0]
    info = layer.info
    zone_rows = rows.to_dict("records")
    rules, seen = [], set()
    for r in zone_rows:
        if r["rule"] and (r["zone"], r["rule"]) not in seen:
            seen.add((r["zone"], r["rule"]))
            rules.append(
                {
                    "zone": r["zone"] or "外围保护地带",
                    "rule": r["rule"],
                    "source": r["rule_source"],
                    "confidence": r["rule_confidence"],
                }
            )
    nearest = rows["boundary_distance_m"].iloc[0] if len(rows) else None
    return {
        "site_id": str(first["site_id"]),
        "site_name": first["site_name"] or "",
        "category": first.get("category"),
        "geometry": first.geometry,
        "geom_type": first.geometry.geom_type,
        "rows": zone_rows,
        "rules": rules,
        "boundary_distance_m": None if nearest is None or nearest != nearest else float(nearest),
        "illustrative": not info.authoritative,
        "versions": version_notes(info, provenance),
        "generated": beijing_time(),
        "extent": sheet_extent(first.geometry, nearest),
    }


def build_sheet_map(site, layer, extent, assets: MapAssets) -> folium.Map:
    """Build the sheet's web map: zones, the site in red, framed like the PDF (``extent``)."""
    import geopandas as gpd

    m = maps.new_map()
    add_zones(m, layer)
    geom = site.geometry.iloc[0]
    folium.GeoJson(
        shapely.geometry.mapping(geom),
        name="站点",
        marker=folium.CircleMarker(radius=7, fill=True, fill_opacity=0.9),
        style_function=lambda f: {
            "color": "#b30000",
            "weight": 3,
            "fillColor": "#d7191c",
            "fillOpacity": 0.5,
        },
    ).add_to(m)
    minx, maxx, miny, maxy = extent
    box = gpd.GeoSeries([shapely.box(minx, miny, maxx, maxy)], crs=METRIC_CRS).to_crs("EPSG:4326")
    _fit(m, box.total_bounds)
    folium.LayerControl(collapsed=True).add_to(m)
    maps.make_offline(m, assets)
    return m


def _wrap(text: str, width: int) -> str:
    """Wrap Chinese text by characters (textwrap treats a CJK run as one word)."""
    return "\n".join(textwrap.wrap(str(text), width=width, break_long_words=True)) or "—"


def render_sheet_pdf(sheet: dict, layer, target) -> None:
    """Draw the sheet on one A4 portrait page and write it as PDF to ``target``."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    from webmap.render.snapshot.fonts import rc_params

    with matplotlib.rc_context(rc_params()):
        fig = Figure(figsize=(8.27, 11.69), facecolor="white")
        title = f"站点与自然保护地叠加单页报告：{sheet['site_name'] or sheet['site_id']}"
        fig.text(0.05, 0.965, title, fontsize=14, va="top")
        sub = f"站点编号 {sheet['site_id']}　几何 {sheet['geom_type']}　生成于 {sheet['generated']}"
        fig.text(0.05, 0.94, sub, fontsize=8, va="top", color="#444444")
        if sheet["illustrative"]:
            fig.text(0.95, 0.965, ILLUSTRATIVE_MARK, fontsize=16, color="#b30000", ha="right",
                     va="top")  # fmt: skip
            fig.text(
                0.95,
                0.94,
                "保护地边界为示意，不作为执法和审批依据",
                fontsize=8,
                color="#b30000",
                ha="right",
                va="top",
            )
        _draw_sheet_map(fig.add_axes((0.05, 0.56, 0.9, 0.37)), sheet, layer)
        _draw_sheet_text(fig.add_axes((0.05, 0.02, 0.9, 0.53)), sheet)
        with PdfPages(target, metadata={"Title": title, "Creator": "yzmap"}) as pdf:
            pdf.savefig(fig)


def _draw_sheet_map(ax, sheet: dict, layer) -> None:
    """Draw zones near the site and the site itself in EPSG:4546 with scale bar and north arrow."""
    import geopandas as gpd
    from matplotlib.patches import Patch

    from webmap.render.snapshot.draw import draw_north_arrow, draw_scale_bar, metric_frame

    extent = sheet["extent"]
    minx, maxx, miny, maxy = extent
    zones = metric_frame(layer).cx[minx:maxx, miny:maxy]
    handles = []
    for zone, part in zones.groupby(zones["zone"].fillna("范围")):
        color = ZONE_COLORS.get(zone, OTHER_ZONE_COLOR)
        part.plot(ax=ax, facecolor=color, edgecolor=color, alpha=0.45, linewidth=0.8)
        handles.append(Patch(facecolor=color, alpha=0.45, label=zone))
    site = gpd.GeoSeries([sheet["geometry"]], crs="EPSG:4326").to_crs(METRIC_CRS)
    if sheet["geom_type"] in ("Point", "MultiPoint"):
        site.plot(ax=ax, color="#d7191c", markersize=40, edgecolor="#222222", zorder=6)
    else:
        site.plot(ax=ax, facecolor="#d7191c55", edgecolor="#b30000", linewidth=1.6, zorder=6)
    handles.append(Patch(facecolor="#d7191c", label="站点"))
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.legend(handles=handles, loc="upper left", fontsize=7, framealpha=0.85)
    draw_scale_bar(ax, extent)
    draw_north_arrow(ax, extent)


def _draw_sheet_text(ax, sheet: dict) -> None:
    """Write the zone table, distances, rules and data versions below the map."""
    ax.axis("off")
    y = 0.99
    header = ("保护地", "级别", "分区", "关系", "重叠面积 m²", "占比", "距离 m")
    cells = [
        (
            r["protected_area"] or "—",
            r["level"] or "—",
            r["zone"] or "—",
            relation_label(r["relation"]),
            f"{r['overlap_m2']:,.2f}",
            f"{r['overlap_share']:.2%}",
            "—" if r["distance_m"] != r["distance_m"] else f"{r['distance_m']:,.2f}",
        )
        for r in sheet["rows"][:12]
    ]
    ax.text(0, y, "分区叠加", fontsize=10, va="top")
    n = max(len(cells), 1)
    height = 0.035 * (n + 1)
    table = ax.table(
        cellText=cells or [["—"] * 7],
        colLabels=header,
        cellLoc="left",
        bbox=(0, y - 0.04 - height, 1, height),
    )
    table.auto_set_font_size(False)
    table.set_fontsize(7)
    y -= 0.07 + height
    dist = sheet["boundary_distance_m"]
    ax.text(
        0,
        y,
        "距最近保护地边界：" + ("—" if dist is None else f"{dist:,.2f} m"),
        fontsize=8,
        va="top",
    )
    y -= 0.04
    ax.text(0, y, "适用规则", fontsize=10, va="top")
    y -= 0.035
    for rule in sheet["rules"][:4]:
        text = _wrap(
            f"【{rule['zone']}】{rule['rule']}"
            f"（依据：{rule['source']}；可信度 {rule['confidence']}）",
            62,
        )
        ax.text(0, y, text, fontsize=7, va="top")
        y -= 0.028 * (text.count("\n") + 1) + 0.01
    ax.text(0, y, "数据版本", fontsize=10, va="top")
    y -= 0.035
    for key, value in sheet["versions"]:
        text = _wrap(f"{key}：{value}", 70)
        ax.text(0, y, text, fontsize=7, va="top", color="#333333")
        y -= 0.024 * (text.count("\n") + 1)
