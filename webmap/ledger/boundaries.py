"""Which boundary layers are in use: the shipped ones, overlaid by the active imported versions.

``layers_in_use(session)`` is the one answer to that question for every door (``yzmap locate``,
``import-ledger``, ``overlap``, snapshots, the briefing, the pages and the APIs). Imported
authoritative versions live in the database beside the ledger (``boundary_versions`` with their
``boundary_features``; ``boundary_pins`` says which version is pinned), so a backup of the
database carries them, two databases on one install never see each other's layers, and several
app servers on one PostGIS agree. Every import and activation is also an event in the event log.

Without a pin the version with the newest validity date (vintage, then import time) is in use;
it replaces the shipped illustrative layer of the same kind. Versions are never changed: a
loaded version's features are cached per process by its identity, and each call reads the version
rows (names, vintages, metadata) and the pins again, two small queries, so an activation made by
another process is in use at its next request.
"""

from __future__ import annotations

import json
import math
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
from sqlalchemy import delete, inspect, select
from sqlalchemy.orm import Session

from geo.boundaries import DATA_DIR, Layer, LayerSet, make_layer, shipped_layers
from geo.errors import BoundaryDataError
from geo.files import write_atomically
from geo.importer import ImportResult
from geo.models import LayerInfo
from webmap.ledger.db import database_name
from webmap.ledger.events import record_event
from webmap.ledger.models import BoundaryFeature, BoundaryPin, BoundaryVersion
from webmap.ledger.vocabulary import IMPORTABLE_LAYERS

LAYERS = tuple(IMPORTABLE_LAYERS)
KIND_OF = IMPORTABLE_LAYERS
LEGACY_FEATURES, LEGACY_META, LEGACY_PIN = "layer.gpkg", "meta.json", "active.json"
MIGRATED_MARK = "MIGRATED.json"  # written in the old instance folder once moved into a database
_CACHE_SIZE = 16
_loaded: OrderedDict[tuple, Layer] = OrderedDict()
_cache_lock = threading.Lock()
_has_store: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # engine -> True


@dataclass(frozen=True)
class StoredVersion:
    """One stored version of a layer and its metadata (the importer's report and more)."""

    id: int
    layer: str
    version: str
    meta: dict

    @property
    def sort_key(self) -> tuple[str, str]:
        """Order by validity date, then by import time."""
        return (str(self.meta.get("vintage", "")), str(self.meta.get("imported_at", "")))


def check_layer(layer: str) -> str:
    """Return ``layer`` if it is a storable layer name, else raise naming the choices."""
    if layer not in LAYERS:
        raise BoundaryDataError(f"图层 {layer!r} 无效（可选: {', '.join(LAYERS)}）")
    return layer


def _version_name(session: Session, info: LayerInfo, sha256: str, now: datetime) -> str:
    """Return a new version name: vintage, import time and file hash (suffixed if taken)."""
    base = f"{info.vintage}_{now:%Y%m%dT%H%M%S}_{sha256[:8]}"
    taken = set(session.scalars(select(BoundaryVersion.version)
                                .where(BoundaryVersion.version.like(f"{base}%"))))  # fmt: skip
    name, n = base, 1
    while name in taken:  # the same file twice in one second
        n += 1
        name = f"{base}-{n}"
    return name


