"""The nature-reserve team's pages: boundary upload and versions, the overlap table, per-site sheets.

Uploads land in a temporary area of the instance folder (``UPLOAD_DIR`` or instance/uploads),
one folder per random token, so a file whose CRS had to be guessed can be confirmed in a second
request without sending it again. Boundary imports go through ``geo.importer`` and
``webmap.boundary_store`` exactly as ``yzmap boundaries import`` does; a refused file stores
nothing, so the layers in use stay as they were. Ledger issues reach the overlap through the
shared ``IssueQuery`` (and so through the access scope); uploaded site sets are kept as a small
GeoPackage under their token and overlapped against the active layer on each view.
"""

from __future__ import annotations

import io
import json
import re
import secrets
import shutil
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   send_file, url_for)
from shapely.geometry import Point
from werkzeug.datastructures import MultiDict

from geo.boundaries import load_shipped
from geo.errors import CRSNeedsConfirmation, GeoError
from geo.importer import read_boundary_file, read_sites_file
from geo.overlap import COLUMNS, overlap_issue_geometries, overlap_sites
from webmap import api, boundary_store, db, site_sheet
from webmap.layers import get_layers, set_layers
from webmap.permissions import requires

bp = Blueprint("overlap", __name__)

ACTION = "layers.manage"  # the reserve team and admins (webmap.permissions)

LAYER_KINDS = {"protected_areas": "protected_area", "townships": "township"}
LAYER_LABELS = {"protected_areas": "自然保护地及功能分区", "townships": "乡镇（街道）界"}
FIELD_TARGETS = {
    "protected_areas": (("name", "名称"), ("code", "编码"), ("level", "级别"), ("type", "类型"),
                        ("zone", "功能分区")),
    "townships": (("code", "乡镇代码"), ("name", "名称"), ("parent_code", "所属县代码")),
}  # fmt: skip
BOUNDARY_SUFFIXES = (".zip", ".gpkg", ".geojson", ".json", ".kml", ".kmz")
SITE_SUFFIXES = (*BOUNDARY_SUFFIXES, ".csv")
SITE_COLUMN_GUESSES = {
    "site_id": ("site_id", "id", "编号", "代码", "code"),
    "site_name": ("site_name", "name", "名称", "项目名称", "站点名称"),
    "category": ("category", "类别", "类型"),
}
OVERLAP_FILTERS = ("pa", "zone", "relation")
EXPORT_COLUMNS = [c for c in COLUMNS if c != "site_index"]
ROUNDING = {"overlap_m2": 2, "overlap_length_m": 2, "distance_m": 2, "boundary_distance_m": 2,
            "overlap_share": 6}  # same as ``yzmap overlap``: cm and 1e-6 of a share
TABLE_LIMIT = 2000  # rows drawn in HTML; exports always carry every filtered row
PENDING_MAX_AGE_S = 24 * 3600
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def upload_root() -> Path:
    """Return the upload area: ``UPLOAD_DIR`` or instance/uploads."""
    configured = current_app.config.get("UPLOAD_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "uploads"


def store_root() -> Path:
    """Return the boundary store folder of this app."""
    return boundary_store.store_root(current_app.instance_path, current_app.config)


def _token_dir(area: str, token: str) -> Path:
    """Return an upload folder by token, or 404 for a malformed or unknown token."""
    if not _TOKEN.match(token):
        abort(404, f"上传编号“{token}”无效")
    folder = upload_root() / area / token
    if not folder.is_dir():
        abort(404, f"上传编号“{token}”不存在或已过期，请重新上传")
    return folder


def _clean_name(filename: str, suffixes: tuple[str, ...]) -> str:
    """Return a safe base name keeping Chinese characters; 400 for missing or wrong types."""
    name = Path((filename or "").replace("\\", "/")).name.replace("\x00", "").lstrip(".")
    if not name:
        abort(400, "请选择要上传的文件")
    if Path(name).suffix.lower() not in suffixes:
        abort(400, f"文件 {name} 的格式不支持：可上传 {'、'.join(suffixes)}")
    return name[-120:]


def _drop_stale(area: Path) -> None:
    """Remove upload folders older than a day (abandoned confirmations)."""
    if not area.is_dir():
        return
    cutoff = time.time() - PENDING_MAX_AGE_S
    for folder in area.iterdir():
        if _TOKEN.match(folder.name) and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)


