"""The built sdist and wheel carry their data: installed outside the repo, ``yzmap`` still works.

``python -m build`` makes the sdist and then the wheel from that sdist (so both are checked). The
wheel goes into a fresh venv with ``--no-deps``; the dependencies come from ``.venv`` through a
``.pth`` line naming its site-packages. A path line in a ``.pth`` file adds the folder but does
not run the ``.pth`` files inside it, so ``.venv``'s editable hook (which points at this checkout)
stays off and ``geo``/``webmap`` can only come from the installed wheel; installing the real
dependencies again would take minutes and the network, and test nothing of ours.
"""

from __future__ import annotations

import csv
import os
import sqlite3
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(args, **kwargs) -> subprocess.CompletedProcess:
    """Run a command, failing the test with its output when it exits non-zero."""
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    assert proc.returncode == 0, f"{args}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> dict[str, Path]:
    """Build the sdist and, from it, the wheel of this checkout; return both paths."""
    out = tmp_path_factory.mktemp("dist")
    # build isolation installs the build requirements of pyproject.toml (setuptools>=68)
    _run([sys.executable, "-m", "build", "--outdir", out, ROOT], cwd=out)
    return {"sdist": next(out.glob("*.tar.gz")), "wheel": next(out.glob("*.whl"))}


@pytest.fixture(scope="module")
def installed(dists, tmp_path_factory) -> Path:
    """Install the wheel into a fresh venv that borrows the dependencies; return its bin/."""
    venv = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    site = Path(sysconfig.get_path("purelib", vars={"base": venv, "platbase": venv}))
    (site / "yzmap_test_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            venv / "bin" / "python",
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            dists["wheel"],
        ]
    )
    return venv / "bin"


def _env(work: Path) -> dict[str, str]:
    """Return an environment with no trace of the checkout: own instance folder and database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YZMAP_", "PYTHON"))}
    return env | {
        "YZMAP_INSTANCE_PATH": str(work / "instance"),
        "YZMAP_DATABASE_URL": f"sqlite:///{work / 'yzmap.sqlite'}",
    }


def test_sdist_carries_the_data_but_not_the_cache(dists):
    """The sdist holds data/boundaries (layers, gazetteer, rules) and none of the 128 MB cache."""
    with tarfile.open(dists["sdist"]) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for name in (
        "setup.py",
        "data/boundaries/layers.json",
        "data/boundaries/counties.geojson",
        "data/boundaries/zone_rules.csv",
        "data/boundaries/gazetteer/villages.csv",
    ):
        assert name in names
    assert not [n for n in names if "/.cache" in n or "__pycache__" in n]


def test_wheel_carries_data_templates_static_and_migrations(dists):
    """Every shipped layer in layers.json, the templates, static files and migrations are inside."""
    import json

    names = set(zipfile.ZipFile(dists["wheel"]).namelist())
    manifest = json.loads((ROOT / "data" / "boundaries" / "layers.json").read_text("utf-8"))
    for entry in manifest["layers"]:
        assert f"geo/shipped/{entry['file']}" in names
    for name in (
        "geo/shipped/gazetteer/townships.csv",
        "geo/shipped/category_map.csv",
        "webmap/web/templates/pages/index.html",
        "webmap/web/static/exports.js",
        "webmap/ledger/migrations/env.py",
    ):
        assert name in names
    assert any(n.startswith("webmap/ledger/migrations/versions/") for n in names)
    assert not [n for n in names if ".cache" in n or "__pycache__" in n]
    assert dists["wheel"].stat().st_size < 5_000_000


def test_installed_wheel_locates_and_inits_outside_the_repo(installed, tmp_path):
    """``yzmap locate`` and ``yzmap init --sample`` run from the wheel, far from the checkout."""
    env = _env(tmp_path)
    where = _run(
        [
            installed / "python",
            "-c",
            "import geo.datadir as d, webmap; print(d.SHIPPED_DIR); print(webmap.__file__)",
        ],
        cwd=tmp_path,
        env=env,
    )
    assert str(ROOT) not in where.stdout and "geo/shipped" in where.stdout

    sites = tmp_path / "sites.csv"
    sites.write_text("名称,经度,纬度\n冷水滩测试点,111.6,26.4\n城外点,113.0,28.2\n", "utf-8")
    located = _run(
        [
            installed / "yzmap",
            "locate",
            sites,
            "--out",
            tmp_path / "out.csv",
            "--lon-col",
            "经度",
            "--lat-col",
            "纬度",
        ],
        cwd=tmp_path,
        env=env,
    )
    with open(tmp_path / "out.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["county_name"] for r in rows] == ["冷水滩区", ""]
    assert "outside_city" in rows[1]["flags"]
    assert "counties" in located.stdout + located.stderr  # the layer versions are printed

    init = _run([installed / "yzmap", "init", "--sample"], cwd=tmp_path, env=env)
    with sqlite3.connect(tmp_path / "yzmap.sqlite") as con:
        (issues,) = con.execute("SELECT count(*) FROM issues").fetchone()
    assert issues >= 60, init.stdout + init.stderr
