"""Locate whole tables column-wise: the array version of ``geo.locate.locate_record``'s rules.

Coordinates are normalised, attributed, flagged and written as arrays; the rules that need the
gazetteer (address text, a declared county) run once per distinct combination of their inputs
(``geo.bulk_rules``). A table gives exactly what row-by-row location gave.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from geo.boundaries import LayerSet
from geo.bulk_rules import FLAG_BITS, TextCache, check_read_rows, place_unread_rows
from geo.constraints import format_constraints, zones_at_points
from geo.coords import normalise_points
from geo.locate import NOTE_PREFIX, NOTHING_GIVEN, OUTPUT_COLUMNS, SWAP_PENALTY
from geo.lookup import attribute_points, confidence_for, layer_index
from geo.models import FLAGS

__all__ = ["CHUNK_ROWS", "TextCache", "locate_chunk", "locate_columns", "locate_frame"]

CHUNK_ROWS = 50_000


def locate_frame(df: pd.DataFrame, layers: LayerSet, *, x_col: str | None = None,
                 y_col: str | None = None, lon_col: str | None = None, lat_col: str | None = None,
                 datum: str = "wgs84", crs=None, county_col: str | None = None,
                 address_col: str | None = None,
                 progress: Callable[[int], None] | None = None,
                 chunk_rows: int | None = None) -> pd.DataFrame:
    """Locate every row of ``df``: the input columns, then ``OUTPUT_COLUMNS``.

    ``lon_col``/``lat_col`` are synonyms of ``x_col``/``y_col``. Input columns whose names clash
    with an output column are kept with an ``_input`` suffix. ``progress`` is called with the
    number of rows done after each chunk of ``chunk_rows`` (``CHUNK_ROWS`` by
    default). Each distinct address string is geocoded once for the whole table. The work is
    column-wise (``geo.bulk_locate``) and gives what ``locate_record`` gives row by row.

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
    step = chunk_rows or CHUNK_ROWS
    cache = TextCache()
    parts = []
    for start in range(0, len(df), step):
        chunk = df.iloc[start:start + step]
        parts.append(locate_chunk(chunk, layers, x_col=x_col, y_col=y_col, datum=datum, crs=crs,
                                  county_col=county_col, address_col=address_col, cache=cache))
        if progress is not None:
            progress(len(chunk))
    if not parts:
        parts.append(locate_chunk(df, layers, x_col=x_col, y_col=y_col, datum=datum, crs=crs,
                                  county_col=county_col, address_col=address_col, cache=cache))
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def locate_chunk(chunk: pd.DataFrame, layers: LayerSet, *, x_col=None, y_col=None,
                 datum: str = "wgs84", crs=None, county_col=None, address_col=None,
                 lonlat: tuple[np.ndarray, np.ndarray] | None = None,
                 cache: TextCache | None = None) -> pd.DataFrame:
    """One chunk located: its input columns (renamed on a clash) and ``OUTPUT_COLUMNS``.

    ``lonlat`` gives WGS84 positions directly (e.g. from point geometries), NaN for none.
    """
    out = locate_columns(chunk, layers, x_col=x_col, y_col=y_col, datum=datum, crs=crs,
                         county_col=county_col, address_col=address_col, lonlat=lonlat,
                         cache=cache)
    inputs = chunk.rename(columns={c: f"{c}_input" for c in chunk.columns if c in OUTPUT_COLUMNS})
    out.index = chunk.index
    return pd.concat([pd.DataFrame(inputs, copy=False), out], axis=1).reset_index(drop=True)


def locate_columns(chunk: pd.DataFrame, layers: LayerSet, *, x_col=None, y_col=None,
                   datum: str = "wgs84", crs=None, county_col=None, address_col=None,
                   lonlat: tuple[np.ndarray, np.ndarray] | None = None,
                   cache: TextCache | None = None) -> pd.DataFrame:
    """Only the ``OUTPUT_COLUMNS`` of a located chunk (``chunk`` needs only the named columns)."""
    cache = cache if cache is not None else TextCache()
    n = len(chunk)
    cols = _Columns(n)
    read = np.zeros(n, dtype=bool)
    if lonlat is not None:
        read = _fill_lonlat(cols, layers, *lonlat)
    elif x_col is not None and y_col is not None:
        read = _fill_coordinates(cols, layers, _cells(chunk[x_col]), _cells(chunk[y_col]),
                                 datum, crs, (x_col, y_col))
    texts = _text_cells(chunk[address_col]) if address_col else np.full(n, None, dtype=object)
    declared = (chunk[county_col].to_numpy(object) if county_col
                else np.full(n, None, dtype=object))
    declared_blank = _blank_mask(declared)
    has_text = pd.notna(texts)
    cache.geocode_new(texts[has_text].tolist())
    no_input = ~read & ~has_text & pd.isna(cols.error)
    cols.error[no_input] = NOTHING_GIVEN
    check_read_rows(cols, layers, cache, read & (has_text | ~declared_blank), texts, declared)
    place_unread_rows(cols, layers, cache, ~read & (has_text | ~declared_blank), texts, declared)
    return cols.frame()


