"""Ledger issues as overlap sites: the located issues of a query against the constraint layers.

``issue_sites`` turns the issues an ``IssueQuery`` selects (scope included) into the site frame
``geo.overlap`` takes; ``issue_overlap`` returns those sites with their overlap rows, one per
issue × constraint layer × place × zone (``geo.constraints``), as ``yzmap overlap`` writes them
for uploaded sites.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from geo.boundaries import LayerSet
from geo.constraints import overlap_constraints
from webmap.ledger.items import collect_items
from webmap.ledger.query import IssueQuery


def issue_sites(session, query: IssueQuery) -> gpd.GeoDataFrame:
    """Return the located issues of a query as WGS84 sites (site_id is the issue number).

    Read through ``collect_items``, so with ``as_of`` the sites are the issues as they stood
    that day, like every other output of the query.
    """
    located = [i for i in collect_items(session, query) if i.shape is not None]
    return gpd.GeoDataFrame(
        {"site_id": [i.number for i in located], "site_name": [i.title for i in located],
         "category": [i.category for i in located]},
        geometry=[i.shape for i in located], crs="EPSG:4326")  # fmt: skip


def issue_overlap(session, query: IssueQuery,
                  layers: LayerSet) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:  # fmt: skip
    """Return the query's issue sites and their overlap rows (site_index = row of the sites)."""
    sites = issue_sites(session, query)
    return sites, overlap_constraints(sites, layers)
