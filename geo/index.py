"""A regular-grid index over a polygon layer for fast, vectorised point-in-polygon.

Each grid cell is classified once: *empty*, *entirely inside polygon k* (answered without a
geometric test), or *mixed* (a polygon boundary passes through it, or polygons overlap there);
only points in mixed cells get exact ``shapely`` tests, against that cell's short candidate list.

Boundary convention (matches ``geopandas.sjoin``):

- ``predicate="within"``: a point on a polygon's boundary is in no polygon, like
  ``sjoin(points, polygons, predicate="within")``.
- ``predicate="intersects"``: a point on a boundary belongs to every polygon touching it, like
  ``sjoin(..., predicate="intersects")``; the index reports the lowest polygon index.

Either way a point in several polygons (overlapping layers) gets the lowest index, so ``order``
the geometries by priority before indexing.
"""

from __future__ import annotations

import math

import numpy as np
import shapely

__all__ = ["GridIndex", "choose_cell_size"]

EMPTY = -1
MIXED = -2
PREDICATES = ("within", "intersects")
MIXED_SHARE = 0.02  # target share of grid cells crossed by a boundary


def choose_cell_size(bounds: tuple, boundary_length: float) -> tuple[float, float]:
    """Return (dx, dy) in degrees so boundaries cross ~2% of the cells (square on the ground).

    A boundary of length L crosses about L / cell of the A / cell**2 cells of the grid, so that
    share is L * cell / A; the cell count is then kept between 2**16 and 2**21 (memory, build time).

    Examples
    --------
    >>> dx, dy = choose_cell_size((111.0, 24.6, 112.4, 26.9), 40.0)
    >>> 0.001 < dy < 0.002 and dx > dy
    True
    """
    minx, miny, maxx, maxy = bounds
    coslat = max(math.cos(math.radians((miny + maxy) / 2)), 0.1)
    width, height = max(maxx - minx, 1e-9) * coslat, max(maxy - miny, 1e-9)
    area = width * height
    cell = MIXED_SHARE * area / max(boundary_length, 1e-9)
    n_cells = min(max(area / cell**2, 2**16), 2**21)
    dy = math.sqrt(area / n_cells)
    return dy / coslat, dy


