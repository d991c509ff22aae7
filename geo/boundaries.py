"""Boundary layers: the only place in ``geo`` that reads boundary files.

A layer is a GeoDataFrame in EPSG:4326 plus its ``LayerInfo``. Shipped layers are described by
``data/boundaries/layers.json``; imported authoritative layers arrive as ``Layer`` objects built by
the importer and replace shipped ones of the same kind through ``LayerSet.replace``.

Columns by kind (all layers also keep ``geometry``):

- city, county, township: ``code`` (str), ``name`` (str), ``parent_code`` (str or None)
- protected_area: ``pa_code``, ``name`` (protected-area name), ``level`` (国家级/省级/...),
  ``pa_type``, ``zone`` (zone name or None for an unzoned outline), ``zone_scheme``
  (reserve3 | reform2 | wetland | none), ``authoritative`` (bool)
- water_source, redline, farmland (constraint layers, imported only): the protected_area columns,
  so one overlap check reads them all, with ``zone_scheme`` = the kind and, for water sources,
  ``river``, ``serves``, ``approval``; for the red line ``unit_code``, ``redline_type``
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd

from geo.datadir import SHIPPED_DIR
from geo.errors import BoundaryDataError
from geo.models import LayerInfo

DATA_DIR = SHIPPED_DIR  # data/boundaries in a checkout, geo/shipped when installed
STORAGE_CRS = "EPSG:4326"
KINDS = ("city", "county", "township", "protected_area", "water_source", "redline", "farmland")
# kind -> the LayerSet slot holding it
SLOTS = {"city": "city", "county": "counties", "township": "townships",
         "protected_area": "protected_areas", "water_source": "water_source",
         "redline": "redline", "farmland": "farmland"}  # fmt: skip
# layers a site is checked against (each zone with its rule), in report order
CONSTRAINT_KINDS = ("protected_area", "water_source", "redline", "farmland")
_ZONED = ("pa_code", "name", "zone", "zone_scheme")
REQUIRED_COLUMNS = {
    "city": ("code", "name"),
    "county": ("code", "name"),
    "township": ("code", "name", "parent_code"),
    **{kind: _ZONED for kind in CONSTRAINT_KINDS},
}


@dataclass
class Layer:
    """One boundary layer: metadata plus features in EPSG:4326."""

    info: LayerInfo
    frame: gpd.GeoDataFrame
    cache: dict = field(default_factory=dict, repr=False)  # spatial indexes built on demand

    def __post_init__(self) -> None:
        """Check the layer has the columns its kind needs and is stored in WGS84."""
        missing = [c for c in REQUIRED_COLUMNS.get(self.info.kind, ()) if c not in self.frame]
        if missing:
            raise BoundaryDataError(
                f"layer {self.info.name!r} ({self.info.kind}) lacks column(s) {', '.join(missing)}"
            )
        if self.frame.crs is None or not self.frame.crs.equals(STORAGE_CRS):
            raise BoundaryDataError(
                f"layer {self.info.name!r} must be in {STORAGE_CRS}, got {self.frame.crs}"
            )


@dataclass(frozen=True)
class LayerSet:
    """The boundary layers in use, at most one per kind."""

    city: Layer
    counties: Layer
    townships: Layer | None = None
    protected_areas: Layer | None = None
    water_source: Layer | None = None  # 饮用水水源保护区 (imported only: polygons are not public)
    redline: Layer | None = None  # 生态保护红线 (imported only)
    farmland: Layer | None = None  # 永久基本农田 (imported only)
    extra: dict[str, Layer] = field(default_factory=dict)  # reference layers, not used to attribute

    def replace(self, layer: Layer) -> LayerSet:
        """Return a new set with ``layer`` in place of the layer of its kind."""
        return replace(self, **{SLOTS[layer.info.kind]: layer})

    def versions(self) -> dict[str, str]:
        """Map each layer slot in use to the version string reported with results."""
        slots = {slot: getattr(self, slot) for slot in SLOTS.values()}
        return {k: v.info.version for k, v in slots.items() if v is not None}

    def constraint_layers(self) -> dict[str, Layer | None]:
        """Return kind -> the constraint layer in use (None when none is loaded or imported)."""
        return {kind: getattr(self, SLOTS[kind]) for kind in CONSTRAINT_KINDS}


def load_layer(path: str | Path, info: LayerInfo) -> Layer:
    """Read one boundary file and return it as a ``Layer`` in EPSG:4326."""
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several unrelated types
        raise BoundaryDataError(f"cannot read boundary file {path}: {exc}") from exc
    if frame.crs is None:
        raise BoundaryDataError(f"boundary file {path} declares no CRS")
    return make_layer(frame, info)


def make_layer(frame: gpd.GeoDataFrame, info: LayerInfo) -> Layer:
    """Return ``frame`` as a ``Layer``: reprojected to EPSG:4326, code columns as strings."""
    if not frame.crs.equals(STORAGE_CRS):
        # CGCS2000 and WGS84 agree to centimetres; reproject so every layer shares one CRS
        frame = frame.to_crs(STORAGE_CRS)
    for col in ("code", "parent_code", "pa_code"):
        if col in frame:
            frame[col] = frame[col].astype("string")
    return Layer(info=info, frame=frame)


def read_manifest(data_dir: str | Path = DATA_DIR) -> list[dict]:
    """Return the layer entries of ``layers.json`` in ``data_dir``."""
    path = Path(data_dir) / "layers.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))["layers"]
    except (OSError, ValueError, KeyError) as exc:
        raise BoundaryDataError(f"cannot read layer manifest {path}: {exc}") from exc


_shipped: dict[str, LayerSet] = {}


def shipped_layers(data_dir: str | Path = DATA_DIR) -> LayerSet:
    """Return the shipped layers of ``data_dir``, read once per process."""
    key = str(Path(data_dir).resolve())
    if key not in _shipped:
        _shipped[key] = load_shipped(data_dir)
    return _shipped[key]


def load_shipped(data_dir: str | Path = DATA_DIR) -> LayerSet:
    """Load the shipped layers named in ``layers.json`` into a ``LayerSet``."""
    data_dir = Path(data_dir)
    by_name: dict[str, Layer] = {}
    for entry in read_manifest(data_dir):
        entry = dict(entry)
        path = data_dir / entry.pop("file")
        entry.pop("fields", None)
        entry.pop("description", None)
        by_name[entry["name"]] = load_layer(path, LayerInfo(**entry))
    core = {slot: by_name.pop(slot) for slot in SLOTS.values() if slot in by_name}
    if "city" not in core or "counties" not in core:
        raise BoundaryDataError(f"{data_dir}/layers.json must define 'city' and 'counties' layers")
    return LayerSet(**core, extra=by_name)
