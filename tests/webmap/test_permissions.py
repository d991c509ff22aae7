"""Roles: the matrix of every role against every state-changing endpoint, and read scoping.

The endpoints are enumerated from ``app.url_map`` (every rule accepting POST, PUT, PATCH or
DELETE), so an endpoint added later is covered without touching this file.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from webmap.ledger import db
from webmap.ledger.access import ROLES, can, scope_for
from webmap.ledger.events import snapshot
from webmap.ledger.models import Event, Issue, LeaderAssignment, Objection, SignOff, User
from webmap.web import context as webctx
from webmap.web.auth import action_of

STATE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
SESSION_ENDPOINTS = {"auth.login", "auth.logout"}  # covered in test_auth
FORMS = {
    "edit.progress": {"percent": "90", "text": "matrix"},
    "edit.transition": {"to_status": "整改中", "note": "matrix"},
    "edit.disclosure": {"public": "1", "sensitive": "1"},
    "evidence.field_report": {"percent": "80", "text": "matrix 现场"},
    "public.object_to": {"text": "matrix 异议"},
    "audit.handle_objection": {"note": "matrix"},
}
OWN, OTHER = "431103", "431124"  # the county editor's county, and another county


def state_changing(app) -> list[tuple[str, str, object]]:
    """Return (endpoint, method, rule) of every state-changing rule of the app."""
    out = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & STATE_METHODS):
            if rule.endpoint not in SESSION_ENDPOINTS:
                out.append((rule.endpoint, method, rule))
    return out


def _url(rule, number: str, objection_id: int) -> str:
    """Fill a rule's arguments: the target issue, its objection, a dummy for anything else."""
    values = {}
    for arg in rule.arguments:
        values[arg] = {"number": number, "objection_id": objection_id}.get(arg, "x")
        if (
            rule._converters.get(arg).__class__.__name__ == "IntegerConverter"
            and arg != "objection_id"
        ):
            values[arg] = 1
    return rule.build(values, append_unknown=False)[1]


def _state(app, number: str, objection_id: int) -> tuple:
    """Return what a write could change: the issue's fields, its events, its objection."""
    with app.app_context():
        session = webctx.get_session()
        issue = session.scalar(select(Issue).where(Issue.number == number))
        events = session.scalar(select(func.count(Event.id)).where(Event.issue_number == number))
        obj = session.get(Objection, objection_id)
        return snapshot(issue), events, obj.state, len(issue.updates), len(issue.signoffs)


@pytest.fixture
def targets(app, make_issue):
    """One issue in the editor's county and one elsewhere, both in 公示, each with an objection."""
    app.config.update(TODAY="2022-06-01", OBJECTION_MAX_PER_HOUR=10_000)
    made = {}
    for code, name in ((OWN, "冷水滩区"), (OTHER, "道县")):
        for endpoint in FORMS:
            number = f"{code}-{endpoint}"
            make_issue(
                number,
                county_code=code,
                county_name=name,
                status="公示",
                progress=100,
                lead_unit="冷水滩区生态环境分局" if code == OWN else "道县水利局",
            )
            with app.app_context():
                session = webctx.get_session()
                with db.transaction(session):
                    # an issue enters 公示 through its sign-off stage, which dates the period
                    issue = session.scalar(select(Issue).where(Issue.number == number))
                    stage = SignOff(stage="公示", signer="city", date=date(2022, 5, 30))
                    issue.signoffs.append(stage)
                    obj = Objection(issue_number=number, text="t", client_hash="h", state="new")
                    session.add(obj)
                made[(code, endpoint)] = (number, obj.id)
    return made


def _client_for(role, logged_in_client, anon_client):
    """Return a client for a role, or the anonymous public's client."""
    return anon_client if role == "anonymous" else logged_in_client(role)


