"""Benchmark: each export cold (first call, caches empty) and warm, against the issue #20 targets.

Run ``python bench/exports.py [--out DIR] [--repeat N]``. A fresh SQLite database in a temporary
folder gets the sample ledger (64 issues). For each export the caches it fills (projected and
simplified boundary frames on the layers, label anchors, the PDF font subsets) are emptied and it
is timed once (cold), then ``--repeat`` more times (warm, best kept). Targets: snapshot PNG < 3 s,
site sheet PDF and briefing pack PDF < 5 s. Prints figures and ratios; asserts nothing.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

TARGETS = {"snapshot PNG": 3.0, "snapshot PDF": 5.0, "site sheet PDF": 5.0,
           "briefing pack PDF": 5.0}  # fmt: skip


def clear_caches(layers) -> None:
    """Empty what the renderers keep between calls, so the next call is a cold one."""
    from webmap.render.snapshot import fonts

    for slot in ("city", "counties", "townships", "protected_areas"):
        layer = getattr(layers, slot)
        if layer is not None:
            for key in [k for k in layer.cache if str(k).startswith(("snapshot:", "site_sheet:"))]:
                del layer.cache[key]
    fonts._subsets.clear()


def timed(func, repeat: int) -> tuple[float, float]:
    """Return the wall time of a first call and the best of ``repeat`` further calls."""
    times = []
    for _ in range(repeat + 1):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return times[0], min(times[1:])


def main() -> None:
    """Build the sample database, then time every export cold and warm."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="keep the outputs in this folder")
    parser.add_argument("--repeat", type=int, default=2, help="warm repetitions (best is kept)")
    args = parser.parse_args()

    from sqlalchemy.orm import Session

    from geo.constraints import overlap_constraints
    from webmap.config import load_config
    from webmap.ledger import db
    from webmap.ledger.boundaries import layers_in_use
    from webmap.ledger.context import LedgerContext
    from webmap.ledger.overlap import issue_sites
    from webmap.ledger.query import IssueQuery
    from webmap.ledger.sample import load_sample
    from webmap.render import site_sheet
    from webmap.render.briefing.pack import build_pack
    from webmap.render.overlap_report import round_rows
    from webmap.render.snapshot import render_snapshot
    from webmap.render.snapshot.fonts import register_font

    work = Path(tempfile.mkdtemp(prefix="yzmap-bench-"))
    out = args.out or work
    out.mkdir(parents=True, exist_ok=True)
    config = load_config(work, {"DATABASE_URL": f"sqlite:///{work / 'bench.sqlite'}"})
    engine = db.make_engine(config["DATABASE_URL"])
    try:
        db.upgrade_db(engine)
        session = Session(engine, expire_on_commit=False)
        ctx = LedgerContext.from_settings(config, load_layers=lambda: layers_in_use(session))
        layers = ctx.layers
        load_sample(session, layers)
        query = IssueQuery(today=ctx.today, amber_days=ctx.amber_days)
        register_font()  # once per process, whatever is drawn first (about 0.05 s)
        sites = issue_sites(session, query)

        def sheet():
            """Write the overlap sheet of the first located issue."""
            one = sites.iloc[[0]].reset_index(drop=True)
            rows = round_rows(overlap_constraints(one, layers))
            data = site_sheet.build_sheet(one, rows, layers, {"来源": "问题台账"})
            site_sheet.render_sheet_pdf(data, layers, out / "sheet.pdf")

        exports = {
            "snapshot PNG": lambda: render_snapshot(session, query, layers, out / "city.png"),
            "snapshot PDF": lambda: render_snapshot(session, query, layers, out / "city.pdf",
                                                    fmt="pdf"),  # fmt: skip
            "site sheet PDF": sheet,
            "briefing pack PDF": lambda: build_pack(session, layers, out / "pack.pdf", ctx=ctx),
        }
        print(f"{'export':<20} {'cold s':>7} {'warm s':>7} {'cold/warm':>9} {'target s':>8}  ok")
        for name, func in exports.items():
            clear_caches(layers)
            cold, warm = timed(func, args.repeat)
            target = TARGETS[name]
            print(f"{name:<20} {cold:7.2f} {warm:7.2f} {cold / warm:9.2f} {target:8.1f}  "
                  f"{'yes' if warm < target else 'NO'}")  # fmt: skip
        print(f"outputs in {out}")
    finally:
        engine.dispose()
        if args.out is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
