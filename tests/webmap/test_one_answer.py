"""One question, one answer, whichever door a user comes through (issue 13).

- the boundary layers in use: after ``yzmap boundaries import`` of an authoritative reserve,
  ``yzmap locate``, issues entered with ``yzmap import-ledger``, the issue page, ``/api/issues``,
  the overlap report and the briefing pack all name the imported reserve and zone;
- the figures: the dashboard, the briefing pack and the public page give identical per-county
  figures for the same day, today and as of a past day;
- where imported layers live: in the database, so two databases on one install each see only
  their own, another process's import is seen at the next request, and versions kept in the
  instance folder by earlier releases move into one database, once.

Every test runs on SQLite and on PostGIS (the ``app`` fixture), with the real command line.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner

from tests.webmap.helpers import COUNTY_NAMES, ledger_session, pdf_text, reserve_frame
from webmap import create_app
from webmap.cli import main
from webmap.ledger import boundaries as store
from webmap.ledger.sample import load_sample
from webmap.web.context import get_layers

RESERVE = "导入测试自然保护区"
# (number, lon, lat, zone): a core, a buffer and an experimental-zone point, and one outside
POINTS = [("ZR-1", 111.92, 25.915, "核心区"), ("ZR-2", 111.885, 25.94, "缓冲区"),
          ("ZR-3", 111.87, 25.87, "实验区"), ("ZR-4", 111.61, 26.42, None)]  # fmt: skip


def run(*args, check: bool = True):
    """Run ``yzmap`` in-process against the database the environment names."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    if check:
        assert result.exit_code == 0, result.output
    return result


def import_reserve(tmp_path: Path, name: str = RESERVE) -> str:
    """Import a three-zone reserve with ``yzmap boundaries import``; return the command output."""
    path = tmp_path / f"{name}.gpkg"
    reserve_frame(name).to_file(path, driver="GPKG")
    return run("boundaries", "import", path, "--layer", "protected-areas",
               "--vintage", "2024-06-30").output  # fmt: skip


@pytest.fixture
def cli_on_app_db(app, monkeypatch) -> str:
    """Point the command line at the app's database (SQLite or PostGIS); return its URL."""
    monkeypatch.setenv("YZMAP_DATABASE_URL", app.config["DATABASE_URL"])
    return app.config["DATABASE_URL"]


