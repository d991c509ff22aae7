"""``/export.<fmt>``: the map view's 下载本视图数据 menu (xlsx, csv, GeoJSON, GPKG, KML, Shapefile).

The query string is the map page's own: filters go through ``webmap.web.args.issue_query`` (the
same ``IssueQuery`` and access scope as ``/``, ``/api/issues`` and ``/snapshot.png``), so a
county editor downloads their county only. Display options (basemap, measure) are ignored. The
file is written by ``webmap.render.ledger_export``, the exporter ``yzmap export-ledger`` uses.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from flask import Blueprint, request, send_file

from webmap.render.captions import query_id
from webmap.render.ledger_export import export_ledger
from webmap.web.args import issue_query, split_display
from webmap.web.context import get_session

bp = Blueprint("export", __name__)

# format -> (download suffix, media type); the Shapefile comes as a zip of its parts
DOWNLOADS = {
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "csv": ("csv", "text/csv; charset=utf-8"),
    "geojson": ("geojson", "application/geo+json"),
    "gpkg": ("gpkg", "application/geopackage+sqlite3"),
    "kml": ("kml", "application/vnd.google-earth.kml+xml"),
    "shp": ("shp.zip", "application/zip"),
}


@bp.route("/export.<any(xlsx, csv, geojson, gpkg, kml, shp):fmt>")
def export(fmt):
    """Send the issues of this query string (within the user's scope) as a ``fmt`` download."""
    filters, _ = split_display(request.args)
    query = issue_query(filters)
    suffix, mimetype = DOWNLOADS[fmt]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"export.{suffix}"
        count = export_ledger(get_session(), query, fmt, path)
        body = io.BytesIO(path.read_bytes())
    name = f"yzmap-{query_id(query)}.{suffix}"
    resp = send_file(body, mimetype=mimetype, as_attachment=True, download_name=name)
    resp.headers["X-Yzmap-Issue-Count"] = str(count)
    return resp
