"""``/overlap``: ledger issues and uploaded sites against every constraint layer in use.

The constraint layers are protected areas, drinking-water source zones, the red line and
farmland (``geo.constraints``); a layer not imported is named on the page as not checked.

Ledger issues reach the overlap through the shared ``IssueQuery`` (and so the access scope);
uploaded site sets (any import format or a lon/lat CSV) are kept as a small GeoPackage in the
upload area under their token and overlapped against the layers in use on each view. The table's
filters (layer kind, place, zone, relation) live in the URL, and each export carries exactly the
filtered rows, written by the same report writer as ``yzmap overlap``
(``webmap.render.overlap_report``). Every site has a one-page sheet as HTML and PDF
(``webmap.render.site_sheet``).
"""

from __future__ import annotations

import io
import re
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import pandas as pd
from flask import Blueprint, abort, redirect, render_template, request, send_file, url_for
from werkzeug.datastructures import MultiDict

from geo.constraints import active_kinds, overlap_constraints
from geo.errors import CRSNeedsConfirmation, GeoError
from geo.importer import read_sites_file
from webmap.ledger.constraints import missing_titles
from webmap.ledger.overlap import issue_overlap, issue_sites
from webmap.ledger.vocabulary import CONSTRAINT_TITLES, RELATION_GROUPS, SCHEME_LABELS
from webmap.render import maps, site_sheet
from webmap.render.captions import beijing_time
from webmap.render.overlap_report import (
    FORMATS,
    MIMETYPES,
    illustrative_layers,
    layer_notes,
    relation_group,
    relation_label,
    round_rows,
    site_provenance,
    write_report,
)
from webmap.web import uploads
from webmap.web.args import issue_query, split_args
from webmap.web.auth import requires
from webmap.web.context import get_layers, get_session
from webmap.web.vendor import map_assets
from webmap.web.wording import for_web

bp = Blueprint("overlap", __name__)

ACTION = "layers.manage"  # the reserve team and admins (webmap.ledger.access)
SITE_COLUMN_GUESSES = {
    "site_id": ("site_id", "id", "编号", "代码", "code"),
    "site_name": ("site_name", "name", "名称", "项目名称", "站点名称"),
    "category": ("category", "类别", "类型"),
}
OVERLAP_FILTERS = ("kind", "pa", "zone", "relation")
TABLE_LIMIT = 2000  # rows drawn in HTML; exports always carry every filtered row
LEDGER_SOURCE = {"来源": "问题台账（按当前筛选条件和权限）"}


def split_filters(args: MultiDict) -> tuple[MultiDict, dict]:
    """Take the table filters (kind, pa, zone, relation) off; the rest are ledger filters."""
    rest, _ = split_args(args, OVERLAP_FILTERS)
    chosen = {k: [v for v in args.getlist(k) if v] for k in OVERLAP_FILTERS}
    for value in chosen["relation"]:
        if value not in RELATION_GROUPS:
            abort(400, f"参数 relation 的值“{value}”无效：可选值为 {'、'.join(RELATION_GROUPS)}")
    for value in chosen["kind"]:
        if value not in CONSTRAINT_TITLES:
            abort(400, f"参数 kind 的值“{value}”无效：可选值为 {'、'.join(CONSTRAINT_TITLES)}")
    return rest, chosen


def filter_rows(rows: pd.DataFrame, chosen: dict) -> pd.DataFrame:
    """Keep the rows matching every chosen layer kind, place, zone and relation group."""
    keep = pd.Series(True, index=rows.index)
    if chosen.get("kind"):
        keep &= rows["layer_kind"].isin(chosen["kind"])
    if chosen["pa"]:
        keep &= rows["protected_area"].isin(chosen["pa"])
    if chosen["zone"]:
        keep &= rows["zone"].isin(chosen["zone"])
    if chosen["relation"]:
        keep &= rows["relation"].map(relation_group).isin(chosen["relation"])
    return rows[keep].reset_index(drop=True)


def constraint_layers():
    """Return the layers in use when any constraint layer is among them, else a Chinese 404."""
    layers = get_layers()
    if not active_kinds(layers):
        abort(404, "没有任何管控图层：请先上传自然保护地、饮用水水源保护区、生态保护红线"
                   "或永久基本农田边界")
    return layers


