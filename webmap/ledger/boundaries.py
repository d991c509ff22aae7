"""Versioned storage of imported authoritative boundary layers in the instance folder.

Layout (one directory per version, never modified once written)::

    instance/boundaries/<layer>/<version>/layer.gpkg   features in EPSG:4326
    instance/boundaries/<layer>/<version>/meta.json    source file, sha256, imported_at, vintage,
                                                       CRS and how it was found, repairs, field map
    instance/boundaries/<layer>/active.json            optional pin (yzmap boundaries activate)

A version is written into a hidden temporary directory and renamed into place, so a failed
import leaves the versions (and the layers in use) as they were. Without a pin the version with
the newest validity date (vintage, then import time) is the one in use; it replaces the shipped
illustrative layer of the same kind in ``active_layers``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from geo.boundaries import Layer, LayerSet, load_layer
from geo.errors import BoundaryDataError
from geo.importer import ImportResult
from geo.models import LayerInfo

LAYERS = ("protected_areas", "townships")
KIND_OF = {"protected_areas": "protected_area", "townships": "township"}
FEATURES_FILE = "layer.gpkg"
META_FILE = "meta.json"
ACTIVE_FILE = "active.json"


@dataclass(frozen=True)
class StoredVersion:
    """One stored version of a layer and its metadata."""

    layer: str
    version: str
    path: Path
    meta: dict

    @property
    def sort_key(self) -> tuple[str, str]:
        """Order by validity date, then by import time."""
        return (str(self.meta.get("vintage", "")), str(self.meta.get("imported_at", "")))


def store_root(instance_path: str | Path, config: dict | None = None) -> Path:
    """Return the store folder: ``BOUNDARY_STORE_DIR`` or instance/boundaries."""
    override = (config or {}).get("BOUNDARY_STORE_DIR")
    return Path(override) if override else Path(instance_path) / "boundaries"


def _check_layer(layer: str) -> str:
    """Return ``layer`` if it is a storable layer name, else raise naming the choices."""
    if layer not in LAYERS:
        raise BoundaryDataError(f"图层 {layer!r} 无效（可选: {', '.join(LAYERS)}）")
    return layer


def _write_json_atomically(path: Path, data: dict) -> None:
    """Write JSON next to ``path`` and rename it over, so readers never see half a file."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, path)


def save_import(root: str | Path, result: ImportResult) -> StoredVersion:
    """Store an imported layer as a new version; nothing is visible until the final rename."""
    info = result.layer.info
    layer = _check_layer(info.name)
    now = datetime.now(UTC)
    version = f"{info.vintage}_{now:%Y%m%dT%H%M%S}_{result.report.sha256[:8]}"
    layer_dir = Path(root) / layer
    layer_dir.mkdir(parents=True, exist_ok=True)
    n = 1
    while (layer_dir / version).exists():  # same file twice in one second
        n += 1
        version = f"{info.vintage}_{now:%Y%m%dT%H%M%S}_{result.report.sha256[:8]}-{n}"
    tmp = Path(tempfile.mkdtemp(prefix=".incoming-", dir=layer_dir))
    try:
        result.layer.frame.to_file(tmp / FEATURES_FILE, driver="GPKG", layer=layer)
        report = result.report.to_dict()
        report["source_layer"] = report.pop("layer")
        meta = {
            **report,
            "layer": layer,
            "version": version,
            "kind": info.kind,
            "vintage": info.vintage,
            "imported_at": now.isoformat(timespec="seconds"),
            "authoritative": True,
            "zone_scheme": info.zone_scheme,
        }
        (tmp / META_FILE).write_text(
            json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8"
        )
        os.rename(tmp, layer_dir / version)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return StoredVersion(layer, version, layer_dir / version, meta)


def list_versions(root: str | Path, layer: str) -> list[StoredVersion]:
    """Return the stored versions of ``layer``, newest validity date first."""
    layer_dir = Path(root) / _check_layer(layer)
    if not layer_dir.is_dir():
        return []
    found = []
    for d in layer_dir.iterdir():
        if d.name.startswith(".") or not (d / META_FILE).is_file():
            continue  # unfinished imports and the pin file are not versions
        meta = json.loads((d / META_FILE).read_text(encoding="utf-8"))
        found.append(StoredVersion(layer, d.name, d, meta))
    return sorted(found, key=lambda v: v.sort_key, reverse=True)


def active_version(root: str | Path, layer: str) -> StoredVersion | None:
    """Return the version in use: the pinned one, else the newest; None when none is stored."""
    versions = list_versions(root, layer)
    pin = Path(root) / layer / ACTIVE_FILE
    if pin.is_file():
        wanted = json.loads(pin.read_text(encoding="utf-8")).get("version")
        for v in versions:
            if v.version == wanted:
                return v
        raise BoundaryDataError(f"{pin}: 启用的版本 {wanted!r} 不存在")
    return versions[0] if versions else None


def set_active(root: str | Path, layer: str, version: str | None) -> StoredVersion | None:
    """Pin ``version`` as the one in use, or remove the pin (None) so the newest is used."""
    layer_dir = Path(root) / _check_layer(layer)
    pin = layer_dir / ACTIVE_FILE
    if version is None:
        pin.unlink(missing_ok=True)
        return active_version(root, layer)
    names = [v.version for v in list_versions(root, layer)]
    if version not in names:
        raise BoundaryDataError(
            f"图层 {layer} 没有版本 {version!r}（已有: {', '.join(names) or '无'}）"
        )
    _write_json_atomically(pin, {"version": version})
    return active_version(root, layer)


def load_version(stored: StoredVersion) -> Layer:
    """Load a stored version as a ``Layer`` whose version string names the stored version."""
    meta = stored.meta
    info = LayerInfo(
        name=stored.layer,
        kind=KIND_OF[stored.layer],
        vintage=meta["vintage"],
        authoritative=True,
        source=meta.get("source_file", ""),
        source_crs=meta.get("crs", "EPSG:4326"),
        zone_scheme=meta.get("zone_scheme"),
        version=f"imported:{stored.version}",
    )
    return load_layer(stored.path / FEATURES_FILE, info)


def active_layers(base: LayerSet, root: str | Path) -> LayerSet:
    """Return ``base`` with each shipped layer replaced by the active imported version, if any."""
    layers = base
    for layer in LAYERS:
        stored = active_version(root, layer)
        if stored is not None:
            layers = layers.replace(load_version(stored))
    return layers
