"""The ``geo`` package API: every public name resolves, and ``import geo`` stays cheap."""

from __future__ import annotations

import subprocess
import sys
from importlib import import_module

import geo


def test_every_public_name_resolves_to_its_module_object():
    """Each name in geo.__all__ is the object its defining module exports."""
    assert len(geo.__all__) >= 40 and set(geo.__all__) <= set(dir(geo))
    assert geo.__all__ == sorted([*geo._EXPORTS, "geocode", "geocode_many", "named_townships"])
    for name in geo.__all__:
        value = getattr(geo, name)
        module = geo._EXPORTS.get(name, "geo.geocode")
        assert value is getattr(import_module(module), name), name


def test_geocode_stays_the_function_after_its_module_is_imported():
    """geo.geocode is the function even once geo.locate has imported the geo.geocode module."""
    import geo.locate  # noqa: F401  (imports the geo.geocode module)

    assert callable(geo.geocode) and geo.geocode.__module__ == "geo.geocode"
    assert geo.geocode("祁阳县文富市镇").township_name == "文富市镇"


def test_unknown_name_is_an_attribute_error():
    """A name the package does not export raises AttributeError naming it."""
    try:
        geo.no_such_function  # noqa: B018
    except AttributeError as exc:
        assert "no_such_function" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_import_geo_loads_no_heavy_dependencies():
    """A fresh ``import geo`` loads neither numpy, pandas, pyproj nor shapely."""
    code = ("import sys, geo; print(sorted(m for m in ('numpy', 'pandas', 'pyproj', 'shapely')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
