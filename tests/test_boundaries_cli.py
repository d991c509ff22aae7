"""``yzmap boundaries import|list|activate`` on real files, with the store in a temporary folder."""

from __future__ import annotations

import zipfile

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import box

from tests.webmap.helpers import ledger_session
from webmap.cli import main
from webmap.ledger import boundaries as boundary_store

CORE = box(111.90, 25.90, 111.94, 25.93)
BUFFER = box(111.88, 25.88, 111.96, 25.95).difference(CORE)


@pytest.fixture()
def store(cli_database):
    """Point the commands at a fresh database; return its URL (the boundary store is in it)."""
    return cli_database


def versions(url: str, layer: str = "protected_areas") -> list:
    """Return the stored versions of a layer."""
    with ledger_session(url) as session:
        return boundary_store.list_versions(session, layer)


def active(url: str, layer: str = "protected_areas"):
    """Return the version of a layer in use (None: the shipped layer)."""
    with ledger_session(url) as session:
        return boundary_store.active_version(session, layer)


def in_use(url: str):
    """Return the boundary layers in use by the database at ``url``."""
    with ledger_session(url) as session:
        return boundary_store.layers_in_use(session)


def _reserve(zones=("核心区", "缓冲区")) -> gpd.GeoDataFrame:
    """Return a two-zone reserve in WGS84 with survey column names."""
    geoms = [shapely.segmentize(g, 0.002) for g in (CORE, BUFFER)]
    return gpd.GeoDataFrame(
        {"BHQMC": ["命令行测试保护区"] * 2, "GNFQ": list(zones)}, geometry=geoms, crs=4326
    )


def _shapefile_zip(tmp_path, frame=None, name="reserve") -> str:
    """Write a GBK Shapefile in EPSG:4525 without .prj/.cpg and zip it."""
    folder = tmp_path / name
    folder.mkdir()
    (frame if frame is not None else _reserve()).to_crs("EPSG:4525").to_file(
        folder / f"{name}.shp", encoding="GBK"
    )
    for ext in ("prj", "cpg"):
        (folder / f"{name}.{ext}").unlink()
    out = tmp_path / f"{name}.zip"
    with zipfile.ZipFile(out, "w") as zf:
        for f in folder.iterdir():
            zf.write(f, f.name)
    return str(out)


def _run(*args, input=None):
    """Invoke the yzmap CLI and return the result."""
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def test_guessed_crs_asks_and_can_be_declined(tmp_path, store):
    """Without --yes the guessed CRS is asked about; answering no stores nothing."""
    path = _shapefile_zip(tmp_path)
    declined = _run("boundaries", "import", path, "--layer", "protected-areas", input="n\n")
    assert declined.exit_code == 1 and "EPSG:4525" in declined.output
    assert versions(store) == []
    accepted = _run(
        "boundaries",
        "import",
        path,
        "--layer",
        "protected-areas",
        "--vintage",
        "2023-06-30",
        input="y\n",
    )
    assert accepted.exit_code == 0, accepted.output
    assert "EPSG:4525" in accepted.output and "该版本现已启用" in accepted.output
    (version,) = versions(store)
    assert version.meta["crs_guessed"] and version.meta["vintage"] == "2023-06-30"
    assert version.meta["sha256"] and version.meta["source_file"] == "reserve.zip"


def test_import_replaces_illustrative_layer_and_list_shows_it(tmp_path, store):
    """After an import the active layer set uses the authoritative version; list marks it."""
    result = _run(
        "boundaries",
        "import",
        _shapefile_zip(tmp_path),
        "--layer",
        "protected-areas",
        "--crs",
        "EPSG:4525",
        "--vintage",
        "2024-01-01",
    )
    assert result.exit_code == 0, result.output
    layers = in_use(store)
    pa = layers.protected_areas
    assert pa.info.authoritative and pa.info.version.startswith("imported:2024-01-01_")
    assert set(pa.frame.name) == {"命令行测试保护区"}
    listing = _run("boundaries", "list")
    assert "* 2024-01-01_" in listing.output and "  内置 illustrative" in listing.output


def test_failed_import_leaves_layers_unchanged(tmp_path, store):
    """A bad zone value is an error naming file, feature and field; the version in use stays."""
    good = _run(
        "boundaries", "import", _shapefile_zip(tmp_path), "--layer", "protected-areas", "--yes"
    )
    assert good.exit_code == 0
    before = active(store).version
    bad = _shapefile_zip(tmp_path, _reserve(zones=("核心区", "游乐区")), name="bad")
    result = _run("boundaries", "import", bad, "--layer", "protected-areas", "--yes")
    assert result.exit_code == 1
    assert (
        "bad.zip:bad.shp" in result.output
        and "要素 #2" in result.output
        and "'GNFQ'" in result.output
    )
    assert "图层未改变" in result.output
    assert active(store).version == before
    assert len(versions(store)) == 1


def test_failed_write_leaves_no_partial_version(tmp_path, store, monkeypatch):
    """If storing the features fails half-way, no version (and no feature row) remains."""
    from geo.importer import read_boundary_file
    from webmap.ledger.db import transaction
    from webmap.ledger.models import BoundaryFeature

    result = read_boundary_file(_shapefile_zip(tmp_path), kind="protected_area", crs="EPSG:4525")

    def broken(*args, **kwargs):
        """Simulate a failure after the features were flushed."""
        raise OSError("disk full")

    monkeypatch.setattr(boundary_store, "record_event", broken)
    with ledger_session(store) as session, pytest.raises(OSError):
        with transaction(session):
            boundary_store.save_import(session, result, actor="test")
    assert versions(store) == []
    with ledger_session(store) as session:
        assert session.query(BoundaryFeature).count() == 0


def test_activate_pins_and_latest_unpins(tmp_path, store):
    """The newest vintage wins; activate pins an older one; --latest returns to the newest."""
    path = _shapefile_zip(tmp_path)
    for vintage in ("2020-01-01", "2024-01-01"):
        assert (
            _run(
                "boundaries",
                "import",
                path,
                "--layer",
                "protected-areas",
                "--yes",
                "--vintage",
                vintage,
            ).exit_code
            == 0
        )
    newest, older = versions(store)
    assert active(store).version == newest.version
    assert _run("boundaries", "activate", "protected_areas", older.version).exit_code == 0
    assert active(store).version == older.version
    missing = _run("boundaries", "activate", "protected_areas", "nope")
    assert missing.exit_code == 1 and "没有版本 'nope'" in missing.output
    assert _run("boundaries", "activate", "protected_areas", "--latest").exit_code == 0
    assert active(store).version == newest.version


def test_townships_with_field_mapping(tmp_path, store):
    """Townships import with --field; a malformed --field is a usage error."""
    frame = gpd.GeoDataFrame(
        {"DM": ["431123100"], "乡镇": ["泷泊镇"]},
        geometry=[box(111.60, 25.95, 111.65, 26.00)],
        crs=4326,
    )
    path = tmp_path / "towns.geojson"
    frame.to_file(path, driver="GeoJSON")
    result = _run(
        "boundaries",
        "import",
        str(path),
        "--layer",
        "townships",
        "--field",
        "name=乡镇",
        "--field",
        "code=DM",
    )
    assert result.exit_code == 0, result.output
    layers = in_use(store)
    assert layers.townships.frame.code.tolist() == ["431123100"]
    assert layers.townships.frame.parent_code.tolist() == ["431123"]
    bad = _run("boundaries", "import", str(path), "--layer", "townships", "--field", "name")
    assert bad.exit_code == 2 and "目标=列名" in bad.output
