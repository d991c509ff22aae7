"""HTML pages: the issue map, the dashboard, issue detail and the leader views.

Every read goes through the shared ``IssueQuery`` (``api.issue_query``), whose scope is where
access control is enforced, so a page never shows an issue its ``/api/issues`` twin would not.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request, url_for
from sqlalchemy import case, func, select
from werkzeug.datastructures import MultiDict

from webmap.ledger import db, workflow
from webmap.ledger import figures as stats
from webmap.ledger.models import (
    ANY,
    DEADLINE_CLASSES,
    PARTY_KINDS,
    SOURCE_TYPES,
    Issue,
    LeaderAssignment,
    SignOff,
)
from webmap.render import charts, maps
from webmap.web.context import get_layers
from webmap.web.views import api

bp = Blueprint("pages", __name__)

DISPLAY_ARGS = ("basemap", "measure")
# statuses that mean the rectification itself is finished (sign-off may still be running)
FINISHED = ("已完成待销号", "初审", "公示", "申请", "核查", "已销号")
# stored party kinds and reason sources are internal keys; pages show these names
PARTY_KIND_LABELS = {"county": "属地县（市、区）", "lead_unit": "牵头单位",
                     "partner_unit": "责任单位", "city_leader": "市级包县领导",
                     "county_leader": "县级包案领导"}
PARTY_SOURCE_LABELS = {"attribution": "空间归属", "declared": "台账填报", "rule": "规则表",
                       "roster": "领导名册", "override": "人工调整"}


def split_display(args: MultiDict) -> tuple[MultiDict, dict]:
    """Take the display options (basemap, choropleth measure) off the filter arguments."""
    filters = MultiDict((k, v) for k, v in args.items(multi=True) if k not in DISPLAY_ARGS)
    basemap = args.get("basemap") or "none"
    measure = args.get("measure") or "rate"
    if basemap not in maps.BASEMAPS:
        abort(400, f"未知底图“{basemap}”，可选：{'、'.join(maps.BASEMAPS)}")
    if measure not in ("rate", "overdue"):
        abort(400, f"分县着色只能是 rate（完成率）或 overdue（逾期数），收到“{measure}”")
    return filters, {"basemap": basemap, "measure": measure}


def _distinct(session, query, column) -> list[str]:
    """Return the distinct non-empty values of a column among the issues in scope."""
    stmt = query.apply(select(column).select_from(Issue).where(column.is_not(None)).distinct(),
                       session)
    return sorted(v for v in session.scalars(stmt) if v)


def filter_fields(session, filters: MultiDict) -> list[dict]:
    """Describe the filter form: name, label, current value and choices (None for free text)."""
    scope = api.issue_query(MultiDict())
    counties = get_layers().counties.frame
    leaders = sorted(set(session.scalars(select(LeaderAssignment.name))))
    fields = [
        ("county", "县（市、区）", [(r.code, r.name) for r in counties.itertuples()]),
        ("source", "问题来源", [(s, s) for s in SOURCE_TYPES]),
        ("status", "整改状态", [(s, s) for s in workflow.STATUSES]),
        ("deadline", "整改时限", [(d, d) for d in DEADLINE_CLASSES]),
        ("rag", "预警等级", [(k, maps.RAG_LABELS[k]) for k in workflow.RAGS]),
        ("category", "问题类别", [(c, c) for c in _distinct(session, scope, Issue.category)]),
        ("protected_area", "自然保护地",
         [(p, p) for p in _distinct(session, scope, Issue.protected_area)]),
        ("leader", "包联领导", [(n, n) for n in leaders]),
        ("q", "关键词", None),
    ]
    return [{"name": n, "label": label, "choices": choices, "value": filters.get(n)}
            for n, label, choices in fields]


def county_stats(session, query) -> dict[str, dict]:
    """Return per-county total, finished, overdue and completion rate for the issues in view."""
    today = api.today()
    overdue = workflow.rag_clause("red", today, current_app.config.get("AMBER_DAYS", 30))
    stmt = select(Issue.county_code, func.count(Issue.id),
                  func.sum(case((Issue.status.in_(FINISHED), 1), else_=0)),
                  func.sum(case((overdue, 1), else_=0))
                  ).select_from(Issue).group_by(Issue.county_code)
    out = {}
    for code, total, finished, late in session.execute(query.apply(stmt, session)):
        out[code] = {"total": total, "done": finished or 0, "overdue": late or 0,
                     "rate": (finished or 0) / total if total else None}
    return out


def display_transform(basemap: str):
    """Return the WGS84 -> GCJ-02 shift when AMap tiles are shown, else None."""
    return api.wgs84_to_gcj02 if basemap == "amap" else None


@bp.route("/")
def index():
    """The issue map with its filters, count, legend and layer control."""
    filters, display = split_display(request.args)
    query = api.issue_query(filters)
    session = db.get_session()
    total = session.scalar(query.apply(select(func.count(Issue.id)).select_from(Issue), session))
    unlocated = session.scalar(query.apply(
        select(func.count(Issue.id)).select_from(Issue).where(Issue.lon.is_(None)), session))
    data_args = {**filters.to_dict(flat=False), "limit": str(api.MAP_MAX_LIMIT), "f": "map"}
    if display["basemap"] == "amap":
        data_args["coords"] = "gcj02"
    shapes = maps.status_shapes(workflow.STATUSES)
    options = {
        "dataUrl": url_for("api.issues", **data_args),
        "itemUrl": url_for("api.issue", number="__NUMBER__",
                           **({"coords": "gcj02"} if display["basemap"] == "amap" else {})),
        "detailUrl": url_for("pages.issue_detail", number="__NUMBER__"),
        "statusShapes": shapes,
        "ragColors": maps.RAG_COLORS,
        "countElement": "drawn-count",
        "popupFields": [["county_name", "县（市、区）"], ["lead_unit", "牵头单位"],
                        ["due_date", "整改时限"], ["status", "状态"], ["progress", "进度（%）"],
                        ["source_type", "来源"]],
    }
    layers = get_layers()
    m = maps.build_issue_map(
        layers=layers, issue_options=options, county_stats=county_stats(session, query),
        measure=display["measure"], basemap=display["basemap"],
        tianditu_key=current_app.config.get("TIANDITU_KEY"),
        review_numbers={"tianditu": current_app.config.get("TIANDITU_REVIEW_NO"),
                        "amap": current_app.config.get("AMAP_REVIEW_NO")},
        to_display=display_transform(display["basemap"]))
    illustrative = any(lay is not None and not lay.info.authoritative
                       for lay in (layers.counties, layers.townships, layers.protected_areas))
    return render_template(
        "pages/index.html", map=maps.map_parts(m), filters=filter_fields(session, filters),
        total=total, unlocated=unlocated, legend=maps.legend_items(shapes),
        basemaps=maps.BASEMAPS, illustrative=illustrative,
        api_url=url_for("api.issues", **filters.to_dict(flat=False)), **display)


def completion_dates(session, numbers_query) -> dict[int, object]:
    """Return issue id -> date the rectification was finished (its first sign-off stage)."""
    stmt = (select(SignOff.issue_id, func.min(SignOff.date)).group_by(SignOff.issue_id)
            .where(SignOff.issue_id.in_(numbers_query)))
    return dict(session.execute(stmt).all())


def dashboard_rows(session, query) -> list[dict]:
    """Turn the issues in view into the plain rows ``webmap.ledger.figures`` counts."""
    today = api.today()
    amber = current_app.config.get("AMBER_DAYS", 30)
    ids = query.apply(select(Issue.id).select_from(Issue), session)
    finished_on = completion_dates(session, ids)
    stmt = query.apply(select(Issue.id, Issue.county_code, Issue.county_name, Issue.source_type,
                              Issue.deadline_class, Issue.status, Issue.due_date)
                       .select_from(Issue), session)
    rows = []
    for r in session.execute(stmt):
        rag = workflow.rag(r.status, r.due_date, today, amber)
        done = r.status in FINISHED
        when = finished_on.get(r.id)
        on_time = bool(done and r.due_date and when and when <= r.due_date)
        rows.append({"county_code": r.county_code, "county_name": r.county_name,
                     "source_type": r.source_type, "deadline_class": r.deadline_class,
                     "done": done, "on_time": on_time, "overdue": rag == "red",
                     "due_soon": rag == "amber",
                     "due": bool(r.due_date and (done or r.due_date < today))})
    return rows


@bp.route("/dashboard")
def dashboard():
    """Per-county, per-source and look-back figures with SVG charts and a fair ranking."""
    filters, _ = split_display(request.args)
    query = api.issue_query(filters)
    rows = dashboard_rows(db.get_session(), query)
    counties = stats.rank_counties(stats.by_county(rows))
    sources = stats.by_key(rows, "source_type")
    lookback = stats.lookback(rows)
    chart_rows = sorted(counties, key=lambda c: c["code"])
    figures = {
        "county": charts.stacked_chart(
            [(c["name"], (c["done"], c["overdue"], c["total"] - c["done"] - c["overdue"]))
             for c in chart_rows],
            title="各县问题数", series=[("已完成整改", "#1a9641"), ("逾期", "#d7191c"),
                                        ("其他在办", "#bdbdbd")]),
        "ranking": charts.bar_chart([(c["name"], c["score"]) for c in counties],
                                    title="按时完成率（威尔逊下限）", percent=True, max_value=1),
        "source": charts.bar_chart([(k, v["total"]) for k, v in sorted(sources.items())],
                                   title="按来源的问题数"),
    }
    return render_template("pages/dashboard.html", counties=counties, sources=sources,
                           lookback=lookback, figures=figures, total=len(rows),
                           today=api.today())


def display_reason(text: str) -> str:
    """Word a stored reason for the page: a rule's wildcard ``*`` reads as 不限."""
    return (text or "").replace(f"「{ANY}」", "「不限」")