def save_upload(area: str, suffixes: tuple[str, ...], options: dict) -> tuple[str, Path]:
    """Keep the posted file and its form options under a new token; return (token, file path)."""
    limit = current_app.config.get("UPLOAD_MAX_BYTES", 100 * 1024 * 1024)
    if request.content_length and request.content_length > limit:
        abort(413, f"上传文件超过 {limit // (1024 * 1024)} MB 上限")
    upload = request.files.get("file")
    name = _clean_name(upload.filename if upload else "", suffixes)
    _drop_stale(upload_root() / area)
    token = secrets.token_hex(16)
    folder = upload_root() / area / token
    folder.mkdir(parents=True)
    path = folder / name
    upload.save(path)
    (folder / "options.json").write_text(json.dumps({"file": name, **options}, ensure_ascii=False),
                                         encoding="utf-8")
    return token, path


def _read_options(folder: Path) -> tuple[Path, dict]:
    """Return the kept file and its form options."""
    options = json.loads((folder / "options.json").read_text(encoding="utf-8"))
    return folder / options.pop("file"), options


def _form_text(name: str) -> str | None:
    """Return a stripped form value, or None when blank."""
    value = (request.form.get(name) or "").strip()
    return value or None


def _confirmed_crs(guess: str) -> dict:
    """Turn the confirmation form into importer arguments (the guess keeps its axis handling)."""
    chosen = _form_text("crs")
    if chosen is None:
        abort(400, "请选择坐标系")
    return {"confirm_crs": True} if chosen == guess else {"crs": chosen}


def reload_layers() -> None:
    """Put the active stored versions in use in this process (shipped layers where none)."""
    shipped = load_shipped(current_app.config["BOUNDARIES_DIR"])
    set_layers(boundary_store.active_layers(shipped, store_root()))


# ---------------------------------------------------------------- boundaries


@bp.route("/boundaries")
@requires(ACTION)
def boundaries():
    """Stored versions of each layer with validity dates, the one in use, and activation."""
    root, layers = store_root(), get_layers()
    groups = []
    for name in boundary_store.LAYERS:
        active = boundary_store.active_version(root, name)
        in_use = getattr(layers, name)
        pinned = (root / name / boundary_store.ACTIVE_FILE).is_file()
        groups.append({"name": name, "label": LAYER_LABELS[name], "active": active,
                       "pinned": pinned, "in_use": in_use,
                       "versions": boundary_store.list_versions(root, name)})
    return render_template("boundaries/list.html", groups=groups)


@bp.route("/boundaries/activate", methods=["POST"])
@requires(ACTION)
def activate():
    """Pin a stored version (or unpin: newest validity date) and use it at once."""
    layer = request.form.get("layer", "")
    if layer not in LAYER_KINDS:
        abort(400, f"图层“{layer}”无效（可选：{'、'.join(LAYER_KINDS)}）")
    version = _form_text("version")
    try:
        active = boundary_store.set_active(store_root(), layer, None if version == "latest" else version)
    except GeoError as exc:
        abort(400, str(exc))
    reload_layers()
    flash(f"{LAYER_LABELS[layer]} 现使用：{active.version if active else '内置图层'}")
    return redirect(url_for("overlap.boundaries"))


def _boundary_options(layer: str) -> dict:
    """Read the upload form's importer options (CRS, datum, vintage, field mapping, sub-layer)."""
    datum = _form_text("datum")
    if datum not in (None, "gcj02", "bd09"):
        abort(400, f"参数 datum 只能是 gcj02 或 bd09，收到“{datum}”")
    field_map = {t: _form_text(f"field_{t}") for t, _ in FIELD_TARGETS[layer]}
    return {"crs": _form_text("crs"), "datum": datum, "vintage": _form_text("vintage"),
            "layer": _form_text("source_layer"),
            "field_map": {k: v for k, v in field_map.items() if v}}


