"""``/api``: the staff issue collection as GeoJSON (or the map's column form), one issue by number.

Served by the one items handler (``webmap.web.items``) that also serves the public collection,
through the reader's scope: a county editor's ``/api/issues`` holds only their county's issues.
"""

from __future__ import annotations

from flask import Blueprint

from webmap.ledger.collections import STAFF
from webmap.web.items import grid_response, item_response, items_response

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.route("/issues")
def issues():
    """A page of the issues the same page query shows (GeoJSON, or ``f=map`` columns)."""
    return items_response(STAFF, "api.issues")


@bp.route("/issues/<number>")
def issue(number):
    """One issue as a GeoJSON Feature (404 when absent or outside the caller's scope)."""
    return item_response(STAFF, number)


@bp.route("/issues/grid")
def issues_grid():
    """The same issues counted per grid cell (``zoom``, ``view``) for the map's overview."""
    return grid_response(STAFF)
