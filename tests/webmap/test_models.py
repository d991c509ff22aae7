"""Storage: schema migration, geometry round trip, bbox columns, constraints, idempotent upgrade."""

from __future__ import annotations

import pytest
from shapely.geometry import LineString, Point, Polygon
from sqlalchemy import Text, func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from webmap.ledger import db
from webmap.ledger.models import Issue, Site
from webmap.web import context as webctx


def test_schema_is_at_head_and_upgrade_is_idempotent(app):
    """The fixture database is at head; upgrading again changes nothing."""
    with app.app_context():
        engine = webctx.get_engine()
        current, head = db.schema_status(engine)
        assert current == head is not None
        db.upgrade_db(engine)
        assert db.schema_status(engine) == (head, head)
        assert "events" in inspect(engine).get_table_names()


@pytest.mark.parametrize(
    "geom",
    [
        LineString([(111.5, 26.1), (111.62, 26.25)]),
        Polygon([(111.5, 26.1), (111.6, 26.1), (111.6, 26.2), (111.5, 26.1)]),
    ],
)
def test_geometry_round_trip_and_bbox(make_issue, session, geom):
    """Lines and polygons come back as equal shapely geometries with bbox and display point set."""
    issue = make_issue("HT-02", geometry=geom)
    session.expire_all()
    got = session.get(Issue, issue.id)
    assert got.geometry.equals(geom)
    assert (got.minx, got.miny, got.maxx, got.maxy) == pytest.approx(geom.bounds)
    assert geom.buffer(1e-9).contains(Point(got.lon, got.lat))


def test_geojson_dict_is_accepted(make_issue, session):
    """A GeoJSON dict is stored and read back as shapely."""
    issue = make_issue("HT-03", geometry={"type": "Point", "coordinates": [111.61, 26.42]})
    session.expire_all()
    got = session.get(Issue, issue.id)
    assert (got.geometry.x, got.geometry.y) == (111.61, 26.42)
    assert (got.lon, got.lat) == (111.61, 26.42)


def test_postgis_column_is_real_geometry(app, make_issue, session):
    """On PostgreSQL the column is PostGIS geometry in SRID 4326 with a GIST index."""
    make_issue("HT-04")
    if session.bind.dialect.name != "postgresql":
        pytest.skip("PostGIS only")
    srid = session.execute(select(func.ST_SRID(Issue.geometry))).scalar()
    assert srid == 4326
    idx = session.execute(
        text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_issues_geometry'")
    ).scalar()
    assert "gist" in idx.lower()


def test_issue_number_is_unique(make_issue, session):
    """Two issues cannot share a number at the database level."""
    make_issue("HT-05")
    with pytest.raises(IntegrityError):
        with db.transaction(session):
            session.add(Issue(number="HT-05", source_type="回头看", title="重复", partner_units=[]))
            session.flush()


def test_progress_is_bounded(make_issue, session):
    """The database refuses a progress outside 0..100."""
    issue = make_issue("HT-06")
    with pytest.raises(IntegrityError):
        with db.transaction(session):
            issue.progress = 120
            session.flush()


def test_site_links_issues_from_different_sources(make_issue, session):
    """A site groups issues about one place from different sources."""
    a = make_issue("HT-07")
    b = make_issue("ZY-01", source_type="中央督察")
    with db.transaction(session):
        site = Site(name="某砂石场")
        site.issues = [a, b]
        session.add(site)
    session.expire_all()
    got = session.scalars(select(Site)).one()
    assert sorted(i.source_type for i in got.issues) == ["中央督察", "回头看"]


def test_sqlite_pragmas(app):
    """The SQLite engine runs in WAL mode with foreign keys on."""
    with app.app_context():
        engine = webctx.get_engine()
        if engine.dialect.name != "sqlite":
            pytest.skip("SQLite only")
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_chinese_json_is_stored_readable(make_issue, session):
    """JSON columns keep Chinese text unescaped, so LIKE filters on them work."""
    make_issue("HT-08", partner_units=["永州市生态环境局", "冷水滩区人民政府"])
    raw = session.execute(select(Issue.partner_units.cast(Text))).scalar()
    assert "永州市生态环境局" in raw
