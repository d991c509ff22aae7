"""Public disclosure: /public, its API and CSV show public fields only; objections in 公示."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date

import pytest
import shapely
from sqlalchemy import select

from webmap.ledger import db
from webmap.ledger.models import (
    AccountabilityAction,
    Issue,
    LeaderAssignment,
    Objection,
    ProgressUpdate,
    Responsibility,
    SignOff,
)
from webmap.web import context as webctx
from webmap.web.context import get_layers

MARKER = "内部标记XYZZY"
OUTSIDE = re.compile(r"""(?:https?:)?//(?!127\.0\.0\.1|localhost)[a-z0-9.-]+\.[a-z]{2,}""", re.I)
EXACT = (111.612345, 26.412345)
CONTACT = "微信 yz-contact-mark"  # complainant contact: shown to the city office only


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
        session = webctx.get_session()
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


def map_options(html: str) -> dict:
    """Return the options the page hands to ``yzmap.issueLayer`` (data, item and detail URLs)."""
    found = re.search(r"yzmap\.issueLayer\((\{.*?\})\);", html, re.S)
    assert found, "the page has no issue layer"
    return json.loads(found.group(1))


def map_data(client, url: str) -> dict:
    """Follow a map data URL and its ``next`` links; return number -> [lon, lat] of every issue."""
    points, pages = {}, 0
    while url:
        resp = client.get(url)
        assert resp.status_code == 200, url
        page = resp.get_json()
        assert page["type"] == "IssuePoints" and page["shapes"] == []
        points |= {n: [x, y] for n, x, y in zip(page["number"], page["lon"], page["lat"],
                                                  strict=True)}  # fmt: skip
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
        pages += 1
        assert pages < 50, "next links never end"
    return points


def test_no_internal_field_leaves_through_public_view_api_map_or_csv(client, ledger):
    """The marker placed in every internal field appears in none of the public outputs."""
    data_url = map_options(client.get("/public").get_data(as_text=True))["dataUrl"]
    urls = ["/public", "/api/public/issues", "/public/issues.csv",
            "/api/public/issues?county=431103", data_url, "/api/public/issues?f=map&limit=1",
            "/api/public/issues/P-1", "/public/issues/P-1"]  # fmt: skip
    for url in urls:
        resp = client.get(url)
        assert resp.status_code == 200, url
        text = resp.get_data(as_text=True)
        assert MARKER not in text and str(EXACT[0]) not in text, url
        assert "P-1" in text and "P-2" not in text, url
    for url in ("/api/public/issues/P-3", "/public/issues/P-3"):
        text = client.get(url).get_data(as_text=True)
        assert MARKER not in text and str(EXACT[0]) not in text and "P-3" in text, url
    assert client.get("/api/public/issues/P-2").status_code == 404
    assert client.get("/public/issues/P-2").status_code == 404


def test_public_map_draws_every_public_issue_the_api_lists(anon_client, ledger, make_issue):
    """Anonymous /public draws, from the public data only, as many issues as the API matches."""
    for i in range(5):
        make_issue(
            f"Q-{i}",
            status="整改中",
            geometry={"type": "Point", "coordinates": [111.5 + i / 100, 26.3]},
        )
    make_issue("Q-9", geometry=None)  # public but not located: counted, not drawn
    html = anon_client.get("/public").get_data(as_text=True)
    options = map_options(html)
    assert options["dataUrl"].startswith("/api/public/issues?") and "f=map" in options["dataUrl"]
    api = anon_client.get("/api/public/issues?limit=1000").get_json()
    located = {f["id"]: f["geometry"]["coordinates"] for f in api["features"] if f["geometry"]}
    drawn = map_data(anon_client, options["dataUrl"])
    assert api["numberMatched"] == 8 == len(drawn)
    assert {n: p for n, p in drawn.items() if p[0] is not None} == located
    assert drawn["Q-9"] == [None, None] and "P-2" not in drawn
    assert re.search(r'id="total-count">8<', html)
    # paged one issue at a time, the next links reach the same issues
    assert map_data(anon_client, "/api/public/issues?f=map&limit=1") == drawn
    assert map_data(anon_client, "/api/public/issues?f=map&county=431103") == drawn
    # popups read public fields of one issue; the detail link is a public page
    item = anon_client.get(options["itemUrl"].replace("__NUMBER__", "P-3")).get_json()
    assert item["properties"]["generalised"] is True
    assert item["geometry"]["coordinates"] == located["P-3"]
    assert {f for f, _ in options["popupFields"]} <= set(item["properties"])
    assert anon_client.get(options["detailUrl"].replace("__NUMBER__", "P-1")).status_code == 200