def ledger_overlap(ledger_args: MultiDict, layers):
    """Return the located ledger issues in view (IssueQuery + scope) and their overlap rows."""
    sites, rows = issue_overlap(get_session(), issue_query(ledger_args), layers)
    return sites, round_rows(rows)


def load_site_set(token: str) -> tuple[gpd.GeoDataFrame, dict]:
    """Return an uploaded site set and its metadata."""
    folder = uploads.token_dir("sites", token)
    if not (folder / "sites.gpkg").is_file():
        abort(404, f"上传编号“{token}”的站点尚未导入")
    return gpd.read_file(folder / "sites.gpkg"), uploads.read_json(folder / "meta.json")


def _provenance(meta: dict) -> dict:
    """Describe an uploaded site set for pages, sheets and report notes."""
    return site_provenance(meta["report"], meta["uploaded_at"])


def _overlap_page(rows, sites, layers, chosen, *, title, export_endpoint, export_args, sheet_url,
                  provenance):  # fmt: skip
    """Render the map, filters and filtered table of one overlap result."""
    shown = filter_rows(rows, chosen)
    m = site_sheet.build_overlap_map(sites, shown, layers, sheet_url, map_assets())
    return render_template(
        "overlap/index.html", title=title, rows=shown.head(TABLE_LIMIT).to_dict("records"),
        total=len(shown), limit=TABLE_LIMIT, map=maps.map_parts(m), chosen=chosen,
        choices=site_sheet.filter_choices(rows), relation_labels=RELATION_GROUPS,
        layer_notes=layer_notes(layers), missing=missing_titles(layers),
        illustrative=illustrative_layers(layers), kind_labels=CONSTRAINT_TITLES,
        scheme_labels=SCHEME_LABELS, label=relation_label,
        exports={fmt: url_for(export_endpoint, fmt=fmt, **export_args) for fmt in FORMATS},
        sheet_url=sheet_url, provenance=provenance, site_count=len(sites))  # fmt: skip


def send_report(rows, sites, layers, fmt: str, stem: str, provenance: dict):
    """Send the filtered rows as the overlap report (CSV, XLSX with its 说明 sheet, GeoJSON)."""
    buffer = io.BytesIO()
    write_report(rows, sites, layers, provenance, fmt, buffer)
    buffer.seek(0)
    return send_file(buffer, mimetype=MIMETYPES[fmt], as_attachment=True,
                     download_name=f"{stem}.{fmt}")  # fmt: skip


@bp.route("/overlap")
@requires(ACTION)
def index():
    """Every located ledger issue in view against every constraint layer in use."""
    ledger, chosen = split_filters(request.args)
    layers = constraint_layers()
    sites, rows = ledger_overlap(ledger, layers)
    return _overlap_page(
        rows, sites, layers, chosen, title="台账问题与管控图层叠加",
        export_endpoint="overlap.export_issues", export_args=request.args.to_dict(flat=False),
        sheet_url=lambda i: url_for("overlap.issue_sheet", number=sites["site_id"].iloc[i]),
        provenance=LEDGER_SOURCE)  # fmt: skip


@bp.route("/overlap/export.<any(csv, xlsx, geojson):fmt>")
@requires(ACTION)
def export_issues(fmt):
    """Download exactly the filtered issue overlap table."""
    ledger, chosen = split_filters(request.args)
    layers = constraint_layers()
    sites, rows = ledger_overlap(ledger, layers)
    return send_report(filter_rows(rows, chosen), sites, layers, fmt, "overlap-issues",
                       LEDGER_SOURCE)  # fmt: skip


@bp.route("/overlap/upload-sites", methods=["POST"])
@requires(ACTION)
def upload_sites():
    """Upload a site layer (points, lines or polygons); import it or ask to confirm the CRS."""
    options = {
        "crs": uploads.form_text("crs"),
        "datum": uploads.datum_value(),
        "layer": uploads.form_text("source_layer"),
        "lon_col": uploads.form_text("lon_col"),
        "lat_col": uploads.form_text("lat_col"),
        "columns": {k: uploads.form_text(f"col_{k}") for k in SITE_COLUMN_GUESSES},
    }
    token, path = uploads.save_upload("sites", uploads.SITE_SUFFIXES, options)
    return _import_sites(token, path, options, {})


