"""Bad input on HTTP query and form arguments: a named 4xx and no change, never a 500.

The #19 campaign adds the collections' output and filter arguments, the transition form and
the login form; the file side (locate tables, ledgers, boundary files) is in
``tests/test_bad_files.py``.

Property-based (hypothesis) over the arguments that parse numbers, plus regressions for what
the campaign found: ``/audit?page=`` with a 40-digit number (was a 500: SQLite integer
overflow) and Unicode digits such as ``²`` that ``str.isdigit`` accepts but ``int`` refuses.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

NASTY = st.one_of(
    st.text(max_size=60),
    st.integers(min_value=-(10**45), max_value=10**45).map(str),
    st.sampled_from(["", " ", "0", "-1", "1e9", "NaN", "inf", "²", "١٢", "9" * 40, "9" * 5000,
                     "%00", "1;DROP TABLE events", "=HYPERLINK(\"http://x\")"]),
)  # fmt: skip
FUZZ = settings(max_examples=12, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip


@pytest.mark.parametrize("page", ["9" * 40, "²", "99999999999999999999", "9" * 5000])
def test_api_offset_beyond_any_integer_is_a_named_400(logged_in_client, page):
    """``offset``/``page`` past 2**62 was a 500 (SQLite OverflowError): now a 400 naming it."""
    client = logged_in_client("admin")
    for name in ("offset", "page"):
        resp = client.get("/api/issues", query_string={name: page})
        assert resp.status_code == 400 and name in resp.json["error"]


@pytest.mark.parametrize("page", ["9" * 40, "²", "99999999999999999999", "9" * 5000])
def test_audit_page_out_of_range_is_never_a_500(logged_in_client, page):
    """A huge or odd page number: the last page (200) or a named 400."""
    resp = logged_in_client("admin").get("/audit", query_string={"page": page})
    assert resp.status_code in (200, 400)
    if resp.status_code == 400:
        assert "page" in resp.get_data(as_text=True)


@FUZZ
@given(value=NASTY)
def test_query_arguments_never_500(logged_in_client, value):
    """Every listed query argument of the staff pages and APIs answers below 500."""
    client = logged_in_client("admin")
    for path, name in (("/audit", "page"), ("/audit", "from"), ("/api/issues", "limit"),
                       ("/api/issues", "offset"), ("/api/issues", "page"),
                       ("/api/issues", "as_of"), ("/api/issues", "bbox"), ("/", "as_of"),
                       ("/dashboard", "as_of"), ("/public", "as_of")):  # fmt: skip
        resp = client.get(path, query_string={name: value})
        assert resp.status_code < 500, (path, name, value, resp.status_code)


@FUZZ
@given(value=NASTY)
def test_progress_form_never_500_and_changes_nothing_when_refused(logged_in_client, make_issue,
                                                                    session, value):  # fmt: skip
    """A bad percent is a 400 naming ``percent``, and the issue's progress stays as it was."""
    from webmap.ledger.models import Issue

    issue = make_issue_once(make_issue, session)
    before = issue.progress
    resp = logged_in_client("admin").post(f"/issues/{issue.number}/progress",
                                          data={"percent": value, "text": "x"})  # fmt: skip
    assert resp.status_code in (302, 400), resp.status_code
    if resp.status_code == 400:
        assert "percent" in resp.get_data(as_text=True) or "进度" in resp.get_data(as_text=True)
        session.expire_all()
        assert session.get(Issue, issue.id).progress == before


def make_issue_once(make_issue, session):
    """Return the test issue, creating it on the first example only."""
    from sqlalchemy import select

    from webmap.ledger.models import Issue

    return session.scalar(select(Issue).where(Issue.number == "HT-01")) or make_issue()


@FUZZ
@given(value=NASTY)
def test_collection_arguments_never_500(logged_in_client, make_issue, session, value):
    """Output and filter arguments of both issue collections answer below 500 (#19 campaign)."""
    make_issue_once(make_issue, session)
    client = logged_in_client("admin")
    for path in ("/api/issues", "/api/public/issues"):
        for name in ("f", "coords", "properties", "after", "county", "status", "rag",
                     "deadline", "category", "source", "q", "bbox"):  # fmt: skip
            resp = client.get(path, query_string={name: value})
            assert resp.status_code < 500, (path, name, value, resp.status_code)
    resp = client.get("/api/issues/HT-01", query_string={"coords": value})
    assert resp.status_code < 500


@FUZZ
@given(status=NASTY, kind=NASTY, url=NASTY)
def test_transition_form_never_500_and_refusal_keeps_status(
    logged_in_client, make_issue, session, status, kind, url
):
    """Any target status, evidence kind and link: a move or a named 400, status kept on a 400."""
    from webmap.ledger.models import Issue

    issue = make_issue_once(make_issue, session)
    session.expire_all()
    before = session.get(Issue, issue.id).status
    resp = logged_in_client("admin").post(f"/issues/{issue.number}/transition",
                                          data={"to_status": status, "evidence_kind": kind,
                                                "evidence_url": url})  # fmt: skip
    assert resp.status_code in (302, 400), resp.status_code
    if resp.status_code == 400:
        session.expire_all()
        assert session.get(Issue, issue.id).status == before


@FUZZ
@given(username=NASTY, password=NASTY)
def test_login_form_never_500(client, username, password):
    """Any user name and password: the login page again (or a named 400/429), never a 500."""
    resp = client.post("/login", data={"username": username, "password": password})
    assert resp.status_code in (200, 400, 401, 429), resp.status_code
