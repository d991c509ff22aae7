"""Overlap of sites with protected-area zones: relation, overlap area and share, distances, rule.

Any constraint layer works (``geo.boundaries.CONSTRAINT_KINDS``: protected areas, drinking-water
source zones, the ecological red line, permanent basic farmland): all share the protected-area
columns, and every row says which kind it came from (``layer_kind``) and carries the attributes of
its kind (``detail``). ``geo.constraints`` runs this over every layer in use.

Geometry is computed in EPSG:4546 (CGCS2000 3-degree Gauss-Kruger, CM 111E, which covers the whole
city within 1.5 degrees of its central meridian). Planar areas, lengths and distances there are
then divided by the projection's point scale factor (pyproj ``get_factors``) at each result's
centroid, which brings them to within about 1e-6 of the geodesic (GRS80) values; without it the
error would reach 0.05% at the city's eastern edge.

One row per site x protected area x zone within the largest buffer; a site with no zone within
that distance gets one "outside" row naming the nearest protected area. Everything is computed
on arrays (shapely 2, pyproj): pair finding is one STRtree query (``dwithin``), prepared
``covers`` avoids intersections for sites wholly inside, the nearest boundary comes from one
query on cut boundaries (``geo.overlap_nearest``), and the rules are looked up once per distinct
(relation, zone, category). ``first_index`` makes a chunk of a larger input give the rows it
would have in one call, so bulk runs stream chunks (``geo.constraints.overlap_chunk``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo.boundaries import CONSTRAINT_KINDS, Layer
from geo.crs import METRIC_CRS, STORAGE_CRS, get_transformer, to_metric
from geo.errors import GeoError
from geo.overlap_index import metric_zones
from geo.overlap_nearest import Nearest, nearest_boundaries, nearest_outlines
from geo.rules import PERIMETER_ZONE, RuleTable, load_zone_rules

__all__ = ["COLUMNS", "DEFAULT_BUFFERS", "SiteGeoms", "overlap_issue_geometries", "overlap_sites",
           "prepare_sites"]

DEFAULT_BUFFERS = (0, 500, 1000, 5000)
COLUMNS = [
    "site_id",
    "site_name",
    "site_category",
    "layer_kind",
    "protected_area",
    "pa_code",
    "level",
    "zone",
    "zone_scheme",
    "detail",
    "relation",
    "overlap_m2",
    "overlap_length_m",
    "overlap_share",
    "distance_m",
    "boundary_distance_m",
    "rule",
    "rule_source",
    "rule_confidence",
    "rule_category",
    "rule_note",
    "boundary_version",
    "boundary_authoritative",
    "boundary_note",
    "site_index",
]
_INSIDE_EPS = 1e-9
_PROJ = pyproj.Proj(METRIC_CRS)


@dataclass
class SiteGeoms:
    """Sites in EPSG:4546 with what every layer's check needs: dimension, size and scale."""

    geoms: np.ndarray  # valid shapely geometries, metres
    dims: np.ndarray  # 0 points, 1 lines, 2 polygons
    measure: np.ndarray  # planar area, length or number of points
    scale: np.ndarray  # EPSG:4546 point scale factor at each site's centroid


def prepare_sites(sites: gpd.GeoDataFrame) -> SiteGeoms:
    """Project and repair the sites once, for every constraint layer they are checked against."""
    geoms = np.asarray(shapely.make_valid(np.asarray(to_metric(sites.geometry).array)))
    dims = shapely.get_dimensions(geoms)
    return SiteGeoms(geoms, dims, _measure(geoms, dims), _scale(shapely.centroid(geoms)))


def _scale(points_metric: np.ndarray) -> np.ndarray:
    """Return the linear point scale factor of EPSG:4546 at metric points."""
    if len(points_metric) == 0:
        return np.ones(0)
    x, y = shapely.get_x(points_metric), shapely.get_y(points_metric)
    lon, lat = get_transformer(METRIC_CRS, STORAGE_CRS).transform(x, y)
    return np.sqrt(np.asarray(_PROJ.get_factors(lon, lat).areal_scale, dtype=float))


