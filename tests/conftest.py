"""Shared fixtures: tiny synthetic layers, the app and its client."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

REQUIRE_SERVICES = os.environ.get("YZMAP_REQUIRE_SERVICES") == "1"

# pytest allows plugin registration only in the top-level conftest
pytest_plugins = ["tests.webmap.conftest_auth"]  # users and logged-in clients (access control)


def pytest_configure(config):
    """Keep the built indexes and projection pipelines of this run out of the user's cache."""
    os.environ.setdefault("YZMAP_CACHE_DIR", tempfile.mkdtemp(prefix="yzmap-test-cache-"))


@pytest.fixture(autouse=True)
def private_instance(tmp_path, monkeypatch):
    """Give every test its own instance folder, so none reads or writes the real one."""
    monkeypatch.setenv("YZMAP_INSTANCE_PATH", str(tmp_path / "instance"))


def pytest_sessionstart(session):
    """Under scripts/test, stop at once when a service the suite needs is missing.

    Backend- and browser-dependent tests skip when their service is absent so a developer can run a
    subset anywhere; scripts/test sets YZMAP_REQUIRE_SERVICES=1 so that in CI a missing service
    fails
    the run instead of turning those tests into silent skips.
    """
    if not REQUIRE_SERVICES:
        return
    problems = []
    url = os.environ.get("YZMAP_TEST_POSTGRES_URL")
    if not url:
        problems.append("YZMAP_TEST_POSTGRES_URL is not set")
    else:
        try:
            import sqlalchemy

            engine = sqlalchemy.create_engine(url)
            with engine.connect() as conn:
                conn.execute(sqlalchemy.text("SELECT postgis_version()"))
            engine.dispose()
        except Exception as exc:  # any failure means the backend tests cannot run
            problems.append(f"PostGIS at {url} is not usable: {exc}")
    if not shutil.which("chromium"):
        problems.append("Debian chromium is not installed")
    if not shutil.which("pdftotext"):
        problems.append("pdftotext (poppler-utils) is not installed")
    if problems:
        raise pytest.UsageError("services missing for the full suite: " + "; ".join(problems))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """Return the path of a SQLite database migrated to head, to copy for each test."""
    path = tmp_path_factory.mktemp("dbtemplate") / "template.sqlite"
    from webmap.ledger import db

    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade_db(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def cli_database(tmp_path, monkeypatch, sqlite_template) -> str:
    """Point ``yzmap`` commands at a fresh migrated SQLite database; return its URL."""
    path = tmp_path / "cli.sqlite"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("YZMAP_DATABASE_URL", url)
    return url


@pytest.fixture(scope="session")
def browser():
    """Launch Debian's chromium headless through playwright (never ``playwright install``).

    One per test session for every folder: playwright's sync API allows one running instance
    per process, so a second one (from another folder's fixture) would fail.
    """
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} not installed")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()
