"""Public disclosure: /public, its API and CSV show public fields only; objections in 公示."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
import shapely
from sqlalchemy import select

from webmap import db
from webmap.layers import get_layers
from webmap.models import (
    AccountabilityAction,
    Issue,
    LeaderAssignment,
    Objection,
    ProgressUpdate,
    Responsibility,
    SignOff,
)

MARKER = "内部标记XYZZY"
EXACT = (111.612345, 26.412345)


@pytest.fixture
def ledger(app, make_issue):
    """A public issue with the marker in every internal field, a hidden one, a sensitive one."""
    app.config["TODAY"] = "2022-06-01"
    internal = {"description": MARKER, "location_text": MARKER, "target": MARKER,
                "measures": MARKER, "internal_notes": MARKER, "declared_county": MARKER,
                "attribution": {"note": MARKER}, "original_number": MARKER,
                "protected_area": MARKER, "zone": MARKER, "partner_units": [MARKER]}  # fmt: skip
    make_issue("P-1", status="公示", **internal)
    make_issue("P-2", title=f"未公开 {MARKER}", public=False)
    make_issue(
        "P-3",
        sensitive=True,
        geometry={"type": "Point", "coordinates": list(EXACT)},
        township_code="431103001",
        **internal,
    )
    with app.app_context():
        session = db.get_session()
        with db.transaction(session):
            issue = session.scalar(select(Issue).where(Issue.number == "P-1"))
            issue.updates.append(
                ProgressUpdate(
                    date=date(2021, 5, 1), percent=50, text=MARKER, author=MARKER, actor=MARKER
                )
            )
            issue.signoffs.append(
                SignOff(stage="公示", signer=MARKER, date=date(2022, 5, 30), note=MARKER)
            )
            issue.actions.append(
                AccountabilityAction(
                    kind="警示约谈",
                    state="applied",
                    date=date(2022, 1, 1),
                    unit=MARKER,
                    note=MARKER,
                    actor=MARKER,
                )
            )
            issue.responsibilities.append(
                Responsibility(
                    party_kind="lead_unit", name="甲局", reason=MARKER, source="rule", actor=MARKER
                )
            )
            session.add(
                LeaderAssignment(
                    kind="county_leader",
                    name=MARKER,
                    issue_number="P-1",
                    valid_from=date(2021, 1, 1),
                )
            )
            session.add(
                Objection(
                    issue_number="P-1",
                    text=MARKER,
                    name=MARKER,
                    contact=MARKER,
                    client_hash="h",
                    state="new",
                )
            )


def test_no_internal_field_leaves_through_public_view_api_or_csv(client, ledger):
    """The marker placed in every internal field appears in none of the public outputs."""
    outputs = {
        "/public": client.get("/public"),
        "/api/public/issues": client.get("/api/public/issues"),
        "/public/issues.csv": client.get("/public/issues.csv"),
        "/api/public/issues?county=431103": client.get("/api/public/issues?county=431103"),
    }
    for url, resp in outputs.items():
        assert resp.status_code == 200, url
        text = resp.get_data(as_text=True)
        assert MARKER not in text, url
        assert "P-1" in text and "P-2" not in text, url


def test_public_api_has_only_public_fields_and_generalises_sensitive_places(client, ledger, app):
    """Properties are exactly the public list; a sensitive issue sits on its county's point."""
    body = client.get("/api/public/issues").get_json()
    assert [f["id"] for f in body["features"]] == ["P-1", "P-3"]
    props = body["features"][0]["properties"]
    assert set(props) == {
        "number",
        "title",
        "source_type",
        "batch",
        "category",
        "county_code",
        "county_name",
        "township_name",
        "deadline_class",
        "due_date",
        "lead_unit",
        "status",
        "progress",
        "is_sample",
        "rag",
        "generalised",
    }
    exact = body["features"][0]["geometry"]["coordinates"]
    assert exact == [111.6, 26.4]
    sensitive = body["features"][1]
    assert sensitive["properties"]["generalised"] is True
    lon, lat = sensitive["geometry"]["coordinates"]
    assert (lon, lat) != pytest.approx(EXACT, abs=1e-3)
    with app.app_context():
        frame = get_layers().counties.frame
        county = frame[frame["code"] == "431103"].geometry.iloc[0]
    assert county.contains(shapely.Point(lon, lat))
    assert (lon, lat) == pytest.approx(
        (county.representative_point().x, county.representative_point().y), abs=1e-4
    )


