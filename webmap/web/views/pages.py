"""HTML pages: the issue map, the dashboard, issue detail and the leader views.

Every read goes through the shared ``IssueQuery`` (``webmap.web.args.issue_query``), whose scope
is where access control is enforced, so a page never shows an issue its ``/api/issues`` twin
would not; every count comes from ``webmap.ledger.figures``, as on the public page and in the
briefing pack.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from flask import Blueprint, abort, render_template, request, url_for
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from webmap.ledger import figures, trends
from webmap.ledger.collections import STAFF, count_unlocated, fetch_item, fetch_items
from webmap.ledger.constraints import missing_titles
from webmap.ledger.evidence.store import located_photos, photos_of
from webmap.ledger.evidence.summary import tally
from webmap.ledger.items import collect_items
from webmap.ledger.leaders import leaders_on
from webmap.ledger.models import Issue, LeaderAssignment
from webmap.ledger.vocabulary import (
    DEADLINE_CLASSES,
    FIELD_LABELS,
    FILTER_LABELS,
    RAG_COLORS,
    RAG_LABELS,
    RAG_LEGEND,
    RAGS,
    SHAPE_LABELS,
    SOURCE_TYPES,
    STATUSES,
)
from webmap.render import charts, maps
from webmap.render.basemaps import BASEMAPS
from webmap.render.captions import illustrative, layer_lines
from webmap.render.evidence import before_after_pairs, evidence_features
from webmap.render.features import geometry_json
from webmap.render.issue_detail import attributed_with, issue_timeline, responsibility_rows
from webmap.render.legend import status_shape
from webmap.render.trend_charts import trend_charts
from webmap.web.args import issue_query, split_display
from webmap.web.context import get_layers, get_session, ledger_context
from webmap.web.items import MAP_MAX_LIMIT
from webmap.web.mapview import issue_map
from webmap.web.vendor import map_assets

bp = Blueprint("pages", __name__)

LIST_LIMIT = 100  # issues listed beside the map (a keyboard and screen-reader route to them)
LIST_FIELDS = ("title", "county_name", "status", "rag", "due_date")
EVIDENCE_MAP_LIMIT = 5000  # geotagged photos drawn on the issue map (a layer switched off at first)

POPUP_FIELDS = [[f, FIELD_LABELS[f]] for f in ("county_name", "lead_unit", "due_date", "status",
                                               "progress", "source_type")]  # fmt: skip


def _distinct(session, query, column) -> list[str]:
    """Return the distinct non-empty values of a column among the issues in scope."""
    stmt = query.apply(select(column).select_from(Issue).where(column.is_not(None)).distinct())
    return sorted(v for v in session.scalars(stmt) if v)


def filter_fields(session, filters: MultiDict) -> list[dict]:
    """Describe the filter form: name, label, current value and choices (None for free text)."""
    scope = issue_query(MultiDict())
    counties = get_layers().counties.frame
    leaders = sorted(set(session.scalars(select(LeaderAssignment.name))))
    choices = {
        "county": [(r.code, r.name) for r in counties.itertuples()],
        "source": [(s, s) for s in SOURCE_TYPES],
        "status": [(s, s) for s in STATUSES],
        "deadline": [(d, d) for d in DEADLINE_CLASSES],
        "rag": [(k, RAG_LEGEND[k]) for k in RAGS],
        "category": [(c, c) for c in _distinct(session, scope, Issue.category)],
        "protected_area": [(p, p) for p in _distinct(session, scope, Issue.protected_area)],
        "leader": [(n, n) for n in leaders],
        "q": None,  # free text
    }
    return [{"name": n, "label": FILTER_LABELS[n], "choices": c, "value": filters.get(n)}
            for n, c in choices.items()]  # fmt: skip


@bp.route("/")
def index():
    """The issue map with its filters, count, legend and layer control."""
    filters, display = split_display(request.args)
    query = issue_query(filters)
    session = get_session()
    counted = figures.figures(session, query)
    unlocated = count_unlocated(session, query)
    shifted = {"coords": "gcj02"} if display["basemap"] == "amap" else {}
    data_args = {**filters.to_dict(flat=False), "limit": str(MAP_MAX_LIMIT), "f": "map", **shifted}
    parts, legend = issue_map(
        data_url=url_for("api.issues", **data_args),
        item_url=url_for("api.issue", number="__NUMBER__", **shifted),
        detail_url=url_for("pages.issue_detail", number="__NUMBER__"),
        popup_fields=POPUP_FIELDS, counties=counted.counties(),
        evidence=located_photos(session, query.apply(select(Issue.id).select_from(Issue), session),
                                EVIDENCE_MAP_LIMIT), focus=query.county, **display)  # fmt: skip
    listed, _ = fetch_items(session, STAFF, query, ledger_context(), limit=LIST_LIMIT,
                            properties=LIST_FIELDS)  # fmt: skip
    return render_template(
        "pages/index.html", map=parts, listed=[i.properties | {"number": i.number} for i in listed],
        list_limit=LIST_LIMIT, rag_labels=RAG_LABELS, filters=filter_fields(session, filters),
        total=counted.total.total, unlocated=unlocated, legend=legend, basemaps=BASEMAPS,
        illustrative=illustrative(get_layers()), layer_lines=layer_lines(get_layers()),
        api_url=url_for("api.issues", **filters.to_dict(flat=False)), day=query.day,
        as_of=query.as_of, **display)  # fmt: skip


@bp.route("/dashboard")
def dashboard():
    """Per-county, per-source and look-back figures with SVG charts and a fair ranking."""
    filters, _ = split_display(request.args)
    query = issue_query(filters)
    counted = figures.figures(get_session(), query)
    counties, sources = counted.counties(), counted.sources()
    chart_rows = sorted(counties, key=lambda c: c.code)
    charts_ = {
        "county": charts.stacked_chart(
            [(c.name, (c.finished, c.overdue_open, c.total - c.finished - c.overdue_open))
             for c in chart_rows],
            title="各县问题数", series=[("已完成整改", RAG_COLORS["green"]),
                                        ("逾期未完成", RAG_COLORS["red"]),
                                        ("其他在办", "#bdbdbd")]),
        "ranking": charts.bar_chart([(c.name, c.score) for c in counties],
                                    title="按时完成率（威尔逊下限）", percent=True, max_value=1),
        "source": charts.bar_chart([(k, v.total) for k, v in sorted(sources.items())],
                                   title="按来源的问题数"),
    }  # fmt: skip
    # the trend is rebuilt from the event log like as_of; its last point is this page's day
    trend = trend_charts(trends.trend(get_session(), query))
    return render_template("pages/dashboard.html", counties=counties, sources=sources,
                           lookback=counted.lookback(), figures=charts_, total=counted.total,
                           day=counted.day, as_of=query.as_of, trend=trend,
                           amber_days=ledger_context().amber_days)  # fmt: skip


@bp.route("/issues/<number>")
def issue_detail(number):
    """One issue: small map, responsible parties and why, timeline, accountability actions."""
    query = issue_query(MultiDict())
    session = get_session()
    issue = session.scalars(replace(query, number=number).select()).first()
    if issue is None:
        abort(404, f"问题编号“{number}”不存在或无权查看")
    item = fetch_item(session, STAFF, query, ledger_context(), number)
    rag = item.properties["rag"]
    shape = status_shape(issue.status)
    photos = photos_of(session, issue)
    m = maps.build_detail_map(geometry_json(item.geometry), assets=map_assets(),
                              layers=get_layers(), rag=rag, shape=shape,
                              label=f"{issue.number} {RAG_LEGEND[rag]} · {issue.status}",
                              evidence=evidence_features(
                                  (p, issue) for p in photos if p.photo_lon is not None),
                              )  # fmt: skip
    return render_template(
        "pages/issue.html", issue=issue, props=item.properties, map=maps.map_parts(m),
        timeline=issue_timeline(issue, photos), photos=photos, photo_summary=tally(photos),
        pairs=before_after_pairs(photos), parties=responsibility_rows(issue.responsibilities),
        rag_label=RAG_LEGEND[rag], marker=maps.glyph_svg(shape, RAG_COLORS[rag]),
        shape_label=SHAPE_LABELS.get(shape, ""), pa_layer=attributed_with(issue),
        missing_layers=missing_titles(get_layers()))  # fmt: skip


def _leaders():
    """Return the leaders in office today, by name, with the county names of the layer."""
    frame = get_layers().counties.frame
    names = dict(zip(frame["code"], frame["name"], strict=False))
    return leaders_on(get_session(), ledger_context().today, names)


def _leader_query(name: str):
    """Return the shared query of one leader's issues (``leader`` filter, within scope)."""
    return issue_query(MultiDict({"leader": name}))


@bp.route("/leaders")
def leaders():
    """Every leader with their counties or cases and how many items are late or due soon."""
    session = get_session()
    rows = [(g, figures.figures(session, _leader_query(g.name)).total) for g in _leaders()]
    return render_template("pages/leaders.html", leaders=rows,
                           amber_days=ledger_context().amber_days)  # fmt: skip


@bp.route("/leaders/<int:leader_id>")
def leader(leader_id):
    """One leader's overdue and upcoming items."""
    found = next((g for g in _leaders() if g.id == leader_id), None)
    if found is None:
        abort(404, f"包联领导 {leader_id} 不存在或已不在任")
    session, query = get_session(), _leader_query(found.name)
    items = sorted(collect_items(session, query), key=lambda i: (i.due_date or date.max, i.number))
    return render_template(
        "pages/leader.html", leader=found, tally=figures.figures(session, query).total,
        overdue=[i for i in items if i.rag == "red"],
        upcoming=[i for i in items if i.rag == "amber"],
        amber_days=ledger_context().amber_days, rag_labels=RAG_LABELS)  # fmt: skip