def _measure(geoms: np.ndarray, dims: np.ndarray) -> np.ndarray:
    """Return the planar size used for shares: area (2D), length (1D) or number of points (0D)."""
    out = np.where(dims == 2, shapely.area(geoms), 0.0)
    out = np.where(dims == 1, shapely.length(geoms), out)
    counts = np.where(shapely.is_empty(geoms), 0, shapely.get_num_geometries(geoms))
    return np.where(dims == 0, counts.astype(float), out)


def _site_columns(
    sites: gpd.GeoDataFrame, site_id_col, site_name_col, category_col, first_index: int = 0
) -> pd.DataFrame:
    """Return site_id, site_name and site_category columns, checking named columns exist."""
    for label, col in (
        ("site_id_col", site_id_col),
        ("site_name_col", site_name_col),
        ("category_col", category_col),
    ):
        if col is not None and col not in sites:
            raise GeoError(
                f"{label}={col!r}: 站点数据中没有该列"
                f"（现有列: {', '.join(map(str, sites.columns))}）"
            )
    site_id_col = site_id_col or ("site_id" if "site_id" in sites else None)
    site_name_col = site_name_col or ("site_name" if "site_name" in sites else None)
    category_col = category_col or ("category" if "category" in sites else None)
    n = len(sites)
    ids = (
        sites[site_id_col].astype(str).to_numpy()
        if site_id_col
        else np.arange(first_index + 1, first_index + n + 1).astype(str)
    )
    names = sites[site_name_col].to_numpy() if site_name_col else np.full(n, None)
    cats = sites[category_col].to_numpy() if category_col else np.full(n, None)
    return pd.DataFrame({"site_id": ids, "site_name": names, "site_category": cats})


def _relations(share, covered, distance, buffers: Sequence[float]) -> np.ndarray:
    """Name the relation of each site to each zone: inside, partly inside, a buffer or outside."""
    conditions = [covered | (share >= 1 - _INSIDE_EPS), share > 0]
    labels = ["inside", "partly inside"]
    for b in buffers:
        conditions.append(distance <= b)
        labels.append(f"within buffer {b:g} m")
    return np.select(conditions, labels, default="outside").astype(object)


def _pair_rows(sites: SiteGeoms, zgeoms, s_idx, z_idx) -> dict:
    """Compute overlap, share, covered flag and distance for (site, zone) pairs, vectorised."""
    sg, zg = sites.geoms[s_idx], zgeoms[z_idx]
    covered = shapely.covers(zg, sg)
    touching = shapely.intersects(zg, sg)
    partial = touching & ~covered
    inter = np.empty(len(s_idx), dtype=object)
    inter[covered] = sg[covered]
    inter[partial] = shapely.intersection(sg[partial], zg[partial])
    inter[~touching] = None
    overlap = np.zeros(len(s_idx))
    has = covered | partial
    dims, measure = sites.dims[s_idx], sites.measure[s_idx]
    overlap[has] = _measure(inter[has], dims[has])
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(measure > 0, overlap / measure, touching.astype(float))
    distance = np.zeros(len(s_idx))
    distance[~touching] = shapely.distance(sg[~touching], zg[~touching])
    # planar -> geodesic: divide by the point scale (squared for areas) at the overlap centroid,
    # or at the site's own centroid when nothing overlaps
    k = sites.scale[s_idx]
    if has.any():
        k[has] = _scale(shapely.centroid(inter[has]))
    return {
        "overlap_m2": np.where(dims == 2, overlap / k**2, 0.0),
        "overlap_length_m": np.where(dims == 1, overlap / k, 0.0),
        "overlap_share": np.clip(share, 0.0, 1.0),
        "covered": covered,
        "distance_m": distance / k,
    }


