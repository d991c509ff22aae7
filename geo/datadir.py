"""Where the shipped boundary data lives: inside the installed package, or in the repo checkout.

The repo keeps ``data/boundaries/`` at the top (the source of truth, rebuilt by
``scripts/build_boundaries.py`` and ``scripts/build_gazetteer.py``); a wheel carries the same
files as package data under ``geo/shipped/`` (``setup.py`` maps the folder there). Every reader
of shipped data takes its path from here.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["SHIPPED_DIR", "shipped_dir"]

_HERE = Path(__file__).resolve().parent


def shipped_dir() -> Path:
    """Return the folder of shipped boundary data: the installed copy, else the checkout's."""
    installed = _HERE / "shipped"
    # an installed wheel has geo/shipped/layers.json; a checkout has data/boundaries/ beside geo/
    if (installed / "layers.json").is_file():
        return installed
    return _HERE.parent / "data" / "boundaries"


SHIPPED_DIR = shipped_dir()
