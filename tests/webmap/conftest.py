"""App and database fixtures for the webmap tests, on SQLite and (when configured) PostGIS.

``app`` is parametrised over two backends: ``sqlite`` (a fresh file per test, copied from a
database migrated once per session) and ``postgis`` (``YZMAP_TEST_POSTGRES_URL``, marked
``postgis``, skipped when the variable is unset). PostGIS tests run in a schema private to this
pytest process (engineers share one server); every table is truncated before each test.
"""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import date
from urllib.parse import quote

import pytest
from sqlalchemy import text

from webmap import create_app
from webmap.ledger import db
from webmap.ledger.events import create_issue
from webmap.ledger.models import Base
from webmap.web import context as webctx

PG_URL = os.environ.get("YZMAP_TEST_POSTGRES_URL")



@pytest.fixture(scope="session")
def postgis_url():
    """Create a private schema migrated to head; yield its URL; drop it at the end."""
    if not PG_URL:
        pytest.skip("YZMAP_TEST_POSTGRES_URL is not set")
    schema = f"yzt_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    sep = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{sep}options={quote(f'-csearch_path={schema},public')}"
    admin = db.make_engine(PG_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine = db.make_engine(url)
    db.upgrade_db(engine)
    engine.dispose()
    yield url
    with admin.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()


def _truncate_all(url: str) -> None:
    """Empty every table of the test schema (TRUNCATE does not fire the event-log triggers)."""
    engine = db.make_engine(url)
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def database_url(request, tmp_path):
    """Return the URL of an empty, migrated database on the requested backend."""
    if request.param == "sqlite":
        path = tmp_path / "yzmap.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgis_url")
    _truncate_all(url)
    return url


@pytest.fixture
def app(database_url, tmp_path):
    """Return an app on a clean database; its engine is disposed after the test."""
    config = {"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test"}
    app = create_app(config | {"UPLOAD_DIR": str(tmp_path / "uploads")})
    yield app
    engine = app.extensions["db"]["engine"]
    if engine is not None:
        engine.dispose()


@pytest.fixture
def session(app):
    """Return a session on the app's database inside an app context (closed afterwards)."""
    with app.app_context():
        yield webctx.get_session()


@pytest.fixture
def client(app):
    """Return a test client for the app."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """Return a CLI runner for the app."""
    return app.test_cli_runner()


@pytest.fixture
def make_issue(session):
    """Return a function creating a committed issue (defaults: a 回头看 point in 冷水滩区)."""

    def _make(number="HT-01", *, actor="tester", day=date(2021, 3, 6), **values):
        """Create issue ``number`` with defaults overridden by ``values``."""
        defaults = {
            "number": number,
            "source_type": "回头看",
            "title": f"{number} 测试问题",
            "category": "水污染",
            "county_code": "431103",
            "county_name": "冷水滩区",
            "geometry": {"type": "Point", "coordinates": [111.6, 26.4]},
            "deadline_class": "2021年底前",
            "due_date": date(2021, 12, 31),
        }
        with db.transaction(session):
            issue = create_issue(session, defaults | values, actor=actor, date=day)
        return issue

    return _make
