"""Benchmark the address geocoder on 100,000 mixed location strings; prints strings per second.

Usage: .venv/bin/python bench/geocode.py [N]

Strings are built from the NBS 2023 gazetteer (every style the geocoder meets: full paths, swapped
suffixes, bare townships, villages, borders, features, places outside Yongzhou, typos, noise), with
a fixed seed, so runs are comparable. Each string is geocoded individually (no de-duplication).
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geo.gazetteer import load_gazetteer  # noqa: E402
from geo.geocode import geocode  # noqa: E402

TAILS = ("", "某养殖场", "养猪场废水直排", "河道非法采砂问题", "附近山体破坏", "3组", "一带")
OTHER = ("湖南省邵阳市新宁县某矿", "郴州市嘉禾县", "广西全州县", "位于道县与江永县交界处",
         "湘江冷水滩段",
         "双牌水库库区", "某国家级自然保护区实验区内", "祁陽縣八寶鎮", "都庞岭自然保护区", "")


def make_strings(n: int, seed: int = 7) -> list[str]:
    """``n`` location strings in mixed styles built from gazetteer names."""
    g = load_gazetteer()
    rnd = random.Random(seed)
    villages = [a for a in g.areas.values() if a.level == "village"]
    out = []
    for _ in range(n):
        v = rnd.choice(villages)
        t = g.areas[v.parent_code]
        c = g.areas[t.parent_code].name
        style = rnd.randrange(6)
        if style == 0:
            s = f"湖南省永州市{c}{t.name}{v.name}"
        elif style == 1:
            s = f"{c[:-1] + '市' if len(c) == 3 else c}{t.name}"
        elif style == 2:
            s = f"{t.name}{v.name[:2]}村"
        elif style == 3:
            s = rnd.choice(OTHER)
        elif style == 4:
            s = f"{c}{t.name[:-1]}口{t.name[-1]}"  # a typo-like string
        else:
            s = f"永州市{c}"
        out.append(s + rnd.choice(TAILS))
    return out


def main(argv: list[str]) -> None:
    """Time geocode over the strings and print the rate."""
    n = int(argv[0]) if argv else 100_000
    g = load_gazetteer()
    texts = make_strings(n)
    start, cpu_start = time.perf_counter(), time.process_time()
    for text in texts:
        geocode(text, g)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    # CPU time is reported too because the wall clock is unreliable on a shared machine
    print(f"{n} strings in {elapsed:.2f} s wall ({n / elapsed:,.0f} strings/s), "
          f"{cpu:.2f} s CPU ({n / cpu:,.0f} strings/s per core)")


if __name__ == "__main__":
    main(sys.argv[1:])
