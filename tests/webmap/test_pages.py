"""HTML pages: map page count and filters, offline assets, dashboard, detail, leaders, errors."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.webmap.helpers import OUTSIDE, add_two_county_ledger
from webmap.ledger import figures as stats
from webmap.ledger.figures import IssueFacts
from webmap.ledger.models import Issue, Responsibility
from webmap.ledger.sample import load_sample
from webmap.render import charts, maps
from webmap.web.context import get_layers


@pytest.fixture
def client(logged_in_client):
    """Internal pages need a login (issue 8): a viewer, who reads everything internal."""
    return logged_in_client("viewer")


@pytest.fixture
def ledger(app, make_issue):
    """Four issues in two counties on a pinned day, one with a script in its title."""
    add_two_county_ledger(app, make_issue, script_title="<script>alert('x')</script>",
                          ht03_geometry={"type": "Polygon",
                                         "coordinates": [[[111.5, 25.5], [111.6, 25.5],
                                                          [111.6, 25.6], [111.5, 25.5]]]})


def _unescape(html: str) -> str:
    """Undo the \\uXXXX escapes folium's JSON writes into the page's scripts."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), html)


def _count(html: str) -> int:
    """Return the "共 N 条" number of a map page."""
    return int(re.search(r'id="total-count">(\d+)<', html).group(1))


def test_map_page_count_matches_api(client, ledger):
    """The page's 共 N 条 equals the API's numberMatched for the same query string."""
    for qs in ("", "county=431124", "source=省日常交办", "rag=red"):
        html = client.get(f"/?{qs}").get_data(as_text=True)
        api = client.get(f"/api/issues?{qs}").get_json()
        assert _count(html) == api["numberMatched"], qs
    assert _count(client.get("/?county=431124").get_data(as_text=True)) == 2


def test_map_page_keeps_filters_in_form_and_data_url(client, ledger):
    """The selected county stays selected and the map's data URL carries the filter."""
    html = client.get("/?county=431124").get_data(as_text=True)
    assert re.search(r'<option value="431124" selected>道县</option>', html)
    assert "county=431124" in html.split("yzmap.issueLayer(")[1].split(")")[0]


@pytest.mark.parametrize("path", ["/", "/?basemap=none&measure=overdue", "/dashboard",
                                  "/issues/HT-01", "/issues/HT-03", "/leaders", "/issues/NOPE"])
def test_pages_reference_no_outside_host(client, ledger, path):
    """No page (default basemap) names an outside host in src/href/url() or scripts."""
    html = client.get(path).get_data(as_text=True)
    assert OUTSIDE.findall(html) == []


def test_vendored_leaflet_is_served(client):
    """Leaflet and the cluster plugin come from the app, not a CDN."""
    for url in ("/vendor/leaflet/leaflet.js", "/vendor/leaflet/leaflet.css",
                "/vendor/markercluster/leaflet.markercluster.js", "/static/map.js"):
        with client.get(url) as resp:
            assert resp.status_code == 200, url
    assert client.get("/vendor/nope/x.js").status_code == 404


def test_script_in_title_is_escaped(client, ledger):
    """A title holding a script tag is rendered as text on the detail page."""
    html = client.get("/issues/HT-02").get_data(as_text=True)
    assert "<script>alert(" not in html and "&lt;script&gt;alert(" in html


def test_illustrative_protected_areas_are_labelled(client, ledger):
    """The illustrative protected-area layers carry 示意 in the layer control and a corner note."""
    html = _unescape(client.get("/").get_data(as_text=True))
    assert "自然保护地·核心区（示意）" in html and "自然保护地范围为示意" in html


def test_online_basemap_states_source_and_review_number(client, ledger, app):
    """天地图 needs the key from config and shows its source and 审图号 in the corner."""
    app.config.update(TIANDITU_KEY="k123", TIANDITU_REVIEW_NO="GS(0000)1号")
    html = _unescape(client.get("/?basemap=tianditu_vec").get_data(as_text=True))
    assert "tk=k123" in html and "审图号：GS(0000)1号" in html
    amap = client.get("/?basemap=amap").get_data(as_text=True)
    assert "coords=gcj02" in amap


@pytest.mark.parametrize("qs", ["basemap=google", "measure=x", "county=000000", "rag=purple",
                                "status=%E0%A4"])
