"""``/overlap``: ledger issues and uploaded sites against the protected-area zones in use.

Ledger issues reach the overlap through the shared ``IssueQuery`` (and so the access scope);
uploaded site sets (any import format or a lon/lat CSV) are kept as a small GeoPackage in the
upload area under their token and overlapped against the active layer on each view. The table's
filters (protected area, zone, relation) live in the URL, and each export carries exactly the
filtered rows. Every site has a one-page sheet as HTML and PDF (``webmap.render.site_sheet``).
"""

from __future__ import annotations

import io
import json
import re
import shutil
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
from flask import Blueprint, abort, redirect, render_template, request, send_file, url_for
from shapely.geometry import Point
from werkzeug.datastructures import MultiDict

from geo.errors import CRSNeedsConfirmation, GeoError
from geo.importer import read_sites_file
from geo.overlap import COLUMNS, overlap_issue_geometries, overlap_sites
from webmap.ledger import db
from webmap.ledger.access import requires
from webmap.render import site_sheet
from webmap.web import uploads as upload_area
from webmap.web.context import get_layers
from webmap.web.views import api
from webmap.web.views.boundaries import BOUNDARY_SUFFIXES

bp = Blueprint("overlap", __name__)

ACTION = "layers.manage"  # the reserve team and admins (webmap.ledger.access)
SITE_SUFFIXES = (*BOUNDARY_SUFFIXES, ".csv")
SITE_COLUMN_GUESSES = {
    "site_id": ("site_id", "id", "编号", "代码", "code"),
    "site_name": ("site_name", "name", "名称", "项目名称", "站点名称"),
    "category": ("category", "类别", "类型"),
}
OVERLAP_FILTERS = ("pa", "zone", "relation")
EXPORT_COLUMNS = [c for c in COLUMNS if c != "site_index"]
ROUNDING = {
    "overlap_m2": 2,
    "overlap_length_m": 2,
    "distance_m": 2,
    "boundary_distance_m": 2,
    "overlap_share": 6,
}  # same as ``yzmap overlap``: cm and 1e-6 of a share
TABLE_LIMIT = 2000  # rows drawn in HTML; exports always carry every filtered row


# ---------------------------------------------------------------- overlap table


def split_filters(args: MultiDict) -> tuple[MultiDict, dict]:
    """Take the table filters (pa, zone, relation) off; the rest are ledger (IssueQuery) filters."""
    rest = MultiDict((k, v) for k, v in args.items(multi=True) if k not in OVERLAP_FILTERS)
    chosen = {k: [v for v in args.getlist(k) if v] for k in OVERLAP_FILTERS}
    for value in chosen["relation"]:
        if value not in site_sheet.RELATION_GROUPS:
            abort(
                400,
                f"参数 relation 的值“{value}”无效：可选值为 "
                f"{'、'.join(site_sheet.RELATION_GROUPS)}",
            )
    return rest, chosen


def filter_rows(rows: pd.DataFrame, chosen: dict) -> pd.DataFrame:
    """Keep the rows matching every chosen protected area, zone and relation group."""
    keep = pd.Series(True, index=rows.index)
    if chosen["pa"]:
        keep &= rows["protected_area"].isin(chosen["pa"])
    if chosen["zone"]:
        keep &= rows["zone"].isin(chosen["zone"])
    if chosen["relation"]:
        keep &= rows["relation"].map(site_sheet.relation_group).isin(chosen["relation"])
    return rows[keep].reset_index(drop=True)


def protected_layer():
    """Return the protected-area layer in use, or a Chinese 404 when there is none."""
    layer = get_layers().protected_areas
    if layer is None:
        abort(404, "没有保护地图层：请先上传自然保护地边界")
    return layer


def issue_sites(ledger_args: MultiDict, number: str | None = None) -> gpd.GeoDataFrame:
    """Return the located ledger issues in view (IssueQuery + scope) as WGS84 sites."""
    query = api.issue_query(ledger_args)
    session = db.get_session()
    stmt = query.select(session)
    if number is not None:
        from webmap.ledger.models import Issue

        stmt = stmt.where(Issue.number == number)
    ids, names, cats, geoms = [], [], [], []
    for issue in session.scalars(stmt):
        geom = issue.geometry
        if (geom is None or geom.is_empty) and issue.lon is not None and issue.lat is not None:
            geom = Point(issue.lon, issue.lat)
        if geom is None or geom.is_empty:
            continue  # unlocated issues cannot be overlapped
        ids.append(issue.number)
        names.append(issue.title)
        cats.append(issue.category)
        geoms.append(geom)
    return gpd.GeoDataFrame(
        {"site_id": ids, "site_name": names, "category": cats}, geometry=geoms, crs="EPSG:4326"
    )