def overlap_sites(
    sites: gpd.GeoDataFrame,
    zones_layer: Layer,
    *,
    buffers: Sequence[float] = DEFAULT_BUFFERS,
    site_id_col: str | None = None,
    site_name_col: str | None = None,
    category_col: str | None = None,
    rules: RuleTable | None = None,
    first_index: int = 0,
    prepared: SiteGeoms | None = None,
) -> pd.DataFrame:
    """Relate every site to every protected-area zone within the largest buffer.

    Parameters
    ----------
    sites : GeoDataFrame
        Points, lines or polygons with a CRS (any; projected to EPSG:4546 here).
    zones_layer : Layer
        A constraint layer: protected areas (shipped illustrative or imported authoritative),
        water-source zones, the red line or farmland (imported).
    buffers : sequence of float
        Distances in metres; 0 stands for "inside". Pairs farther than the largest are not listed.
    site_id_col, site_name_col, category_col : str, optional
        Columns for the site id, name and category: a rule category (mine, hydropower ...) or a
        ledger category (小水电清理整改 ..., resolved through ``category_map.csv``); by default
        ``site_id``/``site_name``/``category`` when present, else the 1-based row number.
    rules : RuleTable, optional
        Zone rules; default ``data/boundaries/zone_rules.csv``.
    first_index : int
        Position of the first site in the whole input when ``sites`` is one chunk of it: added
        to ``site_index`` and to the default row-number ids, so chunks give the rows of one call.
    prepared : SiteGeoms, optional
        ``prepare_sites(sites)``, when the caller checks the same sites against several layers.

    Returns
    -------
    DataFrame
        Columns ``COLUMNS``; areas in m2 and distances in m, geodesic to ~1e-6; ``site_index``
        is the 0-based position of the site in the input.
    """
    if sites.crs is None:
        raise GeoError("站点数据没有坐标系，无法计算重叠")
    if zones_layer.info.kind not in CONSTRAINT_KINDS:
        raise GeoError(
            f"图层 {zones_layer.info.name!r} 不是管控图层（kind={zones_layer.info.kind}）"
        )
    rules = rules or load_zone_rules()
    pos = sorted({float(b) for b in buffers if float(b) > 0})
    z = metric_zones(zones_layer)
    meta = _site_columns(sites, site_id_col, site_name_col, category_col, first_index)
    prep = prepared if prepared is not None else prepare_sites(sites)
    if pos:
        s_idx, z_idx = z["tree"].query(prep.geoms, predicate="dwithin", distance=pos[-1])
    else:
        s_idx, z_idx = z["tree"].query(prep.geoms, predicate="intersects")
    order = np.lexsort((z_idx, s_idx))
    s_idx, z_idx = s_idx[order], z_idx[order]
    pairs = _pair_rows(prep, z["geoms"], s_idx, z_idx)
    zf = z["frame"]
    rows = meta.iloc[s_idx].reset_index(drop=True)
    rows["_site"] = s_idx
    for col, src in (
        ("protected_area", "name"),
        ("pa_code", "pa_code"),
        ("level", "level"),
        ("zone", "zone"),
        ("zone_scheme", "zone_scheme"),
    ):
        rows[col] = zf[src].iloc[z_idx].to_numpy() if src in zf else None
    rows["detail"] = z["details"][z_idx]
    for col in ("overlap_m2", "overlap_length_m", "overlap_share", "distance_m"):
        rows[col] = pairs[col]
    rows["relation"] = _relations(
        pairs["overlap_share"], pairs["covered"], pairs["distance_m"], pos
    )
    boundary = nearest_boundaries(prep.geoms, z)
    rows = pd.concat([rows, _outside_rows(meta, prep, s_idx, z, boundary)], ignore_index=True)
    if boundary is None:
        rows["boundary_distance_m"] = np.nan
    else:
        rows["boundary_distance_m"] = (boundary.distance / prep.scale)[rows["_site"].to_numpy()]
    _add_rules(rows, rules)
    info = zones_layer.info
    rows["layer_kind"] = info.kind
    rows["boundary_version"] = info.version
    rows["boundary_authoritative"] = info.authoritative
    rows["boundary_note"] = "" if info.authoritative else "示意（非权威边界）"
    # 0-based row of the site in the whole input, to join geometry back
    rows["site_index"] = rows.pop("_site") + first_index
    rows = rows.sort_values(
        ["site_index", "protected_area", "zone"], kind="stable", na_position="last"
    )
    return rows.reset_index(drop=True)[COLUMNS]


