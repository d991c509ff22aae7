"""``yzmap locate`` in bulk: golden outputs, every table format, chunked streaming, failures.

The golden CSVs in tests/data were written by the row-by-row implementation before it became
column-wise (``tests/data/locate_mixed_make.py --golden``); the inputs are rebuilt here by the same
seeded generator, and the outputs must stay byte-identical.
"""

from __future__ import annotations

import csv
import importlib.util
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from geo.tables import XLSX_MAX_ROWS, TableError, TableWriter, encode_csv_rows, read_chunks
from webmap.cli import main

DATA = Path(__file__).parent / "data"
_spec = importlib.util.spec_from_file_location("locate_mixed_make", DATA / "locate_mixed_make.py")
make = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make)


def _run(*args):
    """Invoke ``yzmap locate`` with ``args``."""
    return CliRunner().invoke(main, ["locate", *map(str, args)])


def _case_input(tmp_path: Path, name: str, quoting: int = csv.QUOTE_MINIMAL) -> Path:
    """Write the seeded input of golden case ``name`` and return its path."""
    n, seed, gcj, _ = make.CASES[name]
    src = tmp_path / f"{name}.csv"
    with src.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, quoting=quoting).writerows(
            make.make_rows(n, seed, gcj, metres=name.startswith("metres")))
    return src


@pytest.mark.parametrize("name", sorted(make.CASES))
def test_golden_output_is_byte_identical(tmp_path, name):
    """Mixed kinds of rows (DMS, metres with and without --crs, GCJ-02, swapped, blank, garbage,
    outside, near county lines, addresses, declared counties) give yesterday's bytes."""
    out = tmp_path / "out.csv"
    result = _run(_case_input(tmp_path, name), "--out", out, *make.CASES[name][3])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == (DATA / f"locate_{name}_golden.csv").read_bytes()


@pytest.mark.parametrize("name", sorted(make.FIXED))
def test_golden_output_of_hand_written_files(tmp_path, name):
    """tests/data/locate_coords.csv and locate_addresses.csv give yesterday's bytes."""
    out = tmp_path / "out.csv"
    result = _run(DATA / f"{name}.csv", "--out", out, *make.FIXED[name])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == (DATA / f"{name}_golden.csv").read_bytes()


def test_golden_synthetic_layers_township_zone_and_lines():
    """locate_frame on the synthetic layers (townships, zoned reserve, county line at 111.6)."""
    rows = make.synthetic_rows(300)
    assert make.synthetic_output(rows) == (DATA / "locate_synthetic_golden.csv").read_bytes()


@pytest.mark.parametrize("quoting", [csv.QUOTE_MINIMAL, csv.QUOTE_ALL], ids=["ranges", "client"])
def test_chunks_of_seven_rows_give_the_same_bytes(tmp_path, quoting):
    """Tiny chunks (byte ranges of an unquoted CSV, or client-read chunks of a quoted one) give
    the output of one chunk, and the summary adds up over chunks."""
    src, out = _case_input(tmp_path, "mixed", quoting), tmp_path / "out.csv"
    result = _run(src, "--out", out, "--chunk-rows", 7, *make.CASES["mixed"][3])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == (DATA / "locate_mixed_golden.csv").read_bytes()
    assert result.output.startswith(
        "完成：共 800 行，已定位 433，市外 292，归属不明 8，错误 77，提示 41")


def test_bad_cells_name_column_and_value(tmp_path):
    """A garbage cell gives its row an error naming the column and the value; others locate."""
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    pd.DataFrame({"经度": ["111.6035", "abc", "111.6"], "纬度": ["26.2083", "26.2", "北纬91度"]}
                 ).to_csv(src, index=False)
    result = _run(src, "--out", out, "--chunk-rows", 1)
    assert result.exit_code == 0, result.output
    got = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert got["county_name"].tolist() == ["零陵区", "", ""]
    assert "经度" in got["error"].iat[1] and "abc" in got["error"].iat[1]
    assert "纬度" in got["error"].iat[2] and "91" in got["error"].iat[2]