def test_imported_reserve_is_the_answer_through_every_door(app, cli_on_app_db, tmp_path,
                                                           logged_in_client):  # fmt: skip
    """locate, issues, issue page, API, overlap report and briefing name the imported zones."""
    assert "该版本现已启用" in import_reserve(tmp_path)
    listed = run("boundaries", "list").output
    assert "* 2024-06-30_" in listed and "  内置 illustrative" in listed

    # yzmap locate reads the layers in use, not only the shipped ones
    points = tmp_path / "points.csv"
    pd.DataFrame([(n, x, y) for n, x, y, _ in POINTS], columns=["编号", "经度", "纬度"]).to_csv(
        points, index=False, encoding="utf-8")  # fmt: skip
    located = run("locate", points, "--out", tmp_path / "located.csv")
    assert "protected_areas imported:2024-06-30_" in located.output
    out = pd.read_csv(tmp_path / "located.csv", dtype=str, keep_default_na=False)
    zones = {r.编号: (r.protected_area, r.zone) for r in out.itertuples()}
    expected = {n: ((RESERVE, z) if z else ("", "")) for n, _, _, z in POINTS}
    assert zones == expected

    # the same points entered as issues
    ledger = tmp_path / "ledger.csv"
    pd.DataFrame([(n, "省日常交办", f"{n} 保护区内采石", "矿山开采", x, y, "2025-12-31")
                  for n, x, y, _ in POINTS],
                 columns=["编号", "问题来源", "问题名称", "问题类别", "经度", "纬度", "整改时限"]
                 ).to_csv(ledger, index=False, encoding="utf-8")  # fmt: skip
    imported = run("import-ledger", ledger)
    assert "protected_areas imported:2024-06-30_" in imported.output
    client = logged_in_client("admin")
    assert "自然保护地及功能分区：" in client.get("/").get_data(as_text=True)
    assert "版本 imported:2024-06-30_" in client.get("/").get_data(as_text=True)
    for number, _, _, zone in POINTS[:3]:
        page = client.get(f"/issues/{number}").get_data(as_text=True)
        assert f"{RESERVE} {zone}" in page and "边界版本 imported:2024-06-30_" in page, number
    api = client.get("/api/issues?properties=number,protected_area,zone").get_json()
    got = {f["id"]: (f["properties"]["protected_area"] or "", f["properties"]["zone"] or "")
           for f in api["features"]}  # fmt: skip
    assert got == expected
    assert api["boundaryVersions"]["protected_areas"].startswith("imported:2024-06-30_")

    # the overlap report of the ledger issues
    report = pd.read_csv(pd.io.common.BytesIO(client.get("/overlap/export.csv").data),
                         dtype=str, keep_default_na=False, encoding="utf-8-sig")  # fmt: skip
    inside = report[report["relation"] == "inside"]
    assert dict(zip(inside["site_id"], inside["zone"], strict=True)) == {
        n: z for n, _, _, z in POINTS if z}  # fmt: skip
    assert set(inside["protected_area"]) == {RESERVE}
    assert all(v.startswith("imported:2024-06-30_") for v in inside["boundary_version"])

    # the briefing pack lists them with their reserve and zone, and names the version
    run("brief", "--out", tmp_path / "pack.pdf")
    text = pdf_text(tmp_path / "pack.pdf", layout=True)
    assert "自然保护地内的问题" in text and "imported:2024-06-30_" in text
    for number, _, _, zone in POINTS[:3]:
        line = next(line for line in text.splitlines() if number in line and RESERVE in line)
        assert zone in line, line


def _cells(row: str) -> list[str]:
    """Return the text of the cells of one HTML table row."""
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    return [re.sub(r"<[^>]+>", "", c).strip() for c in cells]


def _rows(html: str, table: str) -> list[list[str]]:
    """Return the cell texts of every body row of the table whose opening tag holds ``table``."""
    body = html.split(table, 1)[1].split("</table>", 1)[0]
    return [_cells(r) for r in re.findall(r"<tr>(.*?)</tr>", body, re.S) if "<td" in r]


def dashboard_figures(html: str) -> dict[str, tuple[int, ...]]:
    """Return county -> (total, finished, signed off, overdue) from the dashboard."""
    return {c[1]: tuple(map(int, c[2:6])) for c in _rows(html, 'id="county-table"')}


def public_figures(html: str) -> dict[str, tuple[int, ...]]:
    """Return county -> (total, finished, signed off, overdue) from the public page."""
    return {c[0]: tuple(map(int, c[1:5])) for c in _rows(html, 'class="public-counties"')}


def pack_figures(pdf: Path) -> dict[str, tuple[int, ...]]:
    """Return county -> (total, finished, signed off, overdue) from the pack's county table."""
    page = pdf_text(pdf, layout=True).split("各县（市、区）整改情况", 1)[1].split("\f", 1)[0]
    found = {}
    for name in COUNTY_NAMES:
        m = re.search(rf"^\s*{name}\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s", page, re.M)
        if m:  # total, finished, signed off, open, overdue, due soon
            found[name] = tuple(int(m.group(i)) for i in (1, 2, 3, 5))
    return found


