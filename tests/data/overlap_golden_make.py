"""Make ``overlap_golden.csv``: overlap rows of seeded patches, as the pre-#15 code computed them.

The golden file was written by ``geo.constraints.overlap_constraints`` of commit ae3dd75 (before
the bulk rewrite of ``geo/overlap.py``), so ``tests/geo/test_overlap_chunks.py`` checks that the
rewrite gives the same rows, to the last bit of every float (``repr`` round-trips), while the
chunked runs give the rows of one call. Run from the repository root:
``python tests/data/overlap_golden_make.py [--out PATH]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

GOLDEN = Path(__file__).with_name("overlap_golden.csv")
# the long rule texts are looked up by the columns kept (scheme, zone, category -> rule_source)
DROPPED = ["rule"]


def golden_layers():
    """Return the shipped layers with the test water source and red line, at fixed versions."""
    from geo.boundaries import Layer, load_shipped
    from geo.importer import read_boundary_file
    from tests.data.constraint_layers import redline_frame, water_source_frame, write

    layers = load_shipped()
    with tempfile.TemporaryDirectory() as tmp:
        for kind, frame in (("water_source", water_source_frame), ("redline", redline_frame)):
            layer = read_boundary_file(write(frame(), Path(tmp), kind, "gpkg"), kind=kind).layer
            info = dataclasses.replace(layer.info, version=f"test:{kind}")
            layers = layers.replace(Layer(info=info, frame=layer.frame))
    return layers


def golden_sites(n: int = 100, seed: int = 1515) -> gpd.GeoDataFrame:
    """Seeded polygons, lines and points round the water source and the shipped reserves."""
    from tests.data.constraint_layers import centre_xy

    rng = np.random.default_rng(seed)
    cx, cy = centre_xy()
    near = n // 2
    x = np.r_[rng.uniform(cx - 5000, cx + 6000, near), rng.uniform(500_000, 620_000, n - near)]
    y = np.r_[rng.uniform(cy - 3000, cy + 3000, near), rng.uniform(2_750_000, 2_950_000, n - near)]
    geoms = shapely.buffer(shapely.points(x, y), rng.uniform(50, 900, n), quad_segs=2)
    geoms[::9] = shapely.centroid(geoms[::9])
    ends = np.stack([x[1::9], y[1::9]], axis=1)
    geoms[1::9] = shapely.linestrings(np.stack([ends, ends + 800], axis=1))
    cats = np.array([None, "mine", "hydropower", "小水电清理整改", "某某矿区复绿", "未知类别"],
                    dtype=object)  # fmt: skip
    frame = gpd.GeoDataFrame({"category": rng.choice(cats, n)}, geometry=geoms, crs="EPSG:4546")
    return frame.to_crs("EPSG:4326")


def main() -> None:
    """Write the golden CSV with the code checked out now."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=GOLDEN)
    args = parser.parse_args()
    from geo.constraints import overlap_constraints

    rows = overlap_constraints(golden_sites(), golden_layers())
    rows.drop(columns=DROPPED).to_csv(args.out, index=False)
    print(f"{len(rows)} rows -> {args.out}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    main()
