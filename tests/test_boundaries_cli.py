"""``yzmap boundaries import|list|activate`` on real files, with the store in a temporary folder."""

from __future__ import annotations

import zipfile

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import box

from geo.boundaries import load_shipped
from webmap.cli import main
from webmap.ledger import boundaries as boundary_store

CORE = box(111.90, 25.90, 111.94, 25.93)
BUFFER = box(111.88, 25.88, 111.96, 25.95).difference(CORE)


@pytest.fixture()
def store(tmp_path, monkeypatch):
    """Point the boundary store and the database at a temporary folder; return the store root."""
    root = tmp_path / "store"
    monkeypatch.setenv("YZMAP_BOUNDARY_STORE_DIR", str(root))
    monkeypatch.setenv("YZMAP_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    return root


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
    assert boundary_store.list_versions(store, "protected_areas") == []
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
    (version,) = boundary_store.list_versions(store, "protected_areas")
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
    layers = boundary_store.active_layers(load_shipped(), store)
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
    before = boundary_store.active_version(store, "protected_areas").version
    bad = _shapefile_zip(tmp_path, _reserve(zones=("核心区", "游乐区")), name="bad")
    result = _run("boundaries", "import", bad, "--layer", "protected-areas", "--yes")
    assert result.exit_code == 1
    assert (
        "bad.zip:bad.shp" in result.output
        and "要素 #2" in result.output
        and "'GNFQ'" in result.output
    )
    assert "图层未改变" in result.output
    assert boundary_store.active_version(store, "protected_areas").version == before
    assert len(boundary_store.list_versions(store, "protected_areas")) == 1


def test_failed_write_leaves_no_partial_version(tmp_path, store, monkeypatch):
    """If writing the features fails half-way, no version directory (or temporary one) remains."""
    from geo.importer import read_boundary_file

    result = read_boundary_file(_shapefile_zip(tmp_path), kind="protected_area", crs="EPSG:4525")

    def broken(*args, **kwargs):
        """Simulate a disk error while writing."""
        raise OSError("disk full")

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", broken)
    with pytest.raises(OSError):
        boundary_store.save_import(store, result)
    assert boundary_store.list_versions(store, "protected_areas") == []
    assert list((store / "protected_areas").iterdir()) == []


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
    newest, older = boundary_store.list_versions(store, "protected_areas")
    assert boundary_store.active_version(store, "protected_areas").version == newest.version
    assert _run("boundaries", "activate", "protected_areas", older.version).exit_code == 0
    assert boundary_store.active_version(store, "protected_areas").version == older.version
    missing = _run("boundaries", "activate", "protected_areas", "nope")
    assert missing.exit_code == 1 and "没有版本 'nope'" in missing.output
    assert _run("boundaries", "activate", "protected_areas", "--latest").exit_code == 0
    assert boundary_store.active_version(store, "protected_areas").version == newest.version


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
    layers = boundary_store.active_layers(load_shipped(), store)
    assert layers.townships.frame.code.tolist() == ["431123100"]
    assert layers.townships.frame.parent_code.tolist() == ["431123"]
    bad = _run("boundaries", "import", str(path), "--layer", "townships", "--field", "name")
    assert bad.exit_code == 2 and "目标=列名" in bad.output