@bp.route("/overlap/upload-sites/<token>/confirm", methods=["POST"])
@requires(ACTION)
def confirm_sites(token):
    """Second step for a site file whose CRS had to be guessed."""
    path, options = uploads.read_options(uploads.token_dir("sites", token))
    guess = options.pop("guess", None) or ""
    return _import_sites(token, path, options, uploads.confirmed_crs(guess))


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
        return uploads.ask_confirmation(exc, token, path,
                                        url_for("overlap.confirm_sites", token=token))  # fmt: skip
    except GeoError as exc:
        uploads.discard(folder)
        return render_template("overlap/upload_error.html", error=for_web(str(exc))), 400
    sites.to_file(folder / "sites.gpkg", driver="GPKG", layer="sites")
    uploads.write_json(folder / "meta.json", {"report": report.to_dict(),
                                               "uploaded_at": beijing_time()})  # fmt: skip
    return redirect(url_for("overlap.site_set", token=token))


@bp.route("/overlap/sites/<token>")
@requires(ACTION)
def site_set(token):
    """An uploaded site set against every constraint layer in use."""
    _, chosen = split_filters(request.args)
    sites, meta = load_site_set(token)
    layers = constraint_layers()
    rows = round_rows(overlap_constraints(sites, layers))
    return _overlap_page(
        rows, sites, layers, chosen, title=f"站点叠加：{meta['report']['source_file']}",
        export_endpoint="overlap.export_sites",
        export_args={"token": token, **request.args.to_dict(flat=False)},
        sheet_url=lambda i: url_for("overlap.site_sheet_html", token=token, index=i),
        provenance=_provenance(meta))  # fmt: skip


@bp.route("/overlap/sites/<token>/export.<any(csv, xlsx, geojson):fmt>")
@requires(ACTION)
def export_sites(token, fmt):
    """Download exactly the filtered table of an uploaded site set."""
    _, chosen = split_filters(request.args)
    sites, meta = load_site_set(token)
    layers = constraint_layers()
    rows = filter_rows(round_rows(overlap_constraints(sites, layers)), chosen)
    return send_report(rows, sites, layers, fmt, f"overlap-{token[:8]}", _provenance(meta))


def _sheet(sites, index: int, layers, provenance: dict, urls: dict, fmt: str):
    """Render one site's sheet as HTML or PDF."""
    if not 0 <= index < len(sites):
        abort(404, f"站点序号 {index} 不存在")
    one = sites.iloc[[index]].reset_index(drop=True)
    rows = round_rows(overlap_constraints(one, layers))
    sheet = site_sheet.build_sheet(one, rows, layers, provenance)
    if fmt == "pdf":
        buffer = io.BytesIO()
        site_sheet.render_sheet_pdf(sheet, layers, buffer)
        buffer.seek(0)
        name = re.sub(r"[^\w.-]+", "_", f"site-sheet-{sheet['site_id']}") + ".pdf"
        return send_file(buffer, mimetype="application/pdf", as_attachment=False,
                         download_name=name)  # fmt: skip
    m = site_sheet.build_sheet_map(one, layers, sheet["extent"], map_assets())
    return render_template("overlap/sheet.html", sheet=sheet, map=maps.map_parts(m), urls=urls,
                           label=relation_label, kind_labels=CONSTRAINT_TITLES)  # fmt: skip


@bp.route("/overlap/issues/<number>/sheet", defaults={"fmt": "html"})
@bp.route("/overlap/issues/<number>/sheet.pdf", defaults={"fmt": "pdf"})
@requires(ACTION)
def issue_sheet(number, fmt):
    """One ledger issue's overlap sheet (through IssueQuery, so scope applies)."""
    sites = issue_sites(get_session(), replace(issue_query(MultiDict()), number=number))
    if sites.empty:
        abort(404, f"问题编号“{number}”不存在、无权查看或没有位置")
    urls = {
        "back": url_for("overlap.index"),
        "pdf": url_for("overlap.issue_sheet", number=number, fmt="pdf"),
        "detail": url_for("pages.issue_detail", number=number),
    }
    return _sheet(sites, 0, constraint_layers(), {"来源": f"问题台账 {number}"}, urls, fmt)


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
    return _sheet(sites, index, constraint_layers(), _provenance(meta), urls, fmt)