def test_bad_filters_get_chinese_400_page(client, ledger, qs):
    """Unknown filter values and broken encodings give a Chinese 400 page, no traceback."""
    resp = client.get(f"/?{qs}")
    assert resp.status_code == 400
    text = resp.get_data(as_text=True)
    assert "请求有误" in text and "Traceback" not in text


def test_missing_issue_is_chinese_404(client, ledger):
    """An unknown issue number gives a Chinese 404 page."""
    resp = client.get("/issues/NOPE-1")
    assert resp.status_code == 404 and "未找到" in resp.get_data(as_text=True)
    assert client.get("/no/such/page").status_code == 404


def test_detail_page_shows_map_and_sections(client, ledger):
    """The detail page has its map, responsibility, timeline and actions sections."""
    html = client.get("/issues/HT-03").get_data(as_text=True)
    for text in ("责任主体及确定依据", "整改进展与销号环节", "问责措施", "L.map("):
        assert text in html


def test_dashboard_counts_and_ranking_explained(client, ledger):
    """Per-county totals appear and the ranking method is explained."""
    html = client.get("/dashboard").get_data(as_text=True)
    assert "威尔逊" in html and "<svg" in html
    row = re.search(r"道县</a></td>\s*<td class=\"num\">(\d+)</td>", html)
    assert row and row.group(1) == "2"


def test_wilson_ranking_does_not_punish_small_counties():
    """One late issue of one ranks above 3 late of 10; 18/20 on time ranks above 1/1."""
    rows = ([IssueFacts(county_code="A", due=True, on_time=False)]
            + [IssueFacts(county_code="B", due=True, on_time=i >= 3) for i in range(10)]
            + [IssueFacts(county_code="C", due=True, on_time=i >= 2) for i in range(20)]
            + [IssueFacts(county_code="D", due=True, on_time=True)])
    order = [c.code for c in stats.rank_counties(stats.by_county(stats.groups_of(rows)))]
    assert order.index("C") < order.index("D")
    assert stats.wilson_lower(0, 1) == 0.0 and stats.wilson_lower(0, 0) == 0.0
    assert round(stats.wilson_lower(18, 20), 3) == 0.699


def test_chart_labels_are_escaped():
    """SVG chart labels are escaped text."""
    svg = str(charts.bar_chart([("<b>x</b>", 3)], title="t"))
    assert "<b>" not in svg and "&lt;b&gt;" in svg


# --- issue 5 UI polish: what the pages say and draw, checked on the sample ledger ---------------

ENGLISH_KEYS = re.compile(r">\s*(county|lead_unit|partner_unit|city_leader|county_leader|"
                          r"attribution|declared|rule|roster|override)\s*<")
CHINESE_LABELS = ("属地县（市、区）", "牵头单位", "责任单位", "市级包县领导", "县级包案领导",
                  "空间归属", "规则表", "领导名册", "人工调整")


@pytest.fixture
def sample_client(app, session, logged_in_client):
    """A viewer's client on the sample ledger (attribution, rule, roster and override parties)."""
    load_sample(session, get_layers())
    return logged_in_client("viewer")


def _section(html: str, start: str, end: str) -> str:
    """Return the HTML between the first ``start`` and the next ``end``."""
    return html.split(start, 1)[1].split(end, 1)[0]


def _overrides(session) -> list:
    """Return the sample's manual overrides with the computed rows they replaced."""
    rows = session.scalars(select(Responsibility)).all()
    found = []
    for o in (r for r in rows if r.source == "override"):
        replaced = [r for r in rows if r.issue_id == o.issue_id and r.overridden
                    and r.party_kind == o.party_kind]
        found.append((o, replaced))
    return found


def test_detail_parties_are_labelled_in_chinese(sample_client, session):
    """Party kinds and sources read in Chinese; no internal key or English evidence is shown."""
    numbers = session.scalars(select(Issue.number).order_by(Issue.number)).all()
    seen = set()
    for number in numbers[::8] + [o.issue.number for o, _ in _overrides(session)]:
        html = sample_client.get(f"/issues/{number}").get_data(as_text=True)
        table = _section(html, 'id="responsibility"', "</table>")
        assert ENGLISH_KEYS.search(table) is None, number
        assert "point in" not in table and "near border" not in table, number
        assert "坐标落在县界图层（版本 shipped:" in table, number
        assert "「*」" not in table, number
        seen |= {k for k in CHINESE_LABELS if k in table}
    assert seen == set(CHINESE_LABELS)


