"""The briefing page: the pack or the dispatch notice built on the web, as ``yzmap brief`` does."""

from __future__ import annotations

import io
import subprocess

import docx
import pytest

from webmap.ledger.sample import load_sample
from webmap.web import context as webctx


@pytest.fixture
def office(app, logged_in_client, session):
    """The city office's client over the sample ledger, judged on 2022-06-30."""
    app.config["TODAY"] = "2022-06-30"
    load_sample(session)
    session.commit()
    return logged_in_client("admin")


def pdf_text(data: bytes) -> str:
    """Return the text of a PDF (poppler's pdftotext)."""
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True,
                          check=True).stdout.decode()  # fmt: skip


def test_pack_for_two_counties_as_of_a_past_day(office):
    """The pack for 道县 and 宁远县 on 2022-03-31 has their pages and no other county's."""
    resp = office.get("/briefing/download?as_of=2022-03-31&county=431124&county=431126&format=pack")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert "汇报材料-2022-03-31.pdf" in resp.headers["Content-Disposition"].replace("%", "")  \
        or "2022-03-31" in resp.headers["Content-Disposition"]
    text = pdf_text(resp.data)
    assert "道县：整改问题情况" in text and "宁远县：整改问题情况" in text
    assert "零陵区：整改问题情况" not in text and "2022-03-31" in text


def test_dispatch_notice_as_word(office):
    """The notice comes as a DOCX that names the week."""
    resp = office.get("/briefing/download?format=notice-docx")
    assert resp.status_code == 200 and resp.mimetype.endswith("wordprocessingml.document")
    body = "\n".join(p.text for p in docx.Document(io.BytesIO(resp.data)).paragraphs)
    assert "调度" in body


@pytest.mark.parametrize(("query", "field", "words"), [
    ("as_of=2030-01-01", "as_of", "晚于今天"),
    ("as_of=2022-03-31&since=2022-04-01", "since", "须早于汇报日期"),
    ("county=999999", "county", "未知的县（市、区）代码：999999"),
    ("as_of=yesterday", "as_of", "不是日期"),
])  # fmt: skip
def test_bad_values_come_back_beside_the_field(office, query, field, words):
    """Each refused value returns the form (400) with the message beside its field."""
    resp = office.get(f"/briefing/download?{query}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and f'id="{field}-error"' in html and words in html


def test_only_the_city_office_builds_briefings(app, logged_in_client):
    """County staff and viewers are refused; the page lists the eleven counties for the office."""
    assert logged_in_client("county").get("/briefing").status_code == 403
    assert logged_in_client("viewer").get("/briefing/download").status_code == 403
    with app.app_context():
        frame = webctx.get_layers().counties.frame if hasattr(webctx, "get_layers") else None
    page = logged_in_client("admin").get("/briefing").get_data(as_text=True)
    assert page.count('name="county"') == (len(frame) if frame is not None else 11)
