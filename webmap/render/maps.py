"""Results -> ``folium.Map``; no request objects here.

This is the only module that swaps GeoJSON's (lon, lat) for Leaflet's [lat, lon]. Every map is
built with the Leaflet files the app serves (``MapAssets``, from ``webmap.web.vendor``): folium's
CDN links are replaced on each element, so a page never asks an outside host for anything unless
the user picks an online basemap. Colours, labels and marker shapes come from
``webmap.ledger.vocabulary``, as in every other output.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import branca.element
import folium
import folium.features
import numpy as np
import shapely
import shapely.geometry
from branca.element import MacroElement
from jinja2 import Template
from markupsafe import escape

from webmap.ledger.vocabulary import (
    CONSTRAINT_COLORS,
    CONSTRAINT_TITLES,
    ILLUSTRATIVE_MARK,
    OTHER_ZONE_COLOR,
    RAG_COLORS,
    ZONE_COLORS,
)
from webmap.render.basemaps import AMAP_URL, BASEMAPS, OSM_URL, TIANDITU_URL, basemap_note
from webmap.render.features import shift_geometry


class _Text:
    """Text without Jinja syntax standing in for its compiled template (renders as itself)."""

    def __init__(self, text: str):
        """Keep the text as Jinja would render it."""
        self.text = text

    def render(self, *args, **kwargs) -> str:
        """Return the text."""
        return self.text


_compiled = functools.lru_cache(maxsize=512)(Template)


def _element_template(source: str):
    """Return a template for ``branca.element.Element(source)``, compiling only when needed.

    folium wraps every rendered script in an ``Element``, which compiles it as a template again:
    for a map with embedded outlines that is 100+ KB of tokenising per page. Text without
    ``{{``, ``{%`` or ``{#`` renders as itself, with Jinja's newline rules (``\r\n`` -> ``\n``,
    one trailing newline dropped); compiled templates are immutable, so repeats are cached.
    """
    if "{{" in source or "{%" in source or "{#" in source:
        return _compiled(source)
    text = source.replace("\r\n", "\n").replace("\r", "\n")
    return _Text(text[:-1] if text.endswith("\n") else text)


branca.element.Template = _element_template
# folium's tooltips compile their style template again at every render
folium.features.Template = functools.lru_cache(maxsize=64)(folium.features.Template)

YONGZHOU_BOUNDS = ((24.6, 111.1), (26.9, 112.4))  # (south, west), (north, east) as Leaflet wants
# SVG paths of the marker glyphs in an 18 x 18 box: the body (filled with the RAG colour) and an
# optional white mark. ``static/map.js`` draws the issue layer from these (passed in its options)
# and the detail page draws its one marker from them, so both read the same as the legend.
GLYPH_SIZE = 18
GLYPH_PATHS = {
    "circle": ["M16 9A7 7 0 1 1 2 9A7 7 0 1 1 16 9Z"],
    "square": ["M2.5 2.5H15.5V15.5H2.5Z"],
    "triangle": ["M9 1.5L16.5 15.5L1.5 15.5Z"],
    "diamond": ["M9 1L17 9L9 17L1 9Z"],
    "star": ["M9 1L11.3 6.6L17 6.9L12.6 10.6L14 16.5L9 13.3L4 16.5L5.4 10.6L1 6.9L6.7 6.6Z"],
    "check": ["M16.5 9A7.5 7.5 0 1 1 1.5 9A7.5 7.5 0 1 1 16.5 9Z", "M5 9.5L8 12.5L13 6"],
}
SIMPLIFY_DEG = 0.0005  # about 50 m: plenty for a city-wide view, keeps boundary HTML small
ILLUSTRATIVE_NOTE = "自然保护地范围为示意，不作为执法和审批依据"


@dataclass(frozen=True)
class MapAssets:
    """Where the app serves Leaflet: (folium resource name, URL) pairs for scripts and styles."""

    js: tuple[tuple[str, str], ...] = ()
    css: tuple[tuple[str, str], ...] = ()


class IssueLayer(folium.map.Layer):
    """The issue points: compact pages from the API drawn on a canvas by ``static/map.js``."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = yzmap.issueLayer({{ this.options|tojson }});
        {% if this.show %}{{ this.get_name() }}.addTo({{ this._parent.get_name() }});{% endif %}
        {% endmacro %}
        """
    )

    def __init__(self, options: dict, name: str = "整改问题"):
        """Keep the options handed to ``yzmap.issueLayer`` in the browser."""
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "IssueLayer"
        self.options = options


class CornerNote(MacroElement):
    """A fixed note in a map corner (basemap source and 审图号, or the 示意 warning)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
          var c = L.control({position: {{ this.position|tojson }}});
          c.onAdd = function () {
            var d = L.DomUtil.create("div", "yz-corner-note");
            d.textContent = {{ this.text|tojson }};
            return d;
          };
          c.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, text: str, position: str = "bottomleft"):
        """Remember the text (set with textContent, so it is never parsed as HTML)."""
        super().__init__()
        self._name = "CornerNote"
        self.text = text
        self.position = position


class ScaleLegend(MacroElement):
    """A colour-scale legend on the map itself, so it is in view whatever the page's length.

    Built with DOM calls and ``textContent`` from (colour, label) pairs: nothing is parsed as HTML.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
          var c = L.control({position: "bottomleft"});
          c.onAdd = function () {
            var d = L.DomUtil.create("div", "yz-scale-legend");
            d.setAttribute("role", "img");
            d.setAttribute("aria-label", {{ this.summary|tojson }});
            var t = L.DomUtil.create("div", "yz-scale-title", d);
            t.textContent = {{ this.title|tojson }};
            {{ this.rows|tojson }}.forEach(function (row) {
              var r = L.DomUtil.create("div", "yz-scale-row", d);
              var s = L.DomUtil.create("span", "yz-scale-swatch", r);
              s.style.background = row[0];
              r.appendChild(document.createTextNode(row[1]));
            });
            return d;
          };
          c.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, title: str, rows: list[tuple[str, str]]):
        """Remember the title and the (colour, label) rows."""
        super().__init__()
        self._name = "ScaleLegend"
        self.title, self.rows = title, [list(r) for r in rows]
        self.summary = title + "：" + "，".join(label for _, label in rows)


class MapControls(MacroElement):
    """Plain map furniture: "Leaflet" attribution prefix (no flag icon) and a metric scale bar."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map) {
          if (map.attributionControl) map.attributionControl.setPrefix("Leaflet");
          L.control.scale({metric: true, imperial: false}).addTo(map);
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self):
        """Nothing to configure: every map gets the same controls."""
        super().__init__()
        self._name = "MapControls"


def glyph_svg(shape: str, color: str, size: int = GLYPH_SIZE) -> str:
    """Return an inline SVG of one marker glyph (the canvas layer's look) filled with ``color``."""
    body, *mark = GLYPH_PATHS.get(shape, GLYPH_PATHS["circle"])
    parts = [f'<path class="yz-glyph-body" d="{body}" fill="{escape(color)}" stroke="#222" '
             'stroke-width="1"/>']
    parts += [f'<path d="{d}" fill="none" stroke="#fff" stroke-width="2.2"/>' for d in mark]
    # no xmlns: inline SVG in HTML needs none, and no page names an outside host
    return (f'<svg width="{size}" height="{size}" '
            f'viewBox="0 0 {GLYPH_SIZE} {GLYPH_SIZE}" aria-hidden="true">{"".join(parts)}</svg>')


def make_offline(element: folium.Element, assets: MapAssets) -> None:
    """Point folium's JS/CSS links of ``element`` and its children at the app's own copies."""
    for child in [element, *_descendants(element)]:
        if hasattr(child, "default_js"):
            child.default_js = [js for js in assets.js if _wants(child, js[0])]
        if hasattr(child, "default_css"):
            child.default_css = [css for css in assets.css if _wants(child, css[0])]


def _wants(element: folium.Element, resource: str) -> bool:
    """Say whether an element needs a vendored resource: Leaflet only.

    The issue layer draws and clusters on its own canvas (``static/map.js``), so no page loads
    Leaflet.markercluster any more.
    """
    return resource.startswith("leaflet")


def _descendants(element: folium.Element) -> Iterable[folium.Element]:
    """Yield every child element, depth first."""
    for child in element._children.values():
        yield child
        yield from _descendants(child)


def new_map(height: str = "100%", bounds=YONGZHOU_BOUNDS) -> folium.Map:
    """Return an empty map fitted to ``bounds`` ([south, west], [north, east]), no outside links."""
    m = folium.Map(tiles=None, location=None, zoom_start=8, control_scale=False,
                   prefer_canvas=True, height=height)
    # without tiles nothing sets maxZoom; the issue layer unclusters and zooms clusters up to it.
    # Quarter zoom steps let the city fill the window instead of a whole level smaller.
    m.options.update(maxZoom=18, minZoom=5, zoomSnap=0.25)
    MapControls().add_to(m)
    m.fit_bounds(bounds, padding=(10, 10))
    return m


def city_bounds(layers, to_display=None,
                counties=()) -> tuple[tuple[float, float], tuple[float, float]]:  # fmt: skip
    """Return the city's extent, or the given counties' (codes), as Leaflet bounds.

    A map filtered to some counties opens on them; bounds are shifted like the overlays.
    """
    frame = layers.counties.frame
    chosen = frame[frame["code"].isin(list(counties))] if counties else frame.iloc[:0]
    if len(chosen):
        minx, miny, maxx, maxy = chosen.total_bounds
    else:
        layer = layers.city if getattr(layers, "city", None) is not None else layers.counties
        minx, miny, maxx, maxy = layer.frame.total_bounds
    if to_display is not None:
        (minx, maxx), (miny, maxy) = (np.asarray(v, dtype=float) for v in
                                      to_display(np.array([minx, maxx]), np.array([miny, maxy])))
    return (float(miny), float(minx)), (float(maxy), float(maxx))


def add_basemap(m: folium.Map, key: str, settings: Mapping) -> str | None:
    """Add the chosen basemap and its source/审图号 note; return the note text or None."""
    spec = BASEMAPS[key]
    provider = spec.get("provider")
    if provider is None:
        return None
    if provider == "tianditu":
        for layer in spec["layers"]:
            url = TIANDITU_URL % (layer, settings.get("TIANDITU_KEY") or "")
            folium.TileLayer(url, subdomains="01234567", attr="天地图", name=spec["label"],
                             control=False, max_zoom=18).add_to(m)  # fmt: skip
    elif provider == "amap":
        folium.TileLayer(AMAP_URL, subdomains="1234", attr="高德地图", name=spec["label"],
                         control=False, max_zoom=18).add_to(m)  # fmt: skip
    else:
        folium.TileLayer(OSM_URL, attr="© OpenStreetMap 贡献者", name=spec["label"],
                         control=False, max_zoom=19).add_to(m)  # fmt: skip
    note = basemap_note(key, settings, shifted=provider == "amap")
    CornerNote(note).add_to(m)
    return note


_GEOJSON_CACHE: dict = {}


def frame_to_geojson(frame, columns: Iterable[str], to_display=None) -> dict:
    """Return a layer as small GeoJSON, cached: layers change only on import, maps often."""
    columns = tuple(columns)
    key = (id(frame), columns, to_display)
    hit = _GEOJSON_CACHE.get(key)
    if hit is None or hit[0] is not frame:  # the frame itself is kept, so its id is not reused
        hit = _GEOJSON_CACHE[key] = (frame, _build_geojson(frame, columns, to_display))
    return _copy_json(hit[1])


def _copy_json(value):
    """Copy GeoJSON's dicts and lists for folium to change, sharing its immutable tuples.

    ``copy.deepcopy`` also walked every coordinate tuple: ~60 ms of each issue page went there.
    """
    if isinstance(value, dict):
        return {k: _copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_json(v) for v in value]
    return value  # str, numbers, None and coordinate tuples (of floats) cannot be changed


def _build_geojson(frame, columns: tuple[str, ...], to_display=None) -> dict:
    """Turn a GeoDataFrame into a small GeoJSON dict: simplified, escaped text, chosen columns."""
    features = []
    for row in frame.itertuples(index=False):
        geom = row.geometry
        if geom is None or geom.is_empty:
            continue
        geom = shift_geometry(geom.simplify(SIMPLIFY_DEG, preserve_topology=True), to_display)
        props = {}
        for col in columns:
            value = getattr(row, col, None)
            # folium popups and tooltips are HTML: escape layer text (imported files are user data)
            props[col] = str(escape(value)) if isinstance(value, str) else _plain(value)
        features.append({"type": "Feature", "geometry": shapely.geometry.mapping(geom),
                         "properties": props})
    return {"type": "FeatureCollection", "features": features}


def _plain(value):
    """Return a JSON-friendly scalar (pandas NA and numpy numbers become plain Python)."""
    if value is None:
        return None
    try:
        if value != value:  # NaN / NA
            return None
    except (TypeError, ValueError):
        return None
    return value.item() if hasattr(value, "item") else value


def add_county_outlines(m: folium.Map, layers, to_display=None, weight: float = 1.5) -> None:
    """Add the county outlines, named on hover: every map has them, to tell where things are."""
    counties = frame_to_geojson(layers.counties.frame, ("code", "name"), to_display)
    folium.GeoJson(counties, name=_layer_name("县（市、区）界", layers.counties),
                   style_function=lambda f: {"color": "#444", "weight": weight, "fill": False},
                   tooltip=folium.GeoJsonTooltip(["name"], labels=False)).add_to(m)


def add_boundaries(m: folium.Map, layers, to_display=None) -> None:
    """Add county, township and protected-area outlines as switchable overlays."""
    add_county_outlines(m, layers, to_display)
    if layers.townships is not None:
        towns = frame_to_geojson(layers.townships.frame, ("code", "name"), to_display)
        folium.GeoJson(towns, name=_layer_name("乡镇（街道）界", layers.townships), show=False,
                       style_function=lambda f: {"color": "#888", "weight": 0.7, "fill": False,
                                                 "dashArray": "3 3"},
                       tooltip=folium.GeoJsonTooltip(["name"], labels=False)).add_to(m)
    if layers.protected_areas is not None:
        add_protected_areas(m, layers.protected_areas, to_display)
    for kind in ("water_source", "redline", "farmland"):
        layer = getattr(layers, kind, None)
        if layer is not None:
            add_constraint_layer(m, layer, to_display)


def add_constraint_layer(m: folium.Map, layer, to_display=None) -> None:
    """Add an imported constraint layer (water-source zones, red line, farmland) as one overlay."""
    frame = layer.frame
    data = frame_to_geojson(frame, ("name", "zone"), to_display)
    title = CONSTRAINT_TITLES.get(layer.info.kind, layer.info.kind)
    folium.GeoJson(
        data, name=_layer_name(title, layer), show=False,
        style_function=lambda f: {"color": CONSTRAINT_COLORS.get(layer.info.kind, OTHER_ZONE_COLOR),
                                  "weight": 1,
                                  "fillColor": ZONE_COLORS.get(f["properties"]["zone"],
                                                               OTHER_ZONE_COLOR),
                                  "fillOpacity": 0.3},
        tooltip=folium.GeoJsonTooltip(["name", "zone"], aliases=["名称", "分区"]),
    ).add_to(m)


def add_protected_areas(m: folium.Map, layer, to_display=None) -> None:
    """Add one overlay per protected-area zone, labelled 示意 when the layer is illustrative."""
    frame = layer.frame
    zones = frame["zone"].fillna("范围").astype(str)
    for zone in sorted(zones.unique()):
        part = frame[zones == zone]
        data = frame_to_geojson(part, ("name", "zone"), to_display)
        color = ZONE_COLORS.get(zone, OTHER_ZONE_COLOR)
        folium.GeoJson(
            data, name=_layer_name(f"自然保护地·{zone}", layer), show=False,
            style_function=lambda f, c=color: {"color": c, "weight": 1, "fillColor": c,
                                               "fillOpacity": 0.3},
            tooltip=folium.GeoJsonTooltip(["name", "zone"], aliases=["保护地", "分区"]),
        ).add_to(m)
    if not layer.info.authoritative:
        CornerNote(ILLUSTRATIVE_NOTE, "bottomright").add_to(m)


def _layer_name(title: str, layer) -> str:
    """Return a layer-control title, marked 示意 for an illustrative layer."""
    return title if layer.info.authoritative else f"{title}（{ILLUSTRATIVE_MARK}）"


def choropleth_color(value: float | None, measure: str, top: float = 1.0) -> str:
    """Return the fill colour of a county for a completion rate (0..1) or an overdue count."""
    if value is None:
        return "#f0f0f0"
    palette = (["#fee5d9", "#fcae91", "#fb6a4a", "#cb181d"] if measure == "overdue"
               else ["#eff3ff", "#bdd7e7", "#6baed6", "#2171b5"])
    share = value / top if measure == "overdue" and top else value
    return palette[min(int(share * 4), 3)] if share > 0 else palette[0]


def choropleth_scale(measure: str, top: float = 1.0) -> list[tuple[str, str]]:
    """Return the (colour, label) classes of the choropleth, as ``choropleth_color`` draws them.

    >>> [label for _, label in choropleth_scale("rate")]
    ['无问题', '0–25%', '25–50%', '50–75%', '75–100%']
    >>> [label for _, label in choropleth_scale("overdue", 8)]
    ['0–1', '2–3', '4–5', '6–8']
    """
    if measure != "overdue":  # a county with no issues has no rate: grey
        rates = [(choropleth_color(i / 4 + 0.01, measure), f"{i * 25}–{(i + 1) * 25}%")
                 for i in range(4)]  # fmt: skip
        return [(choropleth_color(None, measure), "无问题"), *rates]
    top = max(int(top), 1)
    groups: dict[str, list[int]] = {}
    for value in range(top + 1):
        groups.setdefault(choropleth_color(value, measure, top), []).append(value)
    return [(c, f"{v[0]}–{v[-1]}" if len(v) > 1 else str(v[0])) for c, v in groups.items()]


def add_choropleth(m: folium.Map, counties, stats: dict, measure: str = "rate",
                   to_display=None) -> None:
    """Shade counties by completion rate or overdue count (``stats``: code -> dict)."""
    data = frame_to_geojson(counties.frame, ("code", "name"), to_display)
    top = max((s.get("overdue", 0) for s in stats.values()), default=0) or 1
    title = "完成率" if measure == "rate" else "逾期数"
    for f in data["features"]:
        s = stats.get(f["properties"]["code"], {})
        value = s.get("rate") if measure == "rate" else s.get("overdue", 0)
        f["properties"]["value"] = ("—" if value is None else
                                    f"{value:.0%}" if measure == "rate" else str(value))
        f["properties"]["fill"] = choropleth_color(value, measure, top)
        f["properties"]["total"] = s.get("total", 0)
    folium.GeoJson(
        data, name=f"分县{title}", show=True, overlay=True,
        style_function=lambda f: {"fillColor": f["properties"]["fill"], "fillOpacity": 0.55,
                                  "color": "#555", "weight": 0.8},
        tooltip=folium.GeoJsonTooltip(["name", "value", "total"], aliases=["县", title, "问题数"]),
    ).add_to(m)
    ScaleLegend(f"分县{title}", choropleth_scale(measure, top)).add_to(m)


def add_evidence_layer(m: folium.Map, data: dict, *, show: bool) -> None:
    """Add the evidence layer: photo points and photo-to-site lines coloured by verdict."""
    folium.GeoJson(
        data, name="现场照片核验", show=show,
        style_function=lambda f: {"color": f["properties"]["color"], "weight": 2,
                                  "dashArray": "4 4", "fillColor": f["properties"]["color"],
                                  "fillOpacity": 0.9},
        marker=folium.CircleMarker(radius=6, weight=1),
        tooltip=folium.GeoJsonTooltip(["label"], labels=False),
    ).add_to(m)


def build_issue_map(*, layers, issue_options: dict, assets: MapAssets,
                    county_stats: dict | None = None, measure: str = "rate", basemap: str = "none",
                    settings: Mapping | None = None, to_display=None,
                    evidence: dict | None = None, focus=()) -> folium.Map:
    """Build the issue map: basemap, boundaries, choropleth, issue layer and layer control.

    ``focus`` (county codes) is where the map opens: a view filtered to a county zooms to it.
    """
    m = new_map(bounds=city_bounds(layers, to_display, focus))
    add_basemap(m, basemap, settings or {})
    if county_stats is not None:
        add_choropleth(m, layers.counties, county_stats, measure, to_display)
    add_boundaries(m, layers, to_display)
    if evidence and evidence["features"]:
        add_evidence_layer(m, evidence, show=False)
    IssueLayer({**issue_options, "glyphs": GLYPH_PATHS}).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    make_offline(m, assets)
    return m


def build_detail_map(geometry: dict | None, *, assets: MapAssets, layers=None, to_display=None,
                     rag: str = "none", shape: str = "circle", label: str = "",
                     evidence: dict | None = None) -> folium.Map:
    """Build the small map of one issue: its point, line or polygon over county outlines.

    The issue is drawn in its own RAG colour and, for a point, its status glyph (``shape`` from
    ``status_shapes``), as on the issue map and in its legend; ``label`` is the marker tooltip.
    """
    m = new_map()
    color = RAG_COLORS.get(rag, RAG_COLORS["none"])
    if layers is not None:
        add_county_outlines(m, layers, to_display, weight=1)
    if geometry:
        geom = shift_geometry(shapely.geometry.shape(geometry), to_display)
        if geom.geom_type == "Point":
            size = GLYPH_SIZE + 6
            icon = folium.DivIcon(html=glyph_svg(shape, color, size), icon_size=(size, size),
                                  icon_anchor=(size // 2, size // 2),
                                  class_name=f"yz-mk yz-rag-{rag} yz-shape-{shape}")
            folium.Marker([geom.y, geom.x], icon=icon, tooltip=label or None).add_to(m)
            m.fit_bounds([[geom.y - 0.05, geom.x - 0.05], [geom.y + 0.05, geom.x + 0.05]])
        else:
            folium.GeoJson(shapely.geometry.mapping(geom),
                           style_function=lambda f: {"color": color, "weight": 3,
                                                     "fillOpacity": 0.25}).add_to(m)
            minx, miny, maxx, maxy = geom.bounds
            m.fit_bounds([[miny, minx], [maxy, maxx]])
    if evidence and evidence["features"]:
        add_evidence_layer(m, evidence, show=True)
        folium.LayerControl(collapsed=True).add_to(m)
        shapes = [shapely.geometry.shape(f["geometry"]) for f in evidence["features"]]
        if geometry:
            shapes.append(shift_geometry(shapely.geometry.shape(geometry), to_display))
        minx, miny, maxx, maxy = shapely.GeometryCollection(shapes).buffer(0.01).bounds
        m.fit_bounds([[miny, minx], [maxy, maxx]])  # the site and every geotagged photo
    make_offline(m, assets)
    return m


def map_parts(m: folium.Map) -> dict[str, str]:
    """Render a map into the header, body and script parts a page template places."""
    root = m.get_root()
    root.render()
    return {"header": root.header.render(), "html": root.html.render(),
            "script": root.script.render()}
