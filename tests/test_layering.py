"""Convention test: the geo core never imports the web layer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

GEO_DIR = Path(__file__).resolve().parent.parent / "geo"
FORBIDDEN = {"flask", "folium", "webmap", "werkzeug", "jinja2"}


def _imported_roots(path: Path) -> set[str]:
    """Return the top-level package names a module imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", sorted(GEO_DIR.rglob("*.py")), ids=lambda p: p.name)
def test_geo_module_does_not_import_web_layer(path):
    """Each geo module imports none of flask, folium or webmap."""
    assert not (_imported_roots(path) & FORBIDDEN)


def test_forbidden_import_is_detected(tmp_path):
    """The checker itself sees both import forms."""
    bad = tmp_path / "bad.py"
    bad.write_text("import folium\nfrom flask import Flask\n", encoding="utf-8")
    assert _imported_roots(bad) & FORBIDDEN == {"folium", "flask"}
