"""The issue map as the staff map page and the public page both build it.

A page gives the URLs its map reads (a page of issues in the column form, one issue for a popup,
the page to open), the fields its popups show and the per-county figures for the choropleth;
the map draws through ``static/map.js`` with the Leaflet files the app serves.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import current_app

from webmap.ledger.figures import CountyTally
from webmap.ledger.vocabulary import RAG_COLORS
from webmap.render import maps
from webmap.render.evidence import evidence_features
from webmap.render.legend import legend_items
from webmap.web.args import basemap_transform
from webmap.web.context import get_layers
from webmap.web.vendor import map_assets


def choropleth_figures(counties: list[CountyTally]) -> dict[str, dict]:
    """Return code -> total, completion rate and overdue count, as the choropleth shades them."""
    return {c.code: {"total": c.total, "rate": c.rate, "overdue": c.overdue}
            for c in counties if c.code}  # fmt: skip


GRID_DROPS = ("limit", "offset", "page", "after", "properties", "f")  # paging and format only


def grid_url(data_url: str) -> str | None:
    """Return the grid URL beside a collection's data URL, same filters (None for ``as_of``).

    A past ledger (``as_of``) is rebuilt issue by issue and has no grid: its map loads points.
    """
    parts = urlsplit(data_url)
    args = [(k, v) for k, v in parse_qsl(parts.query) if k not in GRID_DROPS]
    if any(k == "as_of" for k, _ in args):
        return None
    return f"{parts.path.rstrip('/')}/grid" + (f"?{urlencode(args)}" if args else "")


def issue_map(*, data_url: str, item_url: str, detail_url: str, popup_fields: list,
              counties: list[CountyTally], measure: str = "rate", basemap: str = "none",
              evidence=(), focus=(), view_points: bool = True) -> tuple[dict, dict]:  # fmt: skip
    """Build the issue map (``evidence``: (photo, issue) pairs); return its parts and legend.

    Beyond ``MAP_POINTS_LIMIT`` located issues the map draws the grid beside ``data_url``;
    ``view_points`` loads points for the view once it holds few enough (a collection whose
    items take a ``bbox``; the public one does not, as its sensitive points are generalised).
    """
    legend = legend_items()
    options = {
        "dataUrl": data_url,
        "gridUrl": grid_url(data_url),
        "pointsLimit": int(current_app.config["MAP_POINTS_LIMIT"]),
        "viewPoints": view_points,
        "itemUrl": item_url,
        "detailUrl": detail_url,
        "statusShapes": legend["shapes"],
        "ragColors": RAG_COLORS,
        "countElement": "drawn-count",
        "popupFields": popup_fields,
    }
    layers, stats = get_layers(), choropleth_figures(counties)
    features = evidence_features(evidence, basemap_transform(basemap))
    # the same role, filter and figures give the same page shell: Folium's build (~80 ms, under
    # the interpreter lock) runs once per distinct input, the issues themselves come from the API
    key = _cache_key(options, stats, measure, basemap, features, layers.versions(), list(focus))
    parts = _cached(key)
    if parts is None:
        m = maps.build_issue_map(
            layers=layers, issue_options=options, assets=map_assets(),
            county_stats=stats, measure=measure, basemap=basemap,
            settings=current_app.config, to_display=basemap_transform(basemap),
            evidence=features, focus=focus,
        )  # fmt: skip
        parts = _remember(key, maps.map_parts(m))
    return parts, legend


def _cache_key(*inputs) -> str:
    """Return a digest of everything a map page shell is built from."""
    text = json.dumps(inputs, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _cache() -> tuple[OrderedDict, threading.Lock]:
    """Return this app's map shell cache and its lock (one per worker process)."""
    return current_app.extensions.setdefault("map_cache", (OrderedDict(), threading.Lock()))


def _cached(key: str) -> dict | None:
    """Return the cached parts for ``key`` (marking them recently used), or None."""
    entries, lock = _cache()
    with lock:
        if key in entries:
            entries.move_to_end(key)
            return entries[key]
    return None


def _remember(key: str, parts: dict) -> dict:
    """Keep ``parts`` under ``key``, dropping the least recently used beyond ``MAP_CACHE_SIZE``."""
    entries, lock = _cache()
    with lock:
        entries[key] = parts
        while len(entries) > max(0, current_app.config["MAP_CACHE_SIZE"]):
            entries.popitem(last=False)
    return parts