def _located(path: Path) -> pd.DataFrame:
    """An output file read back with text cells ("" for empty), geometry dropped."""
    frame = pd.concat(list(read_chunks(path, rows=1000)), ignore_index=True)
    frame = pd.DataFrame(frame.drop(columns=[c for c in ("geometry",) if c in frame]))
    return frame.map(lambda v: "" if v is None or v != v else str(v))


@pytest.mark.parametrize("suffix", [".xlsx", ".parquet", ".gpkg"])
def test_every_output_format_holds_the_csv_rows(tmp_path, suffix):
    """XLSX, GeoParquet and GeoPackage outputs hold the rows of the CSV output; the last two
    carry each located row's WGS84 point."""
    src = _case_input(tmp_path, "gcj02")
    options = make.CASES["gcj02"][3]
    assert _run(src, "--out", tmp_path / "out.csv", *options).exit_code == 0
    out = tmp_path / f"out{suffix}"
    result = _run(src, "--out", out, "--chunk-rows", 40, *options)
    assert result.exit_code == 0, result.output
    want = _located(tmp_path / "out.csv").iloc[:, 5:]
    got = _located(out).iloc[:, 5:]  # XLSX reads "N/A" in an input column as empty
    for col in ("lon", "lat", "confidence"):  # numbers come back typed from these formats
        got[col] = pd.to_numeric(got[col].replace("", np.nan)).map(
            lambda v: "" if v != v else repr(float(v)))
        want[col] = pd.to_numeric(want[col].replace("", np.nan)).map(
            lambda v: "" if v != v else repr(float(v)))
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    if suffix != ".xlsx":
        geo = gpd.read_file(out) if suffix == ".gpkg" else gpd.read_parquet(out)
        assert geo.crs.to_epsg() == 4326
        placed = geo[geo["lon"].notna()]
        assert np.allclose(placed.geometry.x, placed["lon"].astype(float))