def _outside_rows(
    meta: pd.DataFrame, sites: SiteGeoms, matched: np.ndarray, z: dict, boundary: Nearest | None
) -> pd.DataFrame:
    """One "outside" row per unmatched site, naming the nearest protected area and its distance."""
    lonely = np.setdiff1d(np.arange(len(sites.geoms)), matched)
    out = meta.iloc[lonely].reset_index(drop=True)
    out["relation"] = "outside"
    for col in ("overlap_m2", "overlap_length_m", "overlap_share"):
        out[col] = 0.0
    if len(lonely) and len(z["outlines"]):
        pa_i, dist = nearest_outlines(sites.geoms, lonely, z, boundary)
        codes = z["pa_codes"][pa_i]
        first = z["first"]
        out["pa_code"] = codes
        out["protected_area"] = first.loc[codes, "name"].to_numpy()
        out["level"] = first.loc[codes, "level"].to_numpy() if "level" in first else None
        out["distance_m"] = dist / sites.scale[lonely]
    else:
        out["distance_m"] = np.nan
    out["_site"] = lonely
    out["detail"] = ""
    out["zone"] = None
    out["zone_scheme"] = None
    return out


def _add_rules(rows: pd.DataFrame, rules: RuleTable) -> None:
    """Attach the zone rule (inside / partly inside) or the perimeter rule (within buffer).

    ``site_category`` may be a ledger category: ``RuleTable.rule_for`` resolves it through the
    category map, and ``rule_category``/``rule_note`` say which table row stood in and why.
    A million rows hold few distinct (relation, scheme, zone, category) keys: each is looked
    up once.
    """
    cache: dict = {}
    found = []
    raw = rows["site_category"].to_numpy(object)
    cats = np.where(pd.isna(raw), None, raw)
    cats = [c if c is None or isinstance(c, str) else str(c) for c in cats]
    columns = (rows[c].to_numpy(object) for c in ("relation", "zone_scheme", "zone"))
    for key in zip(*columns, cats, strict=True):
        if key not in cache:
            cache[key] = _rule(rules, *key)
        found.append(cache[key])
    rows["rule"] = [r.rule if r else None for r in found]
    rows["rule_source"] = [r.source if r else None for r in found]
    rows["rule_confidence"] = [r.confidence if r else None for r in found]
    rows["rule_category"] = [r.site_category if r else None for r in found]
    rows["rule_note"] = [r.resolution if r else None for r in found]


def _rule(rules: RuleTable, rel: str, scheme, zone, cat):
    """Return the zone rule for a relation inside, the perimeter rule for a buffer, else None."""
    if rel in ("inside", "partly inside"):
        return rules.rule_for(scheme, zone, cat)
    if rel.startswith("within buffer"):
        return rules.rule_for(
            scheme if scheme and scheme != "none" else "reserve3", PERIMETER_ZONE, cat
        )
    return None


def overlap_issue_geometries(
    geometries: Mapping,
    zones_layer: Layer,
    *,
    names: Mapping | None = None,
    categories: Mapping | None = None,
    buffers: Sequence[float] = DEFAULT_BUFFERS,
    rules: RuleTable | None = None,
) -> pd.DataFrame:
    """Overlap for ledger issues: ``{issue number: WGS84 geometry}`` in, ``overlap_sites`` rows out.

    Issues without a geometry (None or empty) are skipped; their numbers do not appear.
    """
    items = [(k, g) for k, g in geometries.items() if g is not None and not g.is_empty]
    names, categories = names or {}, categories or {}
    sites = gpd.GeoDataFrame(
        {
            "site_id": [str(k) for k, _ in items],
            "site_name": [names.get(k) for k, _ in items],
            "category": [categories.get(k) for k, _ in items],
        },
        geometry=[g for _, g in items],
        crs=STORAGE_CRS,
    )
    return overlap_sites(sites, zones_layer, buffers=buffers, rules=rules)
