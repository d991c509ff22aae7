"""``yzmap locate`` end to end on real CSV (UTF-8, UTF-8-SIG, GBK) and XLSX files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from pyproj import Transformer

from webmap.cli import main

DATA = Path(__file__).parent / "data"

# tests/data/locate_coords.csv: decimal degrees, DMS under a declared county that disagrees, empty
# cells with a county, a garbage cell, a point outside the city, latitude and longitude swapped
HEADER = ("编号", "经度", "纬度", "所在县区", "地址")


def _load_rows(name: str) -> pd.DataFrame:
    """Return a CSV of tests/data as strings, empty cells as ''."""
    return pd.read_csv(DATA / name, dtype=str, keep_default_na=False, encoding="utf-8")


def _write_csv(path, encoding: str) -> None:
    """Write the rows of locate_coords.csv as a CSV in ``encoding``."""
    _load_rows("locate_coords.csv").to_csv(path, index=False, encoding=encoding)


def _run(*args):
    """Invoke yzmap with ``args``."""
    return CliRunner().invoke(main, ["locate", *map(str, args)])


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_with_chinese_headers(tmp_path, encoding):
    """Every encoding reads; every row is written; DMS, swapped, empty and garbage cells handled."""
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    _write_csv(src, encoding)
    result = _run(src, "--out", out, "--county-col", "所在县区", "--address-col", "地址")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        "完成：共 6 行，已定位 4，市外 1，归属不明 0，错误 1，提示 0，用时")
    got = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(got.columns[:5]) == list(HEADER) and got.columns[-1] == "error"
    assert got["county_name"].tolist() == [
        "零陵区", "冷水滩区", "江华瑶族自治县", "", "", "冷水滩区"]
    assert got["flags"].tolist() == ["", "declared_mismatch", "", "", "outside_city",
                                     "coordinates_swapped"]
    assert got["precision"].tolist()[:3] == ["coordinates", "coordinates", "county"]
    assert "abc" in got["error"].iat[3] and got["地址"].iat[4] == "长沙市"


def test_xlsx_in_and_out_with_sheet(tmp_path):
    """XLSX input (named sheet, numeric cells) and XLSX output."""
    src, out = tmp_path / "in.xlsx", tmp_path / "out.xlsx"
    frame = pd.DataFrame({"经度": [111.6265, 112.196], "纬度": [26.2213, 25.37]})
    with pd.ExcelWriter(src) as writer:
        pd.DataFrame({"说明": ["封面"]}).to_excel(writer, sheet_name="封面", index=False)
        frame.to_excel(writer, sheet_name="台账", index=False)
    result = _run(src, "--out", out, "--sheet", "台账")
    assert result.exit_code == 0, result.output
    got = pd.read_excel(out, dtype=str, engine="openpyxl")
    assert got["county_name"].tolist() == ["零陵区", "蓝山县"]
    assert got["county_code"].tolist() == ["431102", "431127"]


def test_projected_columns_with_crs(tmp_path):
    """Gauss-Kruger X/Y columns with --crs EPSG:4546."""
    east, north = Transformer.from_crs(4326, 4546, always_xy=True).transform(111.946, 25.570)
    src, out = tmp_path / "gk.csv", tmp_path / "out.csv"
    pd.DataFrame({"X": [east], "Y": [north]}).to_csv(src, index=False)
    result = _run(src, "--out", out, "--x-col", "X", "--y-col", "Y", "--crs", "EPSG:4546")
    assert result.exit_code == 0, result.output
    got = pd.read_csv(out, encoding="utf-8-sig")
    assert got["county_name"].tolist() == ["宁远县"]
    assert abs(got["lon"].iat[0] - 111.946) < 1e-7


def test_gcj02_datum_option(tmp_path):
    """--datum gcj02 converts and flags datum_converted."""
    src, out = tmp_path / "g.csv", tmp_path / "out.csv"
    pd.DataFrame({"lng": [111.84 + 0.0052], "lat": [26.58 - 0.0036]}).to_csv(src, index=False)
    result = _run(src, "--out", out, "--datum", "gcj02")
    assert result.exit_code == 0, result.output
    got = pd.read_csv(out, encoding="utf-8-sig", keep_default_na=False)
    assert got["flags"].tolist() == ["datum_converted"]
    assert got["county_name"].tolist() == ["祁阳市"]


def test_missing_column_error_lists_columns(tmp_path):
    """A wrong column option names the column and lists the available ones."""
    src = tmp_path / "in.csv"
    _write_csv(src, "utf-8")
    result = _run(src, "--out", tmp_path / "o.csv", "--lon-col", "经", "--lat-col", "纬度")
    assert result.exit_code == 2
    assert "找不到列「经」" in result.output and "编号, 经度, 纬度, 所在县区, 地址" in result.output


def test_failed_run_leaves_existing_output_untouched(tmp_path):
    """A run that fails (bad --crs) leaves an existing OUTPUT byte for byte and no temp files."""
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    _write_csv(src, "utf-8")
    out.write_text("old contents\n", encoding="utf-8")
    result = _run(src, "--out", out, "--crs", "EPSG:999999")
    assert result.exit_code == 1 and "999999" in result.output
    assert out.read_text(encoding="utf-8") == "old contents\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]


def test_unsupported_output_suffix(tmp_path):
    """OUTPUT must end in .csv, .xlsx, .parquet or .gpkg."""
    src = tmp_path / "in.csv"
    _write_csv(src, "utf-8")
    result = _run(src, "--out", tmp_path / "out.json")
    assert result.exit_code == 2 and ".csv、.xlsx、.parquet、.gpkg" in result.output


def test_metres_without_crs_carry_a_note(tmp_path):
    """Gauss-Kruger metres with the zone prefix and no --crs: located, with a 提示 in error."""
    east, north = Transformer.from_crs(4326, 4525, always_xy=True).transform(111.592, 26.461)
    src, out = tmp_path / "m.csv", tmp_path / "out.csv"
    pd.DataFrame({"X坐标": [f"{east:.3f}"], "Y坐标": [f"{north:.3f}"]}).to_csv(src, index=False)
    result = _run(src, "--out", out, "--x-col", "X坐标", "--y-col", "Y坐标")
    assert result.exit_code == 0, result.output
    assert "错误 0，提示 1，" in result.output
    got = pd.read_csv(out, encoding="utf-8-sig", keep_default_na=False)
    assert got["county_name"].tolist() == ["冷水滩区"]
    assert got["error"].iat[0].startswith("提示：") and "EPSG:4525" in got["error"].iat[0]


# tests/data/locate_addresses.csv: address only, both agreeing, both disagreeing (county,
# township, outside), ambiguous, outside Yongzhou, empty cells; coordinates are county seats (WGS84)
ADDRESS_HEADER = ("编号", "经度", "纬度", "详细地址", "申报县区")


def _address_table(kind: str, path) -> None:
    """Write locate_addresses.csv as a UTF-8 CSV or as an XLSX sheet with Chinese headers."""
    frame = _load_rows("locate_addresses.csv")
    if kind == "xlsx":
        frame.to_excel(path, index=False, sheet_name="整改台账")
    else:
        frame.to_csv(path, index=False, encoding="utf-8")


def _read_output(path):
    """Read a CSV or XLSX output as strings, empty cells as ''."""
    if path.suffix == ".xlsx":
        return pd.read_excel(path, dtype=str, engine="openpyxl").fillna("")
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_address_column_fills_the_same_columns(tmp_path, kind):
    """--address-col places address-only rows and checks text against coordinates."""
    src, out = tmp_path / f"in.{kind}", tmp_path / f"out.{kind}"
    _address_table(kind, src)
    result = _run(src, "--out", out, "--lon-col", "经度", "--lat-col", "纬度",
                  "--address-col", "详细地址", "--county-col", "申报县区")
    assert result.exit_code == 0, result.output
    assert "共 11 行，已定位 8，市外 1，归属不明 1，错误 2，提示 0" in result.output
    got = _read_output(out)
    assert list(got.columns[:5]) == list(ADDRESS_HEADER) and got.columns[-1] == "error"
    assert got["county_name"].tolist() == [
        "宁远县", "祁阳市", "祁阳市", "祁阳市", "东安县", "", "", "", "江华瑶族自治县", "新田县",
        "江永县"]
    assert got["township_name"].tolist() == [
        "湾井镇", "文富市镇", "", "", "", "", "", "", "", "", "桃川镇"]
    assert got["village_name"].iat[0] == "马脚洞村委会"  # the NBS name
    assert got["precision"].tolist() == [
        "village", "coordinates", "coordinates", "coordinates", "coordinates", "city", "none",
        "none", "county", "county", "township"]
    assert got["flags"].tolist() == [
        "", "", "declared_mismatch", "declared_mismatch", "declared_mismatch", "ambiguous",
        "outside_city", "", "", "", ""]
    assert got["candidates"].tolist()[5:7] == ["道县;江永县", "广西壮族自治区桂林市全州县"]
    conf = got["confidence"].astype(float).tolist()
    assert conf[0] > 0.9 and conf[5] < 0.5 and conf[8] == conf[9] == 0.5
    assert got["error"].tolist()[:10] == [""] * 7 + ["没有坐标或地址", "", ""]
    assert got["error"].iat[10].endswith("已按地址定位") and "abc" in got["error"].iat[10]
    assert got["lon"].iat[0] == "" and got["lon"].iat[1] == "111.84"


def _fresh_figures(got) -> dict[str, tuple[int, int]]:
    """(right, total) per measure of the acceptance file's output."""
    place = got[~got["expected_county"].isin(["ambiguous", "outside", "none"])]
    with_township = place[place["expected_township"] != ""]
    outside = got[got["expected_county"] == "outside"]
    unresolvable = got[got["expected_county"] == "ambiguous"]
    nothing = got[got["expected_county"] == "none"]
    flags = got["flags"]
    return {
        "county": (int((place["county_name"] == place["expected_county"]).sum())
                   + int(((outside["county_name"] == "")
                          & flags[outside.index].str.contains("outside_city")).sum()),
                   len(place) + len(outside)),
        "township": (int((with_township["township_name"]
                          == with_township["expected_township"]).sum()), len(with_township)),
        "ambiguous": (int(flags[unresolvable.index].str.contains("ambiguous").sum()),
                      len(unresolvable)),
        "unplaced": (int((nothing["county_name"] == "").sum()), len(nothing)),
        # informative: a name once in Yongzhou and also elsewhere keeps its county, flagged
        "ambiguous_with_county": (int((unresolvable["county_name"] != "").sum()),
                                  len(unresolvable)),
    }


def test_acceptance_fresh_yongzhou_strings(tmp_path):
    """Fresh real strings in new styles: >=98% county, >=90% township, >=90% ambiguous flagged."""
    src, out = DATA / "address_fresh.csv", tmp_path / "fresh_out.csv"
    result = _run(src, "--out", out, "--address-col", "地址")
    assert result.exit_code == 0, result.output
    figures = _fresh_figures(_read_output(out))
    shown = "; ".join(f"{k} {r}/{n} = {r / n:.1%}" for k, (r, n) in figures.items())
    rate = {k: r / n for k, (r, n) in figures.items()}
    assert figures["county"][1] >= 100 and figures["ambiguous"][1] >= 25, shown
    assert rate["county"] >= 0.98, shown
    assert rate["township"] >= 0.90, shown
    assert rate["ambiguous"] >= 0.90, shown
    assert rate["unplaced"] == 1.0, shown
    print(shown)
