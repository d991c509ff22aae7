"""Safe output and input: headers, CSP nonces, inert script payloads, upload limits."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from sqlalchemy import select

from webmap.ledger import db
from webmap.ledger.io.formulas import neutralise_cell
from webmap.ledger.models import Issue, Objection, ProgressUpdate
from webmap.web import context as webctx

PAYLOAD = "<script>__pwned=1</script><img src=x onerror=alert(1)>"  # fits varchar(60) + index
FORMULA = '=HYPERLINK("http://evil.example","x")'
TEXT_FIELDS = ("title", "description", "category", "location_text", "lead_unit", "target",
               "measures", "internal_notes", "township_name", "batch")  # fmt: skip


@pytest.fixture
def poisoned(app, make_issue):
    """An issue with a script payload in every text field, a formula title, a poisoned objection."""
    app.config["TODAY"] = "2022-06-01"
    make_issue("X-1", status="公示", partner_units=[PAYLOAD],
               **{f: f"{PAYLOAD}{i}" for i, f in enumerate(TEXT_FIELDS)})  # fmt: skip
    make_issue("X-2", title=FORMULA, lead_unit="-2+3", category="@SUM(A1)")
    with app.app_context():
        session = webctx.get_session()
        with db.transaction(session):
            issue = session.scalar(select(Issue).where(Issue.number == "X-1"))
            issue.updates.append(
                ProgressUpdate(
                    date=date(2021, 5, 1), percent=50, text=PAYLOAD, author=PAYLOAD, actor="t"
                )
            )
            session.add(
                Objection(
                    issue_number="X-1",
                    text=PAYLOAD,
                    name=PAYLOAD,
                    contact=PAYLOAD,
                    client_hash="h",
                    state="new",
                )
            )


def _assert_inert(html: str, where: str) -> None:
    """No raw payload tag in the HTML: it is only present escaped."""
    assert "<script>__pwned" not in html, where
    assert "<img src=x" not in html, where
    assert "&lt;script&gt;__pwned" in html or "\\u003cscript" in html, where


def test_script_payloads_are_escaped_in_every_page(poisoned, logged_in_client, client):
    """Map, dashboard, detail, edit, audit, objections and public pages escape user text."""
    admin = logged_in_client("admin")
    pages = ["/issues/X-1", "/issues/X-1/edit", "/objections", "/audit?issue=X-1"]
    for url in pages:
        resp = admin.get(url)
        assert resp.status_code == 200, url
        _assert_inert(resp.get_data(as_text=True), url)
    for url in ("/", "/dashboard", "/?q=script"):
        html = admin.get(url).get_data(as_text=True)
        assert "<script>__pwned" not in html and "<img src=x" not in html, url
    public = client.get("/public").get_data(as_text=True)
    _assert_inert(public, "/public")


def test_popup_data_is_served_as_json_not_html(poisoned, logged_in_client):
    """Popups are filled from the API's JSON (textContent in map.js): the payload stays data."""
    admin = logged_in_client("admin")
    resp = admin.get("/api/issues/X-1")
    assert resp.mimetype == "application/geo+json"
    assert resp.get_json()["properties"]["title"] == f"{PAYLOAD}0"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    with admin.get("/static/map.js") as js:
        assert "innerHTML" not in js.get_data(as_text=True)


def test_csv_exports_neutralise_formula_cells(poisoned, client):
    """Public CSV cells starting with = + - @ get a leading apostrophe."""
    text = client.get("/public/issues.csv").get_data(as_text=True)
    rows = {r[0]: r for r in csv.reader(io.StringIO(text.lstrip("\ufeff")))}
    assert rows["X-2"][1] == "'" + FORMULA
    assert "'-2+3" in rows["X-2"] and "'@SUM(A1)" in rows["X-2"]
    assert not any(c[:1] in "=+-@" for r in rows.values() for c in r if c)


@pytest.mark.parametrize(("value", "expected"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"), ("\tx", "'\tx"),
    ("正常", "正常"), ("", ""), (5, 5), (None, None), (-3.5, -3.5),
])  # fmt: skip
def test_neutralise_cell(value, expected):
    """Only text that a spreadsheet would read as a formula changes."""
    assert neutralise_cell(value) == expected


def test_security_headers_on_pages_apis_and_errors(client, logged_in_client):
    """CSP with a nonce and frame-ancestors, nosniff, Referrer-Policy on every kind of response."""
    admin = logged_in_client("admin")
    for resp in (
        client.get("/public"),
        client.get("/login"),
        client.get("/api/public/issues"),
        admin.get("/"),
        admin.get("/no-such-page"),
        client.get("/api/issues"),
    ):
        csp = resp.headers["Content-Security-Policy"]
        assert re.search(r"script-src 'self' 'nonce-[\w-]{20,}'", csp)
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert resp.headers["X-Frame-Options"] == "DENY"


def test_every_inline_script_of_the_map_page_carries_the_nonce(make_issue, logged_in_client):
    """Folium's inline scripts (head and body) carry this response's nonce, and only it."""
    make_issue("N-1")
    resp = logged_in_client("viewer").get("/")
    nonce = re.search(r"'nonce-([\w-]+)'", resp.headers["Content-Security-Policy"]).group(1)
    html = resp.get_data(as_text=True)
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline, "the map page has inline scripts"
    assert all(f'nonce="{nonce}"' in attrs for attrs in inline)
    second = logged_in_client("viewer").get("/").headers["Content-Security-Policy"]
    assert nonce not in second  # a fresh nonce per response


def test_upload_size_count_and_type_limits(app, make_issue, logged_in_client):
    """Too large: 413; too many files: 413; a script file: 400; nothing is recorded."""
    app.config.update(TODAY="2022-06-01", MAX_CONTENT_LENGTH=64 * 1024, UPLOAD_MAX_FILES=2)
    make_issue("U-1", status="已完成待销号")
    admin = logged_in_client("admin")
    url = "/issues/U-1/transition"
    form = {"to_status": "初审", "evidence_kind": "整改完成材料"}
    big = {**form, "evidence": (io.BytesIO(b"x" * 100_000), "scan.pdf")}
    assert admin.post(url, data=big, content_type="multipart/form-data").status_code == 413
    many = {**form, "evidence": [(io.BytesIO(b"%PDF"), f"s{i}.pdf") for i in range(3)]}
    assert admin.post(url, data=many, content_type="multipart/form-data").status_code == 413
    bad = {**form, "evidence": (io.BytesIO(b"<script>"), "page.html")}
    resp = admin.post(url, data=bad, content_type="multipart/form-data")
    assert resp.status_code == 400 and "不支持的文件类型" in resp.get_data(as_text=True)
    ok = {**form, "evidence": (io.BytesIO(b"%PDF-1.4 evidence"), "../../整改材料.pdf")}
    assert admin.post(url, data=ok, content_type="multipart/form-data").status_code == 302
    with app.app_context():
        issue = webctx.get_session().scalar(select(Issue).where(Issue.number == "U-1"))
        assert issue.status == "初审"
        attachment = issue.signoffs[-1].attachments[0]
        assert attachment.filename == "整改材料.pdf" and attachment.size == 17
        assert app.config["UPLOAD_DIR"] in attachment.stored_path