def test_dashboard_briefing_and_public_give_the_same_county_figures(
        app, session, cli_on_app_db, tmp_path, logged_in_client, anon_client):  # fmt: skip
    """For today and for a past day the three outputs agree county by county."""
    load_sample(session, get_layers())
    viewer = logged_in_client("viewer")
    for as_of in (None, "2022-12-31"):
        query = f"?as_of={as_of}" if as_of else ""
        dashboard = dashboard_figures(viewer.get(f"/dashboard{query}").get_data(as_text=True))
        public = public_figures(anon_client.get(f"/public{query}").get_data(as_text=True))
        pack = tmp_path / f"pack-{as_of}.pdf"
        run("brief", "--out", pack, *(["--as-of", as_of] if as_of else []))
        assert set(dashboard) == set(COUNTY_NAMES), as_of
        assert dashboard == public == pack_figures(pack), as_of
    assert dashboard != dashboard_figures(viewer.get("/dashboard").get_data(as_text=True))


def _db_copy(template: Path, folder: Path, name: str) -> str:
    """Return the URL of a fresh migrated SQLite database ``name`` in ``folder``."""
    path = folder / f"{name}.sqlite"
    shutil.copy(template, path)
    return f"sqlite:///{path}"


def test_two_databases_on_one_install_see_only_their_own_layers(
        app, cli_on_app_db, sqlite_template, tmp_path, monkeypatch):  # fmt: skip
    """A reserve imported into one database is not the layer in use of another."""
    import_reserve(tmp_path)
    other = _db_copy(sqlite_template, tmp_path, "other")
    monkeypatch.setenv("YZMAP_DATABASE_URL", other)
    listed = run("boundaries", "list").output
    assert "2024-06-30_" not in listed and "* 内置 illustrative" in listed
    with ledger_session(other) as s:
        assert store.layers_in_use(s).protected_areas.info.authoritative is False
    with ledger_session(app.config["DATABASE_URL"]) as s:
        assert set(store.layers_in_use(s).protected_areas.frame["name"]) == {RESERVE}
    second = create_app({"TESTING": True, "DATABASE_URL": other, "SECRET_KEY": "t"})
    with second.app_context():
        assert not get_layers().protected_areas.info.authoritative
    with app.app_context():
        assert get_layers().protected_areas.info.version.startswith("imported:2024-06-30_")


