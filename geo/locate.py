"""Locate table rows: coordinates, address text and a declared county in, one attribution out.

``locate_frame`` is what ``yzmap locate`` and the ledger import call: it normalises whole
coordinate columns at once (``geo.coords.normalise_points``), attributes them with
``geo.lookup.attribute_points`` and writes the output columns of ``OUTPUT_COLUMNS``. A bad cell
gives its row an ``error`` and the row is still returned.

Confidence (0-1) of a county answer:

- coordinates: 0.98 inside a county, falling linearly to 0.5 on a county line over the county
  layer's positional accuracy; 0.1 less when the lon/lat columns had to be swapped; 0 outside;
- address text: the geocoder's confidence;
- declared county only (no coordinates, no address): 0.5, precision "county".
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable

import numpy as np
import pandas as pd

from geo.address import county_stem, normalise_text
from geo.boundaries import LayerSet
from geo.lookup import attribute_geometry, attribute_points, confidence_for, point_attribution
from geo.models import FLAGS, Attribution

__all__ = ["OUTPUT_COLUMNS", "locate_frame", "locate_record", "county_aliases", "resolve_county"]

OUTPUT_COLUMNS = (
    "lon", "lat", "county_code", "county_name", "township_code", "township_name", "village_name",
    "protected_area", "zone", "precision", "confidence", "flags", "candidates", "error",
)
CHUNK_ROWS = 5000
SWAP_PENALTY = 0.1
DECLARED_ONLY_CONFIDENCE = 0.5


# -- declared county --------------------------------------------------------------------------

def county_aliases(layers: LayerSet) -> dict[str, str]:
    """Map every way of writing a county (name, alias, stem + 县/市/区, code, old code) to its code.

    Examples
    --------
    >>> from geo.boundaries import load_shipped
    >>> aliases = county_aliases(load_shipped())
    >>> aliases["祁阳县"], aliases["431121"], aliases["江华县"], aliases["道县"]
    ('431181', '431181', '431129', '431124')
    """
    cache = layers.counties.cache
    if "aliases" in cache:
        return cache["aliases"]
    frame = layers.counties.frame
    table: dict[str, str] = {}
    for row in frame.itertuples(index=False):
        code = str(row.code)
        names = [row.name, code, str(getattr(row, "source_code", "") or "")]
        names += [a for a in str(getattr(row, "aliases", "") or "").replace("，", ";")
                  .replace(",", ";").split(";")]
        for name in filter(None, (n.strip() for n in names if n == n)):
            table[name] = code
            stem = county_stem(name)
            if stem:
                table.update({stem + s: code for s in ("县", "市", "区", "")})
    cache["aliases"] = table
    return table


def resolve_county(layers: LayerSet, text) -> str | None:
    """Return the county code a declared value (name, alias or code) denotes, None if unknown."""
    if text is None or text != text:
        return None
    key = normalise_text(str(text).strip())
    if key.endswith(".0") and key[:-2].isdigit():  # codes read from Excel as floats
        key = key[:-2]
    key = key.removeprefix("湖南省").removeprefix("永州市")
    gazetteer = _optional("geo.gazetteer")
    if gazetteer is not None and hasattr(gazetteer, "resolve_county"):
        found = gazetteer.resolve_county(key)
        if found:
            return str(found)
    return county_aliases(layers).get(key)


def _optional(name: str):
    """Import an optional sibling module that another part of the project may not have yet."""
    if importlib.util.find_spec(name) is None:
        return None
    return importlib.import_module(name)


# -- one record -------------------------------------------------------------------------------

def locate_record(layers: LayerSet, *, x=None, y=None, datum: str = "wgs84", crs=None,
                  address: str | None = None, declared_county: str | None = None,
                  geometry=None) -> Attribution:
    """Attribute one row from its coordinates, geometry or address, checking a declared county.

    Coordinates win over the address; the address text is then only checked against them.

    Examples
    --------
    >>> from geo.boundaries import load_shipped
    >>> att = locate_record(load_shipped(), x="111.6035", y="26.2083", declared_county="零陵区")
    >>> att.county_name, att.precision, att.flags
    ('零陵区', 'coordinates', [])
    """
    if geometry is not None:
        att = attribute_geometry(layers, geometry)
    elif not (_blank(x) and _blank(y)):
        att = _record_from_coordinates(layers, x, y, datum, crs)
    elif not _blank(address):
        att = _geocode(layers, str(address))
    else:
        att = Attribution(error="没有坐标、几何或地址", layer_versions=layers.versions())
    if att.county_code and not _blank(address) and (geometry is not None or not _blank(x)):
        _check_text(layers, att, str(address))
    unplaced = geometry is None and _blank(x) and _blank(y) and _blank(address)
    _check_declared(layers, att, declared_county, may_place=unplaced)
    att.flags = [f for f in FLAGS if f in att.flags]
    return att


def _blank(value) -> bool:
    """True for None, NaN and whitespace-only strings."""
    return value is None or value != value or (isinstance(value, str) and not value.strip())


def _record_from_coordinates(layers, x, y, datum, crs) -> Attribution:
    """Normalise one coordinate pair and attribute it."""
    from geo.coords import normalise_point

    point = normalise_point(x, y, datum=datum, crs=crs)
    if point.error:
        return Attribution(error=point.error, layer_versions=layers.versions())
    res = attribute_points(layers, np.array([point.lon]), np.array([point.lat]))
    att = point_attribution(layers, res, 0, round(point.lon, 7), round(point.lat, 7))
    for flag in point.flags:
        att.add_flag(flag)
    if point.note:
        att.evidence.insert(0, point.note)
    if "coordinates_swapped" in att.flags and att.county_code:
        att.confidence = round(att.confidence - SWAP_PENALTY, 3)
    return att


def _geocode(layers: LayerSet, text: str) -> Attribution:
    """Place a row by its address text when the geocoder exists; otherwise say it is pending."""
    geocode = _optional("geo.geocode")
    if geocode is None:
        return Attribution(error="地址解析尚不可用（geo.geocode 未安装），地址原样保留",
                           layer_versions=layers.versions())
    att = geocode.geocode(text)
    att.layer_versions = att.layer_versions or layers.versions()
    return att


def _check_text(layers: LayerSet, att: Attribution, text: str) -> None:
    """Flag declared_mismatch when the address text names a county other than the located one."""
    geocode = _optional("geo.geocode")
    if geocode is None:
        return
    named = geocode.geocode(text)
    if named.county_code and named.county_code != att.county_code:
        att.add_flag("declared_mismatch")
        att.evidence.append(f"address names {named.county_name}, coordinates lie in "
                            f"{att.county_name}")


def _check_declared(layers: LayerSet, att: Attribution, declared, may_place: bool = False) -> None:
    """Compare a declared county with the located one; with ``may_place`` (the row has neither
    coordinates nor address) the declared county places the row."""
    if _blank(declared):
        return
    code = resolve_county(layers, declared)
    if may_place and code is not None:
        frame = layers.counties.frame
        att.county_code = code
        att.county_name = frame.loc[frame["code"] == code, "name"].iat[0]
        att.precision, att.confidence = "county", DECLARED_ONLY_CONFIDENCE
        att.candidates = [att.county_name]
        att.error = None
        att.evidence.append(f"county taken from the declared value {declared!r}")
        return
    if att.county_code is None and (att.lon is None or att.lon != att.lon):
        return  # the row was not placed, so there is nothing to compare with
    if code != att.county_code:
        att.add_flag("declared_mismatch")
        att.evidence.append(f"declared county {declared!r} differs from located "
                            f"{att.county_name or 'outside the city'}")


# -- whole tables -----------------------------------------------------------------------------

def locate_frame(df: pd.DataFrame, layers: LayerSet, *, x_col: str | None = None,
                 y_col: str | None = None, lon_col: str | None = None, lat_col: str | None = None,
                 datum: str = "wgs84", crs=None, county_col: str | None = None,
                 address_col: str | None = None,
                 progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    """Locate every row of ``df``: the input columns, then ``OUTPUT_COLUMNS``.

    ``lon_col``/``lat_col`` are synonyms of ``x_col``/``y_col``. Input columns whose names clash
    with an output column are kept with an ``_input`` suffix. ``progress`` is called with the
    number of rows done after each chunk of ``CHUNK_ROWS``.

    Examples
    --------
    >>> from geo.boundaries import load_shipped
    >>> df = pd.DataFrame({"经度": ["111.6035", "abc", None], "纬度": ["26.2083", "26.2", None],
    ...                    "所在县区": ["冷水滩区", "零陵区", "祁阳县"]})
    >>> out = locate_frame(df, load_shipped(), x_col="经度", y_col="纬度", county_col="所在县区")
    >>> out[["county_name", "precision", "flags"]].values.tolist()
    [['零陵区', 'coordinates', 'declared_mismatch'], [None, 'none', ''], ['祁阳市', 'county', '']]
    >>> bool(out["error"].iat[1].startswith("经度 列"))
    True
    """
    x_col, y_col = x_col or lon_col, y_col or lat_col
    for col in (x_col, y_col, county_col, address_col):
        if col is not None and col not in df.columns:
            available = ", ".join(map(str, df.columns))
            raise KeyError(f"column {col!r} not found; available: {available}")
    parts = []
    for start in range(0, len(df), CHUNK_ROWS):
        chunk = df.iloc[start:start + CHUNK_ROWS]
        parts.append(_locate_chunk(chunk, layers, x_col, y_col, datum, crs, county_col,
                                   address_col))
        if progress is not None:
            progress(len(chunk))
    result = pd.concat(parts) if parts else _empty_output(0)
    inputs = df.rename(columns={c: f"{c}_input" for c in df.columns if c in OUTPUT_COLUMNS})
    return pd.concat([inputs.reset_index(drop=True), result.reset_index(drop=True)], axis=1)


def _empty_output(n: int) -> pd.DataFrame:
    """An output block of ``n`` rows with nothing located."""
    out = pd.DataFrame({c: pd.Series([None] * n, dtype=object) for c in OUTPUT_COLUMNS})
    out["precision"], out["confidence"], out["flags"], out["candidates"] = "none", 0.0, "", ""
    return out


def _locate_chunk(chunk, layers, x_col, y_col, datum, crs, county_col, address_col):
    """Output columns for one chunk: vectorised over coordinates, row by row for the rest."""
    n = len(chunk)
    out = _empty_output(n)
    flags: list[list[str]] = [[] for _ in range(n)]
    cand: list[list[str]] = [[] for _ in range(n)]
    has_xy = np.zeros(n, dtype=bool)
    if x_col is not None and y_col is not None:
        has_xy = _fill_coordinates(out, flags, cand, layers, chunk[x_col].to_numpy(object),
                                   chunk[y_col].to_numpy(object), datum, crs, (x_col, y_col))
    address = chunk[address_col].to_numpy(object) if address_col else [None] * n
    declared = chunk[county_col].to_numpy(object) if county_col else [None] * n
    for i in range(n):
        unplaced = False
        if has_xy[i] or not _blank(out.at[i, "error"]):  # coordinates given, good or bad
            if not _blank(address[i]) and out.at[i, "county_code"]:
                _row_text_check(layers, out, flags, i, address[i])
        elif not _blank(address[i]):
            _row_from_record(out, flags, cand, i, _geocode(layers, str(address[i])))
        else:
            out.at[i, "error"], unplaced = "没有坐标或地址", True
        _row_declared(layers, out, flags, cand, i, declared[i], unplaced)
    out["flags"] = [";".join(f for f in FLAGS if f in row) for row in flags]
    out["candidates"] = [";".join(dict.fromkeys(row)) for row in cand]
    return out


def _fill_coordinates(out, flags, cand, layers, xs, ys, datum, crs, names) -> np.ndarray:
    """Normalise and attribute the coordinate columns; return which rows had usable coordinates."""
    from geo.coords import normalise_points

    blank = np.array([_blank(a) and _blank(b) for a, b in zip(xs, ys, strict=True)], dtype=bool)
    norm = normalise_points(xs, ys, datum=datum, crs=crs, x_name=names[0], y_name=names[1])
    ok = np.isfinite(norm.lon) & np.isfinite(norm.lat) & ~blank
    for i in np.flatnonzero(~ok & ~blank):
        out.at[i, "error"] = norm.errors[i] or "坐标无法识别"
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
    names = layers.counties.frame["name"].to_numpy(object)
    for j, i in enumerate(rows):
        flags[i].extend(norm.flags[i])
        if res.county[j] >= 0:
            cand[i].append(names[res.county[j]])
        else:
            flags[i].append("outside_city")
        if res.near_border[j]:
            flags[i].append("near_border")
            if res.neighbour[j] >= 0:
                cand[i].append(names[res.neighbour[j]])
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


def _row_from_record(out, flags, cand, i, att: Attribution) -> None:
    """Write one Attribution into output row ``i``."""
    for col in OUTPUT_COLUMNS[:10] + ("error",):
        out.at[i, col] = getattr(att, col)
    out.at[i, "confidence"] = att.confidence
    flags[i].extend(att.flags)
    cand[i].extend(att.candidates)


def _row_text_check(layers, out, flags, i, text) -> None:
    """Address text next to coordinates: flag declared_mismatch when it names another county."""
    att = Attribution(county_code=out.at[i, "county_code"], county_name=out.at[i, "county_name"])
    _check_text(layers, att, str(text))
    flags[i].extend(att.flags)


def _row_declared(layers, out, flags, cand, i, declared, may_place) -> None:
    """Check row ``i`` against its declared county (or place it by that county alone)."""
    if _blank(declared):
        return
    att = Attribution(county_code=out.at[i, "county_code"], county_name=out.at[i, "county_name"],
                      lon=out.at[i, "lon"], flags=list(flags[i]), error=out.at[i, "error"])
    _check_declared(layers, att, declared, may_place)
    if att.precision == "county":
        _row_from_record(out, flags, cand, i, att)
    elif "declared_mismatch" in att.flags:
        flags[i].append("declared_mismatch")

