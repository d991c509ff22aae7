"""The GeoJSON page writer of ``/api/issues`` agrees with ``feature_collection``, byte for byte."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import numpy as np
import orjson
import shapely

from geo.crs import wgs84_to_gcj02
from webmap.ledger.collections import ItemColumns
from webmap.render.feature_pages import dumps, feature_page, features_json, round_like_python
from webmap.render.features import feature_collection


def _page() -> ItemColumns:
    """Return a page with points, a line, a polygon, a multipoint, an unlocated row and lists."""
    lon = np.array([111.6, 111.1234565, np.nan, 0.0, 111.55, 111.5, 112.0000005])
    lat = np.array([26.4, 25.4321235, np.nan, 0.0, 25.55, 25.5, 25.0])
    shapes = {3: shapely.LineString([(111.5, 25.5), (111.6, 25.6)]),
              4: shapely.box(111.5, 25.5, 111.6, 25.6),
              5: shapely.MultiPoint([(111.5, 25.5), (111.7, 25.7)])}  # fmt: skip
    names = ("number", "title", "due_date", "partner_units", "constraints")
    numbers = [f"HT-0{i}" for i in range(len(lon))]
    values = [numbers, ["点", '引号"\\反斜杠', "无位置", "线", "面", "多点", "七位小数"],
              ["2021-12-31", None, None, "2022-01-01", None, None, None],
              [(), ["水利局", "林业局"], (), (), (), (), ()],
              [(), (), (), [{"zone": "一级保护区", "overlap_share": 0.5}], (), (), ()]]  # fmt: skip
    return ItemColumns(names, numbers, values, lon, lat, shapes)


def test_features_match_feature_collection_of_the_same_items():
    """The column writer gives the text ``json.dumps`` gave for ``feature_collection``."""
    page = _page()
    for to_display in (None, wgs84_to_gcj02):
        expected = feature_collection(page.items(), to_display)
        text = json.dumps(expected, ensure_ascii=False, separators=(",", ":"))
        assert dumps(feature_page(page, to_display)) == text.encode()


def test_items_have_their_own_lists():
    """``items()`` gives each item fresh lists where the columns hold the empty ``()``."""
    items = _page().items()
    assert items[0].properties["partner_units"] == [] and items[0].properties["constraints"] == []
    items[0].properties["constraints"].append("x")
    assert items[1].properties["constraints"] == []
    assert items[2].geometry is None and items[3].geometry.geom_type == "LineString"


def test_an_empty_page_is_an_empty_array():
    """A page without rows is ``[]``."""
    empty = ItemColumns(("number",), [], [[]], np.empty(0), np.empty(0))
    assert features_json(empty) == b"[]"


def test_round_like_python_equals_round_on_halves_and_noise():
    """The array rounding gives Python's ``round`` for random and seven-decimal (half) values."""
    rng = np.random.default_rng(15)
    for values in (rng.uniform(-180, 180, 20000), np.round(rng.uniform(100, 120, 20000), 7),
                   np.array([np.nan, 1.0000005, 111.1234565, -0.0000005, 2.5e-7])):  # fmt: skip
        got = round_like_python(values)
        want = [round(v, 6) for v in values.tolist()]
        assert [g for g in got if g == g] == [w for w in want if w == w]


def test_dumps_writes_dates_as_str_did():
    """Dates and datetimes keep the text ``json.dumps(default=str)`` gave them."""
    body = {"day": date(2022, 6, 1), "at": datetime(2023, 1, 1, tzinfo=UTC), "n": 1.5}
    assert orjson.loads(dumps(body)) == json.loads(json.dumps(body, default=str))
