"""Write seeded mixed ``yzmap locate`` inputs, and with ``--golden`` the outputs of today's code.

Run from the repo root: ``.venv/bin/python tests/data/locate_mixed_make.py [--rows N] [--out DIR]
[--golden]``. ``make_rows(n, seed)`` is what ``tests/test_locate_bulk.py`` calls, so the input is
rebuilt in the test and only the golden output is kept in tests/data. Coordinates come from the
shipped county polygons (random points inside their bounds, points a few metres from a county
line) typed the ways ledgers type them, with pyproj and eviltransform only (never with geo/).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import eviltransform
import geopandas as gpd
import numpy as np
import pyproj
import shapely

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
HEADER = ("编号", "经度", "纬度", "所在县区", "地址")
DECLARED = ("零陵区", "冷水滩区", "祁阳县", "431121", "431171", "431129.0", "江华", "道县",
            "邵阳县", "长沙市岳麓区", "宁远", "不知道")
ADDRESSES = ("江华县码市镇某养殖场", "祁阳县文富市镇", "东安县文富市镇", "道县与宁远县交界",
             "长沙市岳麓区", "永州市零陵区富家桥镇", "蓝山县", "潇水道县段", "某公司",
             "新田县龙泉街道", "双牌县", "冷水滩区梅湾街道", "江永县")
# a few kinds of rows per draw; weights keep most rows plain decimal degrees, as real files are
KINDS = ("decimal", "decimal", "decimal", "dms", "dms_cn", "metres", "swapped", "blank", "garbage",
         "outside", "near_line", "near_line", "address_only", "declared_only", "fullwidth")
TO_4546 = pyproj.Transformer.from_crs(4326, 4546, always_xy=True)


def _dms(value: float, marks: tuple[str, str, str]) -> str:
    """Degrees, minutes and seconds (3 decimals) with the given marks."""
    d = int(value)
    m = int((value - d) * 60)
    return f"{d}{marks[0]}{m}{marks[1]}{(value - d - m / 60) * 3600:.3f}{marks[2]}"


def _counties() -> gpd.GeoDataFrame:
    """The shipped county polygons (WGS84)."""
    return gpd.read_file(ROOT / "data" / "boundaries" / "counties.geojson")


def _near_line_points(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` points within ~30 m of a shared county line (lon, lat)."""
    counties = _counties()
    lines = shapely.get_exterior_ring(counties.explode(index_parts=False).geometry.values)
    pts = []
    while len(pts) < n:
        ring = lines[rng.integers(len(lines))]
        p = shapely.line_interpolate_point(ring, rng.random(), normalized=True)
        dx, dy = rng.normal(0, 0.0002, 2)
        pts.append((p.x + dx, p.y + dy))
    return np.array(pts)


def make_rows(n: int, seed: int = 15, gcj: bool = False, metres: bool = False) -> list[list[str]]:
    """Return ``n`` seeded rows (header first) of mixed kinds.

    ``gcj`` types lon/lat in GCJ-02; ``metres`` types every readable point in EPSG:4546 metres.
    """
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = _counties().total_bounds
    near = _near_line_points(rng, n)
    rows = [list(HEADER)]
    for i in range(n):
        kind = KINDS[rng.integers(len(KINDS))]
        lon, lat = rng.uniform(minx - 0.05, maxx + 0.05), rng.uniform(miny - 0.05, maxy + 0.05)
        if metres and kind in ("decimal", "dms", "dms_cn", "swapped", "near_line", "outside"):
            kind = "metres" if kind != "near_line" else kind
        if kind == "near_line":
            lon, lat = near[i]
        if kind == "outside":
            lon, lat = rng.uniform(112.8, 113.2), rng.uniform(28.0, 28.3)  # Changsha
        if gcj:
            lat, lon = eviltransform.wgs2gcj(lat, lon)
        x, y = f"{lon:.6f}", f"{lat:.6f}"
        if kind == "dms":
            x, y = _dms(lon, "°′″") + "E", _dms(lat, "°′″") + "N"
        elif kind == "dms_cn":
            x, y = "东经" + _dms(lon, "度分秒"), "北纬" + _dms(lat, "度分秒")
        elif kind == "metres" or (metres and kind == "near_line"):
            e, nn = TO_4546.transform(lon, lat)
            x, y = f"{e:.2f}", f"{nn:.2f}"
        elif kind == "swapped":
            x, y = y, x
        elif kind in ("blank", "address_only", "declared_only"):
            x, y = "", ""
        elif kind == "garbage":
            x = ("abc", "111.6.2", "N/A", "-", "999")[rng.integers(5)]
        elif kind == "fullwidth":
            x = x.translate(str.maketrans("0123456789.", "０１２３４５６７８９．"))
        declared = DECLARED[rng.integers(len(DECLARED))] if rng.random() < 0.5 else ""
        address = ADDRESSES[rng.integers(len(ADDRESSES))] if rng.random() < 0.3 else ""
        if kind == "address_only":
            address = ADDRESSES[rng.integers(len(ADDRESSES))]
        if kind == "declared_only":
            declared = DECLARED[rng.integers(len(DECLARED))]
        rows.append([f"P{i:05d}", x, y, declared, address])
    return rows