def _upload_form(status: int = 200, **extra):
    """Render the boundary upload form (with an error or kept values when given)."""
    return render_template("boundaries/upload.html", targets=FIELD_TARGETS, labels=LAYER_LABELS,
                           form=request.form, **extra), status


@bp.route("/boundaries/upload", methods=["GET", "POST"])
@requires(ACTION)
def upload_boundaries():
    """Upload a boundary file; import it, or ask to confirm a guessed CRS."""
    if request.method == "GET":
        return _upload_form()
    layer = request.form.get("layer", "protected_areas")
    if layer not in LAYER_KINDS:
        abort(400, f"图层“{layer}”无效（可选：{'、'.join(LAYER_KINDS)}）")
    options = _boundary_options(layer)
    token, path = save_upload("pending", BOUNDARY_SUFFIXES, {"target": layer, **options})
    return _import_boundary(token, path, layer, options, {})


@bp.route("/boundaries/upload/<token>/confirm", methods=["POST"])
@requires(ACTION)
def confirm_boundaries(token):
    """Second step: import the kept file with the CRS the user confirmed."""
    folder = _token_dir("pending", token)
    path, options = _read_options(folder)
    layer = options.pop("target")
    guess = options.pop("guess", None) or ""
    return _import_boundary(token, path, layer, options, _confirmed_crs(guess))


def _import_boundary(token: str, path: Path, layer: str, options: dict, confirm: dict):
    """Run the importer; store and use the result, or explain why nothing changed."""
    folder = path.parent
    args = {**options, **confirm}
    try:
        result = read_boundary_file(path, kind=LAYER_KINDS[layer], **args)
    except CRSNeedsConfirmation as exc:
        kept = json.loads((folder / "options.json").read_text(encoding="utf-8"))
        kept["guess"] = exc.guess
        (folder / "options.json").write_text(json.dumps(kept, ensure_ascii=False), encoding="utf-8")
        return render_template("boundaries/confirm.html", token=token, message=str(exc),
                               guess=exc.guess, candidates=exc.candidates, filename=path.name,
                               action=url_for("overlap.confirm_boundaries", token=token))
    except GeoError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return _upload_form(400, error=str(exc))
    stored = boundary_store.save_import(store_root(), result)
    shutil.rmtree(folder, ignore_errors=True)
    reload_layers()
    active = boundary_store.active_version(store_root(), layer)
    return render_template("boundaries/report.html", report=result.report, stored=stored,
                           info=result.layer.info, layer=layer, label=LAYER_LABELS[layer],
                           is_active=active is not None and active.version == stored.version)


# ---------------------------------------------------------------- overlap table


def split_filters(args: MultiDict) -> tuple[MultiDict, dict]:
    """Take the table filters (pa, zone, relation) off; the rest are ledger (IssueQuery) filters."""
    rest = MultiDict((k, v) for k, v in args.items(multi=True) if k not in OVERLAP_FILTERS)
    chosen = {k: [v for v in args.getlist(k) if v] for k in OVERLAP_FILTERS}
    for value in chosen["relation"]:
        if value not in site_sheet.RELATION_GROUPS:
            abort(400, f"参数 relation 的值“{value}”无效：可选值为 "
                       f"{'、'.join(site_sheet.RELATION_GROUPS)}")
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
        from webmap.models import Issue

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
    return gpd.GeoDataFrame({"site_id": ids, "site_name": names, "category": cats},
                            geometry=geoms, crs="EPSG:4326")