def test_an_import_by_another_process_is_in_use_at_the_next_request(
        app, cli_on_app_db, tmp_path, logged_in_client):  # fmt: skip
    """Several servers on one database agree: the running app sees another process's import."""
    client = logged_in_client("reserve")
    assert "illustrative" in client.get("/boundaries").get_data(as_text=True)
    path = tmp_path / "reserve.gpkg"
    reserve_frame(RESERVE).to_file(path, driver="GPKG")
    yzmap = Path(sys.executable).with_name("yzmap")
    done = subprocess.run([str(yzmap), "boundaries", "import", str(path), "--layer",
                           "protected-areas"], capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    page = client.get("/boundaries").get_data(as_text=True)
    assert "正在使用：<strong>imported:" in page


def _legacy_store(root: Path, tmp_path: Path) -> str:
    """Write one protected-area version as earlier releases kept it in the instance folder."""
    import json

    from geo.importer import read_boundary_file

    src = tmp_path / "old.gpkg"
    reserve_frame("旧版实例目录保护区").to_file(src, driver="GPKG")
    result = read_boundary_file(src, kind="protected_area", vintage="2023-06-30")
    version = "2023-06-30_20241101T080000_" + result.report.sha256[:8]
    folder = root / "protected_areas" / version
    folder.mkdir(parents=True)
    result.layer.frame.to_file(folder / "layer.gpkg", driver="GPKG", layer="protected_areas")
    report = result.report.to_dict()
    report["source_layer"] = report.pop("layer")
    meta = {**report, "layer": "protected_areas", "version": version, "kind": "protected_area",
            "vintage": "2023-06-30", "imported_at": "2024-11-01T08:00:00+00:00",
            "authoritative": True, "zone_scheme": "reserve3"}  # fmt: skip
    (folder / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    (root / "protected_areas" / "active.json").write_text(json.dumps({"version": version}))
    return version


def test_versions_from_the_instance_folder_move_into_one_database_once(
        app, cli_on_app_db, sqlite_template, tmp_path, monkeypatch):  # fmt: skip
    """yzmap init moves the old file store in with its metadata and pin, and marks it moved."""
    root = Path(app.instance_path) / "boundaries"
    monkeypatch.setenv("YZMAP_INSTANCE_PATH", app.instance_path)
    version = _legacy_store(root, tmp_path)
    moved = run("init").output
    assert "1 个边界版本迁入数据库" in moved and version in moved
    with ledger_session(cli_on_app_db) as s:
        (stored,) = store.list_versions(s, "protected_areas")
        assert (stored.version, stored.meta["vintage"], store.pinned_version(s, "protected_areas")
                ) == (version, "2023-06-30", version)  # fmt: skip
        assert stored.meta["source_file"] == "old.gpkg" and len(stored.meta["sha256"]) == 64
        layer = store.layers_in_use(s).protected_areas
        assert set(layer.frame["name"]) == {"旧版实例目录保护区"}
    assert (root / store.MIGRATED_MARK).is_file()
    other = _db_copy(sqlite_template, tmp_path, "second")
    monkeypatch.setenv("YZMAP_DATABASE_URL", other)
    assert "迁入数据库" not in run("init").output
    with ledger_session(other) as s:
        assert store.list_versions(s, "protected_areas") == []


def test_layer_frames_survive_the_database(app, tmp_path):
    """A stored version reads back with the importer's columns, values and exact geometry."""
    from geo.importer import read_boundary_file
    from webmap.ledger.db import transaction
    from webmap.web.context import get_session

    src = tmp_path / "r.gpkg"
    reserve_frame(RESERVE).to_crs("EPSG:4546").to_file(src, driver="GPKG")
    result = read_boundary_file(src, kind="protected_area", vintage="2024-06-30")
    with app.app_context():
        session = get_session()
        with transaction(session):
            stored = store.save_import(session, result, actor="test")
        back = store.load_version(session, stored).frame
    want = result.layer.frame
    assert list(back.columns) == list(want.columns)
    assert back.drop(columns="geometry").astype(object).where(back.notna(), None).equals(
        want.drop(columns="geometry").astype(object).where(want.notna(), None))
    assert all(a.equals_exact(b, 0) for a, b in zip(back.geometry, want.geometry, strict=True))
    assert isinstance(back, gpd.GeoDataFrame) and back.crs.to_epsg() == 4326


def test_counted_in_the_database_equals_counted_in_python(app, session):
    """The live figures (one GROUP BY) equal the per-issue definitions the as-of path counts,
    for several days, filters and scopes; as of today (rebuilt from the event log) the figures
    are the live ones."""
    from dataclasses import astuple, replace
    from datetime import date

    from webmap.ledger.figures import counted_groups, figures, groups_of, issue_facts
    from webmap.ledger.query import IssueQuery, Scope

    load_sample(session, get_layers())

    def by_key(groups) -> dict:
        """Return group key -> counts."""
        return {(g.county_code, g.county_name, g.source_type, g.deadline_class): astuple(g.tally)
                for g in groups}  # fmt: skip

    scopes = (Scope.everything(), Scope.public(), Scope.county("431124"))
    for day in (date(2021, 12, 31), date(2022, 12, 1), date(2024, 6, 30)):
        for args in ({}, {"county": "道县"}, {"source": "回头看"}, {"rag": "red,amber"}):
            for scope in scopes:
                query = replace(IssueQuery.from_args(args, scope=scope), today=day, amber_days=45)
                sql, python = by_key(counted_groups(session, query)), by_key(
                    groups_of(issue_facts(session, query)))  # fmt: skip
                assert sql == python, (day, args, scope)
                assert sum(t[0] for t in sql.values()) == query.count(session)
    today = date.today()
    for scope in scopes:
        live = replace(IssueQuery(scope=scope), today=today)
        rebuilt = replace(live, as_of=today)
        assert by_key(figures(session, live).groups) == by_key(figures(session, rebuilt).groups)