def _plain(value):
    """Return a JSON-ready attribute value (NaN and pandas NA become None)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return value.item() if hasattr(value, "item") else value


def _store(
    session: Session, layer: str, name: str, meta: dict, frame, *, actor: str, imported_at: datetime
) -> StoredVersion:
    """Insert one version row and its features; log the import as an event."""
    columns = [c for c in frame.columns if c != frame.geometry.name]
    meta = {**meta, "layer": layer, "version": name, "columns": columns}
    row = BoundaryVersion(layer=layer, version=name, kind=KIND_OF[layer],
                          vintage=str(meta["vintage"]), source_file=str(meta["source_file"]),
                          sha256=str(meta["sha256"]), feature_count=len(frame), actor=actor,
                          imported_at=imported_at, meta=meta)  # fmt: skip
    values = frame[columns].to_dict("records")
    row.features = [BoundaryFeature(properties={k: _plain(v) for k, v in props.items()},
                                    geometry=geom)
                    for props, geom in zip(values, frame.geometry, strict=True)]  # fmt: skip
    session.add(row)
    session.flush()
    record_event(session, "boundary.imported", actor=actor, effective=imported_at.date(),
                 after={"layer": layer, "version": name, "vintage": meta["vintage"],
                        "source_file": meta["source_file"], "sha256": meta["sha256"],
                        "features": len(frame)})  # fmt: skip
    return StoredVersion(row.id, layer, name, meta)


def save_import(session: Session, result: ImportResult, *, actor: str) -> StoredVersion:
    """Store an imported layer as a new version (the caller commits, all or nothing)."""
    info = result.layer.info
    layer = check_layer(info.name)
    now = datetime.now(UTC)
    report = result.report.to_dict()
    report["source_layer"] = report.pop("layer")
    meta = {**report, "kind": info.kind, "vintage": info.vintage,
            "imported_at": now.isoformat(timespec="seconds"), "authoritative": True,
            "zone_scheme": info.zone_scheme}  # fmt: skip
    name = _version_name(session, info, result.report.sha256, now)
    return _store(session, layer, name, meta, result.layer.frame, actor=actor, imported_at=now)


def _stored(row: BoundaryVersion) -> StoredVersion:
    """Describe a version row."""
    return StoredVersion(row.id, row.layer, row.version, dict(row.meta))


def _newest_first(versions) -> list[StoredVersion]:
    """Order versions by validity date, then import time, newest first."""
    return sorted(versions, key=lambda v: v.sort_key, reverse=True)


def list_versions(session: Session, layer: str) -> list[StoredVersion]:
    """Return the stored versions of ``layer``, newest validity date first."""
    stmt = select(BoundaryVersion).where(BoundaryVersion.layer == check_layer(layer))
    return _newest_first(_stored(r) for r in session.scalars(stmt))


def pins(session: Session) -> dict[str, str]:
    """Return layer -> name of the version pinned in use (unpinned layers are absent)."""
    stmt = select(BoundaryPin.layer, BoundaryVersion.version).join(
        BoundaryVersion, BoundaryPin.version_id == BoundaryVersion.id)  # fmt: skip
    return dict(session.execute(stmt).all())


def pinned_version(session: Session, layer: str) -> str | None:
    """Return the name of the version pinned for ``layer``, or None when unpinned."""
    return pins(session).get(check_layer(layer))


def active_versions(session: Session) -> dict[str, StoredVersion | None]:
    """Return layer -> the version in use (pinned, else newest; None when none is stored)."""
    by_layer: dict[str, list[StoredVersion]] = {layer: [] for layer in LAYERS}
    pinned: dict[str, str] = {}
    # one round trip (every API request asks): the versions with their pins joined on
    stmt = select(BoundaryVersion, BoundaryPin.layer).outerjoin(
        BoundaryPin, BoundaryPin.version_id == BoundaryVersion.id)  # fmt: skip
    for row, pin_layer in session.execute(stmt):
        by_layer.setdefault(row.layer, []).append(_stored(row))
        if pin_layer is not None:
            pinned[pin_layer] = row.version
    out = {}
    for layer in LAYERS:
        versions = _newest_first(by_layer[layer])
        wanted = pinned.get(layer)
        out[layer] = next((v for v in versions if v.version == wanted),
                          versions[0] if versions else None)  # fmt: skip
    return out


def active_version(session: Session, layer: str) -> StoredVersion | None:
    """Return the version of ``layer`` in use: the pinned one, else the newest, else None."""
    return active_versions(session)[check_layer(layer)]


def set_active(
    session: Session, layer: str, version: str | None, *, actor: str, day: date | None = None
) -> StoredVersion | None:
    """Pin ``version`` in use, or unpin (None: the newest is used); log it as an event."""
    check_layer(layer)
    before = pinned_version(session, layer)
    session.execute(delete(BoundaryPin).where(BoundaryPin.layer == layer))
    if version is not None:
        row = session.scalar(
            select(BoundaryVersion).where(
                BoundaryVersion.layer == layer, BoundaryVersion.version == version
            )
        )
        if row is None:
            names = [v.version for v in list_versions(session, layer)]
            raise BoundaryDataError(
                f"图层 {layer} 没有版本 {version!r}（已有: {', '.join(names) or '无'}）"
            )
        session.add(BoundaryPin(layer=layer, version_id=row.id, actor=actor))
    session.flush()
    record_event(session, "boundary.activated", actor=actor, effective=day or date.today(),
                 before={"layer": layer, "version": before},
                 after={"layer": layer, "version": version})  # fmt: skip
    return active_version(session, layer)


def load_version(session: Session, stored: StoredVersion) -> Layer:
    """Return a stored version as a ``Layer`` whose version string names the stored version."""
    key = (database_name(session.get_bind()), stored.id, stored.version, stored.meta.get("sha256"))
    with _cache_lock:  # waitress serves requests from several threads
        if key in _loaded:
            _loaded.move_to_end(key)
            return _loaded[key]
    rows = session.execute(select(BoundaryFeature.properties, BoundaryFeature.geometry)
                           .where(BoundaryFeature.version_id == stored.id)
                           .order_by(BoundaryFeature.id)).all()  # fmt: skip
    meta = stored.meta
    columns = meta.get("columns") or sorted({k for props, _ in rows for k in props})
    frame = gpd.GeoDataFrame(pd.DataFrame([props for props, _ in rows], columns=columns),
                             geometry=[geom for _, geom in rows], crs="EPSG:4326")  # fmt: skip
    info = LayerInfo(name=stored.layer, kind=KIND_OF[stored.layer], vintage=meta["vintage"],
                     authoritative=True, source=meta.get("source_file", ""),
                     source_crs=meta.get("crs", "EPSG:4326"), zone_scheme=meta.get("zone_scheme"),
                     version=f"imported:{stored.version}")  # fmt: skip
    layer = make_layer(frame, info)
    with _cache_lock:
        _loaded[key] = layer
        while len(_loaded) > _CACHE_SIZE:
            _loaded.popitem(last=False)
    return layer


def has_store(session: Session) -> bool:
    """Say whether the database has the boundary store tables (``yzmap init`` creates them).

    A yes is remembered per engine (nothing drops the tables once made): the catalogue query
    is a round trip that every API request would otherwise pay. A no is asked again.
    """
    engine = session.get_bind().engine  # a session may be bound to a connection
    if engine in _has_store:
        return True
    found = inspect(session.connection()).has_table(BoundaryVersion.__tablename__)
    if found:
        _has_store[engine] = True
    return found


def layers_in_use(session: Session | None, data_dir: str | Path = DATA_DIR) -> LayerSet:
    """Return the shipped layers with each replaced by its active imported version, if any.

    With no session, or a database whose schema has not been created yet, the shipped layers
    are the answer (``yzmap locate`` works before ``yzmap init``).
    """
    layers = shipped_layers(data_dir)
    if session is None or not has_store(session):
        return layers
    for stored in active_versions(session).values():
        if stored is not None:
            layers = layers.replace(load_version(session, stored))
    return layers


def legacy_root(config) -> Path:
    """Return the instance folder the file store of earlier releases used."""
    configured = config["BOUNDARY_STORE_DIR"]
    return Path(configured) if configured else Path(config["INSTANCE_PATH"]) / "boundaries"


def migrate_legacy_store(session: Session, root: str | Path, *,
                         actor: str) -> tuple[list[str], list[str]]:  # fmt: skip
    """Move versions kept as files by earlier releases into this database (the caller commits).

    Each ``<layer>/<version>/`` folder (``layer.gpkg`` + ``meta.json``) becomes a stored version
    with the same name and metadata, and its ``active.json`` pin becomes the pin when that
    version exists. Returns (the versions moved, notes on what was left). After the commit the
    caller calls ``mark_legacy_moved``, so a second database never picks them up; a folder already
    marked is left alone.
    """
    root = Path(root)
    if not root.is_dir() or (root / MIGRATED_MARK).exists():
        return [], []
    moved, notes = [], []
    for layer in LAYERS:
        folder = root / layer
        if not folder.is_dir():
            continue
        known = {v.version for v in list_versions(session, layer)}
        for d in sorted(folder.iterdir()):
            if d.name.startswith(".") or not (d / LEGACY_META).is_file() or d.name in known:
                continue
            meta = json.loads((d / LEGACY_META).read_text(encoding="utf-8"))
            frame = gpd.read_file(d / LEGACY_FEATURES)
            when = datetime.fromisoformat(meta.get("imported_at") or datetime.now(UTC).isoformat())
            _store(session, layer, d.name, meta, frame, actor=actor,
                   imported_at=when if when.tzinfo else when.replace(tzinfo=UTC))  # fmt: skip
            moved.append(f"{layer}/{d.name}")
            known.add(d.name)
        pin = folder / LEGACY_PIN
        if pin.is_file() and pinned_version(session, layer) is None:
            wanted = json.loads(pin.read_text(encoding="utf-8")).get("version")
            if wanted in known:
                set_active(session, layer, wanted, actor=actor)
            else:
                notes.append(f"{pin}：启用的版本 {wanted!r} 不存在，未迁移该固定"
                             "（使用有效日期最新的版本）")  # fmt: skip
    return moved, notes


def mark_legacy_moved(root: str | Path, database: str, moved: list[str]) -> None:
    """Leave a mark in the old folder naming the database its versions went to."""
    mark = {"database": database, "migrated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "versions": moved}  # fmt: skip
    with write_atomically(Path(root) / MIGRATED_MARK) as handle:
        handle.write(json.dumps(mark, ensure_ascii=False, indent=2).encode("utf-8"))