class GridIndex:
    """Point-in-polygon index over an array of polygons (lowest index wins where they overlap)."""

    def __init__(self, geoms, cell_size: tuple[float, float] | None = None,
                 margin: float = 0.0) -> None:
        """Classify every grid cell over the layer's bounding box widened by ``margin`` degrees."""
        self.geoms = np.asarray(geoms, dtype=object)
        shapely.prepare(self.geoms)
        minx, miny, maxx, maxy = shapely.total_bounds(self.geoms)
        if cell_size is None:
            length = float(shapely.length(shapely.boundary(self.geoms)).sum())
            cell_size = choose_cell_size((minx, miny, maxx, maxy), length)
        self.dx, self.dy = cell_size
        # one more cell keeps points on the bbox edge inside the grid; the margin lets
        # near_mask see points just outside the layer
        self.x0, self.y0 = minx - self.dx - margin, miny - self.dy - margin
        self.nx = int(math.ceil((maxx + margin - self.x0) / self.dx)) + 2
        self.ny = int(math.ceil((maxy + margin - self.y0) / self.dy)) + 2
        self._build()

    # -- build ---------------------------------------------------------------------------------

    def _cells_of(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fractional column and row of each coordinate; floor gives the (half-open) cell."""
        # build and query must use this same arithmetic so boundary vertices and points agree
        fx = (np.asarray(x, dtype=float) - self.x0) * (1.0 / self.dx)
        fy = (np.asarray(y, dtype=float) - self.y0) * (1.0 / self.dy)
        return fx, fy

    def _boundary_pairs(self) -> np.ndarray:
        """Unique (cell * n_geoms + geom) codes for every cell a polygon boundary passes through."""
        step = min(self.dx, self.dy) / 2
        lines = shapely.segmentize(shapely.boundary(self.geoms), step)
        # a segment joins consecutive coordinates of the same ring part
        parts, part_owner = shapely.get_parts(lines, return_index=True)
        rings_xy, ring_idx = shapely.get_coordinates(parts, return_index=True)
        same = ring_idx[1:] == ring_idx[:-1]
        ix, iy = (np.floor(v) for v in self._cells_of(rings_xy[:, 0], rings_xy[:, 1]))
        ix0, ix1 = np.minimum(ix[:-1], ix[1:])[same], np.maximum(ix[:-1], ix[1:])[same]
        iy0, iy1 = np.minimum(iy[:-1], iy[1:])[same], np.maximum(iy[:-1], iy[1:])[same]
        geom = part_owner[ring_idx[:-1][same]]
        # segments are at most half a cell long, so each spans at most 2 x 2 cells
        codes = []
        n = len(self.geoms)
        for ddx in (0, 1):
            for ddy in (0, 1):
                cx, cy = ix0 + ddx, iy0 + ddy
                keep = (cx <= ix1) & (cy <= iy1)
                cell = cy[keep].astype(np.int64) * self.nx + cx[keep].astype(np.int64)
                codes.append(cell * n + geom[keep])
        return np.unique(np.concatenate(codes))

    def _build(self) -> None:
        """Fill ``state`` (per cell) and the CSR candidate lists of mixed cells."""
        n, ncells = len(self.geoms), self.nx * self.ny
        pairs = self._boundary_pairs()
        touched = np.zeros(ncells, dtype=bool)
        touched[pairs // n] = True
        self.touched = touched.reshape(self.ny, self.nx)
        # cells free of boundaries share their polygons with their left neighbour in the same
        # row, so one centre test per run of untouched cells (plus each touched cell) suffices
        flat = np.arange(ncells)
        col = flat % self.nx
        run_start = touched | (col == 0) | np.concatenate(([True], touched[:-1]))
        reps = np.flatnonzero(run_start)
        run_id = np.cumsum(run_start) - 1
        cx = self.x0 + (reps % self.nx + 0.5) * self.dx
        cy = self.y0 + (reps // self.nx + 0.5) * self.dy
        # bounding boxes from the tree, then point-in-polygon on the prepared polygons: a tree
        # query with predicate="within" prepares the points instead, and is ten times slower
        rep_i, geom_i = shapely.STRtree(self.geoms).query(shapely.points(cx, cy))
        inside = shapely.contains_xy(self.geoms[geom_i], cx[rep_i], cy[rep_i])
        rep_i, geom_i = rep_i[inside], geom_i[inside]
        centre_pairs = reps[rep_i].astype(np.int64) * n + geom_i
        # untouched cells: lowest polygon containing the run representative's centre, or empty
        state = np.full(len(reps), EMPTY, dtype=np.int64)
        order = np.lexsort((geom_i, rep_i))
        first = np.unique(rep_i[order], return_index=True)
        state[first[0]] = geom_i[order][first[1]]
        self.state = state[run_id].astype(np.int32)
        # touched cells: exact tests against boundary polygons plus any polygon covering the centre
        in_touched = touched[centre_pairs // n]
        mixed_pairs = np.unique(np.concatenate((pairs, centre_pairs[in_touched])))
        # a mixed cell stores MIXED - slot, its slot numbering the candidate lists (CSR)
        slot_of = np.cumsum(touched) - 1
        self.state[touched] = MIXED - slot_of[touched]
        self.cand = (mixed_pairs % n).astype(np.int64)
        counts = np.bincount(slot_of[mixed_pairs // n], minlength=int(touched.sum()))
        self.offsets = np.concatenate(([0], np.cumsum(counts)))
        # one EMPTY cell around the grid lets query skip range checks
        self._padded = np.pad(self.state.reshape(self.ny, self.nx), 1,
                              constant_values=EMPTY).ravel()

    # -- pickling (the index is shipped once to every Dask worker) ----------------------------

    def __getstate__(self) -> dict:
        """State without what rebuilds cheaply: ``state`` repeats ``_padded``; ``_near`` masks."""
        return {k: v for k, v in self.__dict__.items() if k not in ("state", "_near")}

    def __setstate__(self, state: dict) -> None:
        """Restore, and re-prepare the geometries (``shapely`` pickles drop the preparation)."""
        self.__dict__.update(state)
        shapely.prepare(self.geoms)

    def __getattr__(self, name: str):
        """Rebuild ``state`` (flat cell states) from ``_padded`` after unpickling, on first use."""
        if name != "state" or "_padded" not in self.__dict__:
            raise AttributeError(name)
        padded = self._padded.reshape(self.ny + 2, self.nx + 2)
        self.state = np.ascontiguousarray(padded[1:-1, 1:-1]).ravel()
        return self.state

    # -- query ---------------------------------------------------------------------------------

    def query(self, x, y, predicate: str = "intersects") -> np.ndarray:
        """Index of the (lowest-index) polygon holding each point, -1 for none.

        Examples
        --------
        >>> from shapely import box
        >>> idx = GridIndex([box(0, 0, 1, 1), box(1, 0, 2, 1)])
        >>> idx.query([0.5, 1.0, 1.5, 3.0], [0.5, 0.5, 0.5, 0.5]).tolist()
        [0, 0, 1, -1]
        >>> idx.query([1.0], [0.5], predicate="within").tolist()
        [-1]
        """
        if predicate not in PREDICATES:
            raise ValueError(f"predicate must be one of {PREDICATES}, got {predicate!r}")
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        fx, fy = self._cells_of(x, y)
        gx, gy = self._padded_cells(fx, self.nx), self._padded_cells(fy, self.ny)
        out = self._padded[gy * (self.nx + 2) + gx].astype(np.int64)
        pts = np.flatnonzero(out <= MIXED)
        if len(pts):
            out[pts] = self._exact(pts, MIXED - out[pts], x, y, predicate)
        return out

    @staticmethod
    def _padded_cells(f: np.ndarray, n: int) -> np.ndarray:
        """Cell numbers in the grid padded by one EMPTY cell a side (out of grid and NaN: pad)."""
        f += 1  # now the pad is [0, 1); fmax sends NaN and anything below to 0 (pad)
        np.fmax(f, 0, out=f)
        np.fmin(f, n + 1, out=f)
        return f.astype(np.intp)  # truncation is floor for non-negative values

    def cell_index(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Flat cell number of each point and whether it lies in the grid (NaN is not)."""
        fx, fy = self._cells_of(x, y)
        valid = (fx >= 0) & (fx < self.nx) & (fy >= 0) & (fy < self.ny)
        # truncation is floor for the non-negative values kept by ``valid``
        cell = fy.astype(np.int64) * self.nx + fx.astype(np.int64)
        cell[~valid] = 0
        return cell, valid

    def _exact(self, pts, slots, x, y, predicate) -> np.ndarray:
        """Exact tests of points in mixed cells against their cells' candidates."""
        start, count = self.offsets[slots], self.offsets[slots + 1] - self.offsets[slots]
        pair_pt = np.repeat(np.arange(len(pts)), count)
        # positions start[i] .. start[i]+count[i] laid end to end
        pos = np.repeat(start - np.cumsum(count) + count, count) + np.arange(count.sum())
        cand = self.cand[pos]
        test = shapely.contains_xy if predicate == "within" else shapely.intersects_xy
        hit = test(self.geoms[cand], x[pts][pair_pt], y[pts][pair_pt])
        result = np.full(len(pts), EMPTY, dtype=np.int64)
        hit_pt, hit_cand = pair_pt[hit], cand[hit]
        # candidates are sorted within a cell, so the first hit of each point is the lowest
        first = np.concatenate(([True], hit_pt[1:] != hit_pt[:-1]))[: len(hit_pt)]
        result[hit_pt[first]] = hit_cand[first]
        return result

    def near_mask(self, x, y, radius_cells: int) -> np.ndarray:
        """True for points within ``radius_cells`` cells of a cell a boundary passes through."""
        key = int(radius_cells)
        masks = self.__dict__.setdefault("_near", {})
        if key not in masks:
            masks[key] = _dilate(self.touched, key).ravel()
        cell, valid = self.cell_index(np.asarray(x, float), np.asarray(y, float))
        return valid & masks[key][cell]


def _dilate(mask: np.ndarray, r: int) -> np.ndarray:
    """Square dilation of a boolean grid by ``r`` cells (numpy only, no scipy)."""
    out = mask.copy()
    for _ in range(r):
        grown = out.copy()
        grown[1:, :] |= out[:-1, :]
        grown[:-1, :] |= out[1:, :]
        grown[:, 1:] |= out[:, :-1]
        grown[:, :-1] |= out[:, 1:]
        grown[1:, 1:] |= out[:-1, :-1]
        grown[:-1, :-1] |= out[1:, 1:]
        grown[1:, :-1] |= out[:-1, 1:]
        grown[:-1, 1:] |= out[1:, :-1]
        out = grown
    return out
