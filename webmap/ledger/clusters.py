"""Issue counts on a lon/lat grid, computed in the database: the map's view of a big ledger.

A million issues cannot travel to a browser, but the cells of a grid can: ``grid_cells`` groups
a query's located issues by ``floor(lon / cell), floor(lat / cell)`` and their RAG class in one
GROUP BY (plain SQL, the same on SQLite and PostGIS; on PostGIS the query's ``bbox`` filter uses
the geometry's GIST index), and returns per cell the count, the RAG split (the same ``rag_code``
CASE as the map's point pages, so colours agree) and the mean position of its issues.

The public collection never groups a sensitive issue at its exact place: those are counted per
(township, county) in SQL and placed at the representative point they are published at
(``collections.published_point``), then binned into the same grid in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

from sqlalchemy import case, func, select

from webmap.ledger.collections import Collection, published_point, rag_code
from webmap.ledger.context import LedgerContext
from webmap.ledger.models import Issue
from webmap.ledger.query import IssueQuery, QueryError, bbox_overlaps
from webmap.ledger.vocabulary import RAGS

TILE = 256  # web map tile size in pixels: zoom z spans 360 degrees in TILE * 2**z pixels


class GridTooFine(QueryError):
    """The grid asked for would hold more cells than a response may carry."""


@dataclass
class Cell:
    """One grid cell: how many issues, split by RAG, and where they are on average."""

    count: int = 0
    rags: list[int] = field(default_factory=lambda: [0] * len(RAGS))
    sum_lon: float = 0.0
    sum_lat: float = 0.0

    def add(self, rag: int, count: int, sum_lon: float, sum_lat: float) -> None:
        """Count ``count`` issues of one RAG class whose coordinates sum to the given values."""
        self.count += count
        self.rags[rag] += count
        self.sum_lon += sum_lon
        self.sum_lat += sum_lat

    @property
    def lon(self) -> float:
        """Return the mean longitude of the cell's issues."""
        return self.sum_lon / self.count

    @property
    def lat(self) -> float:
        """Return the mean latitude of the cell's issues."""
        return self.sum_lat / self.count


@dataclass
class Grid:
    """A query's issues binned on a grid: the cells, and how many matched but have no place."""

    cell: float  # cell size in degrees
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)
    unlocated: int = 0

    @property
    def located(self) -> int:
        """Return how many issues the cells hold."""
        return sum(c.count for c in self.cells.values())

    def add(self, lon, lat, rag: int, count: int, sum_lon=None, sum_lat=None) -> None:
        """Bin ``count`` issues at (lon, lat), or as unlocated when lon is None."""
        if lon is None or lat is None:
            self.unlocated += count
            return
        key = (int(lon // self.cell), int(lat // self.cell))
        cell = self.cells.setdefault(key, Cell())
        cell.add(rag, count, lon * count if sum_lon is None else sum_lon,
                 lat * count if sum_lat is None else sum_lat)  # fmt: skip


def cell_size(zoom: int, pixels: int) -> float:
    """Return the width in degrees of ``pixels`` screen pixels at web map ``zoom``."""
    return pixels * 360.0 / (TILE * 2**zoom)


def grid_cells(session, collection: Collection, query: IssueQuery, ctx: LedgerContext, *,
               cell: float, max_cells: int, view=None) -> Grid:  # fmt: skip
    """Return the query's issues counted per grid cell of ``cell`` degrees (SQL GROUP BY).

    ``view`` (minx, miny, maxx, maxy) keeps the issues in the map's view: by their geometry in
    SQL, and a public sensitive issue by the point it is published at, never its exact place.

    Raises ``QueryError`` for ``as_of`` (past states are rebuilt in Python, one by one: a grid
    of them would be no faster than the points) and ``GridTooFine`` beyond ``max_cells`` cells.
    """
    if query.as_of is not None:
        raise QueryError("as_of", query.as_of.isoformat(), "网格汇总不支持回看，请去掉 as_of")
    grid = Grid(cell)
    rag = rag_code(query.day, query.amber_days).label("rag")
    gx, gy = _cell_index(Issue.lon, cell).label("gx"), _cell_index(Issue.lat, cell).label("gy")
    stmt = (select(gx, gy, rag, func.count(), func.sum(Issue.lon), func.sum(Issue.lat))
            .select_from(Issue).group_by(gx, gy, rag))  # fmt: skip
    if collection.public:
        stmt = stmt.where(Issue.sensitive.is_not(True))
    if view is not None:
        stmt = stmt.where(bbox_overlaps(*view))
    # the cap is a LIMIT outside a materialised CTE: a LIMIT on the GROUP BY itself makes
    # PostgreSQL pick a sorted aggregate (fast first rows), twice as slow as hashing them all
    cells = query.apply(stmt).cte("cells").prefix_with("MATERIALIZED")
    capped = select(cells).limit(max_cells * len(RAGS) + 1)
    rows = session.connection().execute(capped).all()
    if len(rows) > max_cells * len(RAGS):
        raise GridTooFine("zoom", f"{cell:g}°", f"网格过细：超过 {max_cells} 个网格，请缩小范围")
    for x, y, code, count, sum_lon, sum_lat in rows:
        if x is None or y is None:
            grid.unlocated += count
            continue
        grid.cells.setdefault((int(x), int(y)), Cell()).add(code, count, sum_lon, sum_lat)
    if collection.public:
        _add_generalised(session, grid, query, ctx, rag, view)
    if len(grid.cells) > max_cells:
        raise GridTooFine("zoom", f"{cell:g}°", f"网格过细：超过 {max_cells} 个网格，请缩小范围")
    return grid


def _cell_index(column, cell: float):
    """Return floor(column / cell), NULL for NULL (SQLAlchemy's SQLite floor is math.floor)."""
    return case((column.is_(None), None), else_=func.floor(column / cell))


def _add_generalised(session, grid: Grid, query: IssueQuery, ctx: LedgerContext, rag,
                     view) -> None:  # fmt: skip
    """Bin the public sensitive issues at their published (township or county) point."""
    stmt = (select(Issue.township_code, Issue.county_code, rag, func.count(Issue.id))
            .select_from(Issue).where(Issue.sensitive.is_(True))
            .group_by(Issue.township_code, Issue.county_code, rag))  # fmt: skip
    for township, county, code, count in session.connection().execute(query.apply(stmt)):
        place = SimpleNamespace(sensitive=True, township_code=township, county_code=county)
        point = published_point(place, ctx.layers)
        if view is None:
            grid.add(*(point or (None, None)), code, count)
        elif point is not None and _inside(point, view):
            grid.add(*point, code, count)


def _inside(point: tuple[float, float], view) -> bool:
    """Say whether a (lon, lat) point lies in a (minx, miny, maxx, maxy) box."""
    return view[0] <= point[0] <= view[2] and view[1] <= point[1] <= view[3]
