"""The upload area: files posted by the reserve team, kept under a random token until used.

Uploads land in ``UPLOAD_DIR`` (default instance/uploads), one folder per token holding the
file (its own name, Chinese kept) and ``options.json`` (the form's options), so a file whose CRS
had to be guessed can be confirmed in a second request without sending it again. Folders left
unconfirmed are removed after a day, on the next upload to the same area.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from pathlib import Path

from flask import abort, current_app, render_template, request

from geo.files import write_atomically
from webmap.config import upload_dir
from webmap.web.wording import for_web

PENDING_MAX_AGE_S = 24 * 3600
_TOKEN = re.compile(r"^[0-9a-f]{32}$")
BOUNDARY_SUFFIXES = (".zip", ".gpkg", ".geojson", ".json", ".kml", ".kmz")
SITE_SUFFIXES = (*BOUNDARY_SUFFIXES, ".csv")


def upload_root() -> Path:
    """Return the upload area: ``UPLOAD_DIR`` or instance/uploads."""
    return upload_dir(current_app.config)


def read_json(path: Path) -> dict:
    """Read a JSON file kept with an upload."""
    return json.loads(path.read_text(encoding="utf-8"))


def write_json(path: Path, data: dict) -> None:
    """Write a JSON file kept with an upload (atomically, Chinese kept readable)."""
    with write_atomically(path) as handle:
        handle.write(json.dumps(data, ensure_ascii=False, default=str).encode("utf-8"))


def discard(folder: Path) -> None:
    """Remove an upload folder and everything in it (a refused or finished upload)."""
    shutil.rmtree(folder, ignore_errors=True)


def token_dir(area: str, token: str) -> Path:
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
    limit = current_app.config["UPLOAD_MAX_BYTES"]
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
    write_json(folder / "options.json", {"file": name, **options})
    return token, path


def read_options(folder: Path) -> tuple[Path, dict]:
    """Return the kept file and its form options."""
    options = read_json(folder / "options.json")
    return folder / options.pop("file"), options


def form_text(name: str) -> str | None:
    """Return a stripped form value, or None when blank."""
    value = (request.form.get(name) or "").strip()
    return value or None


def confirmed_crs(guess: str) -> dict:
    """Turn the confirmation form into importer arguments (the guess keeps its axis handling)."""
    chosen = form_text("crs")
    if chosen is None:
        abort(400, "请选择坐标系")
    return {"confirm_crs": True} if chosen == guess else {"crs": chosen}


def remember_guess(folder: Path, guess: str) -> None:
    """Keep the guessed CRS with the upload, so the confirmation can tell guess from choice."""
    write_json(folder / "options.json", read_json(folder / "options.json") | {"guess": guess})


def ask_confirmation(exc, token: str, path: Path, action: str):
    """Keep the guess and render the page listing the candidate CRSs."""
    remember_guess(path.parent, exc.guess)
    return render_template(
        "boundaries/confirm.html",
        token=token,
        message=for_web(str(exc)),
        guess=exc.guess,
        candidates=exc.candidates,
        filename=path.name,
        action=action,
    )


def datum_value() -> str | None:
    """Return the form's datum (gcj02 / bd09 / None), 400 for anything else."""
    datum = form_text("datum")
    if datum not in (None, "gcj02", "bd09"):
        abort(400, f"参数 datum 只能是 gcj02 或 bd09，收到“{datum}”")
    return datum
