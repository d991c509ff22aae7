"""Template filters every page uses: times in Beijing time with the zone shown."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from webmap.ledger.vocabulary import geometry_name
from webmap.render.captions import beijing_time


def beijing(moment) -> str:
    """Show a stored (UTC) moment, or its ISO text, as Beijing time with the zone; "—" if none."""
    if not moment:
        return "—"
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            return moment  # not a time after all: show it as it is
    return beijing_time(moment)  # a naive moment is taken as UTC there, as stored


def geometry_label(kind: str | None) -> str:
    """Name a geometry type in Chinese (点, 线, 面…), never the GeoJSON word."""
    return geometry_name(kind)


def init_app(app: Flask) -> None:
    """Register the filters."""
    app.jinja_env.filters["beijing"] = beijing
    app.jinja_env.filters["geometry_label"] = geometry_label
