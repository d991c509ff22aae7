"""#19 bad-input campaign on files: every bad file is a named Chinese error and no change.

Property-based (hypothesis) over what the commands read: ``yzmap locate`` tables (encodings,
BOM, NaN/inf/out-of-range or text coordinates, very long cells, random bytes), ledger files for
``yzmap import-ledger`` and boundary files for ``yzmap boundaries import`` (random bytes under
each supported suffix). A run either succeeds or ends with ``错误：`` and exit status 1 or 2;
never a traceback, and a refused import leaves the database as it was. Regressions for what the
campaign found (tracebacks on an empty CSV, an unclosed quote and a non-zip ``.xlsx`` in
``locate``) sit beside them.
"""

from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webmap.cli import main

FAST = settings(max_examples=10, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
COORDS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "nan", "NaN", "inf", "-inf", "1e400", "-1e400", "111.6", "26.4",
                     "181", "-91", "111,6", "东经111度", "１１１．６", "0x1F", "1_000"]),
    st.text(max_size=20),
)  # fmt: skip
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "gbk"])


def _invoke(*args):
    """Run ``yzmap`` in-process and check it ended without a traceback."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        args, repr(result.exception))  # fmt: skip
    assert "Traceback" not in result.output
    if result.exit_code:
        assert result.exit_code in (1, 2)
        assert "错误：" in result.output, result.output
    return result


def _csv_bytes(rows, encoding: str) -> bytes:
    """Return rows as CSV bytes in ``encoding`` (unencodable characters replaced)."""
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode(encoding, errors="replace")


@FAST
@given(lon=COORDS, lat=COORDS, encoding=ENCODINGS, long_cell=st.booleans())
def test_locate_survives_any_coordinate_text(tmp_path, lon, lat, encoding, long_cell):
    """Any coordinate text: each row is located or carries an error; the run never crashes."""
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    name = "甲" * (200_000 if long_cell else 1)
    rows = [["名称", "经度", "纬度"], [name, lon, lat], ["乙", "111.6", "26.4"]]
    src.write_bytes(_csv_bytes(rows, encoding))
    result = _invoke("locate", src, "--out", out)
    assert result.exit_code == 0, result.output
    assert out.exists()


@FAST
@given(data=st.binary(max_size=2000), suffix=st.sampled_from([".csv", ".xlsx"]))
def test_locate_survives_any_file_content(tmp_path, data, suffix):
    """Random bytes as the input table: a named error (or a run), no traceback, no output file."""
    src, out = tmp_path / f"in{suffix}", tmp_path / "out.csv"
    src.write_bytes(data)
    result = _invoke("locate", src, "--out", out)
    assert result.exit_code or out.exists()
    if result.exit_code:
        assert not out.exists()


@pytest.mark.parametrize("content,suffix,words", [
    (b"", ".csv", "文件为空"),
    (b"\xef\xbb\xbf", ".csv", "文件为空"),
    (b'a,b\n"unclosed,1\n', ".csv", "CSV 格式错误"),
    (b"PK\x03\x04not really a zip", ".xlsx", "不是有效的 XLSX 文件"),
    (b"name,foo\nx,y\n", ".csv", "指明坐标列"),
])  # fmt: skip
def test_locate_bad_tables_are_named_errors(tmp_path, content, suffix, words):
    """Regressions: an empty CSV, an unclosed quote and a non-zip XLSX were tracebacks."""
    src = tmp_path / f"in{suffix}"
    src.write_bytes(content)
    result = _invoke("locate", src, "--out", tmp_path / "out.csv")
    assert result.exit_code and words in result.output


def _issue_count() -> int:
    """Return the issues in the configured database."""
    from sqlalchemy import func, select

    from webmap.commands import open_ledger
    from webmap.ledger.models import Issue

    with open_ledger() as ledger:
        return ledger.session.scalar(select(func.count(Issue.id)))


@FAST
@given(data=st.binary(max_size=3000), suffix=st.sampled_from([".csv", ".xlsx"]))
def test_import_ledger_refuses_any_bytes_and_changes_nothing(cli_database, tmp_path, data,
                                                             suffix):  # fmt: skip
    """Random bytes as a ledger: refused with a Chinese reason, the database untouched."""
    src = tmp_path / f"ledger{suffix}"
    src.write_bytes(data)
    result = CliRunner().invoke(main, ["import-ledger", str(src)])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 1 and "数据库未作任何修改" in result.output
    assert _issue_count() == 0


@FAST
@given(title=st.text(min_size=1, max_size=40), start=st.sampled_from("=+-@\t\r"))
def test_formula_like_text_is_neutralised_and_restored(title, start):
    """Any text that a spreadsheet would run is written inert and reads back unchanged."""
    from webmap.ledger.io.formulas import FORMULA_STARTS, neutralise_text, restore_text

    value = start + title
    cell = neutralise_text(value)
    assert not cell.startswith(FORMULA_STARTS)
    assert restore_text(cell) == value


def _versions() -> int:
    """Return the stored boundary versions of the configured database."""
    from sqlalchemy import func, select

    from webmap.commands import open_ledger
    from webmap.ledger.models import BoundaryVersion

    with open_ledger() as ledger:
        return ledger.session.scalar(select(func.count(BoundaryVersion.id)))


@FAST
@given(data=st.binary(max_size=3000),
       suffix=st.sampled_from([".zip", ".geojson", ".gpkg", ".kml", ".kmz"]))  # fmt: skip
def test_boundaries_import_refuses_any_bytes_and_changes_nothing(cli_database, tmp_path, data,
                                                                 suffix):  # fmt: skip
    """Random bytes as a boundary file: a named error, layer unchanged, no version stored."""
    src = tmp_path / f"layer{suffix}"
    src.write_bytes(data)
    result = _invoke("boundaries", "import", src, "--layer", "protected-areas", "--yes")
    assert result.exit_code == 1 and "图层未改变" in result.output
    assert _versions() == 0


@pytest.mark.parametrize("name,payload,words", [
    ("../../evil.shp", b"x" * 100, "目录之外"),
    ("big.shp", b"\0" * (50 * 1024 * 1024), "压缩炸弹"),
])  # fmt: skip
def test_boundary_archives_with_traversal_or_bombs_are_refused(cli_database, tmp_path, name,
                                                               payload, words):  # fmt: skip
    """A zip entry escaping the folder, or a highly compressed one: refused, nothing written."""
    import zipfile

    src = tmp_path / "layer.zip"
    with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, payload)
    result = _invoke("boundaries", "import", src, "--layer", "protected-areas", "--yes")
    assert result.exit_code == 1 and words in result.output
    assert not (tmp_path.parent / "evil.shp").exists()
    assert _versions() == 0


@pytest.mark.parametrize("geometry,words", [
    ({"type": "Polygon", "coordinates": [[[1e308, 1e308], [-1e308, 0], [0, 0]]]}, "无法读取"),
    ({"type": "Polygon", "coordinates": [[[500000, 2900000], [510000, 2900000],
                                          [510000, 2910000], [500000, 2900000]]]}, "坐标系"),
])  # fmt: skip
def test_invalid_or_wrong_crs_geometry_is_refused(cli_database, tmp_path, geometry, words):
    """An unclosed ring, and metres declared as degrees (GeoJSON's WGS84): named, no version."""
    import json

    src = tmp_path / "layer.geojson"
    feature = {"type": "Feature", "properties": {"name": "甲"}, "geometry": geometry}
    src.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    result = _invoke("boundaries", "import", src, "--layer", "protected-areas", "--yes")
    assert result.exit_code == 1 and words in result.output
    assert _versions() == 0
