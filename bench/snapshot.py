"""Benchmark: a city snapshot (PNG and PDF) and a full briefing pack on the sample ledger.

Run ``python bench/snapshot.py [--out DIR] [--repeat N]``. A fresh SQLite database in a temporary
folder gets the sample ledger (64 issues); then the city snapshot is drawn as PNG (A4, 300 dpi)
and PDF, and the full pack (city map, 11 county pages, overdue list, look-back page) plus the
dispatch notice (DOCX + PDF) are written. The first snapshot includes registering the CJK font
(about 1-2 s, once per process). Targets: snapshot < 5 s, pack < 60 s.
"""

from __future__ import annotations

import argparse
import io
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

# bench/webmap.py would shadow the webmap package when this script runs from bench/
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]


def _timed(label: str, func, results: dict) -> None:
    """Run ``func`` once, print and keep its wall time."""
    start = time.perf_counter()
    func()
    elapsed = time.perf_counter() - start
    results.setdefault(label, []).append(elapsed)
    print(f"{label:<40} {elapsed:6.2f} s")


def main() -> None:
    """Build the sample database, then time snapshots and the briefing pack."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="keep the outputs in this folder")
    parser.add_argument("--repeat", type=int, default=2, help="warm snapshot repetitions")
    args = parser.parse_args()

    from webmap import create_app
    from webmap.ledger import db
    from webmap.web import context as webctx
    from webmap.ledger.query import IssueQuery
    from webmap.ledger.sample import load_sample
    from webmap.render.briefing import dispatch
    from webmap.render.briefing.pack import build_pack
    from webmap.render.snapshot import render_snapshot
    from webmap.web.context import get_layers

    work = Path(tempfile.mkdtemp(prefix="yzmap-bench-"))
    out = args.out or work
    out.mkdir(parents=True, exist_ok=True)
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite'}",
            "TESTING": True,
            "SECRET_KEY": "bench",
        }
    )
    results: dict[str, list[float]] = {}
    try:
        with app.app_context():
            db.upgrade_db(webctx.get_engine())
            layers = get_layers()
            load_sample(webctx.make_session(app), layers)
            session, today = webctx.get_session(), date.today()
            query = IssueQuery()
            for n in range(args.repeat + 1):
                label = "city snapshot PNG A4 300 dpi" + (" (cold: font)" if n == 0 else "")
                _timed(
                    label,
                    lambda: render_snapshot(
                        session, query, layers, out / "city.png", fmt="png", today=today
                    ),
                    results,
                )
            _timed(
                "city snapshot PDF (vector)",
                lambda: render_snapshot(
                    session, query, layers, out / "city.pdf", fmt="pdf", today=today
                ),
                results,
            )
            _timed(
                "county snapshot PNG (道县)",
                lambda: render_snapshot(
                    session,
                    IssueQuery(county=("431124",)),
                    layers,
                    io.BytesIO(),
                    fmt="png",
                    today=today,
                ),
                results,
            )

            def pack():
                """Write the pack and the dispatch notice."""
                build_pack(session, layers, out / "pack.pdf", today=today)
                notice = dispatch.build_notice(session, layers, today=today)
                dispatch.write_docx(notice, out / "dispatch.docx")
                dispatch.write_pdf(notice, out / "dispatch.pdf")

            _timed("briefing pack + dispatch notice", pack, results)
        warm = min(results["city snapshot PNG A4 300 dpi"])
        print(f"\ncity snapshot (warm, best of {args.repeat}): {warm:.2f} s (target < 5 s)")
        print(
            f"briefing pack: {results['briefing pack + dispatch notice'][0]:.2f} s (target < 60 s)"
        )
        print(f"outputs in {out}")
    finally:
        app.extensions["db"]["engine"].dispose()
        if args.out is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