def issue_rows(sites: gpd.GeoDataFrame, layer) -> pd.DataFrame:
    """Overlap the issue sites through ``overlap_issue_geometries`` (site_index = row of ``sites``)."""
    geoms = dict(zip(sites["site_id"], sites.geometry, strict=True))
    rows = overlap_issue_geometries(geoms, layer,
                                    names=dict(zip(sites["site_id"], sites["site_name"], strict=True)),
                                    categories=dict(zip(sites["site_id"], sites["category"],
                                                        strict=True)))
    return rows.round(ROUNDING)


def load_site_set(token: str) -> tuple[gpd.GeoDataFrame, dict]:
    """Return an uploaded site set and its metadata."""
    folder = _token_dir("sites", token)
    if not (folder / "sites.gpkg").is_file():
        abort(404, f"上传编号“{token}”的站点尚未导入")
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    return gpd.read_file(folder / "sites.gpkg"), meta


def site_rows(sites: gpd.GeoDataFrame, layer) -> pd.DataFrame:
    """Overlap an uploaded site set against the layer in use, rounded like the CLI report."""
    return overlap_sites(sites, layer).round(ROUNDING)


def _overlap_page(rows, sites, layer, chosen, *, title, export_endpoint, export_args,
                  sheet_url, provenance, status=200):
    """Render the map, filters and filtered table of one overlap result."""
    shown = filter_rows(rows, chosen)
    m = site_sheet.build_overlap_map(sites, shown, layer, sheet_url)
    return render_template(
        "overlap/index.html", title=title, rows=shown.head(TABLE_LIMIT).to_dict("records"),
        total=len(shown), limit=TABLE_LIMIT, map=site_sheet.map_parts(m), chosen=chosen,
        choices=site_sheet.filter_choices(rows), relation_labels=site_sheet.RELATION_GROUPS,
        info=layer.info, scheme_labels=site_sheet.SCHEME_LABELS, label=site_sheet.relation_label,
        exports={fmt: url_for(export_endpoint, fmt=fmt, **export_args) for fmt in EXPORTS},
        sheet_url=sheet_url, provenance=provenance, site_count=len(sites)), status


EXPORTS = ("csv", "xlsx", "geojson")


@bp.route("/overlap")
@requires(ACTION)
def index():
    """Every located ledger issue in view against the protected-area layer in use."""
    ledger, chosen = split_filters(request.args)
    layer = protected_layer()
    sites = issue_sites(ledger)
    rows = issue_rows(sites, layer)
    return _overlap_page(rows, sites, layer, chosen, title="台账问题与自然保护地叠加",
                         export_endpoint="overlap.export_issues",
                         export_args=request.args.to_dict(flat=False),
                         sheet_url=lambda i: url_for("overlap.issue_sheet",
                                                     number=sites["site_id"].iloc[i]),
                         provenance={"来源": "问题台账（按当前筛选条件和权限）"})


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
    datum = _form_text("datum")
    if datum not in (None, "gcj02", "bd09"):
        abort(400, f"参数 datum 只能是 gcj02 或 bd09，收到“{datum}”")
    options = {"crs": _form_text("crs"), "datum": datum, "layer": _form_text("source_layer"),
               "lon_col": _form_text("lon_col"), "lat_col": _form_text("lat_col"),
               "columns": {k: _form_text(f"col_{k}") for k in SITE_COLUMN_GUESSES}}
    token, path = save_upload("sites", SITE_SUFFIXES, options)
    return _import_sites(token, path, options, {})


@bp.route("/overlap/upload-sites/<token>/confirm", methods=["POST"])
@requires(ACTION)
def confirm_sites(token):
    """Second step for a site file whose CRS had to be guessed."""
    path, options = _read_options(_token_dir("sites", token))
    guess = options.pop("guess", None) or ""
    return _import_sites(token, path, options, _confirmed_crs(guess))


