"""Accounts that can see something: ``yzmap users add`` refuses scopes that would show nothing."""

from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner

from webmap.cli import main
from webmap.ledger import db
from webmap.ledger.models import LeaderAssignment, Unit


def _cli(url: str, *args: str):
    """Run ``yzmap`` against the test database."""
    return CliRunner().invoke(main, list(args), env={"YZMAP_DATABASE_URL": url})


@pytest.fixture
def roster(session):
    """Two units and one city leader on the roster."""
    with db.transaction(session):
        session.add_all([
            Unit(name="冷水滩区生态环境分局", kind="department", county_code="431103", aliases=[]),
            Unit(name="市林业局", kind="department", county_code=None, aliases=["永州市林业局"]),
            LeaderAssignment(kind="city_leader", name="张某某", county_code="431103",
                             valid_from=date(2021, 1, 1)),
        ])  # fmt: skip


@pytest.mark.parametrize(("args", "words"), [
    (["--role", "department", "--unit", "市环保局"],
     ["单位“市环保局”不在单位表中", "冷水滩区生态环境分局、市林业局"]),
    (["--role", "department"], ["department 角色须指定单位", "市林业局"]),
    (["--role", "city-leader"], ["“x”不在名单中", "名单：张某某"]),
    (["--role", "county-leader", "--unit", "李某"], ["“李某”不在名单中"]),
    (["--role", "county", "--county", "冷水"],
     ["“冷水”不是永州市的县（市、区）", "是否指 冷水滩区（431103）", "零陵区（431102）"]),
    (["--role", "county", "--county", "长沙"],
     ["“长沙”不是永州市的县（市、区）", "道县（431124）"]),
    (["--role", "county"], ["county 角色须指定县（市、区）", "道县（431124）"]),
])  # fmt: skip
def test_accounts_that_would_see_nothing_are_refused(database_url, roster, args, words):
    """Each refusal names what is wrong and lists the valid choices."""
    result = _cli(database_url, "users", "add", "x", *args, "--password", "long-enough-1")
    assert result.exit_code != 0
    for w in words:
        assert w in result.output, (w, result.output)


@pytest.mark.parametrize("args", [
    ["--role", "department", "--unit", "永州市林业局"],  # an alias of a unit
    ["--role", "city-leader", "--unit", "张某某"],
    ["--role", "county", "--county", "江华"],
    ["--role", "county", "--county", "零陵"],  # a short name the gazetteer knows
])  # fmt: skip
def test_accounts_with_a_scope_are_created(database_url, roster, args):
    """Known units (or their aliases), roster names and county aliases are accepted."""
    result = _cli(database_url, "users", "add", "y", *args, "--password", "long-enough-1")
    assert result.exit_code == 0, result.output
