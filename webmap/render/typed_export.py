"""The GIS formats of the ledger export: GeoPackage, GeoJSON, KML and a zipped Shapefile.

Called by ``ledger_export.export_issues`` (the one exporter; the columns are the template's
``COLUMNS``). Every field has its type: numbers as numbers, dates as dates, booleans as booleans,
NULL for blanks, and the CRS is written (EPSG:4326; RFC 7946 GeoJSON is CRS84 by definition;
``.prj`` in the Shapefile). Field names are the template's ASCII field names, so one script reads
every format, with the Chinese headers where the format has a place for them:

- GeoPackage: column titles in ``gpkg_data_columns`` (the schema extension QGIS shows as aliases);
- KML: a ``<Schema>`` of ASCII ``SimpleField`` names with the Chinese ``displayName``, filled by
  ``<SchemaData>``: GDAL's LIBKML driver reads a field per ``SimpleField`` and Google Earth shows
  the display names (plain ``<Data>`` elements are what LIBKML folded into a few columns);
- Shapefile: names of at most 10 bytes (``SHAPEFILE_NAMES``), a ``.cpg`` declaring UTF-8, and
  ``fields.csv`` in the zip mapping each short name to its field and Chinese header.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from webmap.ledger.io.rows import COORD_DECIMALS, geometry_wkt, issue_values
from webmap.ledger.io.template import COLUMNS
from webmap.ledger.vocabulary import SAMPLE_MARK

GIS_FORMATS = ("geojson", "gpkg", "kml", "shp")
LAYER = "issues"
CRS = "EPSG:4326"
# template kind -> Python type of the value; every other kind is text
KINDS = {"number": float, "percent": int, "date": dt.date, "bool": bool}
# template field -> Shapefile name (at most 10 bytes); fields not listed fit as they are
SHAPEFILE_NAMES = {
    "original_number": "orig_no",
    "description": "descr",
    "location_text": "location",
    "declared_county": "decl_cnty",
    "partner_units": "partners",
    "deadline_class": "deadline",
    "progress_text": "prog_text",
    "progress_pct": "progress",
    "internal_notes": "int_notes",
    "geometry_wkt": "geom_wkt",
    "county_name": "county",
    "township_name": "township",
    "protected_area": "prot_area",
}
# LIBKML reads <description> into a field of that name, so the ledger's field is renamed
KML_NAMES = {"description": "descr"}
_KML_TYPES = {float: "double", int: "int", bool: "bool", dt.date: "string", str: "string"}


def kind_of(column) -> type:
    """Return the Python type of a template column's values."""
    return KINDS.get(column.kind, str)


def shapefile_name(field: str) -> str:
    """Return the Shapefile (dBase) name of a template field, at most 10 bytes."""
    return SHAPEFILE_NAMES.get(field, field)


def kml_name(field: str) -> str:
    """Return the KML SimpleField name of a template field (not one LIBKML reserves)."""
    return KML_NAMES.get(field, field)


def typed_rows(issues, day: dt.date, amber_days: int) -> list[dict]:
    """Return each issue as {field: typed value or None} in template order (blanks are None)."""
    rows = []
    for issue in issues:
        values = issue_values(issue, day, amber_days)
        rows.append({c.field: _typed(c, values.get(c.field)) for c in COLUMNS})
    return rows


def _typed(column, value):
    """Return one template value as its type: text stripped, lists joined, blanks None."""
    if column.field == "geometry_wkt":
        return geometry_wkt(value) or None
    if isinstance(value, list):
        return "、".join(value) or None
    if isinstance(value, str):
        # kept exactly (a leading tab or quote is part of the text the round trip must keep)
        return value if value.strip() else None
    if isinstance(value, float):
        return round(value, COORD_DECIMALS)  # stable through an export -> import -> export
    if value is not None and kind_of(column) is int:
        return int(value)
    return value


def geometry_of(issue):
    """Return the issue's geometry, or its display point, or None."""
    if issue.geometry is not None:
        return issue.geometry
    if issue.lon is not None and issue.lat is not None:
        from shapely.geometry import Point

        return Point(issue.lon, issue.lat)
    return None


def rounded(geom):
    """Return a geometry with coordinates rounded to the export precision (None stays None)."""
    import numpy as np
    import shapely

    if geom is None:
        return None
    return shapely.transform(geom, lambda xy: np.round(xy, COORD_DECIMALS))


