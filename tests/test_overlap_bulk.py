"""``yzmap overlap`` on bulk patch files: streamed in chunks, written as they come, same rows.

The patches are seeded synthetic squares and octagons round the shipped reserves and the test
water source; every input and output format goes through the real command on real files.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from geo.constraints import overlap_constraints
from geo.importer import read_sites_file
from tests.data.constraint_layers import centre_xy, redline_frame, water_source_frame, write
from tests.webmap.helpers import ledger_session
from webmap.cli import main
from webmap.ledger.boundaries import layers_in_use
from webmap.render.overlap_report import check_xlsx_rows, round_rows, save_report

N_PATCHES = 1_500
CHUNK = "400"  # several chunks, the last one short
CATEGORIES = np.array([None, "mine", "小水电清理整改", "某某矿区复绿", "不在表中的类别"],
                      dtype=object)  # fmt: skip


def patches(n: int = N_PATCHES, seed: int = 15) -> gpd.GeoDataFrame:
    """Return ``n`` seeded patches (WGS84): a third round the water source, the rest citywide."""
    rng = np.random.default_rng(seed)
    cx, cy = centre_xy()
    near = n // 3
    x = np.r_[rng.uniform(cx - 5000, cx + 6000, near), rng.uniform(500_000, 620_000, n - near)]
    y = np.r_[rng.uniform(cy - 3000, cy + 3000, near), rng.uniform(2_750_000, 2_950_000, n - near)]
    geoms = shapely.buffer(shapely.points(x, y), rng.uniform(50, 700, n), quad_segs=2)
    geoms[::50] = shapely.centroid(geoms[::50])  # a few points among the polygons
    frame = gpd.GeoDataFrame({"编号": [f"TB{i:05d}" for i in range(n)],
                              "类别": rng.choice(CATEGORIES, n)},
                             geometry=geoms, crs="EPSG:4546")  # fmt: skip
    return frame.to_crs("EPSG:4326")


@pytest.fixture()
def store(tmp_path, cli_database):
    """A database with the water source and the red line imported beside the shipped reserves."""
    runner = CliRunner()
    water = write(water_source_frame(), tmp_path, "water", "gpkg")
    red = write(redline_frame(), tmp_path, "redline", "gpkg")
    for path, layer in ((water, "water-source"), (red, "redline")):
        result = runner.invoke(main, ["boundaries", "import", str(path), "--layer", layer])
        assert result.exit_code == 0, result.output
    return cli_database


def _run(*args, input=None):
    """Invoke the yzmap CLI and return the result."""
    return CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)


def _expected(path, store, tmp_path, **options):
    """Return the one-shot report rows and CSV bytes (``overlap_constraints`` + ``save_report``)."""
    sites, _ = read_sites_file(path, **options)
    with ledger_session(store) as session:
        layers = layers_in_use(session)
    rows = round_rows(overlap_constraints(sites, layers, site_id_col="编号", category_col="类别"))
    target = tmp_path / "expected.csv"
    save_report(rows, sites, layers, {}, target)
    return rows, target.read_bytes()


@pytest.mark.parametrize("source", ["gpkg", "parquet", "csv"])
def test_streamed_csv_equals_the_one_shot_report(tmp_path, store, source):
    """GeoPackage, GeoParquet and lon/lat CSV in small chunks: the CSV is byte for byte the same."""
    frame = patches()
    path = tmp_path / f"patches.{source}"
    if source == "gpkg":
        frame.to_file(path, driver="GPKG")
    elif source == "parquet":
        frame.to_parquet(path)
    else:
        frame = frame[shapely.get_type_id(frame.geometry.array) == 0]
        lonlat = pd.DataFrame({"编号": frame["编号"], "类别": frame["类别"],
                               "经度": frame.geometry.x, "纬度": frame.geometry.y})  # fmt: skip
        lonlat.to_csv(path, index=False)
    out = tmp_path / "report.csv"
    result = _run("overlap", path, "--out", out, "--site-id-col", "编号", "--category-col", "类别",
                  "--chunk-size", CHUNK)  # fmt: skip
    assert result.exit_code == 0, result.output
    rows, expected = _expected(path, store, tmp_path)
    assert out.read_bytes() == expected
    assert set(rows["layer_kind"]) == {"protected_area", "water_source", "redline"}
    assert f"{len(frame)} 个站点 → {len(rows)} 行" in result.output
    assert "饮用水水源保护区边界版本：imported:" in result.output


def test_streamed_parquet_and_geopackage_hold_the_same_rows(tmp_path, store):
    """Parquet holds the report columns; GeoPackage adds each row's site geometry."""
    path = tmp_path / "patches.gpkg"
    frame = patches(600)
    frame.to_file(path, driver="GPKG")
    rows, _ = _expected(path, store, tmp_path)
    want = rows.drop(columns="site_index").reset_index(drop=True)
    for suffix in ("parquet", "gpkg"):
        out = tmp_path / f"report.{suffix}"
        result = _run("overlap", path, "--out", out, "--site-id-col", "编号",
                      "--category-col", "类别", "--chunk-size", "250")  # fmt: skip
        assert result.exit_code == 0, result.output
        got = pd.read_parquet(out) if suffix == "parquet" else gpd.read_file(out)
        if suffix == "gpkg":
            sites = frame.set_index("编号").geometry
            assert shapely.equals_exact(got.geometry.array,
                                        sites.loc[got["site_id"]].array, 1e-9).all()  # fmt: skip
            got = pd.DataFrame(got.drop(columns="geometry"))
        assert list(got.columns) == list(want.columns)
        for col in ("site_id", "layer_kind", "protected_area", "zone", "relation", "rule"):
            assert got[col].fillna("").astype(str).tolist() == \
                want[col].fillna("").astype(str).tolist()  # fmt: skip
        for col in ("overlap_m2", "overlap_share", "distance_m", "boundary_distance_m"):
            np.testing.assert_array_equal(got[col].to_numpy(float), want[col].to_numpy(float))