def responsibility_rows(responsibilities) -> list[dict]:
    """Return the issue's parties for the detail table, in Chinese, in party order.

    Within a kind the parties in force come first (a manual override before computed ones), then
    the parties an override replaced, so each replaced row sits right under its replacement.
    """
    order = {k: i for i, k in enumerate(PARTY_KINDS)}
    rows = sorted(responsibilities, key=lambda r: (order.get(r.party_kind, len(order)),
                                                   bool(r.overridden), r.source != "override"))
    return [{"kind": PARTY_KIND_LABELS.get(r.party_kind, r.party_kind), "name": r.name,
             "reason": display_reason(r.reason),
             "source": PARTY_SOURCE_LABELS.get(r.source, r.source),
             "actor": r.actor if r.source == "override" else None,
             "overridden": bool(r.overridden)} for r in rows]


def issue_timeline(issue: Issue) -> list[tuple]:
    """Return progress reports and sign-off stages by date: (kind, day, what, text, who, files)."""
    updates = [("进展", u.date, f"{u.percent}%", u.text, u.author or u.actor, [])
               for u in issue.updates]
    # a stage's signer is shown once, as its author (it used to appear twice on each line)
    stages = [("销号·" + s.stage, s.date, "", s.note, s.signer, s.attachments)
              for s in issue.signoffs]
    return sorted(updates + stages, key=lambda t: t[1])


