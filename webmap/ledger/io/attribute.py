"""Place each validated ledger row through ``geo``: datum conversion, county/township/zone, checks.

Rows with coordinates are attributed in one vectorised call (``geo.lookup.attribute_points``),
so a 10,000-row ledger costs one grid query, not 10,000 point-in-polygon tests. Rows with only
address text go through ``geo.locate.locate_record`` (which geocodes the text); when the text
cannot be placed the declared county places them (precision ``county``).
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import shapely

from geo.boundaries import LayerSet
from geo.crs import to_wgs84
from geo.lookup import attribute_geometry, attribute_points, point_attribution
from geo.models import Attribution
from webmap.ledger.io.reader import CellError
from webmap.ledger.io.template import BY_FIELD
from webmap.ledger.io.validate import COUNTIES, RowValues

_DATUM_KEYS = {"WGS84": "wgs84", "CGCS2000": "cgcs2000", "GCJ-02": "gcj02", "BD-09": "bd09"}


def attribute_rows(
    layers: LayerSet, rows: list[RowValues], headers: dict[str, str]
) -> tuple[dict[int, Attribution], list[CellError]]:
    """Attribute every row; return attributions by Excel row number and the errors found."""
    out: dict[int, Attribution] = {}
    errors: list[CellError] = []
    _attribute_coordinates(layers, [r for r in rows if _has_point(r)], out)
    for r in rows:
        v = r.values
        if v.get("geometry_wkt"):
            try:
                geom = shapely.from_wkt(v["geometry_wkt"])
            except shapely.errors.GEOSException:
                errors.append(
                    _err(r, "geometry_wkt", headers, v["geometry_wkt"], "不是有效的 WKT 几何")
                )
                continue
            out[r.row] = attribute_geometry(layers, geom)
            out[r.row].precision = "coordinates"
        elif r.row not in out:
            out[r.row] = _attribute_text(layers, v)
        errors.extend(_check(r, out[r.row], headers, layers))
    return out, errors


def _has_point(row: RowValues) -> bool:
    """Tell whether a row has a usable lon/lat pair and no WKT geometry."""
    v = row.values
    return v.get("lon") is not None and v.get("lat") is not None and not v.get("geometry_wkt")


def _attribute_coordinates(layers: LayerSet, rows: list[RowValues], out: dict) -> None:
    """Convert each row's datum to WGS84 and attribute all points in one vectorised query."""
    if not rows:
        return
    lon = np.array([r.values["lon"] for r in rows], dtype=float)
    lat = np.array([r.values["lat"] for r in rows], dtype=float)
    datums = np.array([_DATUM_KEYS[r.values.get("datum") or "CGCS2000"] for r in rows])
    for key in set(datums.tolist()) - {"wgs84", "cgcs2000"}:
        sel = datums == key
        lon[sel], lat[sel] = to_wgs84(lon[sel], lat[sel], datum=key)
    res = attribute_points(layers, lon, lat)
    for i, r in enumerate(rows):
        att = point_attribution(layers, res, i, round(float(lon[i]), 7), round(float(lat[i]), 7))
        if datums[i] not in ("wgs84", "cgcs2000"):
            att.add_flag("datum_converted")
            att.evidence.append(f"converted from {r.values['datum']} to WGS84")
        out[r.row] = att


def _attribute_text(layers: LayerSet, values: dict) -> Attribution:
    """Place a row without coordinates by its address text (``geo.locate``), else its county."""
    from geo.locate import locate_record

    code = values.get("declared_county")
    declared = COUNTIES[code] if code else None
    text = values.get("location_text")
    att = None
    if text:
        att = locate_record(layers, address=text, declared_county=declared)
        if att.county_code is None and declared:
            # the geocoder could not read the text (or is not installed): the county still places it
            att = None
    if att is None:
        att = locate_record(layers, declared_county=declared)
    return att


def _check(
    row: RowValues, att: Attribution, headers: dict[str, str], layers: LayerSet
) -> list[CellError]:
    """Refuse rows outside the city, rows in a mistaken datum and rows with no county at all."""
    v = row.values
    coords = f"{v.get('lon')}, {v.get('lat')}"
    if att.error:
        return [_err(row, "location_text", headers, v.get("location_text"), att.error)]
    if "outside_city" in att.flags:
        return [_err(row, "lon", headers, coords, "坐标不在永州市范围内（按县区边界判定）")]
    declared = v.get("declared_county")
    if (
        declared
        and att.county_code
        and att.county_code != declared
        and att.precision == "coordinates"
    ):
        hint = _other_datum(layers, v, declared)
        if hint:
            return [
                _err(
                    row,
                    "datum",
                    headers,
                    v.get("datum") or "（空）",
                    f"坐标落在{att.county_name}，按 {hint} 换算则在{COUNTIES[declared]}："
                    f"坐标系可能填错，请在坐标系列注明 {hint}",
                )
            ]
        att.add_flag("declared_mismatch")
        att.evidence.append(f"declared county {COUNTIES[declared]} differs from the coordinates")
    if att.county_code is None:
        return [
            _err(
                row,
                "declared_county",
                headers,
                None,
                "无法确定所在县区：请填写所在县区、具体位置或经纬度",
            )
        ]
    return []


def _other_datum(layers: LayerSet, values: dict, declared: str) -> str | None:
    """Return the datum that would put the point in the declared county, if another one does."""
    current = _DATUM_KEYS[values.get("datum") or "CGCS2000"]
    for name, key in (("GCJ-02", "gcj02"), ("BD-09", "bd09")):
        if key == current:
            continue
        lon, lat = to_wgs84(values["lon"], values["lat"], datum=key)
        res = attribute_points(layers, np.array([lon]), np.array([lat]))
        c = int(res.county[0])
        if c >= 0 and str(layers.counties.frame["code"].iat[c]) == declared:
            return name
    return None


def _err(row: RowValues, field: str, headers: dict[str, str], value, message: str) -> CellError:
    """Build an error under the header the file used for ``field``."""
    return CellError(row.row, headers.get(field, BY_FIELD[field].header), value, message)


def attribution_record(att: Attribution) -> dict:
    """Return the attribution as the JSON kept on the issue (how each part was found)."""
    keep = ("precision", "confidence", "flags", "candidates", "evidence", "layer_versions")
    data = asdict(att)
    return {k: data[k] for k in keep}
