"""Shared fixtures: tiny synthetic layers, the app and its client."""

from __future__ import annotations

import os

import pytest

REQUIRE_SERVICES = os.environ.get("YZMAP_REQUIRE_SERVICES") == "1"
SERVICE_MARKERS = ("postgis", "browser")

# pytest allows plugin registration only in the top-level conftest
pytest_plugins = ["tests.webmap.conftest_auth"]  # users and logged-in clients (access control)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under scripts/test a skip caused by a missing service is a failure, not a pass."""
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_SERVICES and report.skipped and any(
        item.get_closest_marker(m) for m in SERVICE_MARKERS
    ):
        report.outcome = "failed"
        report.longrepr = f"service-dependent test skipped under YZMAP_REQUIRE_SERVICES: {report.longrepr}"