def issue_rows(sites: gpd.GeoDataFrame, layer) -> pd.DataFrame:
    """Overlap issue sites via ``overlap_issue_geometries`` (site_index = row of ``sites``)."""
    geoms = dict(zip(sites["site_id"], sites.geometry, strict=True))
    rows = overlap_issue_geometries(
        geoms,
        layer,
        names=dict(zip(sites["site_id"], sites["site_name"], strict=True)),
        categories=dict(zip(sites["site_id"], sites["category"], strict=True)),
    )
    return rows.round(ROUNDING)


def load_site_set(token: str) -> tuple[gpd.GeoDataFrame, dict]:
    """Return an uploaded site set and its metadata."""
    folder = upload_area.token_dir("sites", token)
    if not (folder / "sites.gpkg").is_file():
        abort(404, f"上传编号“{token}”的站点尚未导入")
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    return gpd.read_file(folder / "sites.gpkg"), meta


def site_rows(sites: gpd.GeoDataFrame, layer) -> pd.DataFrame:
    """Overlap an uploaded site set against the layer in use, rounded like the CLI report."""
    return overlap_sites(sites, layer).round(ROUNDING)


def _overlap_page(
    rows,
    sites,
    layer,
    chosen,
    *,
    title,
    export_endpoint,
    export_args,
    sheet_url,
    provenance,
    status=200,
):
    """Render the map, filters and filtered table of one overlap result."""
    shown = filter_rows(rows, chosen)
    m = site_sheet.build_overlap_map(sites, shown, layer, sheet_url)
    return render_template(
        "overlap/index.html",
        title=title,
        rows=shown.head(TABLE_LIMIT).to_dict("records"),
        total=len(shown),
        limit=TABLE_LIMIT,
        map=site_sheet.map_parts(m),
        chosen=chosen,
        choices=site_sheet.filter_choices(rows),
        relation_labels=site_sheet.RELATION_GROUPS,
        info=layer.info,
        scheme_labels=site_sheet.SCHEME_LABELS,
        label=site_sheet.relation_label,
        exports={fmt: url_for(export_endpoint, fmt=fmt, **export_args) for fmt in EXPORTS},
        sheet_url=sheet_url,
        provenance=provenance,
        site_count=len(sites),
    ), status


EXPORTS = ("csv", "xlsx", "geojson")


@bp.route("/overlap")
@requires(ACTION)
def index():
    """Every located ledger issue in view against the protected-area layer in use."""
    ledger, chosen = split_filters(request.args)
    layer = protected_layer()
    sites = issue_sites(ledger)
    rows = issue_rows(sites, layer)
    return _overlap_page(
        rows,
        sites,
        layer,
        chosen,
        title="台账问题与自然保护地叠加",
        export_endpoint="overlap.export_issues",
        export_args=request.args.to_dict(flat=False),
        sheet_url=lambda i: url_for("overlap.issue_sheet", number=sites["site_id"].iloc[i]),
        provenance={"来源": "问题台账（按当前筛选条件和权限）"},
    )


@bp.route("/overlap/export.<any(csv, xlsx, geojson):fmt>")
@requires(ACTION)
def export_issues(fmt):
    """Download exactly the filtered issue overlap table."""
    ledger, chosen = split_filters(request.args)
    layer = protected_layer()
    sites = issue_sites(ledger)
    rows = filter_rows(issue_rows(sites, layer), chosen)
    return send_export(rows, sites, layer, fmt, "overlap-issues", {"来源": "问题台账"})