@bp.route("/issues/<number>")
def issue_detail(number):
    """One issue: small map, responsible parties and why, timeline, accountability actions."""
    query = api.issue_query(MultiDict())
    session = db.get_session()
    stmt = query.apply(select(Issue).where(Issue.number == number), session)
    issue = session.scalars(stmt).first()
    if issue is None:
        abort(404, f"问题编号“{number}”不存在或无权查看")
    feature = api.issue_feature(issue, today=api.today())
    rag = feature["properties"]["rag"]
    rag_label = maps.RAG_LABELS.get(rag, "")
    shape = maps.status_shapes(workflow.STATUSES).get(issue.status, "circle")
    m = maps.build_detail_map(feature["geometry"], layers=get_layers(), rag=rag, shape=shape,
                              label=f"{issue.number} {rag_label} · {issue.status}")
    return render_template(
        "pages/issue.html", issue=issue, props=feature["properties"], map=maps.map_parts(m),
        timeline=issue_timeline(issue), parties=responsibility_rows(issue.responsibilities),
        rag_label=rag_label, marker=maps.glyph_svg(shape, maps.RAG_COLORS.get(rag, "#8c8c8c")),
        shape_label=maps.SHAPE_LABELS.get(shape, ""))


def leader_groups(session) -> list[dict]:
    """Group current assignments by leader: one entry per name with counties and cases."""
    today = api.today()
    rows = session.scalars(select(LeaderAssignment).order_by(LeaderAssignment.id)).all()
    groups: dict[str, dict] = {}
    for a in rows:
        if a.valid_from > today or (a.valid_to is not None and a.valid_to < today):
            continue
        g = groups.setdefault(a.name, {"id": a.id, "name": a.name, "title": a.title,
                                       "counties": [], "cases": []})
        if a.issue_number:
            g["cases"].append(a.issue_number)
        elif a.county_code:
            g["counties"].append(a.county_code)
    names = dict(zip(get_layers().counties.frame["code"], get_layers().counties.frame["name"],
                     strict=False))
    for g in groups.values():
        parts = [names.get(c, c) for c in g["counties"]] + [f"案件 {n}" for n in g["cases"]]
        g["scope"] = "、".join(parts) or "—"
    return list(groups.values())


def leader_issues(session, name: str) -> list[Issue]:
    """Return the issues in one leader's scope through the shared query (``leader`` filter)."""
    query = api.issue_query(MultiDict({"leader": name}))
    stmt = query.apply(select(Issue), session).order_by(Issue.due_date, Issue.number)
    return session.scalars(stmt).all()


def _count_rag(issues, today) -> dict:
    """Return the total, overdue and amber counts of a list of issues."""
    rags = [workflow.rag(i.status, i.due_date, today, current_app.config.get("AMBER_DAYS", 30))
            for i in issues]
    return {"total": len(issues), "overdue": rags.count("red"), "due_soon": rags.count("amber")}


@bp.route("/leaders")
def leaders():
    """Every leader with their counties or cases and how many items are late or due soon."""
    session = db.get_session()
    groups = leader_groups(session)
    for g in groups:
        g.update(_count_rag(leader_issues(session, g["name"]), api.today()))
    return render_template("pages/leaders.html", leaders=groups)


@bp.route("/leaders/<int:leader_id>")
def leader(leader_id):
    """One leader's overdue and upcoming items."""
    session = db.get_session()
    found = next((g for g in leader_groups(session) if g["id"] == leader_id), None)
    if found is None:
        abort(404, f"包联领导 {leader_id} 不存在或已不在任")
    issues = leader_issues(session, found["name"])
    today = api.today()
    amber = current_app.config.get("AMBER_DAYS", 30)
    found.update(_count_rag(issues, today))
    overdue = [i for i in issues if workflow.rag(i.status, i.due_date, today, amber) == "red"]
    upcoming = [i for i in issues if workflow.rag(i.status, i.due_date, today, amber) == "amber"]
    return render_template("pages/leader.html", leader=found, overdue=overdue, upcoming=upcoming)
