"""Third-party browser assets (Leaflet) served from installed XStatic packages.

Government networks are often cut off from the internet, so no page may load anything from a CDN.
The files are not committed: they come from the ``xstatic-*`` PyPI packages listed in
``pyproject.toml`` and are served under ``/vendor/<package>/<file>`` (``views/assets.py``).
"""

from __future__ import annotations

import importlib

from flask import url_for

from webmap.render.maps import MapAssets

# url name -> XStatic module; only what the pages use
PACKAGES = {
    "leaflet": "xstatic.pkg.leaflet",
    "markercluster": "xstatic.pkg.leaflet_markercluster",
}

# folium resource names -> (package, file); used to replace folium's CDN links
JS = {
    "leaflet": ("leaflet", "leaflet.js"),
    "markercluster": ("markercluster", "leaflet.markercluster.js"),
}
CSS = {
    "leaflet_css": ("leaflet", "leaflet.css"),
    "markercluster_css": ("markercluster", "MarkerCluster.css"),
}


def package_dir(name: str) -> str:
    """Return the data directory of the XStatic package served as ``name``."""
    module = importlib.import_module(PACKAGES[name])
    return module.BASE_DIR


def asset_url(name: str, filename: str) -> str:
    """Return the app URL of one vendored file."""
    return url_for("assets.vendor", package=name, filename=filename)


def map_assets() -> MapAssets:
    """Return the URLs of the scripts and stylesheets a map page needs, in load order."""
    return MapAssets(
        js=tuple((key, asset_url(pkg, fname)) for key, (pkg, fname) in JS.items()),
        css=tuple((key, asset_url(pkg, fname)) for key, (pkg, fname) in CSS.items()),
    )
