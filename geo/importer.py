"""Import boundary files (protected areas, water-source zones, red line, farmland, townships).

``read_boundary_file`` runs the whole chain: open the format (``importing.reading``), settle the
CRS (``importing.crs_resolve``), map attributes (``importing.fields``), check and repair geometry
(``importing.geometry``), and refuse files that land outside Yongzhou, saying where they landed
(``importing.place``). It returns a ``Layer`` ready for ``LayerSet.replace`` plus a report.
Every refusal is an ``ImportFileError`` naming the file, the feature and the field.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.boundaries import Layer
from geo.crs import YONGZHOU_BBOX
from geo.errors import ImportFileError
from geo.importing.constraints import map_constraints
from geo.importing.crs_resolve import resolve_crs
from geo.importing.fields import guess_field_map, map_protected_areas, map_townships
from geo.importing.geometry import Repair, check_geometries
from geo.importing.place import describe_location
from geo.importing.reading import open_source
from geo.importing.site_tables import csv_points, read_parquet_sites
from geo.models import LayerInfo

__all__ = ["ImportReport", "ImportResult", "read_boundary_file", "read_sites_file", "file_sha256"]

LAYER_NAMES = {"protected_area": "protected_areas", "township": "townships",
               "water_source": "water_source", "redline": "redline", "farmland": "farmland"}


@dataclass
class ImportReport:
    """What the importer found and did, for the user and for the stored metadata."""

    source_file: str
    sha256: str
    format: str
    member: str
    layer: str | None
    crs: str
    crs_method: str
    crs_guessed: bool
    crs_candidates: list[str]
    datum: str | None
    features: int
    field_map: dict[str, str]
    repairs: list[Repair] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    bounds: tuple[float, float, float, float] | None = None

    def to_dict(self) -> dict:
        """Return a JSON-ready dict (repairs as dicts)."""
        out = asdict(self)
        out["bounds"] = list(self.bounds) if self.bounds else None
        return out


@dataclass
class ImportResult:
    """An imported layer ready to use, with the report of how it was read."""

    layer: Layer
    report: ImportReport


def file_sha256(path: str | Path) -> str:
    """Return the hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _is_blank(value) -> bool:
    """True for None, NaN and whitespace-only strings."""
    return (
        value is None or (isinstance(value, float) and value != value) or str(value).strip() == ""
    )


def _labels(frame: pd.DataFrame, name_col: str | None) -> list[str]:
    """Return "要素 #n（名称）" labels used in every message about a feature."""
    names = frame[name_col].tolist() if name_col else [None] * len(frame)
    return [
        f"要素 #{i + 1}" + (f"（{n}）" if n not in (None, "") and n == n else "")
        for i, n in enumerate(names)
    ]


def _check_in_yongzhou(frame: gpd.GeoDataFrame, labels: list[str], source: str) -> None:
    """Reject features whose WGS84 bounds miss the padded Yongzhou box, saying where they landed."""
    w, s, e, n = YONGZHOU_BBOX
    b = frame.geometry.bounds.to_numpy()
    outside = (b[:, 2] < w) | (b[:, 0] > e) | (b[:, 3] < s) | (b[:, 1] > n)
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        total = tuple(float(v) for v in frame.total_bounds)
        raise ImportFileError(
            f"{source}: 重投影后 {int(outside.sum())}/{len(frame)} 个要素"
            "不在永州范围内（字段 geometry）；"
            f"首个为 {labels[i]}，落在{describe_location(tuple(b[i]))}。"
            f"整个文件范围：{describe_location(total)}。"
            "请检查坐标系（--crs）与基准（--datum）"
        )


