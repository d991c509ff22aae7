"""Read a site file in chunks, for bulk overlap: a million change patches never sit in memory.

GeoPackage (pyogrio's Arrow reader), GeoParquet (pyarrow row batches, through ``geo.tables``) and
lon/lat CSV (pandas in chunks, so the cells are those ``read_sites_file`` reads) are streamed;
Shapefile, GeoJSON, KML and archives are read whole and then cut, as GDAL reads them. The CRS is
settled on the first chunk, so a guessed CRS raises ``CRSNeedsConfirmation`` before any output
is written; later chunks use the same decision and must agree with it. Every chunk goes through
the same geometry checks as ``read_sites_file``, its features numbered in the whole file.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import crs as gcrs
from geo.crs import YONGZHOU_BBOX
from geo.errors import ImportFileError
from geo.importer import ImportReport, file_sha256
from geo.importing.crs_resolve import CRSDecision, _check_consistent, _undo_datum, resolve_crs
from geo.importing.geometry import Repair, check_geometries
from geo.importing.reading import _choose_layer, open_source
from geo.importing.site_tables import csv_points, parquet_chunks

__all__ = ["STREAMED_SUFFIXES", "SiteStream", "open_site_stream"]

STREAMED_SUFFIXES = (".csv", ".gpkg", ".parquet")  # read chunk by chunk; others read whole
DEFAULT_CHUNK = 50_000


@dataclass
class SiteStream:
    """A site file opened for chunked reading, its CRS already decided on the first chunk."""

    path: Path
    format: str
    member: str
    layer: str | None
    decision: CRSDecision
    datum: str | None
    first: gpd.GeoDataFrame  # the first chunk, in EPSG:4326
    rest: Iterator  # raw later chunks: (GeoDataFrame, declared CRS source) as read
    warnings: list[str] = field(default_factory=list)
    repairs: list[Repair] = field(default_factory=list)
    features: int = 0
    far: int = 0
    _bounds: list = field(default_factory=lambda: [np.inf, np.inf, -np.inf, -np.inf])

    def chunks(self) -> Iterator[tuple[int, gpd.GeoDataFrame]]:
        """Yield (index of the chunk's first site in the file, sites in EPSG:4326)."""
        self._count(self.first)
        yield 0, self.first
        offset = len(self.first)
        for raw in self.rest:
            if not len(raw):
                continue
            frame = self._convert(_checked(raw, self.path.name, offset, self.repairs))
            self._count(frame)
            yield offset, frame
            offset += len(frame)

    def _convert(self, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """Apply the first chunk's CRS decision (swap, reprojection, datum) to a later chunk."""
        d = self.decision
        _check_consistent(d.crs, frame.total_bounds, self.path.name, "按首批要素确定")
        geoms = frame.geometry.array
        if d.swapped:
            import shapely

            geoms = shapely.transform(geoms, lambda c: c[:, ::-1])
        out = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index), crs=d.crs)
        out = out.to_crs(gcrs.STORAGE_CRS)
        return _undo_datum(out, self.datum, d, self.path.name) if self.datum else out

    def _count(self, frame: gpd.GeoDataFrame) -> None:
        """Add a chunk to the feature count, the bounds and the count outside Yongzhou."""
        if not len(frame):
            return
        b = frame.geometry.bounds.to_numpy()
        w, s, e, n = YONGZHOU_BBOX
        self.far += int(((b[:, 2] < w) | (b[:, 0] > e) | (b[:, 3] < s) | (b[:, 1] > n)).sum())
        self.features += len(frame)
        lo, hi = b[:, :2].min(axis=0), b[:, 2:].max(axis=0)
        self._bounds = [min(self._bounds[0], lo[0]), min(self._bounds[1], lo[1]),
                        max(self._bounds[2], hi[0]), max(self._bounds[3], hi[1])]  # fmt: skip

    def report(self):
        """Return the ``ImportReport`` of what was read (complete once ``chunks`` is exhausted)."""
        warnings = list(self.warnings)
        if self.far:
            warnings.append(f"{self.far} 个站点不在永州范围内")
        d = self.decision
        return ImportReport(
            source_file=self.path.name, sha256=file_sha256(self.path), format=self.format,
            member=self.member, layer=self.layer, crs=d.crs, crs_method=d.method,
            crs_guessed=d.guessed, crs_candidates=d.candidates, datum=d.datum,
            features=self.features, field_map={}, repairs=list(self.repairs), warnings=warnings,
            bounds=tuple(float(v) for v in self._bounds) if self.features else None,
        )  # fmt: skip


