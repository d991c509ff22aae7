"""Ledger issues as overlap sites: the located issues of a query against a protected-area layer.

``issue_sites`` turns the issues an ``IssueQuery`` selects (scope included) into the site frame
``geo.overlap`` takes; ``issue_overlap`` returns those sites with their overlap rows, one per
issue × protected area × zone, as ``yzmap overlap`` writes them for uploaded sites.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point

from geo.boundaries import Layer
from geo.overlap import overlap_issue_geometries
from webmap.ledger.query import IssueQuery


def issue_sites(session, query: IssueQuery) -> gpd.GeoDataFrame:
    """Return the located issues of a query as WGS84 sites (site_id is the issue number)."""
    ids, names, cats, geoms = [], [], [], []
    for issue in session.scalars(query.select(session)):
        geom = issue.geometry
        if (geom is None or geom.is_empty) and issue.lon is not None and issue.lat is not None:
            geom = Point(issue.lon, issue.lat)
        if geom is None or geom.is_empty:
            continue  # unlocated issues cannot be overlapped
        ids.append(issue.number)
        names.append(issue.title)
        cats.append(issue.category)
        geoms.append(geom)
    return gpd.GeoDataFrame({"site_id": ids, "site_name": names, "category": cats},
                            geometry=geoms, crs="EPSG:4326")  # fmt: skip


def issue_overlap(session, query: IssueQuery, layer: Layer) -> tuple[gpd.GeoDataFrame,
                                                                     pd.DataFrame]:  # fmt: skip
    """Return the query's issue sites and their overlap rows (site_index = row of the sites)."""
    sites = issue_sites(session, query)
    rows = overlap_issue_geometries(
        dict(zip(sites["site_id"], sites.geometry, strict=True)),
        layer,
        names=dict(zip(sites["site_id"], sites["site_name"], strict=True)),
        categories=dict(zip(sites["site_id"], sites["category"], strict=True)),
    )
    return sites, rows
