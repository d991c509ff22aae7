"""Write coords_typed.csv: real Yongzhou places typed the ways ledgers type them.

Run from the repo root: ``.venv/bin/python tests/data/coords_make.py``. Typed values are derived
from the WGS84 truth with pyproj and eviltransform only (never with geo/), so the test that reads
the file checks geo against independent code.
"""

from __future__ import annotations

import csv
from pathlib import Path

import eviltransform
import pyproj

# WGS84 truth, approximate town centres
PLACES = {
    "永州市政府": (111.6130, 26.4203),
    "道县县城": (111.6003, 25.5265),
    "江华县城": (111.5790, 25.1846),
    "宁远县城": (111.9460, 25.5704),
}
FULL_WIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")


def dms(value: float, marks: tuple[str, str, str]) -> str:
    """Format decimal degrees as degrees, minutes and seconds (3 decimals) with the given marks."""
    d = int(value)
    m = int((value - d) * 60)
    s = (value - d - m / 60) * 3600
    return f"{d}{marks[0]}{m}{marks[1]}{s:.3f}{marks[2]}"


def project(epsg: int, lon: float, lat: float) -> tuple[str, str]:
    """Return easting and northing in ``epsg`` to the centimetre."""
    e, n = pyproj.Transformer.from_crs(4326, epsg, always_xy=True).transform(lon, lat)
    return f"{e:.2f}", f"{n:.2f}"


def rows_for(name: str, lon: float, lat: float) -> list[list[str]]:
    """Return the typed variants of one place: [地点, X, Y, 基准, 坐标系, 期望标记]."""
    g_lat, g_lon = eviltransform.wgs2gcj(lat, lon)
    b_lat, b_lon = eviltransform.wgs2bd(lat, lon)
    e, n = project(4546, lon, lat)
    return [
        [name, f"{lon:.4f}", f"{lat:.4f}", "wgs84", "", ""],
        [name, dms(lon, "°′″") + "E", dms(lat, "°′″") + "N", "wgs84", "", ""],
        [
            name,
            "北纬" + dms(lat, "度分秒"),
            "东经" + dms(lon, "度分秒"),
            "wgs84",
            "",
            "coordinates_swapped",
        ],
        [name, f"{lat:.4f}", f"{lon:.4f}", "wgs84", "", "coordinates_swapped"],
        [
            name,
            f"{lon:.4f}".translate(FULL_WIDTH),
            f"{lat:.4f}".translate(FULL_WIDTH),
            "cgcs2000",
            "",
            "",
        ],
        [name, f"{g_lon:.7f}", f"{g_lat:.7f}", "gcj02", "", "datum_converted"],
        [name, f"{b_lon:.7f}", f"{b_lat:.7f}", "bd09", "", "datum_converted"],
        [name, e, n, "wgs84", "EPSG:4546", ""],
        [name, e, n, "wgs84", "", ""],
        [name, n, e, "wgs84", "", "coordinates_swapped"],
        [name, *project(4525, lon, lat), "wgs84", "", ""],
        [name, *project(2382, lon, lat), "wgs84", "EPSG:2382", ""],
        [name, *project(21419, lon, lat), "wgs84", "EPSG:21419", ""],
    ]


def main() -> None:
    """Write the CSV beside this script."""
    out = Path(__file__).with_name("coords_typed.csv")
    with out.open("w", newline="", encoding="utf-8-sig") as f:
        writer = csv.writer(f)
        writer.writerow(["地点", "X", "Y", "基准", "坐标系", "期望标记", "真值经度", "真值纬度"])
        for name, (lon, lat) in PLACES.items():
            for row in rows_for(name, lon, lat):
                writer.writerow([*row, lon, lat])
        # outside the city: returned as typed, not pulled in
        writer.writerow(["长沙", "112.9388", "28.2282", "wgs84", "", "", 112.9388, 28.2282])
        # bad cells: the row must carry an error, the others must still be read
        for x, y in [("abc", "26.42"), ("", ""), ("111°75′", "26°25′"), ("573000", "9923000")]:
            writer.writerow(["坏数据", x, y, "wgs84", "", "", "", ""])


if __name__ == "__main__":
    main()
