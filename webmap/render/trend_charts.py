"""Trend charts of the dashboard (inline SVG), drawn from ``webmap.ledger.trends`` points."""

from __future__ import annotations

from markupsafe import Markup

from webmap.ledger.trends import TrendPoint
from webmap.ledger.vocabulary import RAG_COLORS
from webmap.render.charts import line_chart

TARGET_COLOR = "#555555"


def trend_charts(points: list[TrendPoint]) -> dict:
    """Return the city charts and one small chart per county, each ending on the last point."""
    if not points:
        return {"city": [], "counties": []}
    days = [p.day.isoformat() for p in points]
    closed = [p.lookback_closed for p in points]
    city = [
        line_chart(days, [("回头看问题已销号", RAG_COLORS["done"], closed),
                          ("方案目标（20/5/5 累计）", TARGET_COLOR,
                           [p.lookback_target for p in points])],
                   title="回头看问题销号与方案目标", step=(False, True)),
        line_chart(days, [("逾期问题数", RAG_COLORS["red"], [p.overdue for p in points])],
                   title="逾期问题数"),
        line_chart(days, [("交办至销号天数（中位数）", RAG_COLORS["green"],
                           [p.median_days_to_close for p in points])],
                   title="从交办到销号的天数（中位数）", unit="天"),
    ]  # fmt: skip
    last = points[-1]
    counties = []
    for code, county in sorted(last.counties.items(), key=lambda kv: (kv[0] == "", kv[0])):
        rows = [p.counties.get(code) for p in points]
        closed = [r.signed_off if r else 0 for r in rows]
        due = [r.due_by_then if r else 0 for r in rows]
        overdue = [r.overdue if r else 0 for r in rows]
        chart = line_chart(days, [("已销号", RAG_COLORS["done"], closed),
                                  ("应完成（时限已到）", TARGET_COLOR, due),
                                  ("逾期", RAG_COLORS["red"], overdue)],
                           title=f"{county.name}：销号与应完成", width=420, height=150,
                           step=(False, True, False))  # fmt: skip
        counties.append((county, Markup(chart)))
    return {"city": city, "counties": counties}
