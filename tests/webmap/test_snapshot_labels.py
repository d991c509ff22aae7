"""Snapshot labels (county and protected-area names, issue numbers) never overlap."""

from __future__ import annotations

from dataclasses import replace
from itertools import combinations

import pytest

from tests.webmap.helpers import COUNTY_NAMES, make_sample_app
from webmap.ledger.items import collect_items
from webmap.ledger.query import IssueQuery
from webmap.render.snapshot import build_spec, draw
from webmap.render.snapshot.labels import LABEL_GID, Label, place_labels
from webmap.web import context as webctx


@pytest.fixture(scope="module")
def sample_app(tmp_path_factory, sqlite_template):
    """Return an app on a SQLite copy holding the sample ledger (read-only use)."""
    app = make_sample_app(tmp_path_factory.mktemp("sample"), sqlite_template)
    yield app
    app.extensions["db"]["engine"].dispose()


def drawn_labels(app, query: IssueQuery):
    """Draw a snapshot of ``query`` and return its labels' texts and boxes on the page."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from webmap.render.snapshot.fonts import rc_params

    with app.app_context(), matplotlib.rc_context(rc_params()):
        items = collect_items(webctx.get_session(), query)
        fig = draw.render_figure(build_spec(query), items, webctx.get_layers())
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        renderer = canvas.get_renderer()
        return [(t.get_text(), t.get_window_extent(renderer))
                for t in fig.axes[0].texts if t.get_gid() == LABEL_GID]  # fmt: skip


@pytest.mark.parametrize("county", [(), ("431102",), ("431124",)])
def test_no_two_labels_overlap(sample_app, county):
    """On the city snapshot and on county snapshots (with issue numbers) no labels overlap."""
    labels = drawn_labels(sample_app, replace(IssueQuery(), county=county))
    for (a, box_a), (b, box_b) in combinations(labels, 2):
        assert not box_a.overlaps(box_b), (a, b)
    texts = {t for t, _ in labels}
    if not county:
        assert set(COUNTY_NAMES) <= texts  # every county is named on the city map
    else:
        assert any("-" in t for t in texts)  # issue numbers are labelled on a county map


def test_crowded_point_labels_move_out_with_leaders():
    """Labels of markers on one spot all find room around it, further ones with a leader."""
    labels = [Label(50.0, 50.0, f"HKT-{n:02d}", 6) for n in range(8)]
    placed = place_labels(labels, (0, 100, 0, 100), (300.0, 300.0))
    assert len(placed) == 8
    assert any(p.leader for p in placed) and not placed[0].leader
