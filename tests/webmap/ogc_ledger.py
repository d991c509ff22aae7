"""A large synthetic ledger for the OGC API tests: issues bulk-inserted, users and tokens made."""

from __future__ import annotations

import random
from datetime import date

from sqlalchemy import insert

from webmap.ledger import tokens
from webmap.ledger.models import Issue, User
from webmap.web import context as webctx

COUNTIES = {"431102": "零陵区", "431103": "冷水滩区", "431124": "道县", "431126": "宁远县"}
# a small box inside each county (lon, lat)
BOXES = {"431102": (111.55, 26.15), "431103": (111.60, 26.45), "431124": (111.55, 25.50),
         "431126": (111.95, 25.55)}  # fmt: skip


def bulk_issues(app, n: int, seed: int = 14) -> dict[str, int]:
    """Insert ``n`` point issues spread over four counties; return the count per county."""
    rng = random.Random(seed)
    rows, per = [], dict.fromkeys(COUNTIES, 0)
    codes = list(COUNTIES)
    for i in range(n):
        code = codes[i % len(codes)]
        per[code] += 1
        x0, y0 = BOXES[code]
        lon, lat = round(x0 + rng.random() * 0.05, 6), round(y0 + rng.random() * 0.05, 6)
        rows.append({"number": f"YZ-{i:05d}", "source_type": "省日常督察交办",
                     "title": f"测试问题 {i}",
                     "category": "水污染", "county_code": code, "county_name": COUNTIES[code],
                     "lon": lon, "lat": lat, "minx": lon, "miny": lat, "maxx": lon, "maxy": lat,
                     "geometry": None, "deadline_class": "2021年底前",
                     "due_date": date(2021, 12, 31), "lead_unit": f"{COUNTIES[code]}人民政府",
                     "partner_units": [], "progress": i % 101, "status": "整改中",
                     "public": i % 10 != 0, "sensitive": False, "is_sample": False})
    with webctx.session_scope(app) as session:
        session.execute(insert(Issue), rows)
    return per


def add_user_with_token(app, username: str, role: str, county: str | None = None) -> str:
    """Create a user (no password) and a read-only token; return the token text."""
    with webctx.session_scope(app) as session:
        user = User(username=username, role=role, county_code=county, disabled=False)
        session.add(user)
        session.flush()
        return tokens.create_token(session, user, name="测试", actor="test").text