class _Columns:
    """The output columns of a chunk as arrays, flags as bit masks (see ``FLAGS``)."""

    def __init__(self, n: int) -> None:
        """Nothing located: None everywhere, precision "none", confidence 0."""
        for name in OUTPUT_COLUMNS:
            setattr(self, name, np.full(n, None, dtype=object))
        self.precision[:] = "none"
        self.confidence = np.zeros(n)
        self.bits = np.zeros(n, dtype=np.int64)
        # feature numbers behind county and township (-1: none), to group rows by them
        self.county_index = np.full(n, -1, dtype=np.int64)
        self.township_index = np.full(n, -1, dtype=np.int64)
        self.candidates[:] = ""
        self.constraints[:] = ""

    def frame(self) -> pd.DataFrame:
        """The columns as a DataFrame (flags spelt out in ``FLAGS`` order)."""
        self.flags = _flag_strings(self.bits)
        # dtype object keeps None as None (pandas would infer a string dtype with NaN)
        return pd.DataFrame({c: pd.Series(getattr(self, c), dtype=float if c == "confidence"
                                          else object, copy=False) for c in OUTPUT_COLUMNS})


def _flag_strings(bits: np.ndarray) -> np.ndarray:
    """Bit masks as ``;``-joined flag names; each distinct mask is spelt once."""
    inverse, uniq = pd.factorize(bits)
    words = np.array([";".join(f for f in FLAGS if b & FLAG_BITS[f]) for b in uniq.tolist()] + [""],
                     dtype=object)
    return words[inverse]


# every character Python's str.strip removes: [c for c in range(0x110000) if chr(c).isspace()]
_SPACES = [chr(c) for c in (0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x85,
                            0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F,
                            0x205F, 0x3000)]


def _blank_mask(values: np.ndarray) -> np.ndarray:
    """True for None, NaN and whitespace-only strings (``geo.locate._blank`` over an array)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    values = np.asarray(values, dtype=object)
    try:
        text = pa.array(values, type=pa.string(), from_pandas=True)  # None/NaN -> null
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # numbers from a spreadsheet among the text
        return _blank_mask_objects(values)
    blank = pc.fill_null(pc.equal(text, ""), True).to_numpy(zero_copy_only=False).astype(bool)
    # only a cell starting with whitespace can strip to nothing: check those with str.strip
    first = pc.utf8_slice_codeunits(text, 0, 1)
    spaced = pc.fill_null(pc.is_in(first, value_set=pa.array(_SPACES)), False)
    for i in np.flatnonzero(spaced.to_numpy(zero_copy_only=False)).tolist():
        blank[i] = not str(values[i]).strip()
    return blank


def _blank_or_nan(values: np.ndarray) -> np.ndarray:
    """``_blank_mask``, with a quick answer for a float column (only NaN is blank)."""
    return np.isnan(values) if values.dtype == np.float64 else _blank_mask(values)


def _blank_mask_objects(values: np.ndarray) -> np.ndarray:
    """``_blank_mask`` for cells of mixed types."""
    blank = pd.isna(values) | (values == "")
    text = pd.Series(values[~blank], dtype=object)
    try:
        stripped = text.str.strip()  # NaN for cells that are not text
    except AttributeError:  # no text at all
        return blank
    blank[np.flatnonzero(~blank)[stripped.eq("").to_numpy(bool)]] = True
    return blank


def _text_cells(column: pd.Series) -> np.ndarray:
    """Address cells as stripped strings, None for blank ones."""
    values = column.to_numpy(object)
    blank = _blank_mask(values)
    out = np.full(len(values), None, dtype=object)
    keep = pd.Series(values[~blank], dtype=object)
    if len(keep):
        texts = keep.map(str) if pd.api.types.infer_dtype(keep) != "string" else keep
        out[~blank] = texts.str.strip().to_numpy(object)
    return out


def _lookup(values, idx: np.ndarray) -> np.ndarray:
    """``values[idx]`` as text, None where ``idx`` is -1 or the value is missing."""
    table = np.array([None if (v is None or v != v) else str(v) for v in values] + [None],
                     dtype=object)
    return table[np.where(idx >= 0, idx, len(table) - 1)]


def _cells(column: pd.Series) -> np.ndarray:
    """A coordinate column's cells: float64 as they are (already numbers), else objects."""
    return column.to_numpy() if column.dtype == np.float64 else column.to_numpy(object)


