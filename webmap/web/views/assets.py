"""``/vendor/<package>/<file>``: Leaflet files from installed XStatic packages (no CDN)."""

from __future__ import annotations

from flask import Blueprint, abort, send_from_directory

from webmap.web.vendor import PACKAGES, package_dir

bp = Blueprint("assets", __name__, url_prefix="/vendor")


@bp.route("/<package>/<path:filename>")
def vendor(package, filename):
    """Serve one file of a vendored package (leaflet images included)."""
    if package not in PACKAGES:
        abort(404)
    return send_from_directory(package_dir(package), filename, max_age=86400)
