"""Field evidence on both backends: reports with photos, their verdicts, reuse, stages, the CLI.

Photos are real JPEG/PNG/HEIC files made by ``tests/photo_files.py`` with EXIF written by piexif.
The issue (``make_issue``'s default) is a point at 111.6E 26.4N in 冷水滩区, assigned 2021-03-06;
the app judges on 2022-06-01.
"""

from __future__ import annotations

import io
import json
import re
from datetime import date, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from tests.photo_files import photo, resave
from webmap.cli import main
from webmap.ledger import db, workflow
from webmap.ledger.models import EvidencePhoto, ProgressUpdate
from webmap.web import context as webctx

AT_SITE = {"lon": 111.6003, "lat": 26.4002, "taken": datetime(2022, 5, 20, 10, 0)}
FAR = {"lon": 111.6, "lat": 26.58, "taken": datetime(2022, 5, 20, 11, 0)}  # 20 km north
BEFORE_ASSIGNED = {"lon": 111.6, "lat": 26.4, "taken": datetime(2020, 12, 1, 9, 0)}


@pytest.fixture
def county(app, logged_in_client):
    """A county editor of 冷水滩区 (431103), with the ledger's day pinned to 2022-06-01."""
    app.config["TODAY"] = "2022-06-01"
    return logged_in_client("county")


def report(client, number, photos, *, percent="60", text="现场已清理", phase="整改后",
           as_json=True):
    """Post a field report with ``photos`` ((name, bytes) pairs); return the response."""
    data = {"percent": percent, "text": text, "phase": phase,
            "photos": [(io.BytesIO(data), name) for name, data in photos]}  # fmt: skip
    headers = {"Accept": "application/json"} if as_json else {}
    return client.post(f"/issues/{number}/field", data=data, headers=headers,
                       content_type="multipart/form-data")  # fmt: skip


def stored(app, model=EvidencePhoto) -> int:
    """Count the rows of a table."""
    with app.app_context():
        return webctx.get_session().scalar(select(func.count()).select_from(model))


def test_phone_report_with_site_and_far_photos(app, county, make_issue):
    """The photo at the site passes; the one 20 km away is flagged with its distance."""
    make_issue("EV-01")
    page = county.get("/issues/EV-01/field")
    # no ``capture`` attribute: a phone then offers both the camera and the gallery
    assert page.status_code == 200 and "capture" not in page.get_data(as_text=True)
    assert 'name="photos"' in page.get_data(as_text=True)
    photos = [("site.jpg", photo(1, **AT_SITE)), ("far.jpg", photo(2, **FAR))]
    resp = report(county, "EV-01", photos)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    site, far = body["photos"]
    assert site["verdict"] == "pass" and site["checks"]["location"]["verdict"] == "pass"
    assert far["verdict"] == "flag"
    assert far["checks"]["location"]["figures"]["distance_m"] == pytest.approx(19930, rel=0.01)
    assert "19.9 公里" in far["checks"]["location"]["message"]
    html = county.get("/issues/EV-01").get_data(as_text=True)
    assert "现场照片核验" in html and "19.9 公里" in html and "通过" in html and "不符" in html
    assert "60%" in html and "现场已清理" in html
    with county.get(f"/issues/EV-01/photos/{site['photo']}/thumb") as thumb:
        assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    with county.get(f"/issues/EV-01/photos/{far['photo']}") as full:
        assert full.data == photo(2, **FAR)
    # the photo and its link to the site are drawn on the detail map, coloured by verdict
    assert "现场照片核验" in html and "#d7191c" in html


def test_time_and_missing_exif(app, county, make_issue):
    """A capture before the assignment is flagged; a photo without EXIF is unverifiable."""
    make_issue("EV-02")
    resp = report(county, "EV-02", [("early.jpg", photo(3, **BEFORE_ASSIGNED)),
                                    ("bare.png", photo(4, fmt="PNG", with_exif=False))])
    early, bare = resp.get_json()["photos"]
    assert early["verdict"] == "flag"
    assert "早于交办日期 2021-03-06" in early["checks"]["time"]["message"]
    assert bare["verdict"] == "unverified"
    assert {c["verdict"] for c in bare["checks"].values()} == {"unverified", "pass"}
    # a 整改前 (before) photo may predate the assignment
    resp = report(county, "EV-02", [("before.jpg", photo(5, **BEFORE_ASSIGNED))], phase="整改前")
    assert resp.get_json()["photos"][0]["checks"]["time"]["verdict"] == "pass"
    html = county.get("/issues/EV-02").get_data(as_text=True)
    pairs = html[html.index("整改前后对比"):html.index("全部照片")]
    assert pairs.index("before.jpg") < pairs.index("early.jpg")  # before on the left of after


