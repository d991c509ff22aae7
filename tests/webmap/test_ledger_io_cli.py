"""The ledger commands as a user runs them: import-ledger, export-ledger, ledger status."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from geo.boundaries import load_shipped
from webmap.cli import main
from webmap.ledger.sample import load_sample

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture
def cli(database_url, monkeypatch):
    """Return a function running ``yzmap`` against the test database."""
    monkeypatch.setenv("YZMAP_DATABASE_URL", database_url)

    def run(*args):
        """Invoke the CLI with ``args``."""
        return CliRunner().invoke(main, [str(a) for a in args])

    return run


def test_import_bad_file_exits_nonzero_naming_rows(cli):
    """A bad ledger prints each error with row, header and value and exits 1."""
    result = cli("import-ledger", DATA / "ledger_bad_rows.xlsx")
    assert result.exit_code == 1
    assert "第3行 【所在县区】 “长沙县”" in result.output
    assert "数据库未作任何修改" in result.output


def test_import_then_export_with_filters(cli, tmp_path):
    """Import a GBK CSV, then export only 零陵区 issues."""
    result = cli("import-ledger", DATA / "ledger_gbk.csv", "--actor", "tester")
    assert result.exit_code == 0, result.output
    assert "新增 2" in result.output
    out = tmp_path / "lingling.csv"
    result = cli("export-ledger", "--format", "csv", "--out", out, "--county", "零陵区")
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 2 and lines[1].startswith("SJ-01,")


def test_export_rejects_bad_filter(cli, tmp_path):
    """A filter value the views would refuse is refused here with the same message."""
    result = cli("export-ledger", "--format", "csv", "--out", tmp_path / "x.csv", "--rag", "purple")
    assert result.exit_code != 0 and "rag" in result.output
    assert not (tmp_path / "x.csv").exists()


def test_status_as_of(cli, session):
    """``ledger status --as-of`` prints the ledger as it stood that day, with totals."""
    load_sample(session, load_shipped())
    session.close()
    early = cli("ledger", "status", "--as-of", "2021-03-06")
    assert early.exit_code == 0, early.output
    assert "合计 64 条" in early.output and "按状态：未启动 64" in early.output
    later = cli("ledger", "status", "--as-of", "2024-12-31", "--source", "回头看")
    assert "合计 30 条" in later.output and "已销号" in later.output and "示例" in later.output
