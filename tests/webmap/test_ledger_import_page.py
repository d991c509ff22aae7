"""Importing a ledger on the web: preview (rows, warnings, public count), then confirm."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from webmap.ledger.models import Issue
from webmap.web import context as webctx

HEADER = "编号,来源,问题名称,地址,所在县区,经度,纬度,是否公开\n"
GOOD = (HEADER + "WI-1,市交办,河道垃圾,冷水滩区梧桐街道,冷水滩区,111.6,26.42,\n"
        "WI-2,市交办,养殖污染,零陵区富家桥镇,零陵区,,,是\n"
        "WI-3,市交办,内部问题,道县,道县,111.59,25.52,否\n")  # fmt: skip


def issues(app) -> int:
    """Count the ledger's issues."""
    with app.app_context():
        return webctx.get_session().scalar(select(func.count()).select_from(Issue))


def upload(client, text: str, name: str = "台账.csv"):
    """Post a ledger file to the preview step."""
    return client.post("/ledger/import", data={"file": (io.BytesIO(text.encode()), name)},
                       content_type="multipart/form-data")  # fmt: skip


def test_preview_then_confirm(app, logged_in_client):
    """The preview writes nothing and says what will be public; confirming imports every row."""
    office = logged_in_client("admin")
    resp = upload(office, GOOD)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and issues(app) == 0
    assert "新增 <strong>3</strong>" in html
    assert "<strong>2</strong> 行将在“进展公开”页面向公众显示" in html
    assert "1 行没有坐标" in html and "第3行 WI-2：无坐标，仅定位到" in html
    assert html.count("<tr><td>") == 3 and "确认导入 3 行（其中 2 行公开）" in html
    action = re.search(r'action="(/ledger/import/[0-9a-f]{32})"', html).group(1)
    done = office.post(action, data={"confirm": "1"})
    assert done.status_code == 200 and "导入完成：共 3 行，新增 3" in done.get_data(as_text=True)
    assert issues(app) == 3
    assert office.post(action, data={"confirm": "1"}).status_code == 404  # the upload is used up


def test_a_bad_file_shows_every_error_and_no_confirm(app, logged_in_client):
    """211.6 is named by row and column; there is nothing to confirm; nothing is written."""
    office = logged_in_client("admin")
    resp = upload(office, HEADER + "WI-4,市交办,错经度,冷水滩区,冷水滩区,211.6,26.42,\n")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "第2行 【经度】 “211.6”" in html and "超出经纬度范围" in html
    assert "确认导入" not in html and issues(app) == 0


def test_cancel_imports_nothing_and_others_are_refused(app, logged_in_client):
    """Leaving out the confirmation imports nothing; a county editor cannot import."""
    office = logged_in_client("admin")
    html = upload(office, GOOD).get_data(as_text=True)
    action = re.search(r'action="(/ledger/import/[0-9a-f]{32})"', html).group(1)
    assert office.post(action, data={}).status_code == 302 and issues(app) == 0
    county = logged_in_client("county")
    assert county.get("/ledger/import").status_code == 403
    assert upload(county, GOOD).status_code == 403 and issues(app) == 0
