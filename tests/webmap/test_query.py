"""IssueQuery: parsing and its errors, canonical args, filters and scopes on both backends."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from urllib.parse import parse_qsl

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from webmap.ledger import db
from webmap.ledger.models import Issue, LeaderAssignment
from webmap.ledger.query import IssueQuery, QueryError, Scope
from webmap.ledger.workflow import record_progress

TODAY = date(2021, 12, 1)


@pytest.mark.parametrize(
    ("args", "param", "value"),
    [
        ({"county": "长沙县"}, "county", "长沙县"),
        ({"source": "网络舆情"}, "source", "网络舆情"),
        ({"status": "完成"}, "status", "完成"),
        ({"deadline": "2025年"}, "deadline", "2025年"),
        ({"rag": "purple"}, "rag", "purple"),
        ({"bbox": "111,25,112"}, "bbox", "111,25,112"),
        ({"bbox": "112,25,111,26"}, "bbox", "112,25,111,26"),
        ({"bbox": "a,b,c,d"}, "bbox", "a,b,c,d"),
        ({"as_of": "2021-13-01"}, "as_of", "2021-13-01"),
        ({"as_of": "2999-01-01"}, "as_of", "2999-01-01"),
        ({"q": "x" * 201}, "q", "x" * 20 + "…"),
    ],
)
def test_bad_values_name_parameter_and_value(args, param, value):
    """Each bad value raises QueryError naming the parameter and the value, in Chinese."""
    with pytest.raises(QueryError) as err:
        IssueQuery.from_args(MultiDict(args))
    assert (err.value.param, err.value.value) == (param, value)
    assert f"参数 {param}" in str(err.value) and "无效" in str(err.value)


def test_repeated_single_value_refused():
    """A single-valued parameter given twice is refused."""
    with pytest.raises(QueryError) as err:
        IssueQuery.from_args(MultiDict([("leader", "甲"), ("leader", "乙")]))
    assert err.value.param == "leader"


def test_unknown_parameter_only_refused_when_strict():
    """Pages may carry other parameters; strict parsing (CLI) refuses them."""
    assert IssueQuery.from_args({"basemap": "tianditu"}) == IssueQuery()
    with pytest.raises(QueryError) as err:
        IssueQuery.from_args({"contry": "道县"}, strict=True)
    assert err.value.param == "contry"


def test_parse_names_aliases_and_canonical_args():
    """Names, codes, aliases and RAG labels normalise; to_args is canonical and round-trips."""
    args = MultiDict(
        [
            ("rag", "逾期,amber"),
            ("county", "祁阳县"),
            ("county", "431102，道县"),
            ("q", "砂石, 码头"),
            ("bbox", "111.5,25.5,112,26"),
            ("page", "2"),  # paging is the collection's, not a filter: ignored here
        ]
    )
    q = IssueQuery.from_args(args)
    assert q.county == ("431181", "431102", "431124") and q.rag == ("red", "amber")
    assert q.q == "砂石, 码头"
    text = q.to_args()
    assert text.startswith("county=431181%2C431102%2C431124&rag=red%2Camber&q=")
    assert IssueQuery.from_args(MultiDict(parse_qsl(text))) == q
    assert "page" not in q.to_args()


def test_cli_style_options():
    """CLI options (tuples from click multiple=True) parse like request args."""
    q = IssueQuery.from_args({"county": ("道县", "宁远县"), "status": ("整改中",), "q": None})
    assert q.county == ("431124", "431126") and q.status == ("整改中",)


@pytest.fixture
def ledger(make_issue, session):
    """Five issues across counties, sources, statuses, units and places."""
    make_issue(
        "HT-01",
        county_code="431103",
        due_date=date(2021, 11, 30),
        lead_unit="冷水滩区人民政府",
        partner_units=["永州市生态环境局"],
        title="湘江沿岸砂石码头",
    )
    make_issue(
        "HT-02",
        county_code="431124",
        due_date=date(2021, 12, 20),
        category="大气污染",
        geometry={"type": "Point", "coordinates": [111.6, 25.5]},
    )
    make_issue(
        "ZY-01",
        source_type="中央督察",
        county_code="431124",
        due_date=date(2022, 6, 30),
        protected_area="都庞岭国家级自然保护区",
        public=False,
        geometry={"type": "LineString", "coordinates": [[111.3, 25.3], [111.4, 25.4]]},
    )
    make_issue(
        "JS-01",
        source_type="长江警示片",
        county_code="431102",
        deadline_class="持续推进",
        due_date=None,
        lead_unit="永州市生态环境局",
    )
    issue = make_issue(
        "SJ-01", source_type="市交办", county_code="431102", due_date=date(2021, 6, 30)
    )
    with db.transaction(session):
        record_progress(session, issue, percent=50, date=date(2021, 5, 1), actor="x")
        session.add(
            LeaderAssignment(
                kind="city_leader",
                name="王副市长",
                county_code="431124",
                valid_from=date(2021, 1, 1),
            )
        )
        session.add(
            LeaderAssignment(
                kind="county_leader",
                name="陈副县长",
                issue_number="SJ-01",
                valid_from=date(2021, 1, 1),
            )
        )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({}, ["HT-01", "HT-02", "JS-01", "SJ-01", "ZY-01"]),
        ({"county": "道县"}, ["HT-02", "ZY-01"]),
        ({"source": "中央督察,长江警示片"}, ["JS-01", "ZY-01"]),
        ({"status": "整改中"}, ["SJ-01"]),
        ({"deadline": "持续推进"}, ["JS-01"]),
        ({"rag": "red"}, ["HT-01", "SJ-01"]),
        ({"rag": "amber"}, ["HT-02"]),
        ({"rag": "green,none"}, ["JS-01", "ZY-01"]),
        ({"category": "大气污染"}, ["HT-02"]),
        ({"protected_area": "都庞岭国家级自然保护区"}, ["ZY-01"]),
        ({"q": "砂石"}, ["HT-01"]),
        ({"q": "zy-0"}, ["ZY-01"]),
        ({"q": "100%"}, []),
        ({"bbox": "111.25,25.25,111.35,25.35"}, ["ZY-01"]),
        ({"bbox": "111.55,25.45,111.65,25.55"}, ["HT-02"]),
        ({"leader": "王副市长"}, ["HT-02", "ZY-01"]),
        ({"leader": "陈副县长"}, ["SJ-01"]),
        ({"county": "道县", "rag": "amber"}, ["HT-02"]),
    ],
)
def test_filters(ledger, session, args, expected):
    """Each filter selects exactly the expected issues; count agrees with the rows."""
    q = replace(IssueQuery.from_args(MultiDict(args)), today=TODAY)
    assert [i.number for i in session.scalars(q.select())] == expected
    assert q.count(session) == len(expected)


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (Scope.everything(), ["HT-01", "HT-02", "JS-01", "SJ-01", "ZY-01"]),
        (Scope.county("431124", "431102"), ["HT-02", "JS-01", "SJ-01", "ZY-01"]),
        (Scope.for_unit("永州市生态环境局"), ["HT-01", "JS-01"]),
        (Scope.public(), ["HT-01", "HT-02", "JS-01", "SJ-01"]),
    ],
)
def test_scopes(ledger, session, scope, expected):
    """The scope is applied inside the query, combined with the filters."""
    q = IssueQuery(scope=scope, today=TODAY)
    assert [i.number for i in session.scalars(q.select())] == expected
    assert [s.number for s in q.states(session)] == expected  # same answer from the event log


def test_as_of_uses_past_state(ledger, session):
    """With as_of, status is judged on the day: SJ-01 was 未启动 before its first progress."""
    before = IssueQuery.from_args({"as_of": "2021-04-30", "status": "未启动"})
    after = IssueQuery.from_args({"as_of": "2021-05-01", "status": "未启动"})
    assert "SJ-01" in [s.number for s in before.states(session)]
    assert "SJ-01" not in [s.number for s in after.states(session)]
    assert "SJ-01" in [i.number for i in session.scalars(before.select(session))]
    with pytest.raises(QueryError):
        before.apply(select(Issue.id))  # the past needs the event log, hence a session
