"""Overlap results on a map and on paper: the overlap map and the one-page sheet per site.

``build_sheet`` turns one site's ``geo.constraints`` rows into what the sheet shows (zone table
over every constraint layer, the constraints the site touches, distances, rules with their
sources, data versions and the layers not imported, 示意 when the boundaries are illustrative);
``render_sheet_pdf`` draws that on an A4 page with matplotlib and the packaged CJK font
(``webmap.render.snapshot.fonts``), text kept as text so it can be searched and copied; its
tables and notes wrap (``webmap.render.pdf_tables``) and go on on a second page, under the
table header, when a site touches more zones than one page holds. The web
maps use the Leaflet files the app serves (``MapAssets``), never a CDN. Relation words and the
version notes are the overlap report's (``webmap.render.overlap_report``).
"""

from __future__ import annotations

import folium
import shapely
import shapely.geometry
from markupsafe import escape

from geo.crs import METRIC_CRS
from webmap.ledger.vocabulary import (
    CONSTRAINT_TITLES,
    ILLUSTRATIVE_MARK,
    OTHER_ZONE_COLOR,
    RELATION_COLORS,
    RELATION_GROUPS,
    SCHEME_LABELS,
    ZONE_COLORS,
    geometry_name,
)
from webmap.render import maps, pdf_tables
from webmap.render.captions import beijing_time
from webmap.render.maps import ILLUSTRATIVE_NOTE, MapAssets
from webmap.render.overlap_report import (
    illustrative_layers,
    relation_group,
    relation_label,
    version_notes,
)

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
    title = CONSTRAINT_TITLES.get(layer.info.kind, "")
    for (scheme, zone), features in sorted(by_zone.items()):
        color = ZONE_COLORS.get(zone, OTHER_ZONE_COLOR)
        folium.GeoJson(
            {"type": "FeatureCollection", "features": features},
            name=f"{title}·{zone}{suffix}" if zone == scheme else f"{zone}·{scheme}{suffix}",
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


def _in_use(layers) -> list:
    """Return the constraint layers in use (protected areas first)."""
    return [layer for layer in layers.constraint_layers().values() if layer is not None]


def build_overlap_map(sites, rows, layers, sheet_url, assets: MapAssets) -> folium.Map:
    """Build the overlap page map: zones of every constraint layer, the sites, layer control."""
    m = maps.new_map()
    maps.add_county_outlines(m, layers)
    for layer in _in_use(layers):
        add_zones(m, layer)
    add_sites(m, sites, rows, sheet_url)
    shown = sites.iloc[sorted(_worst(rows))] if len(rows) else sites.iloc[0:0]
    _fit(m, shown.total_bounds if len(shown) else layers.city.frame.total_bounds)
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


def build_sheet(site, rows, layers, provenance: dict) -> dict:
    """Collect what one site's sheet shows (``site``: one-row frame, ``rows``: its overlap rows)."""
    first = site.iloc[0]
    zone_rows = rows.to_dict("records")
    rules, seen = [], set()
    for r in zone_rows:
        title = CONSTRAINT_TITLES.get(r.get("layer_kind"), "")
        if r["rule"] and (title, r["zone"], r["rule"]) not in seen:
            seen.add((title, r["zone"], r["rule"]))
            rules.append(
                {
                    "zone": f"{title}·{r['zone'] or '外围保护地带'}",
                    "rule": r["rule"],
                    "source": r["rule_source"],
                    "confidence": r["rule_confidence"],
                }
            )
    constraints = [
        {"kind": CONSTRAINT_TITLES.get(r["layer_kind"], r["layer_kind"]),
         "name": r["protected_area"], "zone": r["zone"] or "未分区",
         "share": r["overlap_share"], "relation": r["relation"]}
        for r in zone_rows if r["relation"] in ("inside", "partly inside")
    ]  # fmt: skip
    pa_rows = rows[rows["layer_kind"] == "protected_area"] if len(rows) else rows
    nearest = pa_rows["boundary_distance_m"].iloc[0] if len(pa_rows) else None
    return {
        "site_id": str(first["site_id"]),
        "site_name": first["site_name"] or "",
        "category": first.get("category"),
        "geometry": first.geometry,
        "geom_type": first.geometry.geom_type,
        "rows": zone_rows,
        "rules": rules,
        "constraints": constraints,
        "boundary_distance_m": None if nearest is None or nearest != nearest else float(nearest),
        "illustrative": illustrative_layers(layers),
        "versions": version_notes(layers, provenance),
        "generated": beijing_time(),
        "extent": sheet_extent(first.geometry, nearest),
    }


def build_sheet_map(site, layers, extent, assets: MapAssets) -> folium.Map:
    """Build the sheet's web map: zones, the site in red, framed like the PDF (``extent``)."""
    import geopandas as gpd

    m = maps.new_map()
    maps.add_county_outlines(m, layers, weight=1)
    for layer in _in_use(layers):
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


def render_sheet_pdf(sheet: dict, layers, target) -> None:
    """Draw the sheet on an A4 portrait page (more when its tables need) and write the PDF."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    from webmap.render.snapshot.fonts import rc_params

    with matplotlib.rc_context(rc_params()):
        fig = Figure(figsize=(8.27, 11.69), facecolor="white")
        title = f"站点与管控图层叠加单页报告：{sheet['site_name'] or sheet['site_id']}"
        fig.text(0.05, 0.965, title, fontsize=_title_size(title), va="top")
        shape = geometry_name(sheet["geom_type"])
        sub = f"站点编号 {sheet['site_id']}　图形 {shape}　生成于 {sheet['generated']}"
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
        _draw_sheet_map(fig.add_axes((0.05, 0.56, 0.9, 0.37)), sheet, layers)

        def more(n: int) -> Figure:
            """Start page ``n`` of the sheet."""
            page = Figure(figsize=(8.27, 11.69), facecolor="white")
            page.text(0.05, 0.965, f"{title}（续）", fontsize=12, va="top")
            page.text(0.95, 0.02, f"第 {n} 页", fontsize=7, color="#666666", ha="right")
            return page

        W, H = 8.27 * 72, 11.69 * 72
        flow = pdf_tables.Flow(fig, 0.545 * H, left=0.05 * W, width=0.9 * W, bottom=0.03 * H,
                               new_page=more, next_top=0.93 * H)  # fmt: skip
        _draw_sheet_text(flow, sheet)
        with PdfPages(target, metadata={"Title": title, "Creator": "yzmap"}) as pdf:
            for page in flow.pages:
                pdf.savefig(page)


def _title_size(title: str) -> float:
    """Return the largest font size (14 down to 9 pt) at which the title fits beside 示意."""
    size = 14.0
    while size > 9 and pdf_tables.text_width(title, size) > 0.8 * 8.27 * 72:
        size -= 0.5
    return size


def _draw_sheet_map(ax, sheet: dict, layers) -> None:
    """Draw zones near the site and the site itself in EPSG:4546 with scale bar and north arrow."""
    import geopandas as gpd
    from matplotlib.patches import Patch

    from webmap.render.snapshot.draw import draw_north_arrow, draw_scale_bar, metric_frame

    extent = sheet["extent"]
    minx, maxx, miny, maxy = extent
    handles = []
    for layer in _in_use(layers):
        zones = metric_frame(layer).cx[minx:maxx, miny:maxy]
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


def _draw_sheet_text(flow: pdf_tables.Flow, sheet: dict) -> None:
    """Set the constraints touched, the zone table, distances, rules and data versions."""
    flow.text("触及的管控要求", 10, keep=20)
    flow.space(3)
    for c in sheet.get("constraints", []):
        flow.text(f"{c['kind']}：{c['name']} {c['zone']}（{relation_label(c['relation'])}，"
                  f"占比 {c['share']:.2%}）", 7.5)  # fmt: skip
    if not sheet.get("constraints"):
        flow.text("站点不在任何已导入管控图层的范围内。", 7.5)
    flow.space(8)
    header = ["图层", "保护地/地块", "级别", "分区", "关系", "重叠面积 m²", "重叠长度 m", "占比",
              "距离 m"]  # fmt: skip
    cells = [
        [
            CONSTRAINT_TITLES.get(r.get("layer_kind"), r.get("layer_kind") or "—"),
            r["protected_area"] or "—",
            r["level"] or "—",
            r["zone"] or "—",
            relation_label(r["relation"]),
            f"{r['overlap_m2']:,.2f}",
            f"{r.get('overlap_length_m', 0.0):,.2f}",
            f"{r['overlap_share']:.2%}",
            "—" if r["distance_m"] != r["distance_m"] else f"{r['distance_m']:,.2f}",
        ]
        for r in sheet["rows"]
    ]
    flow.text("分区叠加", 10, keep=30)
    flow.space(3)
    flow.table(pdf_tables.Table(header, cells, 7, align=["left"] * 5 + ["right"] * 4))
    flow.space(8)
    dist = sheet["boundary_distance_m"]
    flow.text("距最近保护地边界：" + ("—" if dist is None else f"{dist:,.2f} m"), 8)
    flow.space(8)
    flow.text("适用规则", 10, keep=20)
    flow.space(3)
    for rule in sheet["rules"]:
        flow.text(f"【{rule['zone']}】{rule['rule']}（依据：{rule['source']}；"
                  f"可信度 {rule['confidence']}）", 7)  # fmt: skip
        flow.space(3)
    flow.space(5)
    flow.text("数据版本", 10, keep=20)
    flow.space(3)
    for key, value in sheet["versions"]:
        flow.text(f"{key}：{value}", 7, color="#333333")