def test_public_map_has_boundaries_choropleth_and_illustrative_labels(anon_client, ledger):
    """County outlines, the completion-rate choropleth and 示意 labels are on the public map."""
    html = anon_client.get("/public").get_data(as_text=True)
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), html)
    assert "分县完成率" in text and "县（市、区）界" in text
    assert "自然保护地·核心区（示意）" in text and "自然保护地范围为示意" in text
    assert 'id="drawn-count"' in html and "图例" in html


def test_public_map_filter_and_bad_format(anon_client, ledger):
    """A county filter carries into the map data; an unknown ``f`` is a Chinese 400."""
    options = map_options(anon_client.get("/public?county=431124").get_data(as_text=True))
    assert "county=431124" in options["dataUrl"]
    assert map_data(anon_client, options["dataUrl"]) == {}
    resp = anon_client.get("/api/public/issues?f=xml")
    assert resp.status_code == 400 and "参数 f" in resp.get_data(as_text=True)


@pytest.mark.parametrize(
    "path", ["/public", "/public?county=431103", "/public/issues/P-1", "/public/issues/P-3"]
)
def test_public_pages_name_no_outside_host(anon_client, ledger, path):
    """No public page names an outside host in src/href/url() or its scripts."""
    html = anon_client.get(path).get_data(as_text=True)
    assert OUTSIDE.findall(html) == []
    for src in re.findall(r'<script[^>]*\ssrc="([^"]+)"', html):
        assert src.startswith("/"), src
        with anon_client.get(src) as resp:  # served by the app, to anonymous visitors too
            assert resp.status_code == 200, src


def test_public_page_scripts_carry_the_csp_nonce(anon_client, ledger):
    """Every script tag of /public carries this response's nonce, so the map runs under the CSP."""
    resp = anon_client.get("/public")
    nonce = re.search(r"'nonce-([^']+)'", resp.headers["Content-Security-Policy"]).group(1)
    tags = re.findall(r"<script[^>]*>", resp.get_data(as_text=True))
    assert len(tags) >= 3 and all(f'nonce="{nonce}"' in t for t in tags)


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
    "qs", ["q=内部", "leader=x", "bbox=111,25,112,26", "protected_area=x"]
)
def test_public_filters_cannot_probe_internal_fields(client, ledger, qs):
    """Free text, leader, bbox and protected-area filters are refused on public URLs."""
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
        data={"text": "整改不到位，仍有排污", "name": "王", "contact": CONTACT},
    )
    assert resp.status_code == 302
    assert "已收到您对问题 P-1 的异议" in anon_client.get(resp.headers["Location"]).get_data(
        as_text=True
    )
    with app.app_context():
        stored = webctx.get_session().scalars(select(Objection).where(Objection.name == "王")).one()
        assert stored.contact == CONTACT and stored.state == "new" and len(stored.client_hash) == 64
    admin = logged_in_client("admin")
    listing = admin.get("/objections").get_data(as_text=True)
    assert "整改不到位，仍有排污" in listing and CONTACT in listing
    assert logged_in_client("viewer").get("/objections").status_code == 403
    assert (
        admin.post(f"/objections/{stored.id}/handle", data={"note": "已转县核查"}).status_code
        == 302
    )
    assert "已转县核查" in admin.get("/objections?state=handled").get_data(as_text=True)
    assert CONTACT not in anon_client.get("/public").get_data(as_text=True)


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
        assert webctx.get_session().query(Objection).count() == 6


def add_publicity(session, number: str, start: date | None) -> None:
    """Record a 公示 sign-off starting on ``start`` for issue ``number`` (None: no record).

    Uses the test's own session, which the test client's requests share, so they see it at once.
    """
    if start is None:
        return
    with db.transaction(session):
        issue = session.scalar(select(Issue).where(Issue.number == number))
        issue.signoffs.append(SignOff(stage="公示", signer="city", date=start))


def objection_count(app) -> int:
    """Return how many objections are stored."""
    with app.app_context():
        return webctx.get_session().query(Objection).count()


@pytest.mark.parametrize(
    ("start", "shown"),
    [
        (date(2019, 1, 1), "公示期已满"),
        (date(2022, 6, 2), "公示尚未开始"),
        (None, "公示起始日期未登记"),
    ],
)
def test_objection_refused_unless_the_publicity_period_is_open(
        app, session, anon_client, ledger, make_issue, start, shown):  # fmt: skip
    """Still in 公示 but the period ended (or has not begun): a notice, no form, and a 400."""
    make_issue("P-4", status="公示", title="早已公示的问题")
    add_publicity(session, "P-4", start)
    page = anon_client.get("/public").get_data(as_text=True)
    notice = page.split('id="notice-P-4"')[1].split("</article>")[0]
    assert shown in notice and "<form" not in notice
    assert 'action="/public/issues/P-4/objection"' not in page
    assert 'action="/public/issues/P-1/objection"' in page  # P-1's period is still open
    detail = anon_client.get("/public/issues/P-4").get_data(as_text=True)
    assert shown in detail and "/objection" not in detail
    before = objection_count(app)
    resp = anon_client.post("/public/issues/P-4/objection", data={"text": "仍有排污"})
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert "P-4" in body and ("届满" in body or "开始" in body or "未登记" in body)
    assert objection_count(app) == before