@pytest.mark.parametrize("suffix", [".xlsx", ".parquet"])
def test_table_inputs_give_the_csv_result(tmp_path, suffix):
    """The mixed rows as an XLSX sheet or a Parquet table locate like the CSV."""
    src = _case_input(tmp_path, "mixed")
    # read_excel (like pandas) reads "N/A" as empty: keep such cells out of the comparison
    frame = pd.read_csv(src, dtype=str, keep_default_na=False).replace("N/A", "n.a.")
    frame.to_csv(src, index=False)
    other = tmp_path / f"in{suffix}"
    if suffix == ".xlsx":
        frame.to_excel(other, index=False, sheet_name="台账")
    else:
        frame.to_parquet(other, index=False)
    options = make.CASES["mixed"][3]
    out, csv_out = tmp_path / "out.csv", tmp_path / "csv_out.csv"
    result = _run(other, "--out", out, "--chunk-rows", 300, *options)
    assert result.exit_code == 0, result.output
    assert _run(src, "--out", csv_out, *options).exit_code == 0
    got = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    want = pd.read_csv(csv_out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    # XLSX reads number-like text as numbers (as pandas.read_excel does): compare the results
    assert got.iloc[:, 5:].equals(want.iloc[:, 5:])


@pytest.mark.parametrize("suffix", [".gpkg", ".parquet"])
def test_point_geometry_inputs(tmp_path, suffix):
    """GeoPackage and GeoParquet points (here in EPSG:4546 metres) are located by geometry."""
    lon = [111.6035, 111.946, 113.0, np.nan]
    lat = [26.2083, 25.570, 28.2, np.nan]
    points = [shapely.Point(x, y) if x == x else None for x, y in zip(lon, lat, strict=True)]
    sites = gpd.GeoDataFrame({"编号": ["A", "B", "C", "D"]}, geometry=points, crs="EPSG:4326")
    src = tmp_path / f"sites{suffix}"
    metric = sites.to_crs("EPSG:4546")
    if suffix == ".gpkg":
        metric.to_file(src, layer="点位")
    else:
        metric.to_parquet(src)
    out = tmp_path / "out.csv"
    result = _run(src, "--out", out)
    assert result.exit_code == 0, result.output
    got = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(got.columns[:2]) == ["编号", "lon"]
    assert got["county_name"].tolist() == ["零陵区", "宁远县", "", ""]
    assert got["flags"].tolist()[2] == "outside_city"
    assert abs(float(got["lon"].iat[1]) - 111.946) < 1e-6
    assert got["error"].iat[3] == "没有点几何"


def test_failure_midway_leaves_no_output(tmp_path):
    """A row with extra cells after many good chunks stops the run: no output, no temp file."""
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    lines = ["经度,纬度"] + ["111.6035,26.2083"] * 50 + ["111.6,26.2,多余"] + ["111.6,26.2"] * 5
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = _run(src, "--out", out, "--chunk-rows", 10)
    assert result.exit_code == 1
    assert "CSV 格式错误" in result.output and "111.6,26.2,多余" in result.output
    assert not out.exists() and not list(tmp_path.glob(".out.csv*"))


def test_xlsx_over_the_row_limit_is_refused(tmp_path):
    """More rows than Excel holds: a clear message naming the limit and the formats to use."""
    out = tmp_path / "big.xlsx"
    with pytest.raises(TableError) as caught, TableWriter(out) as writer:
        writer.write(pd.DataFrame({"a": np.zeros(XLSX_MAX_ROWS + 1)}))
    assert "1,048,575" in str(caught.value) and ".csv" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_csv_encoding_matches_pandas():
    """The column-wise CSV encoder writes what DataFrame.to_csv writes, quoting included."""
    frame = pd.DataFrame({
        "text": ["x", "", None, "a,b", 'say "hi"', "line\nbreak", " lead", "中文"],
        "number": [0.0, 0.98, 1 / 3, 111.84, 1e-05, np.nan, 123456789012.5, -0.0],
        "boxed": pd.Series([None, 111.84, 26.5, 1.0, None, 2.5, 1e20, 0.1], dtype=object),
        "count": np.arange(8),
    })
    assert encode_csv_rows(frame) == frame.to_csv(index=False, header=False).encode()
    mixed = frame.assign(boxed=pd.Series([1, "a", None, 2.5, True, "b", 3, 4], dtype=object))
    assert encode_csv_rows(mixed) == mixed.to_csv(index=False, header=False).encode()


def test_new_user_subprocess(tmp_path):
    """``yzmap locate`` as a process, as a new user runs it (no database: the shipped layers)."""
    src, out = tmp_path / "in.csv", tmp_path / "out.parquet"
    pd.DataFrame({"经度": ["111.6035"], "纬度": ["26.2083"]}).to_csv(src, index=False)
    yzmap = Path(sys.executable).parent / "yzmap"
    proc = subprocess.run([str(yzmap), "locate", str(src), "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("完成：共 1 行，已定位 1")
    assert gpd.read_parquet(out)["county_name"].tolist() == ["零陵区"]


def test_two_local_workers_give_the_same_bytes(tmp_path):
    """--workers 2 (a Dask LocalCluster) locates the ranges on worker processes: same bytes."""
    src, out = _case_input(tmp_path, "mixed"), tmp_path / "out.csv"
    result = _run(src, "--out", out, "--workers", 2, "--chunk-rows", 100, *make.CASES["mixed"][3])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == (DATA / "locate_mixed_golden.csv").read_bytes()


def test_space_table_is_pythons():
    """The whitespace table the blank-cell check uses is exactly what str.strip removes."""
    from geo.bulk_locate import _SPACES

    assert _SPACES == [chr(c) for c in range(0x110000) if chr(c).isspace()]