def test_reuse_on_another_issue_also_after_resaving(app, county, make_issue):
    """The same photo on a second issue, even re-saved at another JPEG quality, is reuse."""
    make_issue("EV-03")
    make_issue("EV-04", geometry={"type": "Point", "coordinates": [111.61, 26.41]})
    original = photo(6, **AT_SITE)
    report(county, "EV-03", [("a.jpg", original)])
    for name, data in (("same.jpg", original), ("q55.jpg", resave(original, 55))):
        found = report(county, "EV-04", [(name, data)], text=name).get_json()["photos"][0]
        assert found["checks"]["reuse"]["verdict"] == "flag", name
        assert "EV-03" in found["checks"]["reuse"]["message"]
    exact = report(county, "EV-04", [("x.jpg", original)], text="again").get_json()["photos"][0]
    assert any(m["exact"] for m in exact["checks"]["reuse"]["figures"]["matches"])
    assert "重复" in county.get("/issues/EV-04").get_data(as_text=True)


def test_heic_is_shown_as_jpeg(app, county, make_issue):
    """A HEIC photo keeps its original; the browser gets a JPEG view."""
    make_issue("EV-05")
    found = report(county, "EV-05", [("IMG_0001.HEIC", photo(7, fmt="HEIF", **AT_SITE))])
    info = found.get_json()["photos"][0]
    assert info["verdict"] == "pass" and info["lat"] == pytest.approx(26.4002, abs=1e-6)
    with county.get(f"/issues/EV-05/photos/{info['photo']}") as view:
        assert view.mimetype == "image/jpeg" and view.data[:2] == b"\xff\xd8"


def test_bad_values_come_back_beside_the_field_and_store_nothing(app, county, make_issue):
    """Progress 150 or an .exe photo: the form returns with what was typed, nothing is stored."""
    make_issue("EV-06")
    resp = report(county, "EV-06", [("site.jpg", photo(8, **AT_SITE))], percent="150",
                  text="已拆除违建", as_json=False)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert 'id="percent-error" role="alert">进度应为 0 到 100 的整数，收到“150”' in html
    assert "已拆除违建</textarea>" in html and 'value="150"' in html
    resp = report(county, "EV-06", [("evil.jpg", b"MZ\x90\x00 not a picture")])
    assert resp.status_code == 400 and resp.get_json()["field"] == "photos"
    assert "evil.jpg" in resp.get_json()["error"]
    resp = report(county, "EV-06", [("tool.exe", b"MZ")])
    assert resp.status_code == 400 and ".exe" in resp.get_json()["error"]
    assert stored(app) == 0 and stored(app, ProgressUpdate) == 0


def test_a_retried_upload_is_recorded_once(app, county, make_issue):
    """The phone resends after a lost answer: one report, each photo once."""
    make_issue("EV-07")
    photos = [("site.jpg", photo(9, **AT_SITE))]
    assert report(county, "EV-07", photos).status_code == 200
    again = report(county, "EV-07", photos)
    assert again.status_code == 200 and again.get_json()["photos"] == []
    assert stored(app) == 1 and stored(app, ProgressUpdate) == 1


def test_plain_form_post_redirects_to_the_photos(app, county, make_issue):
    """Without script the form posts normally and lands on the issue's photos."""
    make_issue("EV-08")
    resp = report(county, "EV-08", [("site.jpg", photo(10, **AT_SITE))], as_json=False)
    assert resp.status_code == 302 and resp.location.endswith("/issues/EV-08#photos")


def test_other_county_cannot_see_or_add_photos(app, county, logged_in_client, make_issue):
    """Another county's editor gets 404 for the page, the post and the photos."""
    make_issue("EV-09")
    found = report(county, "EV-09", [("site.jpg", photo(11, **AT_SITE))]).get_json()
    other = logged_in_client("county", username="daoxian", county_code="431124")
    assert other.get("/issues/EV-09/field").status_code == 404
    assert report(other, "EV-09", [("x.jpg", photo(12, **AT_SITE))]).status_code == 404
    with other.get(f"/issues/EV-09/photos/{found['photos'][0]['photo']}/thumb") as thumb:
        assert thumb.status_code == 404
    assert stored(app) == 1


