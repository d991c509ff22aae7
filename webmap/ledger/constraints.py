"""Constraints of ledger issues: every protected zone an issue's place lies in, with its rule.

One answer for the issue page, ``/api/issues`` (the ``constraints`` property) and the overlap
pages: ``geo.constraints.overlap_constraints`` over the layers in use (``layers_in_use``), kept to
the zones an issue lies in or crosses, the rule chosen by the issue's ledger category.

Answers are kept in a bounded LRU keyed by what decides them (the geometry, the category, the
layer versions and the rule files' stamps), so a page of ``/api/issues`` read again by the next
user costs a dictionary look-up instead of a spatial join per layer (~100 ms a page of 100).
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections import OrderedDict
from collections.abc import Mapping

import geopandas as gpd

from geo.boundaries import LayerSet
from geo.constraints import constraints_by_site, missing_kinds, overlap_constraints
from geo.rules import CATEGORY_MAP_PATH, RULES_PATH
from webmap.ledger.vocabulary import CONSTRAINT_TITLES

__all__ = ["issue_constraints", "missing_titles"]


def issue_constraints(geometries: Mapping, layers: LayerSet,
                      categories: Mapping | None = None) -> dict[str, list[dict]]:  # fmt: skip
    """Return number -> the constraint zones its WGS84 geometry touches (unlocated: absent).

    Each entry has ``layer_kind``, ``layer_title``, ``name``, ``zone``, ``relation``,
    ``overlap_share``, ``rule``, ``rule_source``, ``detail`` and the boundary version.
    """
    items = [(str(k), g) for k, g in geometries.items() if g is not None and not g.is_empty]
    if not items:
        return {}
    categories = categories or {}
    stamp = (_layers_stamp(layers), _rules_stamp())
    keys = {k: (g.wkb, categories.get(k), stamp) for k, g in items}
    out = {k: _CACHE.get(keys[k]) for k, _ in items}
    todo = [(k, g) for k, g in items if out[k] is None]
    if todo:
        computed = _compute(todo, layers, categories)
        for k, _ in todo:
            out[k] = computed[k]
            _CACHE.put(keys[k], computed[k])
    # callers may decorate the entries: hand out copies, never the cached lists
    return {k: copy.deepcopy(v) for k, v in out.items()}


def _compute(items: list, layers: LayerSet, categories: Mapping) -> dict[str, list[dict]]:
    """Return number -> constraint entries for (number, geometry) pairs, one spatial pass."""
    sites = gpd.GeoDataFrame(
        {"site_id": [k for k, _ in items], "category": [categories.get(k) for k, _ in items]},
        geometry=[g for _, g in items], crs="EPSG:4326")  # fmt: skip
    rows = overlap_constraints(sites, layers, buffers=(0,))
    found = constraints_by_site(rows)
    out = {}
    for index, (number, _) in enumerate(items):
        entries = found.get(index, [])
        for e in entries:
            e["layer_title"] = CONSTRAINT_TITLES.get(e["layer_kind"], e["layer_kind"])
        out[number] = entries
    return out


def _layers_stamp(layers: LayerSet) -> tuple:
    """Return what identifies the constraint layers in use: kind, version and a load token.

    The token is kept in the loaded layer's own cache, so a layer loaded anew (another test
    database, a version evicted and read again) never meets the answers of an earlier load.
    """
    out = []
    for kind, layer in layers.constraint_layers().items():
        if layer is not None:
            token = layer.cache.setdefault("constraints_token", next(_TOKENS))
            out.append((kind, layer.info.version, token))
    return tuple(out)


def _rules_stamp() -> tuple:
    """Return the rule files' modification stamps (an edited rule table is a new answer)."""
    stamps = []
    for path in (RULES_PATH, CATEGORY_MAP_PATH):
        try:
            stamps.append(path.stat().st_mtime_ns)
        except OSError:
            stamps.append(None)
    return tuple(stamps)


class _LRU:
    """A small thread-safe least-recently-used map (waitress serves requests on threads)."""

    def __init__(self, size: int):
        """Keep at most ``size`` answers."""
        self.size, self.data, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key):
        """Return the answer for ``key`` (None when unknown), marking it recently used."""
        with self.lock:
            value = self.data.get(key)
            if value is not None:
                self.data.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        """Keep ``value`` for ``key``, dropping the least recently used past the bound."""
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)

    def clear(self) -> None:
        """Forget every answer (tests)."""
        with self.lock:
            self.data.clear()


_TOKENS = itertools.count()
# ~20,000 issues x a few hundred bytes each: a few MB per worker
_CACHE = _LRU(20_000)


def clear_cache() -> None:
    """Forget the cached constraint answers."""
    _CACHE.clear()


def missing_titles(layers: LayerSet) -> list[str]:
    """Return the Chinese titles of the constraint layers not in use (none imported)."""
    return [CONSTRAINT_TITLES[k] for k in missing_kinds(layers)]