def test_public_csv_rows_and_generalised_coordinates(client, ledger):
    """The CSV holds the same issues, Chinese headers, and no exact point for sensitive ones."""
    text = client.get("/public/issues.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:2] == ["编号", "问题"]
    assert [r[0] for r in rows[1:]] == ["P-1", "P-3"]
    assert str(EXACT[0]) not in text


@pytest.mark.parametrize(
    "qs", ["q=内部", "leader=x", "bbox=111,25,112,26", "as_of=2021-12-31", "protected_area=x"]
)
def test_public_filters_cannot_probe_internal_fields(client, ledger, qs):
    """Free text, leader, bbox, as-of and protected-area filters are refused on public URLs."""
    for url in ("/public", "/api/public/issues", "/public/issues.csv"):
        resp = client.get(f"{url}?{qs}")
        assert resp.status_code == 400, url
        assert MARKER not in resp.get_data(as_text=True)


def test_publicity_notice_and_objection_are_stored_and_shown_to_the_city_office(
        app, anon_client, ledger, logged_in_client):  # fmt: skip
    """An objection to an issue in 公示 is stored, redirected back, and listed for the admin."""
    page = anon_client.get("/public").get_data(as_text=True)
    assert 'action="/public/issues/P-1/objection"' in page
    resp = anon_client.post(
        "/public/issues/P-1/objection",
        data={"text": "整改不到位，仍有排污", "name": "王", "contact": "139"},
    )
    assert resp.status_code == 302
    assert "已收到您对问题 P-1 的异议" in anon_client.get(resp.headers["Location"]).get_data(
        as_text=True
    )
    with app.app_context():
        stored = db.get_session().scalars(select(Objection).where(Objection.name == "王")).one()
        assert stored.contact == "139" and stored.state == "new" and len(stored.client_hash) == 64
    admin = logged_in_client("admin")
    listing = admin.get("/objections").get_data(as_text=True)
    assert "整改不到位，仍有排污" in listing and "139" in listing
    assert logged_in_client("viewer").get("/objections").status_code == 403
    assert (
        admin.post(f"/objections/{stored.id}/handle", data={"note": "已转县核查"}).status_code
        == 302
    )
    assert "已转县核查" in admin.get("/objections?state=handled").get_data(as_text=True)
    assert "139" not in anon_client.get("/public").get_data(as_text=True)


def test_objection_refused_outside_publicity_without_token_and_when_too_many(
    app, anon_client, client, ledger
):
    """Not in 公示: 400; hidden issue: 404; no CSRF token: 400; the sixth within an hour: 429."""
    assert anon_client.post("/public/issues/P-3/objection", data={"text": "x"}).status_code == 400
    assert anon_client.post("/public/issues/P-2/objection", data={"text": "x"}).status_code == 404
    assert anon_client.post("/public/issues/P-1/objection", data={"text": ""}).status_code == 400
    assert client.post("/public/issues/P-1/objection", data={"text": "x"}).status_code == 400
    for _ in range(4):  # the fixture already stored one objection, but from another client hash
        assert (
            anon_client.post("/public/issues/P-1/objection", data={"text": "x"}).status_code == 302
        )
    assert anon_client.post("/public/issues/P-1/objection", data={"text": "x"}).status_code == 302
    resp = anon_client.post("/public/issues/P-1/objection", data={"text": "x"})
    assert resp.status_code == 429
    assert "每小时最多 5 条" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.get_session().query(Objection).count() == 6
