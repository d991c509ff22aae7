"""What ``import-ledger`` says before anything goes public: rows without a point, public rows,
and coordinates out of range named by row, column and fix."""

from __future__ import annotations

from click.testing import CliRunner

from webmap.cli import main

HEADER = "编号,来源,问题名称,地址,所在县区,经度,纬度,是否公开\n"


def run(database_url, path, *args):
    """Run ``yzmap import-ledger`` on a file against the test database."""
    return CliRunner().invoke(main, ["import-ledger", str(path), *args],
                              env={"YZMAP_DATABASE_URL": database_url})  # fmt: skip


def test_rows_without_coordinates_and_public_rows_are_reported(database_url, tmp_path):
    """An address-only row is listed with its row number; the public count is said."""
    path = tmp_path / "ledger.csv"
    path.write_text(HEADER
                    + "IC-1,市交办,河道垃圾,冷水滩区梧桐街道,冷水滩区,111.6,26.42,\n"
                    + "IC-2,市交办,养殖污染,零陵区富家桥镇,零陵区,,,是\n"
                    + "IC-3,市交办,内部问题,道县,道县,111.59,25.52,否\n", encoding="utf-8")
    result = run(database_url, path, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "公开：2 行将在进展公开页面显示" in result.output
    assert "1 行没有坐标，地图和详情页不会标点" in result.output
    assert "第3行 IC-2：无坐标，仅定位到" in result.output


def test_out_of_range_coordinates_name_row_column_and_fix(database_url, tmp_path):
    """211.6 is named as the 经度 of its row with what to check; metres are called projected."""
    path = tmp_path / "bad.csv"
    path.write_text(HEADER
                    + "IC-4,市交办,错经度,冷水滩区,冷水滩区,211.6,26.42,\n"
                    + "IC-5,市交办,投影坐标,冷水滩区,冷水滩区,37560123.4,2924567.8,\n",
                    encoding="utf-8")  # fmt: skip
    result = run(database_url, path)
    assert result.exit_code == 1
    assert "第2行 【经度】 “211.6”: 超出经纬度范围（永州市东经约 111.1–112.4°）" in result.output
    assert "第3行 【经度】" in result.output and "是投影坐标（米），不是经纬度" in result.output
    assert "数据库未作任何修改" in result.output