def test_overridden_party_is_struck_under_its_override(sample_client, session):
    """An overridden party is struck and marked 已被人工调整替代 right below the override row."""
    overrides = _overrides(session)
    assert overrides and all(replaced for _, replaced in overrides)
    for override, replaced in overrides:
        html = sample_client.get(f"/issues/{override.issue.number}").get_data(as_text=True)
        rows = re.findall(r"<tr(.*?)</tr>", _section(html, 'id="responsibility"', "</table>"),
                          re.S)
        at = next(i for i, r in enumerate(rows) if f">{override.name}<" in r)
        assert "人工调整" in rows[at] and f"调整人：{override.actor}" in rows[at]
        assert override.reason in rows[at] and "已被人工调整替代" not in rows[at]
        for k, old in enumerate(replaced, start=at + 1):
            assert rows[k].startswith(' class="overridden"'), override.issue.number
            assert f"<s>{old.name}</s>" in rows[k] and "已被人工调整替代" in rows[k]
        assert sum("已被人工调整替代" in r for r in rows) == len(replaced)


def test_timeline_names_each_signer_once(sample_client, session):
    """Each progress and sign-off line of a signed-off sample issue shows 示例数据 exactly once."""
    issue = session.scalars(select(Issue).where(Issue.status == "已销号")
                            .order_by(Issue.number)).first()
    html = sample_client.get(f"/issues/{issue.number}").get_data(as_text=True)
    items = _section(html, '<ol class="timeline">', "</ol>").split("<li><strong>")[1:]
    assert len(items) == len(issue.updates) + len(issue.signoffs) >= 5
    assert [item.count("示例数据") for item in items] == [1] * len(items)
    assert sum("销号·" in item for item in items) == len(issue.signoffs)


def test_detail_marker_has_the_issue_colour_and_shape(sample_client, client, ledger, session):
    """The detail marker carries the issue's RAG class, colour and status glyph, not a fixed red."""
    done = session.scalars(select(Issue).where(Issue.status == "已销号")).first()
    html = _unescape(sample_client.get(f"/issues/{done.number}").get_data(as_text=True))
    assert "yz-mk yz-rag-done yz-shape-check" in html
    assert f'fill="{maps.RAG_COLORS["done"]}"' in html and maps.RAG_COLORS["red"] not in html
    assert "颜色为预警等级（蓝：已销号）" in html
    late = _unescape(client.get("/issues/HT-01").get_data(as_text=True))  # overdue, 2021 deadline
    assert "yz-rag-red yz-shape-circle" in late and "yz-rag-done" not in late
    green = _unescape(client.get("/issues/HT-04").get_data(as_text=True))
    assert "yz-rag-green" in green and f'fill="{maps.RAG_COLORS["green"]}"' in green


@pytest.mark.parametrize("path", ["/", "/issues/HT-01"])
def test_maps_have_plain_attribution_and_metric_scale(client, ledger, path):
    """Attribution prefix is plain "Leaflet" (no flag icon); the scale bar has no miles."""
    html = client.get(path).get_data(as_text=True)
    assert 'attributionControl.setPrefix("Leaflet")' in html
    assert "L.control.scale({metric: true, imperial: false})" in html
    assert "L.control.scale()" not in html


def test_issue_map_opens_on_the_city_outline(client, ledger):
    """The issue map is fitted to the city layer's extent, not a fixed box around it."""
    html = client.get("/").get_data(as_text=True)
    script = _section(html, "yzmap.issueLayer(", "</script>")
    numbers = re.search(r"fitBounds\(\s*\[\[([-\d.]+), ([-\d.]+)\], \[([-\d.]+), ([-\d.]+)\]\]",
                        html).groups()
    minx, miny, maxx, maxy = get_layers().city.frame.total_bounds
    assert [float(v) for v in numbers] == pytest.approx([miny, minx, maxy, maxx], abs=1e-6)
    assert '"glyphs"' in script and '"check"' in script
