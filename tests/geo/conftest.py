"""Tiny synthetic boundary layers: two square counties, four townships, one zoned reserve.

The squares sit inside Yongzhou (around 111.5-111.7E, 26.0-26.1N) so coordinate checks that
reject points far from the city accept them. Layout, in degrees::

    county 900001 甲县: 111.5-111.6E   townships 甲东/甲西 split at 111.55E
    county 900002 乙县: 111.6-111.7E   townships 乙东/乙西 split at 111.65E
    reserve 示例自然保护区 inside 乙县, nested squares centred on 111.65E 26.05N:
      核心区 half-width 0.01, 缓冲区 ring to 0.02, 实验区 ring to 0.03 (plus an unzoned outline)
"""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely import box

from geo.boundaries import Layer, LayerSet
from geo.models import LayerInfo

ACCURACY_M = 200.0
CX, CY = 111.65, 26.05


def _square(half: float):
    """A square of half-width ``half`` degrees centred on the reserve centre."""
    return box(CX - half, CY - half, CX + half, CY + half)


def _info(name: str, kind: str, **kw) -> LayerInfo:
    """LayerInfo for a synthetic layer."""
    return LayerInfo(name=name, kind=kind, vintage="2024", authoritative=kw.pop("auth", True),
                     version=f"test:{name}", **kw)


def make_layers() -> LayerSet:
    """Build the synthetic LayerSet (fresh caches each call)."""
    a, b = box(111.5, 26.0, 111.6, 26.1), box(111.6, 26.0, 111.7, 26.1)
    counties = gpd.GeoDataFrame({"code": ["900001", "900002"], "name": ["甲县", "乙县"]},
                                geometry=[a, b], crs="EPSG:4326")
    city = gpd.GeoDataFrame({"code": ["900000"], "name": ["示例市"]},
                            geometry=[a.union(b)], crs="EPSG:4326")
    townships = gpd.GeoDataFrame(
        {"code": ["900001001", "900001002", "900002001", "900002002"],
         "name": ["甲西镇", "甲东镇", "乙西乡", "乙东乡"],
         "parent_code": ["900001", "900001", "900002", "900002"]},
        geometry=[box(111.5, 26.0, 111.55, 26.1), box(111.55, 26.0, 111.6, 26.1),
                  box(111.6, 26.0, 111.65, 26.1), box(111.65, 26.0, 111.7, 26.1)],
        crs="EPSG:4326")
    zones = [("核心区", _square(0.01)), ("缓冲区", _square(0.02).difference(_square(0.01))),
             ("实验区", _square(0.03).difference(_square(0.02))), (None, _square(0.03))]
    reserve = gpd.GeoDataFrame(
        {"pa_code": ["PA1"] * 4, "name": ["示例自然保护区"] * 4, "level": ["国家级"] * 4,
         "pa_type": ["自然保护区"] * 4, "zone": [z for z, _ in zones],
         "zone_scheme": ["reserve3"] * 4, "authoritative": [False] * 4},
        # the unzoned outline comes first so the zone-before-outline priority is exercised
        geometry=[g for _, g in zones], crs="EPSG:4326").iloc[[3, 0, 1, 2]].reset_index(drop=True)
    return LayerSet(
        city=Layer(_info("city", "city"), city),
        counties=Layer(_info("counties", "county", positional_accuracy_m=ACCURACY_M), counties),
        townships=Layer(_info("townships", "township"), townships),
        protected_areas=Layer(_info("protected_areas", "protected_area", auth=False,
                                    zone_scheme="reserve3"), reserve),
    )


@pytest.fixture
def synthetic_layers() -> LayerSet:
    """Two counties, four townships and a zoned illustrative reserve."""
    return make_layers()
