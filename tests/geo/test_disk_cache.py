"""The on-disk cache of grid indexes and projection pipelines (``geo.disk_cache``).

What is read back must answer exactly as what was built; a damaged, unreadable or unwritable
cache only costs the work again.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from shapely import box

from geo import crs
from geo.boundaries import load_shipped
from geo.index import GridIndex
from geo.index_cache import cached_grid, grid_key


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    """A fresh cache folder for one test."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("YZMAP_CACHE_DIR", str(folder))
    return folder


def _counties():
    """The shipped county polygons, made valid as ``geo.lookup`` indexes them."""
    frame = load_shipped().counties.frame
    return shapely.make_valid(np.asarray(frame.geometry.values, dtype=object))


def _points(n=50_000, seed=7):
    """Seeded points over the city and beyond."""
    rng = np.random.default_rng(seed)
    return rng.uniform(110.8, 112.5, n), rng.uniform(24.5, 27.0, n)


def test_read_back_index_answers_as_built(cache):
    geoms, margin = _counties(), 0.005
    built = cached_grid(geoms, margin)
    assert len(list(cache.glob("*.npz"))) == 1
    read = cached_grid(geoms, margin)
    fresh = GridIndex(geoms, margin=margin)
    x, y = _points()
    for index in (built, read):
        assert np.array_equal(index.query(x, y), fresh.query(x, y))
        assert np.array_equal(index.query(x, y, "within"), fresh.query(x, y, "within"))
        assert np.array_equal(index.near_mask(x, y, 2), fresh.near_mask(x, y, 2))
    assert np.array_equal(read.state, fresh.state)


def test_key_follows_geometry_and_margin():
    a = np.array([box(0, 0, 1, 1)], dtype=object)
    b = np.array([box(0, 0, 1, 1.000001)], dtype=object)
    assert grid_key(a, 0.0) == grid_key(np.array([box(0, 0, 1, 1)], dtype=object), 0.0)
    assert grid_key(a, 0.0) != grid_key(b, 0.0)
    assert grid_key(a, 0.0) != grid_key(a, 0.001)


def test_damaged_entry_is_rebuilt(cache):
    geoms = np.array([box(0, 0, 1, 1), box(1, 0, 2, 1)], dtype=object)
    cached_grid(geoms)
    (entry,) = cache.glob("*.npz")
    entry.write_bytes(b"not an npz file")
    index = cached_grid(geoms)
    assert index.query([0.5, 1.5, 3.0], [0.5, 0.5, 0.5]).tolist() == [0, 1, -1]
    assert np.load(entry)["nx"] == index.nx  # written again, whole


def test_unwritable_cache_still_answers(tmp_path, monkeypatch):
    blocked = tmp_path / "a-file"  # no folder can be made here, even by root
    blocked.write_text("x")
    monkeypatch.setenv("YZMAP_CACHE_DIR", str(blocked / "cache"))
    index = cached_grid(np.array([box(0, 0, 1, 1)], dtype=object))
    assert index.query([0.5], [0.5]).tolist() == [0]
    assert blocked.read_text() == "x"


def test_cache_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("YZMAP_CACHE_DIR", "off")
    monkeypatch.chdir(tmp_path)
    assert cached_grid([box(0, 0, 1, 1)]).query([0.5], [0.5]).tolist() == [0]
    assert not list(tmp_path.iterdir())


def test_saved_pipeline_transforms_identically(cache):
    crs.get_transformer.cache_clear()
    crs._pipelines.cache_clear()
    first = crs.get_transformer("EPSG:4326", "EPSG:4546")
    saved = json.loads((cache / "proj-pipelines.json").read_text(encoding="utf-8"))
    assert any(k.endswith("|EPSG:4326|EPSG:4546") for k in saved)
    crs.get_transformer.cache_clear()
    crs._pipelines.cache_clear()
    again = crs.get_transformer("EPSG:4326", "EPSG:4546")
    assert again.definition == first.definition
    x, y = _points(10_000)
    assert np.array_equal(np.array(again.transform(x, y)), np.array(first.transform(x, y)))
    crs.get_transformer.cache_clear()
    crs._pipelines.cache_clear()
