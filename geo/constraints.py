"""One constraint check: sites against every protected layer in use, each zone with its rule.

The layers are the constraint slots of a ``LayerSet`` (``geo.boundaries.CONSTRAINT_KINDS``):
protected areas with their zones, drinking-water source zones (一级/二级/准保护区), the ecological
red line and permanent basic farmland. The last three have no public polygons, so nothing is
shipped for them; a check without them still runs and names them in ``missing_kinds``.

``overlap_constraints`` returns ``geo.overlap`` rows for every layer in use (``layer_kind`` says
which); ``touched`` keeps the zones a site lies in or crosses; ``zones_at_points`` is the fast
point path ``yzmap locate`` uses, and ``format_constraints`` writes ``kind:name:zone`` lists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.boundaries import CONSTRAINT_KINDS, LayerSet
from geo.crs import METRIC_CRS, STORAGE_CRS, get_transformer
from geo.overlap import COLUMNS, DEFAULT_BUFFERS, overlap_sites, prepare_sites
from geo.overlap_index import metric_zones
from geo.rules import RuleTable, load_zone_rules

__all__ = ["TOUCHING", "OverlapJob", "active_kinds", "constraints_by_site", "format_constraints",
           "missing_kinds", "overlap_chunk", "overlap_constraints", "touched", "zones_at_points"]

TOUCHING = ("inside", "partly inside")  # relations that put a site under a zone's rule


def active_kinds(layers: LayerSet) -> list[str]:
    """Return the constraint kinds with a layer in use, in report order."""
    return [k for k, layer in layers.constraint_layers().items() if layer is not None]


def missing_kinds(layers: LayerSet) -> list[str]:
    """Return the constraint kinds with no layer in use (not imported yet)."""
    return [k for k, layer in layers.constraint_layers().items() if layer is None]


def overlap_constraints(
    sites: gpd.GeoDataFrame,
    layers: LayerSet,
    *,
    buffers: Sequence[float] = DEFAULT_BUFFERS,
    site_id_col: str | None = None,
    site_name_col: str | None = None,
    category_col: str | None = None,
    rules: RuleTable | None = None,
    first_index: int = 0,
) -> pd.DataFrame:
    """Relate every site to every zone of every constraint layer in use.

    Parameters
    ----------
    sites : GeoDataFrame
        Points, lines or polygons with a CRS.
    layers : LayerSet
        The layers in use; each constraint slot that holds a layer is checked.
    buffers, site_id_col, site_name_col, category_col, rules, first_index
        As for ``geo.overlap.overlap_sites`` (``first_index`` for one chunk of a larger input).

    Returns
    -------
    DataFrame
        ``geo.overlap.COLUMNS`` rows, ordered by site, then layer kind (``CONSTRAINT_KINDS``
        order), then name and zone; each layer adds an "outside" row for a site it does not
        reach, naming its nearest feature. Empty (with the columns) when no layer is in use.
    """
    rules = rules or load_zone_rules()
    in_use = [layer for layer in layers.constraint_layers().values() if layer is not None]
    prepared = prepare_sites(sites) if in_use and sites.crs is not None else None
    parts = [overlap_sites(sites, layer, buffers=buffers, site_id_col=site_id_col,
                           site_name_col=site_name_col, category_col=category_col, rules=rules,
                           first_index=first_index, prepared=prepared)
             for layer in in_use]  # fmt: skip
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    rows = pd.concat(parts, ignore_index=True)
    rank = rows["layer_kind"].map({k: i for i, k in enumerate(CONSTRAINT_KINDS)})
    order = np.lexsort((rows.index.to_numpy(), rank.to_numpy(), rows["site_index"].to_numpy()))
    return rows.iloc[order].reset_index(drop=True)[COLUMNS]


@dataclass(frozen=True)
class OverlapJob:
    """What every chunk of a bulk overlap shares: the layers in use and the options."""

    layers: LayerSet
    buffers: Sequence[float] = DEFAULT_BUFFERS
    site_id_col: str | None = None
    site_name_col: str | None = None
    category_col: str | None = None
    rules: RuleTable | None = None
    with_geometry: bool = False  # rows as a GeoDataFrame carrying each row's site geometry


def overlap_chunk(task: tuple[int, gpd.GeoDataFrame], job: OverlapJob) -> pd.DataFrame:
    """Return ``overlap_constraints`` rows for one chunk ``(first site index, sites)``.

    A module-level function of picklable arguments, so ``geo.parallel.run_ordered`` can run the
    chunks on worker processes; the rows of all chunks, in order, are those of one call.
    """
    first, sites = task
    rows = overlap_constraints(sites, job.layers, buffers=job.buffers,
                               site_id_col=job.site_id_col, site_name_col=job.site_name_col,
                               category_col=job.category_col, rules=job.rules,
                               first_index=first)  # fmt: skip
    if not job.with_geometry:
        return rows
    geoms = sites.geometry.to_numpy()[rows["site_index"].to_numpy(dtype=int) - first]
    return gpd.GeoDataFrame(rows, geometry=gpd.GeoSeries(geoms, index=rows.index, crs=sites.crs))


def touched(rows: pd.DataFrame) -> pd.DataFrame:
    """Keep the rows of zones a site lies in or crosses (relation inside / partly inside)."""
    return rows[rows["relation"].isin(TOUCHING)].reset_index(drop=True)


def zones_at_points(layers: LayerSet, lon, lat) -> list[list[tuple[str, str, str]]]:
    """Return, per WGS84 point, the (kind, name, zone) of every constraint zone containing it.

    Examples
    --------
    >>> from geo.boundaries import load_shipped
    >>> zones_at_points(load_shipped(), [111.24, 113.0], [25.43, 28.0])[1]
    []
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    out: list[list[tuple[str, str, str]]] = [[] for _ in range(len(lon))]
    if not len(lon):
        return out
    x, y = get_transformer(STORAGE_CRS, METRIC_CRS).transform(lon, lat)
    points = shapely.points(x, y)
    for kind, layer in layers.constraint_layers().items():
        if layer is None or not len(layer.frame):
            continue
        z = metric_zones(layer)
        p_idx, z_idx = z["tree"].query(points, predicate="intersects")
        names = z["frame"]["name"].astype(object).to_numpy()
        zones = z["frame"]["zone"].astype(object).to_numpy()
        for p, i in sorted(zip(p_idx.tolist(), z_idx.tolist(), strict=True)):
            zone = zones[i] if isinstance(zones[i], str) else "未分区"
            entry = (kind, str(names[i]), zone)
            if entry not in out[p]:
                out[p].append(entry)
    return out


def format_constraints(entries) -> str:
    """Write (kind, name, zone) entries as ``kind:name:zone`` joined by semicolons.

    >>> format_constraints([("water_source", "某水源", "一级保护区"),
    ...                     ("redline", "红线", "生态保护红线")])
    'water_source:某水源:一级保护区;redline:红线:生态保护红线'
    """
    return ";".join(f"{k}:{n}:{z}" for k, n, z in entries)


def constraints_by_site(rows: pd.DataFrame) -> Mapping[int, list[dict]]:
    """Group touched rows by ``site_index``: each a dict of kind, name, zone, share and rule."""
    out: dict[int, list[dict]] = {}
    for r in touched(rows).to_dict("records"):
        out.setdefault(int(r["site_index"]), []).append({
            "layer_kind": r["layer_kind"], "name": r["protected_area"], "zone": r["zone"],
            "relation": r["relation"], "overlap_share": float(r["overlap_share"]),
            "rule": r["rule"], "rule_source": r["rule_source"], "detail": r["detail"] or "",
            "boundary_version": r["boundary_version"],
            "boundary_authoritative": bool(r["boundary_authoritative"])})  # fmt: skip
    return out
