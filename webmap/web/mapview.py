"""The issue map as the staff map page and the public page both build it.

A page gives the URLs its map reads (a page of issues in the column form, one issue for a popup,
the page to open), the fields its popups show and the per-county figures for the choropleth;
the map draws through ``static/map.js`` with the Leaflet files the app serves.
"""

from __future__ import annotations

from flask import current_app

from webmap.ledger.figures import CountyTally
from webmap.ledger.vocabulary import RAG_COLORS
from webmap.render import maps
from webmap.render.legend import legend_items
from webmap.web.args import basemap_transform
from webmap.web.context import get_layers
from webmap.web.vendor import map_assets


def choropleth_figures(counties: list[CountyTally]) -> dict[str, dict]:
    """Return code -> total, completion rate and overdue count, as the choropleth shades them."""
    return {c.code: {"total": c.total, "rate": c.rate, "overdue": c.overdue}
            for c in counties if c.code}  # fmt: skip


def issue_map(*, data_url: str, item_url: str, detail_url: str, popup_fields: list,
              counties: list[CountyTally], measure: str = "rate",
              basemap: str = "none") -> tuple[dict, dict]:  # fmt: skip
    """Build the issue map; return its page parts and the legend."""
    legend = legend_items()
    options = {
        "dataUrl": data_url,
        "itemUrl": item_url,
        "detailUrl": detail_url,
        "statusShapes": legend["shapes"],
        "ragColors": RAG_COLORS,
        "countElement": "drawn-count",
        "popupFields": popup_fields,
    }
    m = maps.build_issue_map(
        layers=get_layers(), issue_options=options, assets=map_assets(),
        county_stats=choropleth_figures(counties), measure=measure, basemap=basemap,
        settings=current_app.config, to_display=basemap_transform(basemap),
    )  # fmt: skip
    return maps.map_parts(m), legend