def test_a_bad_row_late_in_the_file_leaves_no_output(tmp_path, store):
    """A bad cell in the third chunk names row, field and value; the old report stays whole."""
    frame = pd.DataFrame({"编号": [f"P{i}" for i in range(1000)],
                          "经度": np.linspace(111.3, 111.9, 1000).round(6).astype(str),
                          "纬度": np.linspace(25.6, 26.4, 1000).round(6).astype(str)})  # fmt: skip
    frame.loc[876, "纬度"] = "北纬26度"
    path = tmp_path / "patches.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "report.csv"
    out.write_text("old", encoding="utf-8")
    result = _run("overlap", path, "--out", out, "--chunk-size", "300")
    assert result.exit_code == 1
    assert "第 878 行 字段 '纬度' 值 '北纬26度' 不是数字" in result.output
    assert out.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".report")] == []


def test_an_empty_geometry_late_in_the_file_is_named(tmp_path, store):
    """An empty patch in a later chunk is refused with its number in the whole file."""
    frame = patches(500)
    frame.loc[433, "geometry"] = shapely.Polygon()
    path = tmp_path / "patches.parquet"
    frame.to_parquet(path)
    out = tmp_path / "report.parquet"
    result = _run("overlap", path, "--out", out, "--chunk-size", "200")
    assert result.exit_code == 1 and "要素 #434" in result.output and "geometry" in result.output
    assert not out.exists()


def test_a_guessed_crs_is_asked_before_streaming(tmp_path, store):
    """x/y metres without a CRS: the question comes from the first chunk, then all are read."""
    frame = patches(300).to_crs("EPSG:4546")
    points = frame.geometry.representative_point()
    path = tmp_path / "xy.csv"
    pd.DataFrame({"x": points.x.round(2), "y": points.y.round(2)}).to_csv(path, index=False)
    out = tmp_path / "report.csv"
    refused = _run("overlap", path, "--out", out, "--chunk-size", "100", input="n\n")
    assert refused.exit_code == 1 and "EPSG:4546" in refused.output and not out.exists()
    accepted = _run("overlap", path, "--out", out, "--chunk-size", "100", input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert "300 个站点" in accepted.output
    rows = pd.read_csv(out, encoding="utf-8-sig")
    assert rows["site_id"].nunique() == 300 and rows["site_id"].max() == 300


def test_a_bulk_run_prints_counts_not_every_touched_zone(tmp_path, store):
    """Past a hundred touched zones the terminal lists a hundred and counts the rest."""
    frame = patches(900)
    cx, cy = centre_xy()
    inside = gpd.GeoSeries(shapely.buffer(shapely.points(np.full(900, cx), np.full(900, cy)), 50),
                           crs="EPSG:4546").to_crs("EPSG:4326")  # fmt: skip
    frame = frame.set_geometry(inside.array)
    path = tmp_path / "patches.gpkg"
    frame.to_file(path, driver="GPKG")
    result = _run("overlap", path, "--out", tmp_path / "r.csv", "--chunk-size", "250")
    assert result.exit_code == 0, result.output
    # each patch lies in the 一级 zone and in the shipped wetland park round it
    assert "900 个站点 → 6300 行（within buffer 500 m 2700，inside 1800" in result.output
    assert result.output.count("｜占比 100.00%｜") == 100
    assert "……另有 1700 条位于或跨越管控分区的记录，见报告" in result.output


def test_xlsx_refuses_more_rows_than_excel_holds():
    """An XLSX report over 1,048,575 rows is refused with the streamed formats named."""
    check_xlsx_rows(pd.DataFrame({"relation": np.zeros(1_048_575)}))
    with pytest.raises(ValueError, match=r"XLSX 最多 1,048,575 行.*\.csv、\.parquet 或 \.gpkg"):
        check_xlsx_rows(pd.DataFrame({"relation": np.zeros(1_048_576)}))


def test_two_local_workers_write_the_same_report(tmp_path, store):
    """``--workers 2`` (a Dask LocalCluster) gives the bytes of the single-process run."""
    path = tmp_path / "patches.gpkg"
    patches(800).to_file(path, driver="GPKG")
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    first = _run("overlap", path, "--out", one, "--chunk-size", "150")
    second = _run("overlap", path, "--out", two, "--chunk-size", "150", "--workers", "2")
    assert first.exit_code == 0 and second.exit_code == 0, second.output
    assert two.read_bytes() == one.read_bytes()
    refused = _run("overlap", path, "--out", tmp_path / "r.xlsx", "--workers", "2")
    assert refused.exit_code == 2 and "只用于 .csv、.parquet、.gpkg" in refused.output