def read_boundary_file(
    path: str | Path,
    *,
    kind: str,
    crs=None,
    datum: str | None = None,
    field_map: dict[str, str] | None = None,
    vintage: str | None = None,
    confirm_crs: bool = False,
    layer: str | None = None,
) -> ImportResult:
    """Read an authoritative boundary file into a ``Layer`` (EPSG:4326) and an ``ImportReport``.

    Parameters
    ----------
    path : str or Path
        .zip (Shapefile), .shp, .gpkg, .geojson/.json, .kml or .kmz.
    kind : {"protected_area", "township", "water_source", "redline", "farmland"}
        Which layer the file provides; decides the attribute mapping.
    crs : str, optional
        "EPSG:n" to use instead of what the file declares or what would be guessed.
    datum : {"gcj02", "bd09"}, optional
        Declare lon/lat as GCJ-02 or BD-09; converted to WGS84. Never guessed.
    field_map : dict, optional
        Target -> column, e.g. ``{"zone": "GNFQ"}``; other targets are guessed.
    vintage : str, optional
        Date the boundaries are valid from (e.g. "2023-06-30"); defaults to today.
    confirm_crs : bool
        Accept a CRS guessed from coordinate ranges instead of raising CRSNeedsConfirmation.
    layer : str, optional
        GeoPackage/KML layer, or Shapefile name inside a zip holding several.

    Returns
    -------
    ImportResult
    """
    path = Path(path)
    if kind not in LAYER_NAMES:
        raise ImportFileError(
            f"{path.name}: 图层类型 {kind!r} 无效（可选: {', '.join(LAYER_NAMES)}）"
        )
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="yzmap-import-") as workdir:
        raw = open_source(path, workdir, layer=layer)
        source = path.name if raw.member == path.name else f"{path.name}:{raw.member}"
        attrs = pd.DataFrame(raw.frame.drop(columns=raw.frame.geometry.name))
        columns = [c for c in attrs.columns if c != "kml_folder"]
        blank = {c for c in columns if attrs[c].map(_is_blank).all()}
        mapping = guess_field_map(columns, kind, field_map, source=source, blank=blank)
        labels = _labels(attrs, mapping.get("name") or mapping.get("code"))
        frame, repairs = check_geometries(raw.frame, labels, source=source)
        frame, decision = resolve_crs(
            frame,
            raw.crs_source,
            source=source,
            crs=crs,
            datum=datum,
            confirm_crs=confirm_crs,
            warnings=warnings,
        )
    if kind == "protected_area":
        mapped = map_protected_areas(attrs, mapping, source=source)
        mapped["authoritative"] = True
        schemes = sorted(set(mapped["zone_scheme"]) - {"none"})
        zone_scheme = schemes[0] if len(schemes) == 1 else ("mixed" if schemes else "none")
        if "zone" not in mapping:
            warnings.append("未找到分区字段，所有要素按未分区的保护地边界导入")
    elif kind == "township":
        mapped = map_townships(attrs, mapping, source=source, warnings=warnings)
        zone_scheme = None
    else:
        mapped = map_constraints(attrs, mapping, kind, source=source)
        mapped["authoritative"] = True
        zone_scheme = kind
    out = gpd.GeoDataFrame(mapped, geometry=frame.geometry.values, crs=frame.crs)
    _check_in_yongzhou(out, labels, source)
    sha = file_sha256(path)
    vintage = vintage or date.today().isoformat()
    info = LayerInfo(
        name=LAYER_NAMES[kind],
        kind=kind,
        vintage=vintage,
        authoritative=True,
        source=path.name,
        source_crs=decision.crs,
        zone_scheme=zone_scheme,
        version=f"import:{vintage}:{sha[:8]}",
    )
    report = ImportReport(
        source_file=path.name,
        sha256=sha,
        format=raw.format,
        member=raw.member,
        layer=raw.layer,
        crs=decision.crs,
        crs_method=decision.method,
        crs_guessed=decision.guessed,
        crs_candidates=decision.candidates,
        datum=decision.datum,
        features=len(out),
        field_map=mapping,
        repairs=repairs,
        warnings=warnings,
        bounds=tuple(float(v) for v in out.total_bounds),
    )
    return ImportResult(Layer(info=info, frame=out), report)


def read_sites_file(
    path: str | Path,
    *,
    crs=None,
    datum: str | None = None,
    confirm_crs: bool = False,
    layer: str | None = None,
    lon_col: str | None = None,
    lat_col: str | None = None,
) -> tuple[gpd.GeoDataFrame, ImportReport]:
    """Read sites (points, lines or polygons) from any import format, a lon/lat CSV or a
    (Geo)Parquet file, in EPSG:4326.

    Sites are not refused for lying outside Yongzhou (they are simply outside every reserve);
    a warning in the report says how many do.
    """
    path = Path(path)
    warnings: list[str] = []
    if path.suffix.lower() == ".csv":
        raw_frame, declared = _read_csv_points(path, lon_col, lat_col)
        fmt, member, lyr = "CSV", path.name, None
    elif path.suffix.lower() == ".parquet":
        raw_frame, declared = read_parquet_sites(path, lon_col, lat_col)
        fmt, member, lyr = "GeoParquet", path.name, None
    else:
        with tempfile.TemporaryDirectory(prefix="yzmap-sites-") as workdir:
            raw = open_source(path, workdir, layer=layer)
        raw_frame, fmt, member, lyr, declared = (
            raw.frame,
            raw.format,
            raw.member,
            raw.layer,
            raw.crs_source,
        )
    source = path.name
    labels = [f"要素 #{i + 1}" for i in range(len(raw_frame))]
    frame, repairs = check_geometries(raw_frame, labels, source=source, polygons_only=False)
    frame, decision = resolve_crs(
        frame,
        declared,
        source=source,
        crs=crs,
        datum=datum,
        confirm_crs=confirm_crs,
        warnings=warnings,
    )
    w, s, e, n = YONGZHOU_BBOX
    b = frame.geometry.bounds.to_numpy()
    far = int(((b[:, 2] < w) | (b[:, 0] > e) | (b[:, 3] < s) | (b[:, 1] > n)).sum())
    if far:
        warnings.append(f"{far} 个站点不在永州范围内")
    report = ImportReport(
        source_file=path.name,
        sha256=file_sha256(path),
        format=fmt,
        member=member,
        layer=lyr,
        crs=decision.crs,
        crs_method=decision.method,
        crs_guessed=decision.guessed,
        crs_candidates=decision.candidates,
        datum=decision.datum,
        features=len(frame),
        field_map={},
        repairs=repairs,
        warnings=warnings,
        bounds=tuple(float(v) for v in frame.total_bounds),
    )
    return frame, report


def _read_csv_points(
    path: Path, lon_col: str | None, lat_col: str | None
) -> tuple[gpd.GeoDataFrame, str | None]:
    """Read a CSV's lon/lat (or x/y) columns into points; bad cells name their row.

    Columns headed lon/lat (经度/纬度) declare WGS84; x/y or user-named columns declare nothing.
    """
    frame = None
    for enc in ("utf-8-sig", "gb18030"):
        try:
            frame = pd.read_csv(path, encoding=enc, dtype=str)
            break
        except UnicodeDecodeError:
            continue
    if frame is None:
        raise ImportFileError(f"{path.name}: 编码既不是 UTF-8 也不是 GBK")
    return csv_points(frame, path.name, lon_col, lat_col)