def _fill_coordinates(cols: _Columns, layers, xs, ys, datum, crs, names) -> np.ndarray:
    """Normalise and attribute the coordinate columns; return which rows had usable coordinates."""
    blank = _blank_or_nan(xs) & _blank_or_nan(ys)
    norm = normalise_points(xs, ys, datum=datum, crs=crs, x_name=names[0], y_name=names[1])
    ok = np.isfinite(norm.lon) & np.isfinite(norm.lat) & ~blank
    errors = np.asarray(norm.errors, dtype=object)
    failed = ~ok & ~blank
    cols.error[failed] = [e or "坐标无法识别" for e in errors[failed]]
    notes = np.asarray(norm.notes, dtype=object)
    noted = ok & (notes != "")
    cols.error[noted] = NOTE_PREFIX + notes[noted].astype(str)
    swapped = np.zeros(len(ok), dtype=bool)
    flagged = np.flatnonzero(np.fromiter(map(bool, norm.flags), dtype=bool, count=len(ok)) & ok)
    for i in flagged.tolist():  # only rows whose cells were swapped or datum-converted
        for name in norm.flags[i]:
            cols.bits[i] |= FLAG_BITS[name]
        swapped[i] = "coordinates_swapped" in norm.flags[i]
    _attribute(cols, layers, norm.lon, norm.lat, ok, swapped)
    return ok


def _fill_lonlat(cols: _Columns, layers, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Attribute WGS84 positions given as arrays (NaN: no position)."""
    ok = np.isfinite(lon) & np.isfinite(lat)
    cols.error[~ok] = "没有点几何"
    _attribute(cols, layers, lon, lat, ok, np.zeros(len(ok), dtype=bool))
    return ok


def _attribute(cols: _Columns, layers, all_lon, all_lat, ok, swapped) -> None:
    """Fill county, township, zone, constraints, confidence and flags of the ``ok`` rows."""
    rows = np.flatnonzero(ok)
    if not len(rows):
        return
    lon, lat = all_lon[rows], all_lat[rows]
    res = attribute_points(layers, lon, lat)
    cols.lon[rows] = np.round(lon, 7)
    cols.lat[rows] = np.round(lat, 7)
    cols.precision[rows] = "coordinates"
    counties = layers.counties.frame
    cols.county_index[rows] = res.county
    cols.township_index[rows] = res.township
    cols.county_code[rows] = _lookup(counties["code"].tolist(), res.county)
    cols.county_name[rows] = _lookup(counties["name"].tolist(), res.county)
    if layers.townships is not None:
        towns = layers.townships.frame
        cols.township_code[rows] = _lookup(towns["code"].tolist(), res.township)
        cols.township_name[rows] = _lookup(towns["name"].tolist(), res.township)
    if layers.protected_areas is not None:
        pa = layers.protected_areas.frame
        cols.protected_area[rows] = _lookup(pa["name"].tolist(), res.protected_area)
        cols.zone[rows] = _lookup(pa["zone"].tolist(), res.protected_area)
    near = np.flatnonzero(_near_constraints(layers, res, lon, lat))
    found = zones_at_points(layers, lon[near], lat[near])
    hit = np.flatnonzero(np.fromiter(map(bool, found), dtype=bool, count=len(found)))
    cols.constraints[rows[near[hit]]] = [format_constraints(found[j]) for j in hit.tolist()]
    conf = confidence_for(res.near_border, res.border_distance_m, res.county,
                          layers.counties.info.positional_accuracy_m)
    penal = np.flatnonzero(swapped[rows] & (res.county >= 0))
    # python's round, as locate_record uses (numpy rounds some halves the other way)
    conf[penal] = [round(c - SWAP_PENALTY, 3) for c in conf[penal].tolist()]
    cols.confidence[rows] = conf
    cols.bits[rows] |= np.where(res.county < 0, FLAG_BITS["outside_city"], 0)
    cols.bits[rows] |= np.where(res.near_border, FLAG_BITS["near_border"], 0)
    cols.candidates[rows] = _candidate_strings(counties["name"].tolist(), res.county,
                                               np.where(res.near_border, res.neighbour, -1))


def _near_constraints(layers: LayerSet, res, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Points inside a constraint zone or in a grid cell next to a zone's boundary.

    ``zones_at_points`` (metric, exact) builds a list for every point it gets; most points of a
    city lie far from every zone, so only these candidates go to it. The WGS84 grid index can
    differ from the metric test only within metres of a boundary: those points are in a
    boundary cell or next to one.
    """
    near = np.zeros(len(lon), dtype=bool)
    for layer in layers.constraint_layers().values():
        if layer is None or not len(layer.frame):
            continue
        if layer is layers.protected_areas and "grid_ordered" in layer.cache:
            grid, inside = layer.cache["grid_ordered"], res.protected_area >= 0
        else:
            grid = layer_index(layer)
            inside = grid.query(lon, lat) >= 0
        near |= inside | grid.near_mask(lon, lat, 1)
    return near


def _candidate_strings(names: list, county: np.ndarray, neighbour: np.ndarray) -> np.ndarray:
    """"county;neighbour" per point (either may be missing), each distinct pair spelt once."""
    inverse, uniq = pd.factorize(county * (len(names) + 1) + (neighbour + 1))
    pairs = [divmod(k, len(names) + 1) for k in uniq.tolist()]
    words = [";".join(dict.fromkeys(names[i] for i in (c, nb - 1) if i >= 0)) for c, nb in pairs]
    return np.array(words + [""], dtype=object)[inverse]
