"""HTML pages."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("pages", __name__)


@bp.route("/")
def index():
    """Issue map (placeholder until the map issue lands)."""
    return render_template("pages/index.html")
