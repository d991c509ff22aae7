"""Third-party browser assets (Leaflet and its plugins) served from installed XStatic packages.

Government networks are often cut off from the internet, so no page may load anything from a CDN.
The files are not committed: they come from the ``xstatic-*`` PyPI packages listed in
``pyproject.toml`` and are served here under ``/vendor/<package>/<file>``.
"""

from __future__ import annotations

import importlib

from flask import Blueprint, abort, send_from_directory, url_for

bp = Blueprint("assets", __name__, url_prefix="/vendor")

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


def vendored_js() -> list[tuple[str, str]]:
    """Return (name, url) pairs of the scripts a map page needs, in load order."""
    return [(key, asset_url(pkg, fname)) for key, (pkg, fname) in JS.items()]


def vendored_css() -> list[tuple[str, str]]:
    """Return (name, url) pairs of the stylesheets a map page needs."""
    return [(key, asset_url(pkg, fname)) for key, (pkg, fname) in CSS.items()]


@bp.route("/<package>/<path:filename>")
def vendor(package, filename):
    """Serve one file of a vendored package (leaflet images included)."""
    if package not in PACKAGES:
        abort(404)
    return send_from_directory(package_dir(package), filename, max_age=86400)
