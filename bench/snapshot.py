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
import tempfile
import time
from dataclasses import replace
from pathlib import Path


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

    from sqlalchemy.orm import Session

    from webmap.config import load_config
    from webmap.ledger import db
    from webmap.ledger.boundaries import layers_in_use
    from webmap.ledger.context import LedgerContext
    from webmap.ledger.query import IssueQuery
    from webmap.ledger.sample import load_sample
    from webmap.render.briefing import dispatch
    from webmap.render.briefing.pack import build_pack
    from webmap.render.snapshot import render_snapshot

    work = Path(tempfile.mkdtemp(prefix="yzmap-bench-"))
    out = args.out or work
    out.mkdir(parents=True, exist_ok=True)
    # no web app: the ledger and the renderers run from a plain script, as in a worker
    config = load_config(work, {"DATABASE_URL": f"sqlite:///{work / 'bench.sqlite'}"})
    engine = db.make_engine(config["DATABASE_URL"])
    results: dict[str, list[float]] = {}
    try:
        db.upgrade_db(engine)
        session = Session(engine, expire_on_commit=False)
        ctx = LedgerContext.from_settings(config, load_layers=lambda: layers_in_use(session))
        layers = ctx.layers
        load_sample(session, layers)
        query = IssueQuery(today=ctx.today, amber_days=ctx.amber_days)
        for n in range(args.repeat + 1):
            label = "city snapshot PNG A4 300 dpi" + (" (cold: font)" if n == 0 else "")
            _timed(
                label,
                lambda: render_snapshot(session, query, layers, out / "city.png", fmt="png"),
                results,
            )
        _timed(
            "city snapshot PDF (vector)",
            lambda: render_snapshot(session, query, layers, out / "city.pdf", fmt="pdf"),
            results,
        )
        _timed(
            "county snapshot PNG (道县)",
            lambda: render_snapshot(session, replace(query, county=("431124",)), layers,
                                    io.BytesIO(), fmt="png"),  # fmt: skip
            results,
        )
        def pack():
            """Write the pack and the dispatch notice."""
            build_pack(session, layers, out / "pack.pdf", ctx=ctx)
            notice = dispatch.build_notice(session, layers, ctx=ctx)
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
        engine.dispose()
        if args.out is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