def write_gis(issues: list, fmt: str, path: Path, day: dt.date, amber_days: int) -> None:
    """Write the issues (already in number order) to ``path`` in one of ``GIS_FORMATS``."""
    rows = typed_rows(issues, day, amber_days)
    geoms = [rounded(geometry_of(i)) for i in issues]
    if fmt == "kml":
        _write_kml(rows, geoms, path)
    elif fmt == "gpkg":
        _write_ogr(rows, geoms, path, "GPKG", {"GEOMETRY_NAME": "geom"})
        _gpkg_titles(path)
    elif fmt == "geojson":
        # RFC 7946: CRS84 with no crs member; fixed decimals keep the round trip byte-identical
        options = {"RFC7946": "YES", "WRITE_NAME": "NO", "COORDINATE_PRECISION": COORD_DECIMALS}
        _write_ogr(rows, geoms, path, "GeoJSON", options)
    else:
        _write_shp(rows, geoms, path)


def _write_ogr(rows, geoms, path: Path, driver: str, options: dict, names=None, kind="Unknown"):
    """Write typed rows through GDAL: Integer, Real, Boolean, Date and String fields, NULLs.

    ``pyogrio.raw.write`` takes numpy arrays with a null mask; a ``datetime64[D]`` array is the
    only way it makes a Date field (a pandas frame has no day-precision dates and becomes
    DateTime, which a Shapefile cannot hold at all).
    """
    import numpy as np
    import pyogrio.raw
    import shapely

    numpy_types = {int: "int32", float: "float64", bool: "bool", dt.date: "datetime64[D]"}
    data, masks = [], []
    for col in COLUMNS:
        values = [r[col.field] for r in rows]
        mask = np.array([v is None for v in values], dtype=bool)
        kind_type = kind_of(col)
        if kind_type is str:
            data.append(np.array(values, dtype=object))
        else:
            fill = {int: 0, float: 0.0, bool: False, dt.date: "NaT"}[kind_type]
            data.append(np.array([fill if v is None else v for v in values],
                                 dtype=numpy_types[kind_type]))  # fmt: skip
        masks.append(mask)
    wkb = np.array([None if g is None else shapely.to_wkb(g) for g in geoms], dtype=object)
    fields = [c.field for c in COLUMNS] if names is None else names
    encoding = "UTF-8" if driver == "ESRI Shapefile" else None  # writes the .cpg
    pyogrio.raw.write(path, wkb, data, fields, field_mask=masks, driver=driver, layer=LAYER,
                      geometry_type=kind, crs=CRS, encoding=encoding,
                      layer_options=options)  # fmt: skip


def _gpkg_titles(path: Path) -> None:
    """Record each column's Chinese header as its title (GeoPackage schema extension)."""
    import sqlite3

    con = sqlite3.connect(path)
    try:
        con.execute("CREATE TABLE IF NOT EXISTS gpkg_data_columns (table_name TEXT NOT NULL, "
                    "column_name TEXT NOT NULL, name TEXT, title TEXT, description TEXT, "
                    "mime_type TEXT, constraint_name TEXT, "
                    "CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name))")  # fmt: skip
        con.executemany("INSERT OR REPLACE INTO gpkg_data_columns (table_name, column_name, name, "
                        "title) VALUES (?, ?, ?, ?)",
                        [(LAYER, c.field, c.header, c.header) for c in COLUMNS])  # fmt: skip
        con.execute("INSERT OR IGNORE INTO gpkg_extensions (table_name, column_name, "
                    "extension_name, definition, scope) VALUES ('gpkg_data_columns', NULL, "
                    "'gpkg_schema', 'http://www.geopackage.org/spec121/#extension_schema', "
                    "'read-write')")  # fmt: skip
        con.commit()
    finally:
        con.close()


# Shapefile layers in the zip: one geometry type each (points also take the issues without one)
_SHP_PARTS = (("point", "Point", ("Point", None)), ("multipoint", "MultiPoint", ("MultiPoint",)),
              ("line", "LineString", ("LineString", "MultiLineString")),
              ("polygon", "Polygon", ("Polygon", "MultiPolygon")))  # fmt: skip


