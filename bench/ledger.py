"""Benchmark: import a generated 10,000-row ledger (.xlsx, with location text and coordinates).

Run: ``.venv/bin/python bench/ledger.py [--rows 10000] [--keep DIR]``. Prints rows, wall time
of each phase, peak Python heap (tracemalloc) and peak RSS (ru_maxrss). Targets: < 30 s and
< 1 GiB for 10,000 rows. A fresh SQLite database is created in a temporary folder.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from geo.boundaries import load_shipped  # noqa: E402
from webmap.ledger import db  # noqa: E402
from webmap.ledger.io.importer import import_ledger  # noqa: E402
from webmap.ledger.models import Issue  # noqa: E402
from webmap.ledger.sample import CATEGORIES, COUNTIES  # noqa: E402

HEADERS = [
    "编号",
    "问题来源",
    "问题名称",
    "问题描述",
    "问题类别",
    "具体位置",
    "经度",
    "纬度",
    "坐标系",
    "所在县区",
    "牵头单位",
    "责任单位",
    "整改时限",
    "完成情况",
    "完成进度",
    "整改进展",
]


def write_ledger(path: Path, rows: int, layers, seed: int = 1) -> None:
    """Write a ledger xlsx of ``rows`` issues at random points inside their counties."""
    from openpyxl import Workbook
    from shapely.geometry import Point

    rng = random.Random(seed)
    frame = layers.counties.frame.set_index("code")
    geoms = {code: frame.geometry[code].buffer(-0.01) for code in COUNTIES}
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("台账")
    ws.append(["永州市生态环境问题整改台账（基准测试）"])
    ws.append(HEADERS)
    codes, cats = list(COUNTIES), list(CATEGORIES)
    for i in range(rows):
        code = codes[i % len(codes)]
        name, towns = COUNTIES[code]
        g = geoms[code]
        minx, miny, maxx, maxy = g.bounds
        while True:
            p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
            if g.contains(p):
                break
        cat = cats[i % len(cats)]
        town = towns[i % len(towns)]
        ws.append(
            [
                f"B-{i + 1:05d}",
                "省督察回头看",
                CATEGORIES[cat][0].format(t=town),
                "基准测试问题",
                cat,
                f"永州市{name}{town}",
                round(p.x, 6),
                round(p.y, 6),
                "WGS84",
                name,
                f"{name}{CATEGORIES[cat][1]}",
                f"{name}人民政府、{town}人民政府",
                "2021-12-31" if i % 3 else "2022年6月底前",
                "整改中",
                f"{i % 100}%",
                "推进中",
            ]
        )
    wb.save(path)


def _import(db_path: Path, xlsx: Path, layers, trace: bool):
    """Import ``xlsx`` into a new SQLite database; return seconds, report and session."""
    engine = db.make_engine(f"sqlite:///{db_path}")
    db.upgrade_db(engine)
    session = Session(engine)
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    report = import_ledger(session, xlsx, layers, actor="bench")
    seconds = time.perf_counter() - t0
    if trace:
        session.info["peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return seconds, report, session


def main() -> None:
    """Generate, import and report time and memory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, default=None, help="folder to keep the files in")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="yzmap-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    layers = load_shipped()
    xlsx = work / f"ledger_{args.rows}.xlsx"
    t0 = time.perf_counter()
    write_ledger(xlsx, args.rows, layers)
    t_gen = time.perf_counter() - t0
    # timed run without tracing (tracemalloc slows ORM-heavy code two- to threefold), then a
    # traced run into a second fresh database for the peak Python heap
    t_import, report, session = _import(work / "bench.sqlite", xlsx, layers, trace=False)
    t_traced, _, traced_session = _import(work / "traced.sqlite", xlsx, layers, trace=True)
    peak = traced_session.info["peak"]
    count = session.scalar(select(func.count(Issue.id)))
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    print(f"rows: {args.rows}  imported: {count}  errors: {len(report.errors)}")
    for e in report.errors[:5]:
        print("  ", e)
    print(f"generate xlsx: {t_gen:.1f} s")
    print(f"import (read, validate, attribute, write, commit): {t_import:.1f} s  (target < 30 s)")
    print(f"peak traced Python memory: {peak / 2**20:.0f} MiB  (traced run took {t_traced:.1f} s)")
    print(f"peak RSS (ru_maxrss): {rss_mib:.0f} MiB  (target < 1024 MiB)")


if __name__ == "__main__":
    main()