@bp.route("/overlap/upload-sites", methods=["POST"])
@requires(ACTION)
def upload_sites():
    """Upload a site layer (points, lines or polygons); import it or ask to confirm the CRS."""
    datum = upload_area.datum_value()
    options = {
        "crs": upload_area.form_text("crs"),
        "datum": datum,
        "layer": upload_area.form_text("source_layer"),
        "lon_col": upload_area.form_text("lon_col"),
        "lat_col": upload_area.form_text("lat_col"),
        "columns": {k: upload_area.form_text(f"col_{k}") for k in SITE_COLUMN_GUESSES},
    }
    token, path = upload_area.save_upload("sites", SITE_SUFFIXES, options)
    return _import_sites(token, path, options, {})


@bp.route("/overlap/upload-sites/<token>/confirm", methods=["POST"])
@requires(ACTION)
def confirm_sites(token):
    """Second step for a site file whose CRS had to be guessed."""
    path, options = upload_area.read_options(upload_area.token_dir("sites", token))
    guess = options.pop("guess", None) or ""
    return _import_sites(token, path, options, upload_area.confirmed_crs(guess))


def _site_columns(frame: gpd.GeoDataFrame, named: dict, source: str) -> gpd.GeoDataFrame:
    """Return site_id, site_name and category columns from named or guessed columns."""
    out = {}
    for target, guesses in SITE_COLUMN_GUESSES.items():
        col = named.get(target)
        if col is not None and col not in frame:
            raise GeoError(
                f"{source}: 字段“{col}”不存在（文件的列：{'、'.join(map(str, frame.columns))}）"
            )
        col = col or next((c for c in frame.columns if str(c).lower() in guesses), None)
        if col is not None:
            out[target] = frame[col].astype("string").to_numpy()
        elif target == "site_id":
            out[target] = [str(i + 1) for i in range(len(frame))]
        else:
            out[target] = [None] * len(frame)
    return gpd.GeoDataFrame(out, geometry=frame.geometry.values, crs=frame.crs)


def _import_sites(token: str, path: Path, options: dict, confirm: dict):
    """Read a kept site file; keep it as a GeoPackage and show its overlap page."""
    folder = path.parent
    named = options.get("columns") or {}
    args = {k: options.get(k) for k in ("crs", "datum", "layer", "lon_col", "lat_col")} | confirm
    try:
        frame, report = read_sites_file(path, **args)
        sites = _site_columns(frame, named, path.name)
    except CRSNeedsConfirmation as exc:
        return upload_area.ask_confirmation(
            exc, token, path, url_for("overlap.confirm_sites", token=token)
        )
    except GeoError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return render_template("overlap/upload_error.html", error=str(exc)), 400
    sites.to_file(folder / "sites.gpkg", driver="GPKG", layer="sites")
    meta = {"report": report.to_dict(), "uploaded_at": time.strftime("%Y-%m-%d %H:%M:%S")}
    (folder / "meta.json").write_text(
        json.dumps(meta, ensure_ascii=False, default=str), encoding="utf-8"
    )
    return redirect(url_for("overlap.site_set", token=token))


def site_provenance(meta: dict) -> dict:
    """Describe an uploaded site file for pages, sheets and export notes."""
    r = meta["report"]
    return {
        "站点文件": f"{r['source_file']}（{r['format']}，{r['features']} 个要素）",
        "站点坐标系": f"{r['crs']}，{r['crs_method']}",
        "站点文件 SHA-256": r["sha256"][:16] + "…",
        "上传时间": meta["uploaded_at"],
    }


@bp.route("/overlap/sites/<token>")
@requires(ACTION)
def site_set(token):
    """An uploaded site set against the protected-area layer in use."""
    _, chosen = split_filters(request.args)
    sites, meta = load_site_set(token)
    layer = protected_layer()
    rows = site_rows(sites, layer)
    return _overlap_page(
        rows,
        sites,
        layer,
        chosen,
        title=f"站点叠加：{meta['report']['source_file']}",
        export_endpoint="overlap.export_sites",
        export_args={"token": token, **request.args.to_dict(flat=False)},
        sheet_url=lambda i: url_for("overlap.site_sheet_html", token=token, index=i),
        provenance=site_provenance(meta),
    )


