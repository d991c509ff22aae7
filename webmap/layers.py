"""Boundary layers for the app: loaded once per process into ``app.extensions['geo']``."""

from __future__ import annotations

from flask import Flask, current_app

from geo.boundaries import LayerSet, load_shipped


def init_app(app: Flask) -> None:
    """Register the layer holder; layers load on first use so start-up stays fast."""
    app.extensions["geo"] = {"layers": None}


def get_layers() -> LayerSet:
    """Return the layer set in use, loading the shipped layers the first time."""
    holder = current_app.extensions["geo"]
    if holder["layers"] is None:
        holder["layers"] = load_shipped(current_app.config["BOUNDARIES_DIR"])
    return holder["layers"]


def set_layers(layers: LayerSet) -> None:
    """Replace the layer set in use (after an authoritative import)."""
    current_app.extensions["geo"]["layers"] = layers