@pytest.mark.parametrize("role", [*ROLES, "anonymous"])
def test_every_role_against_every_state_changing_endpoint(
    app, role, targets, logged_in_client, anon_client
):
    """Allowed requests get through; refused ones are 401/403/404 and change nothing."""
    client = _client_for(role, logged_in_client, anon_client)
    rules = state_changing(app)
    assert {
        "edit.progress",
        "edit.transition",
        "edit.disclosure",
        "public.object_to",
        "audit.handle_objection",
    } <= {e for e, _, _ in rules}
    with app.app_context():
        user = webctx.get_session().scalar(select(User).where(User.username == f"{role}-user"))
    checked = 0
    for endpoint, method, rule in rules:
        for code in (OWN, OTHER):
            number, objection_id = targets.get((code, endpoint), targets[(code, "edit.progress")])
            before = _state(app, number, objection_id)
            resp = client.open(
                _url(rule, number, objection_id), method=method, data=FORMS.get(endpoint, {})
            )
            view = app.view_functions[endpoint]
            action = action_of(view, endpoint)
            with app.app_context():
                issue = webctx.get_session().scalar(select(Issue).where(Issue.number == number))
                allowed = endpoint.startswith("public.") or (
                    user is not None and action is not None
                    and can(user, action, issue if "number" in rule.arguments else None,
                            to_status=FORMS.get(endpoint, {}).get("to_status")))  # fmt: skip
            where = f"{role} {method} {endpoint} on {code}: {resp.status_code}"
            if allowed:
                assert resp.status_code not in (401, 403), where
                if endpoint in FORMS:
                    assert resp.status_code == 302, where + resp.get_data(as_text=True)[:300]
            else:
                assert resp.status_code in (401, 403, 404), where
                assert _state(app, number, objection_id) == before, where
            checked += 1
    assert checked == 2 * len(rules)


def test_county_editor_cannot_change_another_county_through_any_endpoint(
    app, targets, logged_in_client
):
    """Every state-changing endpoint aimed at another county's issue leaves it exactly as it was."""
    client = logged_in_client("county", county_code=OWN)
    for endpoint, method, rule in state_changing(app):
        number, objection_id = targets.get((OTHER, endpoint), targets[(OTHER, "edit.progress")])
        before = _state(app, number, objection_id)
        resp = client.open(
            _url(rule, number, objection_id), method=method, data=FORMS.get(endpoint, {})
        )
        # anyone may object in 公示, mark their own inbox read or make and revoke their own
        # access tokens: none of these changes an issue
        if endpoint not in ("public.object_to", "inbox.mark_all_read", "tokens.create",
                            "tokens.revoke"):
            assert resp.status_code in (403, 404), (endpoint, resp.status_code)
        assert _state(app, number, objection_id) == before, endpoint
    # and the same requests on the editor's own county do change it
    own, _ = targets[(OWN, "edit.progress")]
    assert client.post(f"/issues/{own}/progress", data={"percent": "95"}).status_code == 302
    with app.app_context():
        assert webctx.get_session().scalar(select(Issue.progress).where(Issue.number == own)) == 95


def test_county_editor_may_not_verify_or_file(app, targets, logged_in_client):
    """核查 and 已销号 are the city office's: a county editor's move there is refused (403)."""
    client = logged_in_client("county", county_code=OWN)
    number, _ = targets[(OWN, "edit.transition")]
    resp = client.post(f"/issues/{number}/transition", data={"to_status": "核查"})
    assert resp.status_code == 403


def test_undeclared_state_changing_endpoint_is_refused(app, logged_in_client):
    """A POST view that declares no action is refused even for the admin (fail closed)."""

    @app.route("/tmp-undeclared", methods=["POST"])
    def undeclared():
        """A view someone forgot to protect."""
        return "changed"

    client = logged_in_client("admin")
    resp = client.post("/tmp-undeclared")
    assert resp.status_code == 403 and "changed" not in resp.get_data(as_text=True)


@pytest.fixture
def spread(app, make_issue):
    """Issues in two counties, one unit's partner issue, one in a protected area, one roster."""
    app.config["TODAY"] = "2022-06-01"
    make_issue("A-1", lead_unit="冷水滩区生态环境分局")
    make_issue("A-2", partner_units=["冷水滩区生态环境分局"], lead_unit="冷水滩区水利局")
    make_issue(
        "B-1", county_code=OTHER, county_name="道县", protected_area="都庞岭国家级自然保护区"
    )
    make_issue("B-2", county_code=OTHER, county_name="道县", public=False)
    with app.app_context():
        session = webctx.get_session()
        with db.transaction(session):
            session.add(
                LeaderAssignment(
                    kind="city_leader",
                    name="测试市领导",
                    county_code=OTHER,
                    valid_from=date(2021, 1, 1),
                )
            )
            session.add(
                LeaderAssignment(
                    kind="county_leader",
                    name="测试县领导",
                    issue_number="A-2",
                    valid_from=date(2021, 1, 1),
                )
            )


