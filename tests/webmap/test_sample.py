"""The sample ledger: size, the plan's 20/5/5 split, placement, histories, 示例 marks."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from sqlalchemy import select

from geo.boundaries import load_shipped
from webmap.events import current_state, ledger_as_of
from webmap.models import Issue
from webmap.sample import load_sample


@pytest.fixture
def sample(session):
    """Load the sample into the test database and return its issues."""
    layers = load_shipped()
    load_sample(session, layers)
    return session.scalars(select(Issue).order_by(Issue.number)).all(), layers


def test_sample_size_and_split(sample):
    """At least 60 issues; 30 look-back issues split 20/5/5 as the plan says."""
    issues, _ = sample
    assert len(issues) >= 60
    lookback = Counter(i.deadline_class for i in issues if i.source_type == "回头看")
    assert sum(lookback.values()) == 30
    assert lookback["2021年底前"] == 20 and lookback["2022年"] == 5
    assert lookback["2023年及以后"] + lookback["持续推进"] == 5
    assert {"中央督察", "长江警示片", "省日常交办", "市交办", "专项督察"} <= {
        i.source_type for i in issues
    }
    assert all(i.is_sample for i in issues)


def test_sample_is_placed_in_its_county(sample):
    """Every issue lies inside its county; all 11 counties and several reserve zones are used."""
    issues, layers = sample
    counties = layers.counties.frame.set_index("code").geometry
    for issue in issues:
        assert counties[issue.county_code].contains(issue.geometry), issue.number
        assert issue.location_text.startswith(f"永州市{issue.county_name}")
    assert len({i.county_code for i in issues}) == 11
    zoned = [i for i in issues if i.protected_area and i.zone]
    assert len(zoned) >= 5 and all(i.source_type == "专项督察" for i in zoned)


def test_sample_histories_have_shape(sample, session):
    """Histories span 2021-2024: signed off, overdue, ongoing and escalated issues exist."""
    issues, _ = sample
    status = Counter(i.status for i in issues)
    assert status["已销号"] >= 10 and status["持续推进"] >= 5 and status["整改中"] >= 3
    assert any(a.kind == "公开通报" for i in issues for a in i.actions)
    assert all(s.stage for i in issues for s in i.signoffs)
    early = {s.number: s for s in ledger_as_of(session, date(2021, 12, 31))}
    assert len(early) == len(issues)
    assert Counter(s.status for s in early.values()) != status  # the ledger moved after 2021
    final = {s.number: s for s in ledger_as_of(session, date(2025, 1, 1))}
    for issue in issues:
        assert final[issue.number] == current_state(issue, date(2025, 1, 1)), issue.number


def test_sample_is_deterministic(sample, tmp_path):
    """Loading the sample twice (two databases) gives the same issues."""
    from sqlalchemy.orm import Session

    from webmap import db

    issues, layers = sample
    engine = db.make_engine(f"sqlite:///{tmp_path / 'again.sqlite'}")
    db.upgrade_db(engine)
    with Session(engine) as other:
        again = sorted(load_sample(other, layers), key=lambda i: i.number)
        assert [(i.number, i.title, i.lon, i.lat, i.status) for i in again] == [
            (i.number, i.title, i.lon, i.lat, i.status) for i in issues
        ]
    engine.dispose()


def test_sample_refuses_second_load(sample, session):
    """Loading the sample into a database that has it already is refused."""
    with pytest.raises(ValueError, match="示例台账已加载"):
        load_sample(session)
