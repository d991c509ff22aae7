"""Bulk overlap core: the same rows as before the rewrite, and chunks that add up to one call."""

from __future__ import annotations

import dataclasses
import io

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.boundaries import Layer
from geo.constraints import OverlapJob, overlap_chunk, overlap_constraints
from geo.models import LayerInfo
from geo.overlap import overlap_sites
from tests.data.overlap_golden_make import DROPPED, GOLDEN, golden_layers, golden_sites


@pytest.fixture(scope="module")
def layers():
    """The shipped layers with the test water source and red line at fixed versions."""
    return golden_layers()


def test_rows_equal_the_pre_rewrite_golden_to_the_bit(layers):
    """Every row and every float (written with repr) is what the pre-#15 code gave."""
    rows = overlap_constraints(golden_sites(), layers)
    text = rows.drop(columns=DROPPED).to_csv(index=False)
    assert text == GOLDEN.read_text(encoding="utf-8")


@pytest.mark.parametrize("size", [7, 40])
def test_chunks_give_the_rows_of_one_call(layers, size):
    """Chunks of any size, with global site numbers, concatenate to the one-call rows."""
    sites = golden_sites()
    job = OverlapJob(layers, with_geometry=True)
    parts = [overlap_chunk((a, sites.iloc[a : a + size]), job) for a in range(0, len(sites), size)]
    got = pd.concat(parts, ignore_index=True)
    want = overlap_constraints(sites, layers)
    # dtypes follow each chunk (a text column with no value in a chunk is object, None for
    # empty), so compare what a report holds: the CSV text, every float written with repr
    text = pd.DataFrame(got.drop(columns="geometry")).to_csv(index=False)
    assert text == want.to_csv(index=False)
    assert (got["site_id"] == (got["site_index"] + 1).astype(str)).all()  # row numbers, 1-based
    assert shapely.equals(got.geometry.array, sites.geometry.array[got["site_index"]]).all()


def _two_reserves(vertices: int) -> Layer:
    """Two unzoned reserves sharing an edge, outlines densified to ``vertices`` points each."""
    step = 40_000 / vertices
    west = shapely.segmentize(shapely.box(560_000, 2_800_000, 570_000, 2_810_000), step)
    east = shapely.segmentize(shapely.box(570_000, 2_800_000, 580_000, 2_810_000), step)
    frame = gpd.GeoDataFrame({"pa_code": ["W", "E"], "name": ["西保护区", "东保护区"],
                              "zone": [None, None], "zone_scheme": ["none", "none"]},
                             geometry=[west, east], crs="EPSG:4546").to_crs(4326)  # fmt: skip
    info = LayerInfo(name="protected_areas", kind="protected_area", vintage="2024",
                     authoritative=True, version="test")  # fmt: skip
    return Layer(info=info, frame=frame)


def test_nearest_reserve_and_boundary_match_whole_outline_distances():
    """Outside rows and boundary distances equal GEOS distances to the whole outlines; a site
    equally far from two reserves gets the one the whole-outline query names."""
    layer = _two_reserves(4000)
    rng = np.random.default_rng(4)
    x = np.r_[rng.uniform(540_000, 600_000, 300), 570_000.0]
    y = np.r_[rng.uniform(2_815_000, 2_840_000, 300), 2_830_000.0]  # the last one: a tie
    sites = gpd.GeoDataFrame(geometry=shapely.buffer(shapely.points(x, y), 30, quad_segs=1),
                             crs="EPSG:4546").to_crs(4326)  # fmt: skip
    rows = overlap_sites(sites, layer, buffers=(0,))
    assert (rows["relation"] == "outside").all() and len(rows) == len(sites)
    metric = shapely.make_valid(sites.to_crs("EPSG:4546").geometry.array)
    # the pre-#15 query: whole outlines in code order, one match each (ties: the tree's pick)
    by_code = layer.frame.sort_values("pa_code").to_crs("EPSG:4546")
    tree = shapely.STRtree(np.asarray(by_code.geometry.array))
    (_, nearest), dist = tree.query_nearest(np.asarray(metric), return_distance=True,
                                            all_matches=False)  # fmt: skip
    assert rows["pa_code"].tolist() == by_code["pa_code"].to_numpy()[nearest].tolist()
    ratio = rows["distance_m"].to_numpy() / dist
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-4)  # only the scale factor differs
    np.testing.assert_array_equal(rows["distance_m"], rows["boundary_distance_m"])


def test_a_layer_version_is_kept_through_chunks(layers):
    """Each chunk's rows name the layer versions, as the one call does."""
    sites = golden_sites().iloc[:10]
    other = layers.replace(dataclasses.replace(layers.redline,
                                               info=dataclasses.replace(layers.redline.info,
                                                                        version="test:v2")))
    rows = overlap_chunk((90, sites), OverlapJob(other))
    assert set(rows.loc[rows["layer_kind"] == "redline", "boundary_version"]) == {"test:v2"}
    assert rows["site_index"].min() == 90 and rows["site_id"].iloc[0] == "91"
    assert io.StringIO(rows.to_csv(index=False)).getvalue().count("\n") == len(rows) + 1
