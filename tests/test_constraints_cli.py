"""#16 from the command line: import water-source and red-line layers, then overlap, locate."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from tests.data.constraint_layers import redline_frame, sites_frame, water_source_frame, write
from webmap.cli import main


@pytest.fixture()
def imported(tmp_path, cli_database):
    """Import the test water source (Shapefile zip, EPSG:4546) and red line (GeoPackage, WGS84)."""
    runner = CliRunner()
    water = write(water_source_frame(), tmp_path, "water", "shp")
    red = write(redline_frame("EPSG:4326"), tmp_path, "redline", "gpkg")
    out_w = runner.invoke(main, ["boundaries", "import", str(water), "--layer", "water-source"])
    out_r = runner.invoke(main, ["boundaries", "import", str(red), "--layer", "redline"])
    assert out_w.exit_code == 0 and out_r.exit_code == 0, out_w.output + out_r.output
    assert "字段映射：name←SYDMC，zone←BHQJB" in out_w.output
    assert "替代内置示意图层" not in out_w.output  # no stand-in is shipped for these kinds
    return runner


def test_overlap_reports_each_zone_with_share_rule_and_source(tmp_path, imported):
    """Every zone touched is a row with its share, rule and legal source; missing layers said."""
    sites = tmp_path / "sites.gpkg"
    sites_frame().to_file(sites, driver="GPKG")
    out = tmp_path / "report.csv"
    result = imported.invoke(main, ["overlap", str(sites), "--out", str(out),
                                    "--category-col", "category"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "饮用水水源保护区边界版本：imported:" in result.output
    assert "生态保护红线边界版本：imported:" in result.output
    assert "未导入 永久基本农田 图层" in result.output
    assert "饮用水水源保护区｜测试水源(潇水)｜一级保护区｜占比 50.00%" in result.output
    rows = pd.read_csv(out, encoding="utf-8-sig")
    hit = rows[rows["relation"].isin(["inside", "partly inside"])]
    water = hit[hit["layer_kind"] == "water_source"].set_index("zone")
    assert water.loc["一级保护区", "overlap_share"] == pytest.approx(0.5, abs=1e-3)
    assert water.loc["二级保护区", "overlap_share"] == pytest.approx(0.5, abs=1e-3)
    assert "第六十五条" in water.loc["一级保护区", "rule_source"]
    assert "第六十六条" in water.loc["二级保护区", "rule_source"]
    red = hit[hit["layer_kind"] == "redline"].iloc[0]
    assert red["site_id"] == "S2" and "142号" in red["rule_source"]
    assert set(rows["layer_kind"]) == {"protected_area", "water_source", "redline"}


def test_locate_lists_the_same_constraints(tmp_path, imported):
    """``constraints`` holds kind:name:zone for each zone a point lies in; other columns stay."""
    points = sites_frame().geometry.representative_point()
    table = tmp_path / "pts.csv"
    pd.DataFrame({"名称": ["甲", "乙", "丙"], "经度": points.x.round(7),
                  "纬度": points.y.round(7)}).to_csv(table, index=False)  # fmt: skip
    out = tmp_path / "located.csv"
    result = imported.invoke(main, ["locate", str(table), "--out", str(out)])
    assert result.exit_code == 0, result.output
    got = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(got.columns[-3:]) == ["candidates", "constraints", "error"]
    assert "water_source:测试水源(潇水):一级保护区" in got.at[0, "constraints"].split(";")
    assert got.at[1, "constraints"] == "redline:测试红线单元:生态保护红线"
    assert got.at[2, "constraints"] == ""
    assert "water_source imported:" in result.output
