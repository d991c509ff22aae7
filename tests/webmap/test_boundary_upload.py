"""Boundary upload pages: each format via the test client, CRS confirmation, versions, errors."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Polygon

from tests.webmap.helpers import CORE, file_bytes, reserve_frame, upload
from webmap.ledger import boundaries as boundary_store
from webmap.web import context as webctx


@pytest.fixture
def client(logged_in_client):
    """Return a client logged in as the nature-reserve team (CSRF header armed)."""
    return logged_in_client("reserve")


def zipped_shapefile(frame: gpd.GeoDataFrame, tmp: Path, crs: str, keep_prj: bool) -> bytes:
    """Return the bytes of a zipped GBK Shapefile in ``crs``, with or without its .prj."""
    folder = tmp / "shp"
    folder.mkdir(exist_ok=True)
    frame.to_crs(crs).to_file(folder / "reserve.shp", encoding="GBK")
    (folder / "reserve.cpg").unlink()
    if not keep_prj:
        (folder / "reserve.prj").unlink()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, f.name)
    return buffer.getvalue()


def versions(app, layer: str = "protected_areas") -> list:
    """Return the stored versions of a layer in the app's database."""
    with app.app_context():
        return boundary_store.list_versions(webctx.get_session(), layer)


def in_use(app) -> str:
    """Return the version of the protected-area layer the running app uses."""
    from webmap.web.context import get_layers

    with app.app_context():
        return get_layers().protected_areas.info.version