@bp.route("/overlap/sites/<token>/export.<any(csv, xlsx, geojson):fmt>")
@requires(ACTION)
def export_sites(token, fmt):
    """Download exactly the filtered table of an uploaded site set."""
    _, chosen = split_filters(request.args)
    sites, meta = load_site_set(token)
    layer = protected_layer()
    rows = filter_rows(site_rows(sites, layer), chosen)
    return send_export(rows, sites, layer, fmt, f"overlap-{token[:8]}", site_provenance(meta))


def send_export(rows, sites, layer, fmt: str, stem: str, provenance: dict):
    """Send the rows as CSV (UTF-8 with BOM), XLSX (with a 说明 sheet) or GeoJSON."""
    buffer = io.BytesIO()
    table = rows[EXPORT_COLUMNS]
    if fmt == "csv":
        buffer.write(table.to_csv(index=False).encode("utf-8-sig"))  # BOM so Excel reads Chinese
        mimetype = "text/csv"
    elif fmt == "xlsx":
        notes = site_sheet.version_notes(layer.info, provenance) + [("行数", str(len(table)))]
        with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
            table.to_excel(writer, sheet_name="重叠分析", index=False)
            pd.DataFrame(notes, columns=["项目", "内容"]).to_excel(
                writer, sheet_name="说明", index=False
            )
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        geoms = sites.geometry.to_numpy()[rows["site_index"].to_numpy(dtype=int)]
        frame = gpd.GeoDataFrame(table.reset_index(drop=True), geometry=list(geoms), crs=sites.crs)
        buffer.write(frame.to_json(na="null", ensure_ascii=False).encode("utf-8"))
        mimetype = "application/geo+json"
    buffer.seek(0)
    return send_file(buffer, mimetype=mimetype, as_attachment=True, download_name=f"{stem}.{fmt}")


# ---------------------------------------------------------------- per-site sheets


def _sheet(sites, index: int, layer, provenance: dict, urls: dict, fmt: str):
    """Render one site's sheet as HTML or PDF."""
    if not 0 <= index < len(sites):
        abort(404, f"站点序号 {index} 不存在")
    one = sites.iloc[[index]].reset_index(drop=True)
    rows = overlap_sites(one, layer).round(ROUNDING)
    sheet = site_sheet.build_sheet(one, rows, layer, provenance)
    if fmt == "pdf":
        buffer = io.BytesIO()
        site_sheet.render_sheet_pdf(sheet, layer, buffer)
        buffer.seek(0)
        name = re.sub(r"[^\w.-]+", "_", f"site-sheet-{sheet['site_id']}") + ".pdf"
        return send_file(
            buffer, mimetype="application/pdf", as_attachment=False, download_name=name
        )
    m = site_sheet.build_sheet_map(one, layer, sheet["extent"])
    return render_template(
        "overlap/sheet.html",
        sheet=sheet,
        map=site_sheet.map_parts(m),
        urls=urls,
        label=site_sheet.relation_label,
    )


@bp.route("/overlap/issues/<number>/sheet", defaults={"fmt": "html"})
@bp.route("/overlap/issues/<number>/sheet.pdf", defaults={"fmt": "pdf"})
@requires(ACTION)
def issue_sheet(number, fmt):
    """One ledger issue's overlap sheet (through IssueQuery, so scope applies)."""
    sites = issue_sites(MultiDict(), number=number)
    if sites.empty:
        abort(404, f"问题编号“{number}”不存在、无权查看或没有位置")
    urls = {
        "back": url_for("overlap.index"),
        "pdf": url_for("overlap.issue_sheet", number=number, fmt="pdf"),
        "detail": url_for("pages.issue_detail", number=number),
    }
    return _sheet(sites, 0, protected_layer(), {"来源": f"问题台账 {number}"}, urls, fmt)


@bp.route("/overlap/sites/<token>/<int:index>/sheet", defaults={"fmt": "html"})
@bp.route("/overlap/sites/<token>/<int:index>/sheet.pdf", defaults={"fmt": "pdf"})
@requires(ACTION)
def site_sheet_html(token, index, fmt):
    """One uploaded site's overlap sheet."""
    sites, meta = load_site_set(token)
    urls = {
        "back": url_for("overlap.site_set", token=token),
        "pdf": url_for("overlap.site_sheet_html", token=token, index=index, fmt="pdf"),
    }
    return _sheet(sites, index, protected_layer(), site_provenance(meta), urls, fmt)