def _write_shp(rows, geoms, path: Path) -> None:
    """Write a zipped Shapefile per geometry type: 10-byte names, .cpg (UTF-8), .prj, fields.csv.

    A Shapefile holds one geometry type, so points, lines and polygons are separate layers
    (``issues_point`` ...) inside the one zip. Its text fields hold at most 254 bytes (84
    Chinese characters): longer descriptions are cut there, the GeoPackage keeps them whole.
    """
    import tempfile
    import warnings

    names = [shapefile_name(c.field) for c in COLUMNS]
    kinds = [None if g is None else g.geom_type for g in geoms]
    with tempfile.TemporaryDirectory() as tmp, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:  # fmt: skip
        for stem, kind, members in _SHP_PARTS:
            picked = [i for i, k in enumerate(kinds) if k in members]
            if not picked and stem != "point":
                continue
            out = Path(tmp) / f"{LAYER}_{stem}.shp"
            with warnings.catch_warnings():
                # GDAL warns for each value cut to the 254-byte dBase limit (documented above)
                warnings.filterwarnings("ignore", "Value .* truncated", RuntimeWarning)
                _write_ogr([rows[i] for i in picked], [geoms[i] for i in picked], out,
                           "ESRI Shapefile", {}, names=names, kind=kind)  # fmt: skip
            for file in sorted(Path(tmp).glob(f"{out.stem}.*")):
                z.write(file, file.name)
        z.writestr("fields.csv", _shapefile_mapping().encode("utf-8-sig"))


def _shapefile_mapping() -> str:
    """Return fields.csv: each Shapefile name, its template field and its Chinese header."""
    lines = ["shapefile_name,field,header"]
    lines += [f"{shapefile_name(c.field)},{c.field},{c.header}" for c in COLUMNS]
    return "\r\n".join(lines) + "\r\n"


def _kml_value(value) -> str:
    """Return a typed value as SchemaData text (dates ISO, booleans 1/0, floats short)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _write_kml(rows: list[dict], geoms: list, path: Path) -> None:
    """Write KML 2.2: a typed ``<Schema>`` (ASCII names, Chinese displayName) and placemarks."""
    fields = "".join(
        f'<SimpleField type="{_KML_TYPES[kind_of(c)]}" name="{kml_name(c.field)}">'
        f"<displayName>{escape(c.header)}</displayName></SimpleField>"
        for c in COLUMNS
    )
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document id="root_doc">',
        f'<name>整改台账</name><Schema name="{LAYER}" id="{LAYER}">{fields}</Schema>',
        f"<Folder><name>{LAYER}</name>",
    ]
    for row, geom in zip(rows, geoms, strict=True):
        data = "".join(
            f'<SimpleData name="{kml_name(c.field)}">{escape(_kml_value(row[c.field]))}'
            "</SimpleData>"
            for c in COLUMNS
            if row[c.field] is not None
        )
        name = f"{row['number']} {row['title'] or ''}".strip()
        name += f"（{SAMPLE_MARK}）" if row["is_sample"] else ""
        out.append(
            f"<Placemark id={quoteattr(row['number'])}><name>{escape(name)}</name>"
            f'<ExtendedData><SchemaData schemaUrl="#{LAYER}">{data}</SchemaData>'
            "</ExtendedData>" + (kml_geometry(geom) if geom is not None else "") + "</Placemark>"
        )
    out.append("</Folder></Document></kml>")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def kml_geometry(geom) -> str:
    """Return the KML geometry element for a shapely geometry (lon,lat pairs)."""
    kind = geom.geom_type
    if kind == "Point":
        return f"<Point><coordinates>{_coords([(geom.x, geom.y)])}</coordinates></Point>"
    if kind == "LineString":
        return f"<LineString><coordinates>{_coords(geom.coords)}</coordinates></LineString>"
    if kind == "Polygon":
        inner = "".join(
            f"<innerBoundaryIs><LinearRing><coordinates>{_coords(r.coords)}"
            "</coordinates></LinearRing></innerBoundaryIs>"
            for r in geom.interiors
        )
        return (
            f"<Polygon><outerBoundaryIs><LinearRing><coordinates>"
            f"{_coords(geom.exterior.coords)}</coordinates></LinearRing></outerBoundaryIs>"
            f"{inner}</Polygon>"
        )
    return f"<MultiGeometry>{''.join(kml_geometry(g) for g in geom.geoms)}</MultiGeometry>"


def _coords(coords) -> str:
    """Format a coordinate sequence as KML text with the export's fixed decimals."""
    return " ".join(f"{x:.{COORD_DECIMALS}f},{y:.{COORD_DECIMALS}f}" for x, y, *_ in coords)
