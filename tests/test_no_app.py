"""The ledger and the renderers run without the web app: in a worker, a benchmark or a script.

Each check runs in a fresh interpreter, so nothing the test session already imported (Flask
included) can hide an import.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap


def run_python(code: str, **env) -> str:
    """Run ``code`` in a new interpreter and return what it printed."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env={**_env(), **env})  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _env() -> dict:
    """Return this process's environment (the venv, the test instance folder)."""
    import os

    return dict(os.environ)


def test_every_ledger_and_render_module_imports_without_flask():
    """Importing all of webmap.ledger and webmap.render loads neither Flask nor werkzeug."""
    out = run_python("""
        import importlib, pkgutil, sys
        import webmap.ledger, webmap.render
        for pkg in (webmap.ledger, webmap.render):
            for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
                if "migrations" not in m.name:
                    importlib.import_module(m.name)
        print(sorted({n.split(".")[0] for n in sys.modules} & {"flask", "werkzeug"}))
    """)
    assert out == "[]"


def test_a_worker_reads_and_counts_the_ledger_without_an_app(tmp_path, sqlite_template):
    """A plain script: settings, session, context, an issue written, the figures and an export."""
    path = tmp_path / "worker.sqlite"
    shutil.copy(sqlite_template, path)
    out = run_python(f"""
        import sys
        from datetime import date
        from sqlalchemy.orm import Session
        from webmap.config import load_config
        from webmap.ledger.boundaries import layers_in_use
        from webmap.ledger.context import LedgerContext
        from webmap.ledger.db import make_engine, transaction
        from webmap.ledger.events import create_issue
        from webmap.ledger.figures import figures
        from webmap.ledger.query import IssueQuery
        from webmap.render.ledger_export import export_ledger

        config = load_config(overrides={{"DATABASE_URL": "sqlite:///{path}", "TODAY": "2022-06-01",
                                         "AMBER_DAYS": 45}})
        session = Session(make_engine(config["DATABASE_URL"]))
        ctx = LedgerContext.from_settings(config, load_layers=lambda: layers_in_use(session))
        with transaction(session):
            create_issue(session, {{"number": "W-1", "source_type": "回头看", "title": "t",
                                   "county_code": "431124", "county_name": "道县",
                                   "due_date": date(2022, 7, 10)}}, actor="worker",
                         date=date(2022, 1, 1))
        query = IssueQuery.from_args({{}}, context=ctx)
        (county,) = figures(session, query).counties()
        n = export_ledger(session, query, "csv", "{tmp_path / 'w.csv'}")
        print(county.name, county.total, county.due_soon, n, ctx.layers.counties.info.version,
              "flask" in sys.modules)
    """)
    name, total, due_soon, exported, version, flask = out.split()
    assert (name, total, due_soon, exported, flask) == ("道县", "1", "1", "1", "False")
    assert version.startswith("shipped:")
