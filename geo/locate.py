"""Locate table rows: coordinates, address text and a declared county in, one attribution out.

``geo.bulk_locate.locate_frame`` (what ``yzmap locate`` runs) applies these rules to whole
tables column-wise; ``locate_record`` (what the app and the ledger import call) to one row.
The table path normalises whole coordinate columns at once (``geo.coords.normalise_points``),
attributes them with ``geo.lookup.attribute_points``, geocodes each distinct address string once
(``geo.geocode.geocode_many``) and writes the output columns of ``OUTPUT_COLUMNS``. A bad cell
gives its row an ``error`` and the row is still returned.

Which input places a row:

- coordinates (or a geometry) when they can be read; the address text is then only checked
  against them: ``declared_mismatch`` when it names another county, a township lying in another
  county, or a place outside the city (or a Yongzhou county while the point is outside). When it
  agrees, the township and village it names fill the columns the boundary layers leave empty;
- otherwise the address text (``geo.geocode``): precision village/township/county/city/none,
  the geocoder's confidence, flags ``ambiguous``/``outside_city`` and its candidate counties;
  unreadable coordinates keep their error, followed by "已按地址定位";
- otherwise the declared county alone (also when the text names no place at all).

The declared county (``county_col``) is resolved with the gazetteer (former names and codes,
short forms, the NBS statistical units mapped to the county they lie in) and compared with
the result.

Notes from reading coordinates (e.g. "metres read as CGCS2000 EPSG:4546, please confirm") go
into ``error`` after the prefix ``NOTE_PREFIX`` ("提示："), so the column list of ``yzmap locate``
stays as specified; a row whose ``error`` starts with that prefix was located and only asks for
a check.

Confidence (0-1) of a county answer:

- coordinates: 0.98 inside a county, falling linearly to 0.5 on a county line over the county
  layer's positional accuracy; 0.1 less when the lon/lat columns had to be swapped; 0 outside;
- address text: the geocoder's confidence (below 0.5 when ambiguous);
- declared county only: 0.5, precision "county".
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from geo.boundaries import LayerSet
from geo.coords import normalise_point
from geo.gazetteer import load_gazetteer
from geo.geocode import geocode, named_townships
from geo.lookup import attribute_geometry, attribute_points, point_attribution
from geo.models import FLAGS, Attribution

__all__ = ["NOTE_PREFIX", "OUTPUT_COLUMNS", "check_address", "locate_record", "resolve_county"]

OUTPUT_COLUMNS = (
    "lon", "lat", "county_code", "county_name", "township_code", "township_name", "village_name",
    "protected_area", "zone", "precision", "confidence", "flags", "candidates", "constraints",
    "error",
)
NOTE_PREFIX = "提示："
SWAP_PENALTY = 0.1
DECLARED_ONLY_CONFIDENCE = 0.5
NOTHING_GIVEN = "没有坐标或地址"
BY_ADDRESS = "已按地址定位"


# -- declared county --------------------------------------------------------------------------

def resolve_county(layers: LayerSet, text) -> str | None:
    """Return the county code a declared value (name, alias or code) denotes, None if unknown.

    The layer's own names, codes and aliases answer first (so an imported county layer is
    understood); then the gazetteer: former names and codes (祁阳县, 431121), short forms
    (江华, 江华县), 县/市/区 written wrongly and the NBS statistical units (431171 -> 431103).

    Examples
    --------
    >>> from geo.boundaries import load_shipped
    >>> layers = load_shipped()
    >>> [resolve_county(layers, v) for v in ("祁阳县", 431121, "431171", "永州市江华县", "邵阳县")]
    ['431181', '431181', '431103', '431129', None]
    """
    if _blank(text):
        return None
    key = str(text).strip()
    if key.endswith(".0") and key[:-2].isdigit():  # codes read from Excel as floats
        key = key[:-2]
    own = _layer_names(layers).get(key)
    if own is not None:
        return own
    area = load_gazetteer().resolve_county(key)
    return area.code if area is not None else None


def _layer_names(layers: LayerSet) -> dict[str, str]:
    """Codes, names, source codes and aliases of the county layer, each mapped to its code."""
    cache = layers.counties.cache
    if "declared_names" not in cache:
        frame = layers.counties.frame
        codes = frame["code"].astype(str).tolist()
        table: dict[str, str] = {}
        for col in ("code", "name", "source_code", "aliases"):
            if col not in frame.columns:
                continue
            for code, value in zip(codes, frame[col].tolist(), strict=True):
                if not _blank(value):
                    table.update({n.strip(): code for n in re.split("[;,，、]", str(value))
                                  if n.strip()})
        cache["declared_names"] = table
    return cache["declared_names"]


def _county_name(layers: LayerSet, code: str) -> str:
    """Name of a county code in the layer (the gazetteer's name if the layer lacks it)."""
    frame = layers.counties.frame
    hit = frame.loc[frame["code"].astype(str) == code, "name"]
    return str(hit.iat[0]) if len(hit) else load_gazetteer().county_name(code)


def _check_declared(layers: LayerSet, att: Attribution, declared, may_place: bool) -> None:
    """Compare a declared county with the result; with ``may_place`` it places the row."""
    if _blank(declared):
        return
    code = resolve_county(layers, declared)
    if may_place and code is not None:
        att.county_code, att.county_name = code, _county_name(layers, code)
        att.precision, att.confidence = "county", DECLARED_ONLY_CONFIDENCE
        att.candidates = [att.county_name]
        att.error = None
        att.evidence.append(f"county taken from the declared value {declared!r}")
        return
    if att.county_code is not None or att.lon is not None:
        differs = code != att.county_code
    elif "outside_city" in att.flags:  # the text names a place outside Yongzhou
        differs = code is not None
    elif "ambiguous" in att.flags and att.candidates:  # declared must be one of the candidates
        differs = code is None or _county_name(layers, code) not in att.candidates
    else:
        return  # the row was not placed, so there is nothing to compare with
    if differs:
        att.add_flag("declared_mismatch")
        att.evidence.append(f"declared county {declared!r} differs from located "
                            f"{att.county_name or '、'.join(att.candidates) or 'outside the city'}")


# -- address text next to coordinates ---------------------------------------------------------

def check_address(att: Attribution, found: Attribution,
                  townships: dict[str, tuple[str, ...]]) -> None:
    """Check address text (geocoded as ``found``) against a row placed by coordinates.

    ``townships`` is ``geo.geocode.named_townships`` of the same text. Disagreement raises
    ``declared_mismatch`` with the reasons as evidence; agreement fills the township and village
    the boundary layers did not give.

    Examples
    --------
    >>> att = Attribution(lon=111.6, lat=26.2, county_code="431122", county_name="东安县")
    >>> text = "东安县文富市镇"
    >>> check_address(att, geocode(text), named_townships(text))
    >>> att.flags, att.evidence[-1]
    (['declared_mismatch'], '地址中的乡镇 文富市镇 属于 祁阳市，坐标位于 东安县')
    """
    reasons = _disagreements(att, found, townships)
    if reasons:
        att.add_flag("declared_mismatch")
        att.evidence.extend(reasons)
        return
    if not found.county_code or found.county_code != att.county_code or not found.township_code:
        return
    if att.township_code is None:
        att.township_code, att.township_name = found.township_code, found.township_name
        att.village_name = att.village_name or found.village_name
        att.evidence.append("乡镇/村取自地址: " + " ".join(filter(None, (found.township_name,
                                                                   found.village_name))))
    elif att.township_code == found.township_code and found.village_name:
        att.village_name = att.village_name or found.village_name


def _disagreements(att: Attribution, found: Attribution,
                   townships: dict[str, tuple[str, ...]]) -> list[str]:
    """Reasons the address text and the located county disagree (empty when they agree)."""
    located, where = att.county_code, f"坐标位于 {att.county_name or '永州市外'}"
    reasons = []
    if found.county_code:
        if found.county_code != located:
            reasons.append(f"地址指向 {found.county_name}，{where}")
    elif "outside_city" in found.flags:
        if located:
            reasons.append(f"地址指向永州市外 ({'、'.join(found.candidates)})，{where}")
    elif "ambiguous" in found.flags and located and att.county_name not in found.candidates:
        reasons.append(f"地址指向 {'、'.join(found.candidates)}，{where}")
    if located:
        g = load_gazetteer()
        for name, codes in townships.items():
            if located not in codes:
                owners = "、".join(g.county_name(c) for c in codes)
                reasons.append(f"地址中的乡镇 {name} 属于 {owners}，{where}")
    return reasons


# -- one record -------------------------------------------------------------------------------

def locate_record(layers: LayerSet, *, x=None, y=None, datum: str = "wgs84", crs=None,
                  address: str | None = None, declared_county: str | None = None,
                  geometry=None) -> Attribution:
    """Attribute one row from its coordinates, geometry or address, checking a declared county.

    Coordinates win over the address; the address text is then only checked against them.

    Examples
    --------
    >>> from geo.boundaries import load_shipped
    >>> layers = load_shipped()
    >>> att = locate_record(layers, x="111.6035", y="26.2083", declared_county="零陵区")
    >>> att.county_name, att.precision, att.flags
    ('零陵区', 'coordinates', [])
    >>> att = locate_record(layers, address="祁阳县文富市镇", declared_county="祁阳市")
    >>> att.county_name, att.township_name, att.precision, att.flags
    ('祁阳市', '文富市镇', 'township', [])
    """
    text = None if _blank(address) else str(address)
    att = None
    if geometry is not None:
        att = attribute_geometry(layers, geometry)
    elif not (_blank(x) and _blank(y)):
        att = _record_from_coordinates(layers, x, y, datum, crs)
    if att is not None and text and att.lon is not None:
        check_address(att, geocode(text), named_townships(text))
    elif text:
        att = _from_text(layers, geocode(text), att.error if att is not None else None)
    elif att is None:
        att = Attribution(error="没有坐标、几何或地址", layer_versions=layers.versions())
    may_place = (geometry is None and _blank(x) and _blank(y)
                 and (text is None or _names_nothing(att)))
    _check_declared(layers, att, declared_county, may_place)
    att.flags = [f for f in FLAGS if f in att.flags]
    return att


def _blank(value) -> bool:
    """True for None, NaN and whitespace-only strings."""
    return value is None or value != value or (isinstance(value, str) and not value.strip())


def _names_nothing(att: Attribution) -> bool:
    """True if the address text named no place at all (so a declared county may place the row)."""
    return att.county_code is None and not att.flags and att.precision == "none"


def _record_from_coordinates(layers, x, y, datum, crs) -> Attribution:
    """Normalise one coordinate pair and attribute it."""
    point = normalise_point(x, y, datum=datum, crs=crs)
    if point.error:
        return Attribution(error=point.error, layer_versions=layers.versions())
    res = attribute_points(layers, np.array([point.lon]), np.array([point.lat]))
    att = point_attribution(layers, res, 0, round(point.lon, 7), round(point.lat, 7))
    for flag in point.flags:
        att.add_flag(flag)
    if point.note:
        att.evidence.insert(0, point.note)
        att.error = NOTE_PREFIX + point.note
    if "coordinates_swapped" in att.flags and att.county_code:
        att.confidence = round(att.confidence - SWAP_PENALTY, 3)
    return att


def _from_text(layers: LayerSet, found: Attribution, coordinate_error: str | None) -> Attribution:
    """A row placed by its address: a private copy of the geocoder's answer."""
    att = replace(found, flags=list(found.flags), candidates=list(found.candidates),
                  evidence=list(found.evidence), layer_versions=layers.versions())
    if coordinate_error:
        att.error = f"{coordinate_error}；{BY_ADDRESS}"
    return att