# name -> (rows, seed, gcj, extra yzmap locate options); the golden files are these outputs
CASES = {
    "mixed": (800, 15, False, ["--county-col", "所在县区", "--address-col", "地址"]),
    "metres_crs": (150, 16, False, ["--crs", "EPSG:4546"]),
    "metres_guess": (150, 18, False, []),
    "gcj02": (150, 17, True, ["--datum", "gcj02", "--county-col", "所在县区"]),
}

FIXED = {
    "locate_coords": ["--county-col", "所在县区", "--address-col", "地址"],
    "locate_addresses": ["--address-col", "详细地址", "--county-col", "申报县区"],
}


def synthetic_rows(n: int, seed: int = 19) -> list[list[str]]:
    """``n`` seeded rows round the synthetic layers of tests/geo/conftest.py (county line at 111.6,
    township lines at 111.55/111.65, a zoned reserve round 111.65, 26.05)."""
    rng = np.random.default_rng(seed)
    rows = [list(HEADER)]
    for i in range(n):
        near = rng.random() < 0.5
        lon = (rng.choice([111.55, 111.6, 111.65, 111.62]) + rng.normal(0, 0.004) if near
               else rng.uniform(111.45, 111.75))
        lat = rng.uniform(25.98, 26.12)
        declared = ("甲县", "乙县", "900001", "零陵区", "")[rng.integers(5)]
        address = ADDRESSES[rng.integers(len(ADDRESSES))] if rng.random() < 0.2 else ""
        rows.append([f"S{i:04d}", f"{lon:.6f}", f"{lat:.6f}", declared, address])
    return rows


def synthetic_layers():
    """The synthetic LayerSet of tests/geo/conftest.py (loaded by path: tests is no package)."""
    import importlib.util

    conftest = HERE.parent / "geo" / "conftest.py"
    spec = importlib.util.spec_from_file_location("_geo_conftest", conftest)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_layers()


def synthetic_output(rows: list[list[str]]) -> bytes:
    """``locate_frame`` on the synthetic layers, as the CSV bytes ``yzmap locate`` writes."""
    import pandas as pd

    from geo.bulk_locate import locate_frame

    df = pd.DataFrame(rows[1:], columns=rows[0])
    out = locate_frame(df, synthetic_layers(), x_col="经度", y_col="纬度", county_col="所在县区",
                       address_col="地址")
    return out.to_csv(index=False).encode("utf-8-sig")


def write_csv(path: Path, rows: list[list[str]]) -> None:
    """Write rows as UTF-8 CSV."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)


def main() -> None:
    """Write the inputs (and with --golden, yzmap locate's outputs) of every case."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, help="rows per case (default: the case's own)")
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--golden", action="store_true", help="also run yzmap locate")
    args = parser.parse_args()
    from click.testing import CliRunner

    from webmap.cli import main as yzmap

    for name, (n, seed, gcj, options) in CASES.items():
        src = args.out / f"locate_{name}_in.csv"
        write_csv(src, make_rows(args.rows or n, seed, gcj, metres=name.startswith("metres")))
        if args.golden:
            out = args.out / f"locate_{name}_golden.csv"
            res = CliRunner().invoke(yzmap, ["locate", str(src), "--out", str(out), *options])
            assert res.exit_code == 0, res.output
            print(name, res.output.splitlines()[0])
    for name, options in FIXED.items():  # the hand-written files of tests/data
        if args.golden:
            out = args.out / f"{name}_golden.csv"
            res = CliRunner().invoke(yzmap, ["locate", str(HERE / f"{name}.csv"), "--out", str(out),
                                             *options])
            assert res.exit_code == 0, res.output
    rows = synthetic_rows(args.rows or 300)
    write_csv(args.out / "locate_synthetic_in.csv", rows)
    if args.golden:
        (args.out / "locate_synthetic_golden.csv").write_bytes(synthetic_output(rows))


if __name__ == "__main__":
    main()
