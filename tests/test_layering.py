"""Convention tests: the tree shows the architecture and the imports obey it.

``geo`` (pure core) <- ``webmap.ledger`` (domain: no Flask, no rendering) <- ``webmap.render``
(results to HTML/PNG/PDF/DOCX/XLSX: no Flask) <- ``webmap.web`` (the only place that imports Flask
or werkzeug) <- ``webmap.commands`` (CLI). ``webmap.config`` is a leaf every layer may read. View
modules (one blueprint each) never import each other, and no two modules import each other.
Every import statement counts, also the ones inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WEB_LIBRARIES = {"flask", "werkzeug"}
RENDER_LIBRARIES = {"folium", "branca", "jinja2", "matplotlib", "docx", "markupsafe"}
# which project packages each layer may import, besides itself
ALLOWED = {
    "geo": {"geo"},
    "webmap.config": {"geo"},
    "webmap.ledger": {"geo", "webmap.config", "webmap.ledger"},
    "webmap.render": {"geo", "webmap.config", "webmap.ledger", "webmap.render"},
    "webmap.web": {"geo", "webmap.config", "webmap.ledger", "webmap.render", "webmap.web"},
    "webmap.commands": {"geo", "webmap.config", "webmap.ledger", "webmap.render", "webmap.web",
                        "webmap.commands"},  # fmt: skip
    "webmap.cli": {"webmap.commands"},
    "webmap": {"webmap.web"},  # the lazy create_app wrapper
}
FORBIDDEN_LIBRARIES = {
    "geo": WEB_LIBRARIES | RENDER_LIBRARIES,
    "webmap.config": WEB_LIBRARIES | RENDER_LIBRARIES,
    "webmap.ledger": WEB_LIBRARIES | RENDER_LIBRARIES,
    "webmap.render": WEB_LIBRARIES,
}
VIEWS = "webmap.web.views"


def module_name(path: Path) -> str:
    """Return the dotted module name of a source file under the repository root."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_files() -> list[Path]:
    """Return every module of geo and webmap (migrations excluded: Alembic scripts)."""
    files = sorted((ROOT / "geo").rglob("*.py")) + sorted((ROOT / "webmap").rglob("*.py"))
    return [f for f in files if "migrations" not in f.parts]


def imports_of(path: Path) -> set[str]:
    """Return the absolute module names a file imports, at any depth (relative ones resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                name = module_name(path)
                package = name if path.name == "__init__.py" else name.rpartition(".")[0]
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            # ``from pkg import module`` imports the module too
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def layer_of(module: str) -> str:
    """Return the layer a project module belongs to (the longest matching ALLOWED key)."""
    return max((k for k in ALLOWED if module == k or module.startswith(k + ".")), key=len)


def project_modules() -> dict[str, Path]:
    """Return every project module by dotted name."""
    return {module_name(f): f for f in source_files()}


def project_imports(path: Path, known: set[str]) -> set[str]:
    """Return the project modules a file imports (names that are not modules are dropped)."""
    return {m for m in imports_of(path) if m in known}


MODULES = project_modules()


@pytest.mark.parametrize("module", sorted(MODULES), ids=str)
def test_layer_imports_only_what_it_may(module):
    """Each module imports project code only from its own layer and the layers below it."""
    path, layer = MODULES[module], layer_of(module)
    for imported in project_imports(path, set(MODULES)) - {"webmap"}:  # the lazy root package
        assert layer_of(imported) in ALLOWED[layer], f"{module} imports {imported}"
    libraries = {m.split(".")[0] for m in imports_of(path)}
    bad = libraries & FORBIDDEN_LIBRARIES.get(layer, set())
    assert not bad, f"{module} ({layer}) imports {sorted(bad)}"


def test_commands_use_no_view_module():
    """Commands reach the web layer only through its non-view modules (app factory, context)."""
    for module, path in MODULES.items():
        if layer_of(module) == "webmap.commands":
            views = {m for m in imports_of(path) if m == VIEWS or m.startswith(VIEWS + ".")}
            assert not views, f"{module} imports view module(s) {sorted(views)}"


def test_view_modules_never_import_each_other():
    """A view module (one blueprint) imports no other view module."""
    views = {m for m in MODULES if m.startswith(VIEWS + ".")}
    assert len(views) >= 8
    for module in views:
        others = project_imports(MODULES[module], set(MODULES)) & (views - {module})
        assert not others, f"{module} imports {sorted(others)}"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(node):
        """Visit one module depth first."""
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return out


def test_no_two_modules_import_each_other():
    """The module import graph has no cycles (a package importing its own submodules aside)."""
    known = set(MODULES)
    graph = {}
    for module, path in MODULES.items():
        # a package's __init__ re-exporting its submodules is not a cycle of the code
        graph[module] = {m for m in project_imports(path, known)
                         if not m.startswith(module + ".") and m != module}  # fmt: skip
    assert _cycles(graph) == []


def test_checks_see_what_they_look_for(tmp_path):
    """The checker sees import forms inside functions and relative imports; cycles are found."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    import folium\n    from flask import Flask\n", encoding="utf-8")
    assert {"folium", "flask"} <= imports_of(bad)
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert layer_of("webmap.ledger.query") == "webmap.ledger"
    assert layer_of("webmap.web.views.api") == "webmap.web"
