"""``/boundaries``: upload authoritative boundary files, list stored versions, activate one.

The same chain as ``yzmap boundaries import``: ``geo.importer.read_boundary_file`` reads the file,
``webmap.ledger.boundaries.save_import`` keeps it as a new version, and the running app switches to
the active versions (``webmap.web.context.set_layers``). A refused file stores nothing, so the layers
in use stay as they were. A guessed CRS is confirmed in a second step (``webmap.web.uploads``).
Only the reserve team and admins may use these pages (``layers.manage``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from geo.boundaries import load_shipped
from geo.errors import CRSNeedsConfirmation, GeoError
from geo.importer import read_boundary_file
from webmap.ledger import boundaries as boundary_store
from webmap.ledger.access import requires
from webmap.web import uploads as upload_area
from webmap.web.context import get_layers, set_layers

bp = Blueprint("boundaries", __name__)

ACTION = "layers.manage"  # the reserve team and admins (webmap.ledger.access)
LAYER_KINDS = {"protected_areas": "protected_area", "townships": "township"}
LAYER_LABELS = {"protected_areas": "自然保护地及功能分区", "townships": "乡镇（街道）界"}
FIELD_TARGETS = {
    "protected_areas": (("name", "名称"), ("code", "编码"), ("level", "级别"), ("type", "类型"),
                        ("zone", "功能分区")),
    "townships": (("code", "乡镇代码"), ("name", "名称"), ("parent_code", "所属县代码")),
}  # fmt: skip
BOUNDARY_SUFFIXES = (".zip", ".gpkg", ".geojson", ".json", ".kml", ".kmz")


def store_root() -> Path:
    """Return the boundary store folder of this app."""
    return boundary_store.store_root(current_app.instance_path, current_app.config)


def reload_layers() -> None:
    """Put the active stored versions in use in this process (shipped layers where none)."""
    shipped = load_shipped(current_app.config["BOUNDARIES_DIR"])
    set_layers(boundary_store.active_layers(shipped, store_root()))


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
        groups.append(
            {
                "name": name,
                "label": LAYER_LABELS[name],
                "active": active,
                "pinned": pinned,
                "in_use": in_use,
                "versions": boundary_store.list_versions(root, name),
            }
        )
    return render_template("boundaries/list.html", groups=groups)


@bp.route("/boundaries/activate", methods=["POST"])
@requires(ACTION)
def activate():
    """Pin a stored version (or unpin: newest validity date) and use it at once."""
    layer = request.form.get("layer", "")
    if layer not in LAYER_KINDS:
        abort(400, f"图层“{layer}”无效（可选：{'、'.join(LAYER_KINDS)}）")
    version = upload_area.form_text("version")
    try:
        active = boundary_store.set_active(
            store_root(), layer, None if version == "latest" else version
        )
    except GeoError as exc:
        abort(400, str(exc))
    reload_layers()
    flash(f"{LAYER_LABELS[layer]} 现使用：{active.version if active else '内置图层'}")
    return redirect(url_for("boundaries.boundaries"))


def _boundary_options(layer: str) -> dict:
    """Read the upload form's importer options (CRS, datum, vintage, field mapping, sub-layer)."""
    datum = upload_area.datum_value()
    field_map = {t: upload_area.form_text(f"field_{t}") for t, _ in FIELD_TARGETS[layer]}
    return {
        "crs": upload_area.form_text("crs"),
        "datum": datum,
        "vintage": upload_area.form_text("vintage"),
        "layer": upload_area.form_text("source_layer"),
        "field_map": {k: v for k, v in field_map.items() if v},
    }


def _upload_form(status: int = 200, **extra):
    """Render the boundary upload form (with an error or kept values when given)."""
    return render_template(
        "boundaries/upload.html",
        targets=FIELD_TARGETS,
        labels=LAYER_LABELS,
        form=request.form,
        **extra,
    ), status


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
    token, path = upload_area.save_upload(
        "pending", BOUNDARY_SUFFIXES, {"target": layer, **options}
    )
    return _import_boundary(token, path, layer, options, {})


@bp.route("/boundaries/upload/<token>/confirm", methods=["POST"])
@requires(ACTION)
def confirm_boundaries(token):
    """Second step: import the kept file with the CRS the user confirmed."""
    folder = upload_area.token_dir("pending", token)
    path, options = upload_area.read_options(folder)
    layer = options.pop("target")
    guess = options.pop("guess", None) or ""
    return _import_boundary(token, path, layer, options, upload_area.confirmed_crs(guess))


def _import_boundary(token: str, path: Path, layer: str, options: dict, confirm: dict):
    """Run the importer; store and use the result, or explain why nothing changed."""
    folder = path.parent
    args = {**options, **confirm}
    try:
        result = read_boundary_file(path, kind=LAYER_KINDS[layer], **args)
    except CRSNeedsConfirmation as exc:
        return upload_area.ask_confirmation(
            exc, token, path, url_for("boundaries.confirm_boundaries", token=token)
        )
    except GeoError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return _upload_form(400, error=str(exc))
    stored = boundary_store.save_import(store_root(), result)
    shutil.rmtree(folder, ignore_errors=True)
    reload_layers()
    active = boundary_store.active_version(store_root(), layer)
    return render_template(
        "boundaries/report.html",
        report=result.report,
        stored=stored,
        info=result.layer.info,
        layer=layer,
        label=LAYER_LABELS[layer],
        is_active=active is not None and active.version == stored.version,
    )