@pytest.mark.parametrize(
    ("day", "status"),
    [("2022-05-30", 302), ("2022-06-05", 302), ("2022-06-06", 400), ("2022-05-29", 400)],
)
def test_objection_accepted_on_each_day_of_the_period_only(app, anon_client, ledger, day, status):
    """P-1's 公示 starts 2022-05-30 and lasts PUBLICITY_DAYS (7): 05-30..06-05 inclusive."""
    assert app.config["PUBLICITY_DAYS"] == 7
    app.config["TODAY"] = day
    before = objection_count(app)
    resp = anon_client.post("/public/issues/P-1/objection", data={"text": "整改不到位"})
    assert resp.status_code == status
    assert objection_count(app) == before + (status == 302)
    page = anon_client.get("/public").get_data(as_text=True)
    assert ('action="/public/issues/P-1/objection"' in page) == (status == 302)
    assert "公示期：2022-05-30 至 2022-06-05" in page


def test_publicity_period_follows_the_latest_publicity_and_the_setting(
        app, session, anon_client, ledger):  # fmt: skip
    """A re-run 公示 (after an upheld objection) opens a new period; PUBLICITY_DAYS sets its end."""
    app.config.update(TODAY="2022-07-01", PUBLICITY_DAYS=7)
    assert anon_client.post("/public/issues/P-1/objection", data={"text": "x"}).status_code == 400
    add_publicity(session, "P-1", date(2022, 6, 28))
    assert anon_client.post("/public/issues/P-1/objection", data={"text": "x"}).status_code == 302
    app.config["PUBLICITY_DAYS"] = 3  # 06-28..06-30
    resp = anon_client.post("/public/issues/P-1/objection", data={"text": "x"})
    assert resp.status_code == 400 and "2022-06-30 届满" in resp.get_data(as_text=True)


def test_anonymous_nav_shows_only_public_links(anon_client, ledger, logged_in_client):
    """Anonymous visitors see 进展公开 and 登录, not links to internal pages; staff see both."""
    html = anon_client.get("/public").get_data(as_text=True)
    nav = html.split("<nav>")[1].split("</nav>")[0]
    assert "进展公开" in nav and "登录" in nav
    assert "问题地图" not in nav and "统计看板" not in nav and "领导包联" not in nav
    staff = logged_in_client("viewer").get("/public").get_data(as_text=True)
    assert "统计看板" in staff.split("<nav>")[1].split("</nav>")[0]


def test_public_past_days_follow_todays_disclosure_decisions(app, make_issue, anon_client):
    """as_of shows the past state, but a place made sensitive since stays generalised and an
    issue withdrawn from disclosure since is not shown for any day."""
    from webmap.ledger.events import update_issue

    app.config["TODAY"] = "2022-06-01"
    point = {"type": "Point", "coordinates": list(EXACT)}
    make_issue("Q-1", geometry=point, township_code="431103001")
    make_issue("Q-2", geometry=point)
    with app.app_context():
        session = webctx.get_session()
        with db.transaction(session):
            q1, q2 = (session.scalar(select(Issue).where(Issue.number == n))
                      for n in ("Q-1", "Q-2"))  # fmt: skip
            update_issue(session, q1, {"sensitive": True}, actor="admin", date=date(2022, 5, 1),
                         kind="disclosure.changed")  # fmt: skip
            update_issue(session, q2, {"public": False}, actor="admin", date=date(2022, 5, 1),
                         kind="disclosure.changed")  # fmt: skip
    for query in ("as_of=2021-12-31", ""):
        body = anon_client.get(f"/api/public/issues?{query}").get_json()
        features = {f["id"]: f for f in body["features"]}
        assert set(features) == {"Q-1"}, query
        assert features["Q-1"]["properties"]["generalised"] is True
        assert features["Q-1"]["geometry"]["coordinates"] != list(EXACT)
    text = anon_client.get("/public/issues.csv?as_of=2021-12-31").get_data(as_text=True)
    assert "Q-2" not in text and str(EXACT[0]) not in text