def test_shapefile_without_prj_asks_for_confirmation(app, client, tmp_path):
    """EPSG:4525 without .prj: a confirmation step lists candidates; confirming imports it."""
    before = in_use(app)
    resp = upload(
        client,
        zipped_shapefile(reserve_frame(), tmp_path, "EPSG:4525", False),
        "阳明山保护区.zip",
        vintage="2023-06-30",
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "请确认坐标系" in html
    assert 'value="EPSG:4525" checked' in html and "阳明山保护区.zip" in html
    assert versions(app) == [] and in_use(app) == before  # nothing imported yet
    token = next(p.name for p in (Path(app.config["UPLOAD_DIR"]) / "pending").iterdir())
    resp = client.post(f"/boundaries/upload/{token}/confirm", data={"crs": "EPSG:4525"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200, html
    assert "EPSG:4525" in html and "推断" in html and "zone ← GNFQ" in html
    assert "该版本现已启用" in html
    [stored] = versions(app)
    assert stored.meta["vintage"] == "2023-06-30" and stored.meta["crs_guessed"] is True
    assert in_use(app) == f"imported:{stored.version}"
    assert not (Path(app.config["UPLOAD_DIR"]) / "pending" / token).exists()
    listing = client.get("/boundaries").get_data(as_text=True)
    assert stored.version in listing and "★ 使用中" in listing and "2023-06-30" in listing


def test_confirm_with_another_candidate_and_unknown_token(app, client, tmp_path):
    """Choosing a CRS other than the guess is an explicit CRS; a made-up token is a 404."""
    assert (
        client.post(
            "/boundaries/upload/" + "0" * 32 + "/confirm", data={"crs": "EPSG:4525"}
        ).status_code
        == 404
    )
    assert client.post("/boundaries/upload/..%2Fx/confirm", data={}).status_code == 404
    upload(client, zipped_shapefile(reserve_frame(), tmp_path, "EPSG:4525", False), "r.zip")
    token = next(p.name for p in (Path(app.config["UPLOAD_DIR"]) / "pending").iterdir())
    resp = client.post(f"/boundaries/upload/{token}/confirm", data={"crs": "EPSG:4326"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "坐标系矛盾" in html and "图层未改变" in html
    assert versions(app) == []


@pytest.mark.parametrize(
    ("name", "driver", "crs", "fmt"),
    [
        ("reserve.geojson", "GeoJSON", "EPSG:4326", "GeoJSON"),
        ("reserve.gpkg", "GPKG", "EPSG:4546", "GeoPackage"),
        ("reserve.kml", "KML", "EPSG:4326", "KML"),
    ],
)
def test_each_format_imports(app, client, tmp_path, name, driver, crs, fmt):
    """GeoJSON, GeoPackage (EPSG:4546) and KML import in one step and become active."""
    resp = upload(client, file_bytes(reserve_frame(), tmp_path, name, driver, crs), name)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200, html
    assert fmt in html and crs in html and "该版本现已启用" in html
    [stored] = versions(app)
    assert in_use(app) == f"imported:{stored.version}"


def test_kmz_with_field_mapping(app, client, tmp_path):
    """A KMZ whose columns have other names imports once the mapping is filled in."""
    frame = reserve_frame().rename(columns={"BHQMC": "保护地", "GNFQ": "区划"})
    kml = file_bytes(frame, tmp_path, "doc.kml", "KML")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("doc.kml", kml)
    resp = upload(client, buffer.getvalue(), "reserve.kmz")
    assert resp.status_code == 400 and "name=" in resp.get_data(as_text=True)
    resp = upload(client, buffer.getvalue(), "reserve.kmz", field_name="保护地", field_zone="区划")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200, html
    assert "KMZ" in html and "zone ← 区划" in html


def test_repair_is_reported(app, client, tmp_path):
    """A self-intersecting zone is repaired and the report names the feature."""
    bow_tie = Polygon([(111.90, 25.90), (111.94, 25.93), (111.94, 25.90), (111.90, 25.93)])
    frame = gpd.GeoDataFrame(
        {"名称": ["修复测试保护区"], "功能区": ["核心区"]}, geometry=[bow_tie], crs="EPSG:4326"
    )
    html = upload(
        client, file_bytes(frame, tmp_path, "bow.geojson", "GeoJSON"), "bow.geojson"
    ).get_data(as_text=True)
    assert "make_valid" in html and "要素 #1" in html


def test_bad_files_leave_the_active_layer_unchanged(app, client, tmp_path):
    """A file in another province, a bad zone value or an unsupported type changes nothing."""
    upload(client, file_bytes(reserve_frame(), tmp_path, "good.geojson", "GeoJSON"), "good.geojson")
    [good] = versions(app)
    far = reserve_frame().set_geometry(reserve_frame().geometry.translate(xoff=3.0, yoff=4.0))
    resp = upload(client, file_bytes(far, tmp_path, "far.geojson", "GeoJSON"), "外省边界.geojson")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert (
        "外省边界.geojson" in html and "不在永州范围内" in html and "正在使用的图层未改变" in html
    )
    bad_zone = reserve_frame(GNFQ=["核心区", "缓冲带", "实验区"])
    resp = upload(client, file_bytes(bad_zone, tmp_path, "zone.geojson", "GeoJSON"), "zone.geojson")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "zone.geojson" in html and "缓冲带" in html
    assert "要素 #2" in html and "GNFQ" in html
    resp = upload(client, b"not a shapefile", "notes.txt")
    assert resp.status_code == 400 and "notes.txt" in resp.get_data(as_text=True)
    resp = upload(client, b"PK\x03\x04 truncated", "broken.zip")
    assert resp.status_code == 400 and "broken.zip" in resp.get_data(as_text=True)
    assert [v.version for v in versions(app)] == [good.version]
    assert in_use(app) == f"imported:{good.version}"
    assert list((Path(app.config["UPLOAD_DIR"]) / "pending").iterdir()) == []


def test_activate_an_older_version_and_back(app, client, tmp_path):
    """Activating pins a version and the running app switches to it; latest unpins."""
    upload(
        client,
        file_bytes(reserve_frame("旧版保护区"), tmp_path, "a.geojson", "GeoJSON"),
        "a.geojson",
        vintage="2019-01-01",
    )
    upload(
        client,
        file_bytes(reserve_frame("新版保护区"), tmp_path, "b.geojson", "GeoJSON"),
        "b.geojson",
        vintage="2024-01-01",
    )
    new, old = versions(app)
    assert in_use(app) == f"imported:{new.version}"
    resp = client.post(
        "/boundaries/activate",
        data={"layer": "protected_areas", "version": old.version},
        follow_redirects=True,
    )
    assert resp.status_code == 200 and old.version in resp.get_data(as_text=True)
    assert in_use(app) == f"imported:{old.version}"
    client.post("/boundaries/activate", data={"layer": "protected_areas", "version": "latest"})
    assert in_use(app) == f"imported:{new.version}"
    resp = client.post("/boundaries/activate", data={"layer": "protected_areas", "version": "nope"})
    assert resp.status_code == 400 and "nope" in resp.get_data(as_text=True)


def test_township_upload(app, client, tmp_path):
    """Townships go through the same page with their own layer choice."""
    towns = gpd.GeoDataFrame(
        {"XZQDM": ["431123100000"], "XZQMC": ["测试镇"], "XDM": ["431123"]},
        geometry=[CORE],
        crs="EPSG:4326",
    )
    resp = upload(
        client, file_bytes(towns, tmp_path, "t.geojson", "GeoJSON"), "t.geojson", layer="townships"
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert versions(app, "townships")


def test_only_reserve_and_admin_may_upload(app, logged_in_client, anon_client, tmp_path):
    """Viewers are refused (403), anonymous posts get 401; admins may upload too."""
    data = file_bytes(reserve_frame(), tmp_path, "r.geojson", "GeoJSON")
    assert upload(anon_client, data, "r.geojson").status_code == 401
    viewer = logged_in_client("viewer")
    assert viewer.get("/boundaries/upload").status_code == 403
    assert upload(viewer, data, "r.geojson").status_code == 403
    assert versions(app) == []
    assert upload(logged_in_client("admin"), data, "r.geojson").status_code == 200
    assert len(versions(app)) == 1


def test_forms_carry_the_csrf_token(app, client):
    """The upload form holds the session's token; a post without it is refused."""
    html = client.get("/boundaries/upload").get_data(as_text=True)
    assert 'name="csrf_token"' in html
    client.environ_base.pop("HTTP_X_CSRFTOKEN")
    resp = client.post(
        "/boundaries/activate", data={"layer": "protected_areas", "version": "latest"}
    )
    assert resp.status_code == 400 and "CSRF" in resp.get_data(as_text=True)
