"""``yzmap init``: creates or migrates the database, is idempotent, loads the sample on request."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from webmap.cli import main
from webmap.ledger import db
from webmap.ledger.models import Issue, ResponsibilityRule, Unit


def _run(url: str, *args: str):
    """Run ``yzmap init`` against a database URL and return the click result."""
    env = {"YZMAP_DATABASE_URL": url, "YZMAP_SECRET_KEY": "test"}
    return CliRunner().invoke(main, ["init", *args], env=env, catch_exceptions=False)


def test_init_creates_a_fresh_sqlite_database(tmp_path):
    """On an empty path init creates the schema at head and the shipped defaults."""
    url = f"sqlite:///{tmp_path}/new/yzmap.sqlite"
    result = _run(url)
    assert result.exit_code == 0, result.output
    assert "空库 → " in result.output
    engine = db.make_engine(url)
    current, head = db.schema_status(engine)
    assert current == head is not None
    with engine.connect() as conn:
        assert conn.scalar(select(func.count(ResponsibilityRule.id))) > 0
        assert conn.scalar(select(func.count(Unit.id))) > 0
    engine.dispose()


def test_init_is_idempotent(database_url):
    """Running init twice leaves the schema and defaults as they were (both backends)."""
    first = _run(database_url)
    second = _run(database_url)
    assert first.exit_code == second.exit_code == 0
    assert "已是最新" in second.output and "新增 0 条" in second.output


@pytest.mark.slow
def test_init_sample_then_if_empty(database_url):
    """--sample loads the 示例 ledger; --if-empty then skips; a second plain --sample refuses."""
    pytest.importorskip("webmap.ledger.sample")
    result = _run(database_url, "--sample")
    assert result.exit_code == 0, result.output
    engine = db.make_engine(database_url)
    with engine.connect() as conn:
        total = conn.scalar(select(func.count(Issue.id)))
        samples = conn.scalar(select(func.count(Issue.id)).where(Issue.is_sample.is_(True)))
    engine.dispose()
    assert total == samples >= 60
    skipped = _run(database_url, "--sample", "--if-empty")
    assert skipped.exit_code == 0 and "跳过示例台账" in skipped.output
    again = CliRunner().invoke(
        main,
        ["init", "--sample"],
        env={"YZMAP_DATABASE_URL": database_url, "YZMAP_SECRET_KEY": "t"},
    )
    assert again.exit_code != 0 and "示例台账已加载" in again.output
