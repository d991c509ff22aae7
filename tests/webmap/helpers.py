"""Setup shared by several webmap test modules: data, builders and readers, no fixtures.

Test modules import from here (``from tests.webmap.helpers import ...``) rather than from each
other, so that running one test module never collects or runs another's tests.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import geopandas as gpd
import shapely
from flask import Flask
from shapely.geometry import box
from sqlalchemy.orm import Session

from webmap import create_app
from webmap.ledger import db
from webmap.web import context as webctx

# the eleven counties of Yongzhou as a page or PDF names them, written out independently of webmap
COUNTY_NAMES = (
    "零陵区",
    "冷水滩区",
    "祁阳市",
    "东安县",
    "双牌县",
    "道县",
    "江永县",
    "宁远县",
    "蓝山县",
    "新田县",
    "江华瑶族自治县",
)
# a URL to any host but this machine: offline pages must name none
OUTSIDE = re.compile(r"""(?:https?:)?//(?!127\.0\.0\.1|localhost)[a-z0-9.-]+\.[a-z]{2,}""", re.I)

# a small three-zone test reserve near 双牌县 (WGS84)
CORE = box(111.90, 25.90, 111.94, 25.93)
BUFFER = box(111.88, 25.88, 111.96, 25.95).difference(CORE)
EXPERIMENT = box(111.86, 25.86, 111.98, 25.97).difference(box(111.88, 25.88, 111.96, 25.95))


def make_sample_app(folder: Path, template: Path, **config) -> Flask:
    """Return an app holding the sample ledger, on a copy of the SQLite ``template`` in ``folder``.

    ``config`` adds to or overrides the test configuration; the caller disposes the engine.
    """
    from webmap.ledger.sample import load_sample
    from webmap.web.context import get_layers

    path = folder / "yzmap.sqlite"
    shutil.copy(template, path)
    base = {"TESTING": True, "DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "t"}
    app = create_app(base | config)
    with app.app_context():
        load_sample(webctx.make_session(app), get_layers())
    return app


def add_two_county_ledger(app, make_issue, *, script_title: str, ht03_geometry: dict) -> None:
    """Pin the app's day to 2022-06-01 and add HT-01..HT-04, two in 冷水滩区 and two in 道县.

    HT-01 is overdue (2021 deadline), HT-02 is titled ``script_title`` and due within the month,
    HT-03 is a 省日常交办 issue with ``ht03_geometry``, HT-04 falls due at the end of 2023.
    """
    app.config["TODAY"] = "2022-06-01"
    make_issue("HT-01")
    make_issue("HT-02", due_date=date(2022, 6, 20), title=script_title)
    make_issue("HT-03", county_code="431124", county_name="道县", source_type="省日常交办",
               geometry=ht03_geometry)  # fmt: skip
    make_issue("HT-04", county_code="431124", county_name="道县", due_date=date(2023, 12, 31))


def reserve_frame(name: str = "上传测试保护区", **columns) -> gpd.GeoDataFrame:
    """Return a three-zone reserve in WGS84 with survey-style column names."""
    data = {"BHQMC": [name] * 3, "GNFQ": ["核心区", "缓冲区", "实验区"], "JB": ["省级"] * 3}
    data.update(columns)
    geoms = [shapely.segmentize(g, 0.002) for g in (CORE, BUFFER, EXPERIMENT)]
    return gpd.GeoDataFrame(data, geometry=geoms, crs="EPSG:4326")


def file_bytes(frame: gpd.GeoDataFrame, tmp: Path, name: str, driver: str, crs: str = "EPSG:4326"):
    """Write ``frame`` with an OGR driver and return the file's bytes."""
    path = tmp / name
    frame.to_crs(crs).to_file(path, driver=driver)
    return path.read_bytes()


def upload(client, data: bytes, filename: str, **form):
    """POST a boundary file to the upload page."""
    payload = {"layer": "protected_areas", **form, "file": (io.BytesIO(data), filename)}
    return client.post("/boundaries/upload", data=payload, content_type="multipart/form-data")


def pdf_text(path, layout: bool = False) -> str:
    """Return the text of a PDF file as pdftotext (poppler-utils) reads it (``-layout``: table
    rows stay on one line)."""
    args = ["pdftotext", *(["-layout"] if layout else []), str(path), "-"]
    return subprocess.run(args, capture_output=True, check=True).stdout.decode("utf-8")


@contextmanager
def ledger_session(url: str) -> Iterator[Session]:
    """Yield a session on the database at ``url`` (to read what a command wrote), then close it."""
    engine = db.make_engine(url)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()
