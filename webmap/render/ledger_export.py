"""Write ledger rows to xlsx, csv, geojson, gpkg or kml, atomically (temp file, then rename).

Every format carries the same columns in template order, with 示例 on sample rows. Output is
deterministic (rows by number, fixed decimals, no timestamps in the files) so that export →
import → export gives identical files: byte-identical csv, geojson and kml; cell-identical xlsx;
feature-identical gpkg (GeoPackage stores its own timestamps).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple
from xml.sax.saxutils import escape

from webmap.ledger.files import atomic_path
from webmap.ledger.io.formulas import neutralise_row
from webmap.ledger.io.rows import format_coord, headers, issue_row, issue_values
from webmap.ledger.vocabulary import SAMPLE_MARK

FORMATS = ("xlsx", "csv", "geojson", "gpkg", "kml")


class Judged(NamedTuple):
    """The day an export judges warning classes on, and the amber window."""

    day: dt.date
    amber_days: int

SHEET_TITLE = "整改台账"
_FIXED_TIME = dt.datetime(2021, 3, 6)  # workbook metadata date: the feedback date, not "now"


def export_issues(issues: Iterable, fmt: str, out: str | Path, *, day: dt.date,
                  amber_days: int) -> int:  # fmt: skip
    """Write the issues to ``out`` in ``fmt`` (RAG judged on ``day``); return the row count."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    issues = sorted(issues, key=lambda i: i.number)
    writer = {
        "xlsx": _write_xlsx,
        "csv": _write_csv,
        "geojson": _write_geojson,
        "gpkg": _write_gpkg,
        "kml": _write_kml,
    }[fmt]
    with atomic_path(out) as tmp:
        writer(issues, tmp, Judged(day, amber_days))
    return len(issues)


def _write_csv(issues: list, path: Path, today: Judged) -> None:
    """Write UTF-8 CSV with a BOM so Excel opens the Chinese correctly; formula text neutralised."""
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(headers())
        for issue in issues:
            w.writerow(neutralise_row(issue_row(issue, *today)))


def _write_xlsx(issues: list, path: Path, today: Judged) -> None:
    """Write one sheet: bold header row, frozen, every cell as text (so numbers keep their form).

    Text is neutralised like the csv, and every cell is typed as a string: openpyxl would
    otherwise store any string starting with ``=`` as a formula.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    wb.properties.created = wb.properties.modified = _FIXED_TIME
    ws = wb.create_sheet(SHEET_TITLE)
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for h in headers():
        cell = WriteOnlyCell(ws, value=h)
        cell.font = bold
        header_cells.append(cell)
    ws.append(header_cells)
    for issue in issues:
        ws.append([_text_cell(ws, v) for v in neutralise_row(issue_row(issue, *today))])
    wb.save(path)


def _text_cell(ws, value: str):
    """Return a write-only string cell for ``value`` (None for an empty cell), never a formula."""
    from openpyxl.cell import WriteOnlyCell

    if value == "":
        return None
    cell = WriteOnlyCell(ws, value=value)
    cell.data_type = "s"
    return cell


def _feature_properties(issue, today: Judged) -> dict[str, object]:
    """Return the ledger columns as feature properties (text, as in the csv)."""
    return dict(zip(headers(), issue_row(issue, *today), strict=True))


def _geometry_of(issue):
    """Return the issue's geometry, or its display point, or None."""
    if issue.geometry is not None:
        return issue.geometry
    if issue.lon is not None and issue.lat is not None:
        from shapely.geometry import Point

        return Point(issue.lon, issue.lat)
    return None


def _round_coords(obj):
    """Round every coordinate in a GeoJSON coordinates tree to the export precision."""
    if isinstance(obj, list):
        return [_round_coords(o) for o in obj]
    if isinstance(obj, float):
        return float(format_coord(obj))
    return obj


