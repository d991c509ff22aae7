"""Locate table rows: coordinates, address text and a declared county in, one attribution out.

``locate_frame`` is what ``yzmap locate`` and the ledger import call: it normalises whole
coordinate columns at once (``geo.coords.normalise_points``), attributes them with
``geo.lookup.attribute_points``, geocodes each distinct address string once
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
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd

from geo.boundaries import LayerSet
from geo.constraints import format_constraints, zones_at_points
from geo.coords import normalise_point, normalise_points
from geo.gazetteer import load_gazetteer
from geo.geocode import geocode, geocode_many, named_townships
from geo.lookup import attribute_geometry, attribute_points, confidence_for, point_attribution
from geo.models import FLAGS, Attribution

__all__ = ["NOTE_PREFIX", "OUTPUT_COLUMNS", "check_address", "locate_frame", "locate_record",
           "resolve_county"]

OUTPUT_COLUMNS = (
    "lon", "lat", "county_code", "county_name", "township_code", "township_name", "village_name",
    "protected_area", "zone", "precision", "confidence", "flags", "candidates", "constraints",
    "error",
)
NOTE_PREFIX = "提示："
CHUNK_ROWS = 5000
SWAP_PENALTY = 0.1
DECLARED_ONLY_CONFIDENCE = 0.5
NOTHING_GIVEN = "没有坐标或地址"
BY_ADDRESS = "已按地址定位"
_FIELDS = OUTPUT_COLUMNS[:11] + ("error",)  # Attribution fields copied to and from a row


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


# -- whole tables -----------------------------------------------------------------------------

def locate_frame(df: pd.DataFrame, layers: LayerSet, *, x_col: str | None = None,
                 y_col: str | None = None, lon_col: str | None = None, lat_col: str | None = None,
                 datum: str = "wgs84", crs=None, county_col: str | None = None,
                 address_col: str | None = None,
                 progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    """Locate every row of ``df``: the input columns, then ``OUTPUT_COLUMNS``.

    ``lon_col``/``lat_col`` are synonyms of ``x_col``/``y_col``. Input columns whose names clash
    with an output column are kept with an ``_input`` suffix. ``progress`` is called with the
    number of rows done after each chunk of ``CHUNK_ROWS``. Each distinct address string is
    geocoded once for the whole table.

    Examples
    --------
    >>> from geo.boundaries import load_shipped
    >>> df = pd.DataFrame({"经度": ["111.6035", "abc", None, None],
    ...                    "纬度": ["26.2083", "26.2", None, None],
    ...                    "地址": [None, "道县", None, "江华县码市镇某养殖场"],
    ...                    "所在县区": ["冷水滩区", "零陵区", "祁阳县", None]})
    >>> out = locate_frame(df, load_shipped(), x_col="经度", y_col="纬度", county_col="所在县区",
    ...                    address_col="地址")
    >>> out[["county_name", "township_name", "precision", "flags"]].values.tolist()
    ... # doctest: +NORMALIZE_WHITESPACE
    [['零陵区', None, 'coordinates', 'declared_mismatch'],
     ['道县', None, 'county', 'declared_mismatch'],
     ['祁阳市', None, 'county', ''], ['江华瑶族自治县', '码市镇', 'township', '']]
    >>> out["error"].iat[1]
    '经度 列: 无法识别的坐标「abc」；已按地址定位'
    """
    x_col, y_col = x_col or lon_col, y_col or lat_col
    for col in (x_col, y_col, county_col, address_col):
        if col is not None and col not in df.columns:
            available = ", ".join(map(str, df.columns))
            raise KeyError(f"column {col!r} not found; available: {available}")
    texts: dict[str, tuple[Attribution, dict | None]] = {}
    parts = []
    for start in range(0, len(df), CHUNK_ROWS):
        chunk = df.iloc[start:start + CHUNK_ROWS]
        parts.append(_locate_chunk(chunk, layers, x_col, y_col, datum, crs, county_col,
                                   address_col, texts))
        if progress is not None:
            progress(len(chunk))
    result = pd.concat(parts) if parts else _empty_output(0)
    inputs = df.rename(columns={c: f"{c}_input" for c in df.columns if c in OUTPUT_COLUMNS})
    return pd.concat([inputs.reset_index(drop=True), result.reset_index(drop=True)], axis=1)


def _empty_output(n: int) -> pd.DataFrame:
    """An output block of ``n`` rows with nothing located."""
    out = pd.DataFrame({c: pd.Series([None] * n, dtype=object) for c in OUTPUT_COLUMNS})
    out["precision"], out["confidence"], out["flags"], out["candidates"] = "none", 0.0, "", ""
    out["constraints"] = ""
    return out


def _text_cells(values) -> list[str | None]:
    """Address cells as stripped strings, None for blank ones."""
    return [None if _blank(v) else str(v).strip() for v in values]


def _geocode_new(texts: dict, cells: list[str | None]) -> None:
    """Geocode the strings of ``cells`` not yet in ``texts`` (each distinct string once)."""
    new = list(dict.fromkeys(t for t in cells if t is not None and t not in texts))
    for text, found in zip(new, geocode_many(new), strict=True):
        texts[text] = (found, None)


def _townships_of(texts: dict, text: str) -> dict[str, tuple[str, ...]]:
    """``named_townships`` of a cached string, computed on first use."""
    found, towns = texts[text]
    if towns is None:
        towns = named_townships(text)
        texts[text] = (found, towns)
    return towns


def _locate_chunk(chunk, layers, x_col, y_col, datum, crs, county_col, address_col, texts):
    """Output columns for one chunk: vectorised over coordinates, row by row for the rest."""
    n = len(chunk)
    out = _empty_output(n)
    flags: list[list[str]] = [[] for _ in range(n)]
    cand: list[list[str]] = [[] for _ in range(n)]
    read = np.zeros(n, dtype=bool)
    if x_col is not None and y_col is not None:
        read = _fill_coordinates(out, flags, cand, layers, chunk[x_col].to_numpy(object),
                                 chunk[y_col].to_numpy(object), datum, crs, (x_col, y_col))
    cells = _text_cells(chunk[address_col]) if address_col else [None] * n
    _geocode_new(texts, cells)
    declared = chunk[county_col].to_numpy(object) if county_col else [None] * n
    rows = out.to_dict("records")
    for i, row in enumerate(rows):
        att = Attribution(**{c: row[c] for c in _FIELDS}, flags=flags[i], candidates=cand[i])
        text = cells[i]
        if read[i] and text:
            check_address(att, texts[text][0], _townships_of(texts, text))
        elif text:
            att = _from_text(layers, texts[text][0], att.error)
        elif not read[i] and att.error is None:
            att.error = NOTHING_GIVEN
        may_place = not read[i] and att.error in (NOTHING_GIVEN, None) and (
            text is None or _names_nothing(att))
        _check_declared(layers, att, declared[i], may_place)
        row.update({c: getattr(att, c) for c in _FIELDS})
        row["flags"] = ";".join(f for f in FLAGS if f in att.flags)
        row["candidates"] = ";".join(dict.fromkeys(att.candidates))
    # object columns keep None as None (a plain DataFrame(rows) would turn it into NaN)
    return pd.DataFrame({c: pd.Series([r[c] for r in rows], dtype=float if c == "confidence"
                                      else object) for c in OUTPUT_COLUMNS})


def _fill_coordinates(out, flags, cand, layers, xs, ys, datum, crs, names) -> np.ndarray:
    """Normalise and attribute the coordinate columns; return which rows had usable coordinates."""
    blank = np.array([_blank(a) and _blank(b) for a, b in zip(xs, ys, strict=True)], dtype=bool)
    norm = normalise_points(xs, ys, datum=datum, crs=crs, x_name=names[0], y_name=names[1])
    ok = np.isfinite(norm.lon) & np.isfinite(norm.lat) & ~blank
    for i in np.flatnonzero(~ok & ~blank):
        out.at[i, "error"] = norm.errors[i] or "坐标无法识别"
    for i in np.flatnonzero(ok):
        if norm.notes[i]:
            out.at[i, "error"] = NOTE_PREFIX + norm.notes[i]
    rows = np.flatnonzero(ok)
    if not len(rows):
        return ok
    lon, lat = norm.lon[rows], norm.lat[rows]
    res = attribute_points(layers, lon, lat)
    out.loc[rows, "lon"] = np.round(lon, 7)
    out.loc[rows, "lat"] = np.round(lat, 7)
    out.loc[rows, "precision"] = "coordinates"
    conf = confidence_for(res.near_border, res.border_distance_m, res.county,
                          layers.counties.info.positional_accuracy_m)
    _take(out, rows, res.county, layers.counties.frame, "county_code", "county_name")
    if layers.townships is not None:
        _take(out, rows, res.township, layers.townships.frame, "township_code", "township_name")
    if layers.protected_areas is not None:
        pa = layers.protected_areas.frame
        _take(out, rows, res.protected_area, pa, "protected_area", "zone", ("name", "zone"))
    found = zones_at_points(layers, lon, lat)
    out.loc[rows, "constraints"] = pd.Series([format_constraints(f) for f in found], index=rows,
                                             dtype=object)  # fmt: skip
    county_names = layers.counties.frame["name"].to_numpy(object)
    for j, i in enumerate(rows):
        flags[i].extend(norm.flags[i])
        if res.county[j] >= 0:
            cand[i].append(county_names[res.county[j]])
        else:
            flags[i].append("outside_city")
        if res.near_border[j]:
            flags[i].append("near_border")
            if res.neighbour[j] >= 0:
                cand[i].append(county_names[res.neighbour[j]])
        if "coordinates_swapped" in norm.flags[i] and res.county[j] >= 0:
            conf[j] = round(conf[j] - SWAP_PENALTY, 3)
    out.loc[rows, "confidence"] = conf
    return ok


def _take(out, rows, idx, frame, code_col, name_col, src=("code", "name")) -> None:
    """Copy two columns of ``frame`` rows ``idx`` (-1: none) into ``out`` rows ``rows``."""
    hit = idx >= 0
    for dst, col in zip((code_col, name_col), src, strict=True):
        values = frame[col].astype(object).to_numpy()[np.maximum(idx, 0)]
        values = [None if (not h or v is None or v != v) else str(v)
                  for h, v in zip(hit, values, strict=True)]
        out.loc[rows, dst] = pd.Series(values, index=rows, dtype=object)