def test_stage_photos_are_checked_and_tallied_at_verification(app, logged_in_client, make_issue):
    """A photo filed as 核查意见 is checked like a field photo; 核查 shows the tally so far."""
    app.config["TODAY"] = "2022-06-01"
    issue = make_issue("EV-10")
    with app.app_context():
        session = webctx.get_session()
        issue = session.merge(issue)
        link = workflow.Evidence
        steps = [("已完成待销号", date(2022, 5, 1), ()),
                 ("初审", date(2022, 5, 2), (link("整改完成材料", url="https://x.gov.cn/a"),)),
                 ("公示", date(2022, 5, 3), (link("公示链接", url="https://x.gov.cn/b"),)),
                 ("申请", date(2022, 5, 20), (link("销号申请表", url="https://x.gov.cn/c"),))]
        with db.transaction(session):
            workflow.record_progress(session, issue, percent=100, date=date(2022, 4, 30),
                                     actor="t")
            for status, day, evidence in steps:
                workflow.transition(session, issue, status, actor="t", date=day,
                                    evidence=evidence, publicity_days=7, today=date(2022, 6, 1))
    admin = logged_in_client("admin")
    report(admin, "EV-10", [("field.jpg", photo(13, **FAR))])
    resp = admin.post("/issues/EV-10/transition", data={
        "to_status": "核查", "evidence_kind": "核查意见",
        "evidence": [(io.BytesIO(photo(14, **AT_SITE)), "核查现场.jpg")],
    }, content_type="multipart/form-data")  # fmt: skip
    assert resp.status_code == 302, resp.get_data(as_text=True)
    with app.app_context():
        rows = webctx.get_session().scalars(select(EvidencePhoto).order_by(EvidencePhoto.id)).all()
        assert [(p.stage, p.verdict) for p in rows] == [(None, "flag"), ("核查", "pass")]
        assert rows[1].attachment_id is not None
    html = admin.get("/issues/EV-10").get_data(as_text=True)
    stage = html[html.index("销号·核查"):]
    assert "核查现场.jpg" in stage and "截至本环节的现场照片核验" in stage
    assert "<td>2</td><td>1</td><td>1</td>" in stage  # checked 2, passed 1, far 1


def test_evidence_on_the_issue_map(app, county, make_issue):
    """The staff map has the evidence layer (off at first) with the flagged photo's line."""
    make_issue("EV-11")
    report(county, "EV-11", [("far.jpg", photo(15, **FAR))])
    html = county.get("/").get_data(as_text=True)
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), html)
    assert "现场照片核验" in text
    assert re.search("EV-11 整改后照片：不符，距现场 199[0-9]{2} 米", text)


@pytest.fixture
def cli(app, database_url, monkeypatch, tmp_path):
    """Return a function running ``yzmap`` against the test database and upload folder."""
    monkeypatch.setenv("YZMAP_DATABASE_URL", database_url)
    monkeypatch.setenv("YZMAP_UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.setenv("YZMAP_TODAY", "2022-06-01")

    def run(*args):
        """Invoke the CLI with ``args``."""
        return CliRunner().invoke(main, [str(a) for a in args])

    return run


def test_cli_check_add_and_refuse_all_or_nothing(app, cli, make_issue, tmp_path):
    """check stores nothing; add stores all; one unreadable photo leaves nothing stored."""
    make_issue("EV-12")
    site, far, bad = tmp_path / "site.jpg", tmp_path / "far.jpg", tmp_path / "bad.jpg"
    site.write_bytes(photo(16, **AT_SITE))
    far.write_bytes(photo(17, **FAR))
    bad.write_bytes(b"not an image")
    result = cli("evidence", "check", site, far, "--issue", "EV-12")
    assert result.exit_code == 0, result.output
    assert "site.jpg\t通过" in result.output and "far.jpg\t不符" in result.output
    assert stored(app) == 0
    result = cli("evidence", "add", "EV-12", site, bad)
    assert result.exit_code == 1 and "bad.jpg" in result.output
    assert "未存入任何照片" in result.output
    assert stored(app) == 0
    result = cli("evidence", "add", "EV-12", site, far, "--stage", "核查", "--json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["verdict"] for line in lines] == ["pass", "flag"] and stored(app) == 2
    again = cli("evidence", "check", site, "--issue", "EV-12", "--json")
    assert json.loads(again.stdout)["checks"]["reuse"]["verdict"] == "flag"


def test_briefing_county_page_tallies_the_photos(app, county, logged_in_client, make_issue):
    """The verifier's briefing pack: 冷水滩区's page counts checked, far and early photos."""
    import subprocess

    make_issue("EV-13")
    report(county, "EV-13", [("site.jpg", photo(18, **AT_SITE)), ("far.jpg", photo(19, **FAR)),
                             ("early.jpg", photo(20, **BEFORE_ASSIGNED))])  # fmt: skip
    pack = logged_in_client("admin").get("/briefing/download?county=431103&format=pack")
    assert pack.status_code == 200
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pack.data, check=True,
                          capture_output=True).stdout.decode()  # fmt: skip
    page = text[text.index("冷水滩区：整改问题情况"):]
    tally = page[page.index("现场照片核验"):].split("\n")[:3]
    assert "已核验照片" in tally[0] and "位置偏离" in tally[0]
    numbers = [int(n) for line in tally[1:] for n in re.findall(r"\b\d+\b", line)]
    assert numbers[:6] == [3, 1, 1, 1, 0, 0]  # checked, passed, far, early, reused, unverifiable
