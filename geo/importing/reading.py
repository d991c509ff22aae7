"""Open a user's boundary or site file in any supported format and return its raw features.

Formats: zipped Shapefile (with or without .prj), bare .shp, GeoPackage (one layer chosen),
GeoJSON, KML and KMZ. Archives are extracted with the checks in ``archive``. The returned
``RawSource`` says where the CRS came from, so the importer can tell a declared CRS from none.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from geo.errors import ImportFileError
from geo.importing.archive import extract_archive

FORMATS = {
    ".shp": "ESRI Shapefile",
    ".gpkg": "GPKG",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".kml": "KML",
}
_SHP_ENCODINGS = ("UTF-8", "GB18030")  # Chinese survey shapefiles without .cpg are usually GBK


@dataclass
class RawSource:
    """Features as read, before CRS, attribute and geometry checks."""

    frame: gpd.GeoDataFrame
    format: str  # e.g. "ESRI Shapefile (zip)"
    member: str  # file read, relative to the archive when there was one
    layer: str | None  # GeoPackage / KML layer read
    crs_source: str | None  # how the file declares its CRS; None when it does not


def _read(path: Path, source: str, **kwargs) -> gpd.GeoDataFrame:
    """Read with pyogrio, turning GDAL's assorted exceptions into ImportFileError."""
    try:
        with warnings.catch_warnings():
            # GDAL notes about odd but readable files are not the user's problem here
            warnings.simplefilter("ignore", RuntimeWarning)
            return pyogrio.read_dataframe(path, **kwargs)
    except UnicodeDecodeError:
        raise
    except Exception as exc:  # pyogrio raises DataSourceError, DataLayerError, FieldError...
        raise ImportFileError(f"{source}: 无法读取（{exc}）") from exc


def _read_shapefile(shp: Path, source: str) -> tuple[gpd.GeoDataFrame, str | None]:
    """Read a Shapefile (UTF-8 or GBK when no .cpg says which); return frame and CRS source."""
    for ext in (".shx", ".dbf"):
        if not any(shp.with_suffix(e).exists() for e in (ext, ext.upper())):
            raise ImportFileError(f"{source}: Shapefile 缺少 {shp.stem}{ext} 文件")
    has_prj = any(shp.with_suffix(e).exists() for e in (".prj", ".PRJ"))
    has_cpg = any(shp.with_suffix(e).exists() for e in (".cpg", ".CPG"))
    if has_cpg:
        frame = _read(shp, source)
    else:
        for enc in _SHP_ENCODINGS:
            try:
                frame = _read(shp, source, encoding=enc)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ImportFileError(f"{source}: 属性表编码既不是 UTF-8 也不是 GBK，请附上 .cpg 文件")
    return frame, (".prj 文件" if has_prj and frame.crs is not None else None)


def _choose_layer(path: Path, source: str, layer: str | None) -> list[str]:
    """Return the layers to read: the named one, the only one, or an error listing the choices."""
    try:
        names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except Exception as exc:
        raise ImportFileError(f"{source}: 无法读取图层列表（{exc}）") from exc
    if layer is not None:
        if layer not in names:
            raise ImportFileError(f"{source}: 没有图层 {layer!r}（可选: {', '.join(names)}）")
        return [layer]
    if not names:
        raise ImportFileError(f"{source}: 文件中没有图层")
    return names


def _read_kml(path: Path, source: str, layer: str | None) -> gpd.GeoDataFrame:
    """Read every folder of a KML (or the named one) into one frame; KML is WGS84 by definition."""
    names = _choose_layer(path, source, layer)
    frames = [_read(path, source, layer=n).assign(kml_folder=n) for n in names]
    frames = [f for f in frames if len(f)]
    if not frames:
        raise ImportFileError(f"{source}: KML 中没有要素")
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _open_plain(path: Path, source: str, layer: str | None) -> RawSource:
    """Read one file that is not an archive."""
    suffix = path.suffix.lower()
    if suffix == ".shp":
        frame, crs_source = _read_shapefile(path, source)
        return RawSource(frame, "ESRI Shapefile", path.name, None, crs_source)
    if suffix == ".gpkg":
        names = _choose_layer(path, source, layer)
        if len(names) > 1:
            raise ImportFileError(
                f"{source}: GeoPackage 含多个图层，请指定其一: {', '.join(names)}"
            )
        frame = _read(path, source, layer=names[0])
        declared = "GeoPackage 元数据（gpkg_spatial_ref_sys）" if frame.crs is not None else None
        return RawSource(frame, "GeoPackage", path.name, names[0], declared)
    if suffix in (".geojson", ".json"):
        frame = _read(path, source)
        # RFC 7946 fixes GeoJSON to WGS84; GDAL reports EPSG:4326 when the file has no "crs" member
        return RawSource(
            frame,
            "GeoJSON",
            path.name,
            None,
            "GeoJSON（RFC 7946 规定为 WGS84，或文件中的 crs 成员）",
        )
    if suffix == ".kml":
        frame = _read_kml(path, source, layer)
        if frame.crs is None:
            frame = frame.set_crs("EPSG:4326")
        return RawSource(frame, "KML", path.name, layer, "KML（规定为 WGS84）")
    raise ImportFileError(
        f"{source}: 不支持的文件类型 {path.suffix!r}"
        "（支持 .zip Shapefile、.shp、.gpkg、.geojson、.kml、.kmz）"
    )


def _open_archive(path: Path, workdir: Path, layer: str | None) -> RawSource:
    """Extract a .zip or .kmz and read the one dataset inside it."""
    source = path.name
    files = extract_archive(path, workdir)
    readable = [f for f in files if f.suffix.lower() in FORMATS and not f.name.startswith("._")]
    if layer is not None and any(f.suffix.lower() == ".shp" for f in readable):
        readable = [f for f in readable if f.suffix.lower() != ".shp" or f.stem == layer]
    if not readable:
        raise ImportFileError(f"{source}: 压缩包中没有可读的 .shp/.gpkg/.geojson/.kml 文件")
    if len(readable) > 1:
        names = ", ".join(str(f.relative_to(workdir)) for f in readable)
        raise ImportFileError(f"{source}: 压缩包中有多个数据文件（{names}），请用图层参数指定其一")
    inner = readable[0]
    member = str(inner.relative_to(workdir))
    raw = _open_plain(
        inner, f"{source}:{member}", None if inner.suffix.lower() == ".shp" else layer
    )
    kind = "KMZ" if path.suffix.lower() == ".kmz" else f"{raw.format}（zip）"
    return RawSource(raw.frame, kind, member, raw.layer, raw.crs_source)


def open_source(path: str | Path, workdir: str | Path, *, layer: str | None = None) -> RawSource:
    """Read the features of ``path``; archives are unpacked into ``workdir`` first."""
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(f"{path}: 文件不存在")
    if path.suffix.lower() in (".zip", ".kmz"):
        raw = _open_archive(path, Path(workdir), layer)
    else:
        raw = _open_plain(path, path.name, layer)
    if len(raw.frame) == 0:
        raise ImportFileError(f"{path.name}: 没有任何要素")
    return raw
