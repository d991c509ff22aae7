"""The address and declared-county rules of ``geo.locate`` for whole chunks, per distinct input.

Text next to coordinates, a row placed by its address and a declared county need the gazetteer
and the record-level functions ``locate_record`` uses (``check_address``, ``_check_declared``).
They run once per distinct combination of their inputs, and the answer is spread to every row
of that combination, so a table gives exactly what row-by-row location gave.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo.geocode import geocode_many, named_townships
from geo.locate import (
    BY_ADDRESS,
    NOTHING_GIVEN,
    _check_declared,
    _from_text,
    _names_nothing,
    check_address,
)
from geo.models import FLAGS, Attribution

__all__ = ["FLAG_BITS", "TextCache", "check_read_rows", "group_rows", "place_unread_rows"]

FLAG_BITS = {name: 1 << k for k, name in enumerate(FLAGS)}  # flags as bits of one integer
_TOWN_FIELDS = ("township_code", "township_name", "village_name")


@dataclass
class TextCache:
    """Geocoder answers and named townships per distinct address string, kept across chunks."""

    found: dict[str, Attribution] = field(default_factory=dict)
    townships: dict[str, dict] = field(default_factory=dict)

    def geocode_new(self, texts) -> None:
        """Geocode the strings not seen yet (each distinct string once)."""
        new = [t for t in dict.fromkeys(texts) if t not in self.found]
        if new:  # geocode_many loads the gazetteer even for no strings
            self.found.update(zip(new, geocode_many(new), strict=True))

    def towns(self, text: str) -> dict:
        """``named_townships`` of a string, computed on first use."""
        if text not in self.townships:
            self.townships[text] = named_townships(text)
        return self.townships[text]


def group_rows(*arrays) -> tuple[np.ndarray, np.ndarray]:
    """Group rows by the combination of ``arrays``: (first row of each group, group per row)."""
    key = np.zeros(len(arrays[0]), dtype=np.int64)
    for a in arrays:  # hash-based codes, combined column by column (no sorting of rows)
        codes, uniques = pd.factorize(a, use_na_sentinel=False)
        key = pd.factorize(key * (len(uniques) + 1) + codes)[0]
    group, uniques = pd.factorize(key)
    first = np.full(len(uniques), len(group), dtype=np.int64)
    np.minimum.at(first, group, np.arange(len(group)))
    return first, group


def check_read_rows(cols, layers, cache: TextCache, mask, texts, declared) -> None:
    """Check address text and declared county of rows placed by coordinates.

    Disagreement flags ``declared_mismatch``; agreeing text fills township and village. Run once
    per distinct combination of text, declared value and located county/township.
    """
    rows = np.flatnonzero(mask)
    if not len(rows):
        return
    # the located county and township are keyed by their feature numbers (integers factorize
    # ten times faster than text): codes and names follow from them, and no village is known yet
    first, group = group_rows(texts[rows], declared[rows], cols.county_index[rows],
                              cols.township_index[rows])
    results = []
    for r in rows[first].tolist():
        att = Attribution(lon=cols.lon[r], county_code=cols.county_code[r],
                          county_name=cols.county_name[r], **{f: getattr(cols, f)[r]
                                                              for f in _TOWN_FIELDS})
        if texts[r] is not None:
            check_address(att, cache.found[texts[r]], cache.towns(texts[r]))
        _check_declared(layers, att, declared[r], False)
        results.append(("declared_mismatch" in att.flags,
                        *(getattr(att, f) for f in _TOWN_FIELDS)))
    table = np.empty((len(results), 4), dtype=object)
    table[:] = results
    per_row = table[group]
    cols.bits[rows] |= np.where(per_row[:, 0].astype(bool), FLAG_BITS["declared_mismatch"], 0)
    for k, f in enumerate(_TOWN_FIELDS, start=1):
        getattr(cols, f)[rows] = per_row[:, k]


_PLACED = ("lon", "lat", "county_code", "county_name", "township_code", "township_name",
           "village_name", "protected_area", "zone", "precision", "confidence", "error")


def place_unread_rows(cols, layers, cache: TextCache, mask, texts, declared) -> None:
    """Place rows without usable coordinates by address text, else by the declared county.

    Run once per distinct (text, declared county, had a coordinate error).
    """
    rows = np.flatnonzero(mask)
    if not len(rows):
        return
    coordinate_error = cols.error[rows]
    had_error = pd.notna(coordinate_error) & (coordinate_error != NOTHING_GIVEN)
    first, group = group_rows(texts[rows], declared[rows], had_error)
    results = []
    for j in first.tolist():
        att = _place_unread(layers, cache, texts[rows[j]], declared[rows[j]], bool(had_error[j]))
        bits = sum(FLAG_BITS[f] for f in set(att.flags))
        results.append((*(getattr(att, f) for f in _PLACED), bits,
                        ";".join(dict.fromkeys(att.candidates))))
    table = np.empty((len(results), len(_PLACED) + 2), dtype=object)
    table[:] = results
    per_row = table[group]
    for k, f in enumerate(_PLACED):
        getattr(cols, f)[rows] = per_row[:, k]
    cols.confidence = cols.confidence.astype(float)
    cols.bits[rows] = per_row[:, -2].astype(np.int64)
    cols.candidates[rows] = per_row[:, -1]
    # a coordinate error stays the row's own message, with "placed by address" after it
    text_rows = had_error & pd.notna(texts[rows])
    cols.error[rows[had_error]] = coordinate_error[had_error]
    cols.error[rows[text_rows]] = coordinate_error[text_rows] + f"；{BY_ADDRESS}"


def _place_unread(layers, cache: TextCache, text, declared, had_error: bool) -> Attribution:
    """``locate_record``'s rules for a row without usable coordinates."""
    error = "coordinate error" if had_error else None
    att = Attribution(error=error)
    if text is not None:
        att = _from_text(layers, cache.found[text], error)
    elif error is None:
        att.error = NOTHING_GIVEN
    may_place = att.error in (NOTHING_GIVEN, None) and (text is None or _names_nothing(att))
    _check_declared(layers, att, declared, may_place)
    return att