def _write_geojson(issues: list, path: Path, today: Judged) -> None:
    """Write a FeatureCollection in WGS84 with one feature per line (diff-friendly)."""
    import shapely

    lines = []
    for issue in issues:
        geom = _geometry_of(issue)
        gj = None
        if geom is not None:
            gj = json.loads(shapely.to_geojson(geom))
            gj["coordinates"] = _round_coords(gj["coordinates"])
        feature = {
            "type": "Feature",
            "id": issue.number,
            "geometry": gj,
            "properties": _feature_properties(issue, today),
        }
        lines.append(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
    body = ",\n".join(lines)
    text = (
        '{"type":"FeatureCollection","name":"'
        + SHEET_TITLE
        + '","features":[\n'
        + body
        + ("\n" if lines else "")
        + "]}\n"
    )
    path.write_text(text, encoding="utf-8")


def _write_gpkg(issues: list, path: Path, today: Judged) -> None:
    """Write a GeoPackage layer through GeoPandas/pyogrio, EPSG:4326."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    records = [_feature_properties(i, today) for i in issues]
    geoms = []
    for issue in issues:
        geom = _geometry_of(issue)
        geoms.append(
            None
            if geom is None
            else shapely.from_geojson(
                json.dumps(
                    {
                        "type": geom.geom_type,
                        "coordinates": _round_coords(
                            json.loads(shapely.to_geojson(geom))["coordinates"]
                        ),
                    }
                )
            )
        )
    frame = pd.DataFrame(records, columns=headers())
    gdf = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"))
    gdf.to_file(path, driver="GPKG", layer=SHEET_TITLE, engine="pyogrio")


def _kml_coords(geom) -> str:
    """Return the KML geometry element for a shapely geometry (lon,lat pairs)."""
    kind = geom.geom_type
    if kind == "Point":
        xy = f"{format_coord(geom.x)},{format_coord(geom.y)}"
        return f"<Point><coordinates>{xy}</coordinates></Point>"
    if kind == "LineString":
        return f"<LineString><coordinates>{_ring(geom.coords)}</coordinates></LineString>"
    if kind == "Polygon":
        inner = "".join(
            f"<innerBoundaryIs><LinearRing><coordinates>{_ring(r.coords)}"
            f"</coordinates></LinearRing></innerBoundaryIs>"
            for r in geom.interiors
        )
        return (
            f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{_ring(geom.exterior.coords)}"
            f"</coordinates></LinearRing></outerBoundaryIs>{inner}</Polygon>"
        )
    parts = "".join(_kml_coords(g) for g in geom.geoms)
    return f"<MultiGeometry>{parts}</MultiGeometry>"


def _ring(coords) -> str:
    """Format a coordinate sequence as KML text."""
    return " ".join(f"{format_coord(x)},{format_coord(y)}" for x, y, *_ in coords)


def _write_kml(issues: list, path: Path, today: Judged) -> None:
    """Write KML 2.2 placemarks with the ledger columns as ExtendedData (Google Earth, 奥维)."""
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>',
        f"<name>{SHEET_TITLE}</name>",
    ]
    for issue in issues:
        values = issue_values(issue, *today)
        name = f"{issue.number} {issue.title}" + (f"（{SAMPLE_MARK}）" if issue.is_sample else "")
        data = "".join(
            f'<Data name="{escape(h)}"><value>{escape(v)}</value></Data>'
            for h, v in zip(headers(), issue_row(issue, *today), strict=True)
        )
        geom = _geometry_of(issue)
        out.append(
            f'<Placemark id="{escape(issue.number)}"><name>{escape(name)}</name>'
            f"<description>{escape(str(values.get('description') or ''))}</description>"
            f"<ExtendedData>{data}</ExtendedData>"
            + (_kml_coords(geom) if geom is not None else "")
            + "</Placemark>"
        )
    out.append("</Document></kml>")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def read_xlsx_cells(path: str | Path) -> list[list[object]]:
    """Return every cell value of the first sheet (what "cell-identical" compares)."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    try:
        return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    finally:
        wb.close()


def export_ledger(session, query, fmt: str, out: str | Path) -> int:
    """Export the issues an ``IssueQuery`` selects (the views' own filter object) to ``out``."""
    from sqlalchemy.orm import selectinload

    from webmap.ledger.models import Issue

    stmt = query.select(session).options(
        selectinload(Issue.updates), selectinload(Issue.responsibilities)
    )
    # the rows are today's records (``as_of`` only chose which): judge them on today
    return export_issues(session.scalars(stmt).all(), fmt, out, day=query.today or dt.date.today(),
                         amber_days=query.amber_days)  # fmt: skip
