"""Boundary layers for the app: loaded once per process into ``app.extensions['geo']``."""

from __future__ import annotations

from flask import Flask, current_app

from geo.boundaries import LayerSet, load_shipped


def init_app(app: Flask) -> None:
    """Register the layer holder; layers load on first use so start-up stays fast."""
    app.extensions["geo"] = {"layers": None}


def get_layers() -> LayerSet:
    """Return the layer set in use: shipped layers, with active imported versions in their place."""
    holder = current_app.extensions["geo"]
    if holder["layers"] is None:
        from webmap.ledger.boundaries import active_layers, store_root

        config = current_app.config
        shipped = load_shipped(config["BOUNDARIES_DIR"])
        # a test app never picks up layers imported into the real instance folder
        use_store = not current_app.testing or config.get("BOUNDARY_STORE_DIR")
        holder["layers"] = (active_layers(shipped, store_root(current_app.instance_path, config))
                            if use_store else shipped)
    return holder["layers"]


def set_layers(layers: LayerSet) -> None:
    """Replace the layer set in use (after an authoritative import)."""
    current_app.extensions["geo"]["layers"] = layers
