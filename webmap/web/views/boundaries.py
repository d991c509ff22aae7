"""``/boundaries``: upload authoritative boundary files, list stored versions, activate one.

The same chain as ``yzmap boundaries import``: ``geo.importer.read_boundary_file`` reads the file,
``webmap.ledger.boundaries.save_import`` stores it in the database as a new version, and every
later request reads the layers in use afresh (``layers_in_use``). A refused file stores nothing,
so the layers in use stay as they were. A guessed CRS is confirmed in a second step
(``webmap.web.uploads``). Only the reserve team and admins may use these pages
(``layers.manage``).
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from geo.errors import CRSNeedsConfirmation, GeoError
from geo.importer import read_boundary_file
from webmap.ledger import boundaries as store
from webmap.ledger.db import transaction
from webmap.ledger.vocabulary import LAYER_TITLES
from webmap.web import uploads
from webmap.web.auth import current_user, requires
from webmap.web.context import get_layers, get_session, layers_changed, today
from webmap.web.wording import for_web

bp = Blueprint("boundaries", __name__)

ACTION = "layers.manage"  # the reserve team and admins (webmap.ledger.access)
LAYER_LABELS = {layer: LAYER_TITLES[layer] for layer in store.LAYERS}
FIELD_TARGETS = {
    "protected_areas": (("name", "名称"), ("code", "编码"), ("level", "级别"), ("type", "类型"),
                        ("zone", "功能分区")),
    "townships": (("code", "乡镇代码"), ("name", "名称"), ("parent_code", "所属县代码")),
    "water_source": (("name", "水源名称"), ("zone", "保护区级别"), ("code", "编码"),
                     ("river", "河流/水库"), ("serves", "供水对象"), ("approval", "批复文件")),
    "redline": (("code", "红线编码"), ("name", "名称"), ("type", "红线类型")),
    "farmland": (("code", "图斑编号"), ("name", "名称")),
}  # fmt: skip


def _layer_arg(value: str) -> str:
    """Return a layer name from the form, or a Chinese 400 naming the choices."""
    if value not in store.LAYERS:
        abort(400, f"图层“{value}”无效（可选：{'、'.join(store.LAYERS)}）")
    return value


@bp.route("/boundaries")
@requires(ACTION)
def boundaries():
    """Stored versions of each layer with validity dates, the one in use, and activation."""
    session, layers = get_session(), get_layers()
    active, pinned = store.active_versions(session), store.pins(session)
    groups = [{
        "name": name,
        "label": LAYER_LABELS[name],
        "active": active[name],
        "pinned": name in pinned,
        "in_use": getattr(layers, name),
        "versions": store.list_versions(session, name),
    } for name in store.LAYERS]  # fmt: skip
    return render_template("boundaries/list.html", groups=groups)


@bp.route("/boundaries/activate", methods=["POST"])
@requires(ACTION)
def activate():
    """Pin a stored version (or unpin: newest validity date) and use it at once."""
    layer = _layer_arg(request.form.get("layer", ""))
    version = uploads.form_text("version")
    session = get_session()
    try:
        with transaction(session):
            active = store.set_active(session, layer, None if version == "latest" else version,
                                      actor=current_user().username, day=today())  # fmt: skip
    except GeoError as exc:
        abort(400, str(exc))
    layers_changed()
    flash(f"{LAYER_LABELS[layer]} 现使用：{active.version if active else '内置图层'}")
    return redirect(url_for("boundaries.boundaries"))


def _boundary_options(layer: str) -> dict:
    """Read the upload form's importer options (CRS, datum, vintage, field mapping, sub-layer)."""
    field_map = {t: uploads.form_text(f"field_{t}") for t, _ in FIELD_TARGETS[layer]}
    return {
        "crs": uploads.form_text("crs"),
        "datum": uploads.datum_value(),
        "vintage": uploads.form_text("vintage"),
        "layer": uploads.form_text("source_layer"),
        "field_map": {k: v for k, v in field_map.items() if v},
    }


def _upload_form(status: int = 200, **extra):
    """Render the boundary upload form (with an error or kept values when given)."""
    return render_template("boundaries/upload.html", targets=FIELD_TARGETS, labels=LAYER_LABELS,
                           form=request.form, **extra), status  # fmt: skip


@bp.route("/boundaries/upload", methods=["GET", "POST"])
@requires(ACTION)
def upload_boundaries():
    """Upload a boundary file; import it, or ask to confirm a guessed CRS."""
    if request.method == "GET":
        return _upload_form()
    layer = _layer_arg(request.form.get("layer", "protected_areas"))
    options = _boundary_options(layer)
    token, path = uploads.save_upload("pending", uploads.BOUNDARY_SUFFIXES,
                                      {"target": layer, **options})  # fmt: skip
    return _import_boundary(token, path, layer, options, {})


@bp.route("/boundaries/upload/<token>/confirm", methods=["POST"])
@requires(ACTION)
def confirm_boundaries(token):
    """Second step: import the kept file with the CRS the user confirmed."""
    path, options = uploads.read_options(uploads.token_dir("pending", token))
    layer = options.pop("target")
    guess = options.pop("guess", None) or ""
    return _import_boundary(token, path, layer, options, uploads.confirmed_crs(guess))


def _import_boundary(token: str, path: Path, layer: str, options: dict, confirm: dict):
    """Run the importer; store and use the result, or explain why nothing changed."""
    try:
        result = read_boundary_file(path, kind=store.KIND_OF[layer], **(options | confirm))
    except CRSNeedsConfirmation as exc:
        return uploads.ask_confirmation(
            exc, token, path, url_for("boundaries.confirm_boundaries", token=token)
        )
    except GeoError as exc:
        uploads.discard(path.parent)
        return _upload_form(400, error=for_web(str(exc)))
    session = get_session()
    with transaction(session):
        stored = store.save_import(session, result, actor=current_user().username)
    uploads.discard(path.parent)
    layers_changed()
    active = store.active_version(session, layer)
    return render_template(
        "boundaries/report.html", report=result.report, stored=stored, info=result.layer.info,
        layer=layer, label=LAYER_LABELS[layer],
        is_active=active is not None and active.version == stored.version)  # fmt: skip