def _site_columns(frame: gpd.GeoDataFrame, named: dict, source: str) -> gpd.GeoDataFrame:
    """Return site_id, site_name and category columns from named or guessed columns."""
    out = {}
    for target, guesses in SITE_COLUMN_GUESSES.items():
        col = named.get(target)
        if col is not None and col not in frame:
            raise GeoError(f"{source}: 字段“{col}”不存在（文件的列：{'、'.join(map(str, frame.columns))}）")
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
        kept = json.loads((folder / "options.json").read_text(encoding="utf-8"))
        kept["guess"] = exc.guess
        (folder / "options.json").write_text(json.dumps(kept, ensure_ascii=False), encoding="utf-8")
        return render_template("boundaries/confirm.html", token=token, message=str(exc),
                               guess=exc.guess, candidates=exc.candidates, filename=path.name,
                               action=url_for("overlap.confirm_sites", token=token))
    except GeoError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return render_template("overlap/upload_error.html", error=str(exc)), 400
    sites.to_file(folder / "sites.gpkg", driver="GPKG", layer="sites")
    meta = {"report": report.to_dict(), "uploaded_at": time.strftime("%Y-%m-%d %H:%M:%S")}
    (folder / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, default=str),
                                      encoding="utf-8")
    return redirect(url_for("overlap.site_set", token=token))


def site_provenance(meta: dict) -> dict:
    """Describe an uploaded site file for pages, sheets and export notes."""
    r = meta["report"]
    return {"站点文件": f"{r['source_file']}（{r['format']}，{r['features']} 个要素）",
            "站点坐标系": f"{r['crs']}，{r['crs_method']}",
            "站点文件 SHA-256": r["sha256"][:16] + "…", "上传时间": meta["uploaded_at"]}


@bp.route("/overlap/sites/<token>")
@requires(ACTION)
def site_set(token):
    """An uploaded site set against the protected-area layer in use."""
    _, chosen = split_filters(request.args)
    sites, meta = load_site_set(token)
    layer = protected_layer()
    rows = site_rows(sites, layer)
    return _overlap_page(rows, sites, layer, chosen, title=f"站点叠加：{meta['report']['source_file']}",
                         export_endpoint="overlap.export_sites",
                         export_args={"token": token, **request.args.to_dict(flat=False)},
                         sheet_url=lambda i: url_for("overlap.site_sheet_html", token=token,
                                                     index=i),
                         provenance=site_provenance(meta))


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
            pd.DataFrame(notes, columns=["项目", "内容"]).to_excel(writer, sheet_name="说明",
                                                                 index=False)
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
        return send_file(buffer, mimetype="application/pdf", as_attachment=False,
                         download_name=name)
    m = site_sheet.build_sheet_map(one, layer)
    return render_template("overlap/sheet.html", sheet=sheet, map=site_sheet.map_parts(m),
                           urls=urls, label=site_sheet.relation_label)


@bp.route("/overlap/issues/<number>/sheet", defaults={"fmt": "html"})
@bp.route("/overlap/issues/<number>/sheet.pdf", defaults={"fmt": "pdf"})
@requires(ACTION)
def issue_sheet(number, fmt):
    """One ledger issue's overlap sheet (through IssueQuery, so scope applies)."""
    sites = issue_sites(MultiDict(), number=number)
    if sites.empty:
        abort(404, f"问题编号“{number}”不存在、无权查看或没有位置")
    urls = {"back": url_for("overlap.index"),
            "pdf": url_for("overlap.issue_sheet", number=number, fmt="pdf"),
            "detail": url_for("pages.issue_detail", number=number)}
    return _sheet(sites, 0, protected_layer(), {"来源": f"问题台账 {number}"}, urls, fmt)


@bp.route("/overlap/sites/<token>/<int:index>/sheet", defaults={"fmt": "html"})
@bp.route("/overlap/sites/<token>/<int:index>/sheet.pdf", defaults={"fmt": "pdf"})
@requires(ACTION)
def site_sheet_html(token, index, fmt):
    """One uploaded site's overlap sheet."""
    sites, meta = load_site_set(token)
    urls = {"back": url_for("overlap.site_set", token=token),
            "pdf": url_for("overlap.site_sheet_html", token=token, index=index, fmt="pdf")}
    return _sheet(sites, index, protected_layer(), site_provenance(meta), urls, fmt)