def _checked(raw: gpd.GeoDataFrame, source: str, offset: int, repairs: list) -> gpd.GeoDataFrame:
    """Run the site geometry checks on a chunk, naming features by their number in the file."""
    labels = [f"要素 #{offset + i + 1}" for i in range(len(raw))]
    frame, found = check_geometries(raw, labels, source=source, polygons_only=False)
    repairs.extend(found)
    return frame


def _raw_chunks(path: Path, rows: int, layer, lon_col, lat_col):
    """Return (format, member, layer, declared CRS source, iterator of raw GeoDataFrame chunks)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "CSV", path.name, None, _csv_chunks(path, rows, lon_col, lat_col)
    if suffix == ".parquet":
        return "GeoParquet", path.name, None, parquet_chunks(path, rows, lon_col, lat_col)
    if suffix == ".gpkg":
        names = _choose_layer(path, path.name, layer)
        if len(names) > 1:
            raise ImportFileError(
                f"{path.name}: GeoPackage 含多个图层，请指定其一: {', '.join(names)}"
            )
        return "GeoPackage", path.name, names[0], _gpkg_chunks(path, rows, names[0])
    with tempfile.TemporaryDirectory(prefix="yzmap-sites-") as workdir:
        raw = open_source(path, workdir, layer=layer)
    frame = raw.frame
    chunks = ((frame.iloc[a : a + rows], raw.crs_source) for a in range(0, len(frame), rows))
    return raw.format, raw.member, raw.layer, chunks


def _csv_chunks(path: Path, rows: int, lon_col, lat_col):
    """Yield points from a lon/lat CSV, ``rows`` at a time, with the cells read_csv gives."""
    from geo.tables import TableError, csv_encoding

    try:
        encoding = csv_encoding(path)
    except TableError:
        raise ImportFileError(f"{path.name}: 编码既不是 UTF-8 也不是 GBK") from None
    done = 0
    with pd.read_csv(path, encoding=encoding, dtype=str, chunksize=rows) as reader:
        for frame in reader:
            frame = frame.reset_index(drop=True)
            yield csv_points(frame, path.name, lon_col, lat_col, done)
            done += len(frame)


def _gpkg_chunks(path: Path, rows: int, layer: str):
    """Yield GeoPackage chunks with how the file declares its CRS."""
    from geo.tables import read_chunks

    for frame in read_chunks(path, rows=rows, layer=layer):
        declared = "GeoPackage 元数据（gpkg_spatial_ref_sys）" if frame.crs is not None else None
        yield frame, declared


def open_site_stream(
    path: str | Path,
    *,
    rows: int = DEFAULT_CHUNK,
    crs=None,
    datum: str | None = None,
    confirm_crs: bool = False,
    layer: str | None = None,
    lon_col: str | None = None,
    lat_col: str | None = None,
) -> SiteStream:
    """Open a site file for chunked reading and settle its CRS on the first chunk.

    Raises ``CRSNeedsConfirmation`` (a guessed CRS, not confirmed) or ``ImportFileError`` (the
    file, row or feature and field named) before any chunk is handed out.
    """
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(f"{path}: 文件不存在")
    fmt, member, lyr, raw = _raw_chunks(path, rows, layer, lon_col, lat_col)
    first, declared = next(raw, (None, None))
    if first is None or not len(first):
        raise ImportFileError(f"{path.name}: 没有任何要素")
    rest = (frame for frame, _ in raw)
    warnings: list[str] = []
    repairs: list[Repair] = []
    checked = _checked(first, path.name, 0, repairs)
    converted, decision = resolve_crs(checked, declared, source=path.name, crs=crs, datum=datum,
                                      confirm_crs=confirm_crs, warnings=warnings)  # fmt: skip
    return SiteStream(path, fmt, member, lyr, decision, datum, converted, rest,
                      warnings=warnings, repairs=repairs)  # fmt: skip