EXPECTED_NUMBERS = {
    "admin": {"A-1", "A-2", "B-1", "B-2"},
    "viewer": {"A-1", "A-2", "B-1", "B-2"},
    "county": {"A-1", "A-2"},
    "department": {"A-1", "A-2"},
    "reserve": {"B-1"},
    "city-leader": {"B-1", "B-2"},
    "county-leader": {"A-2"},
}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reads_its_scope_in_api_pages_and_map_data(role, spread, logged_in_client):
    """API, map page count, dashboard total and detail pages all obey the same scope."""
    client = logged_in_client(role)
    expected = EXPECTED_NUMBERS[role]
    body = client.get("/api/issues").get_json()
    assert {f["id"] for f in body["features"]} == expected
    html = client.get("/").get_data(as_text=True)
    assert int(re.search(r'id="total-count">(\d+)<', html).group(1)) == len(expected)
    for number in ("A-1", "A-2", "B-1", "B-2"):
        status = 200 if number in expected else 404
        assert client.get(f"/issues/{number}").status_code == status, number
        assert client.get(f"/api/issues/{number}").status_code == status, number


def test_can_and_scope_for_rules():
    """The matrix in plain objects: editors own their county or unit; leaders and viewers read."""

    class U:
        """A stand-in account."""

        def __init__(self, role, county_code=None, unit=None, disabled=False):
            """Keep the fields ``can`` reads."""
            self.role, self.county_code, self.unit, self.disabled = (
                role,
                county_code,
                unit,
                disabled,
            )
            self.username = role

    class Iss:
        """A stand-in issue."""

        county_code, lead_unit, partner_units = OWN, "甲局", ["乙局"]

    assert can(U("county", OWN), "issue.transition", Iss(), to_status="申请")
    assert not can(U("county", OWN), "issue.transition", Iss(), to_status="已销号")
    assert not can(U("county", OTHER), "issue.progress", Iss())
    assert can(U("department", unit="乙局"), "issue.progress", Iss())
    assert not can(U("department", unit="乙局"), "issue.transition", Iss())
    assert not can(U("department", unit="丙局"), "issue.progress", Iss())
    assert not can(U("admin", disabled=True), "issue.progress", Iss())
    assert not can(None, "issue.read")
    for role in ("viewer", "city-leader", "county-leader", "reserve"):
        assert not can(U(role), "issue.progress", Iss())
    assert can(U("reserve"), "layers.manage") and not can(U("viewer"), "layers.manage")
    assert scope_for(None).kind == "public"
    assert scope_for(U("county", OWN)).counties == (OWN,)
    assert scope_for(U("city-leader", unit="张三")).leader == "张三"
    assert scope_for(U("nonsense")).kind == "public"
    with pytest.raises(ValueError, match="unknown action"):
        can(U("admin"), "issue.delete")


def test_detail_page_links_to_the_edit_form_only_for_editors(make_issue, logged_in_client):
    """The county editor sees the 填报 link and its form; a viewer sees neither."""
    make_issue("L-1", status="申请", progress=100)
    editor = logged_in_client("county")
    assert "/issues/L-1/edit" in editor.get("/issues/L-1").get_data(as_text=True)
    form = editor.get("/issues/L-1/edit").get_data(as_text=True)
    assert 'name="percent"' in form and 'name="csrf_token"' in form
    assert "核查" not in form.split('name="to_status"')[1].split("</select>")[0]
    admin_form = logged_in_client("admin").get("/issues/L-1/edit").get_data(as_text=True)
    assert "<option>核查</option>" in admin_form
    viewer = logged_in_client("viewer")
    assert "/issues/L-1/edit" not in viewer.get("/issues/L-1").get_data(as_text=True)
    assert viewer.get("/issues/L-1/edit").status_code == 403
