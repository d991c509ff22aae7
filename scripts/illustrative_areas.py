"""Protected-area list and ILLUSTRATIVE (示意) zone polygons for build_boundaries.py.

No public polygons exist for Yongzhou's reserves or wetland parks, so the layer is modelled:

- nature reserves (zone scheme ``reserve3``): an ellipse inscribed in the published bounding box
  (or, where no box is published, a circle round an approximate anchor) clipped to the reserve's
  counties, grown until its area in EPSG:4546 equals the published area;
- wetland parks (``wetland``): a buffer round an approximate polyline of the park's river through
  its town, clipped to its county (and published box), widened until the area matches.

Zones are nested versions of the same shape sized to the stated shares below, so the zone polygons
tile the outline without overlap. Every feature carries ``authoritative = false`` and 示意 text.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer
from shapely import affinity
from shapely.geometry import LineString, Point, box, shape

GK_CRS = "EPSG:4546"
ILLUSTRATIVE_NOTE = "示意，非权威边界"
# illustrative zone shares (inner to outer); reserve shares are typical of Hunan forest reserves,
# wetland shares respect the rule that 保育区 + 恢复重建区 cover at least 60% of a national
# wetland park
ZONES = {
    "reserve3": (("核心区", 0.35), ("缓冲区", 0.20), ("实验区", 0.45)),
    "wetland": (("保育区", 0.50), ("恢复重建区", 0.20), ("合理利用区", 0.30)),
}
# stand-in area where none is published (江永永明河): the smaller of the two published wetland parks
DEFAULT_WETLAND_AREA_HA = 1549.5

# stable ids, keyed by the name in the compiled list
PA_CODES = {
    "湖南都庞岭国家级自然保护区": "YZ-NNR-DPL",
    "湖南九嶷山国家级自然保护区": "YZ-NNR-JYS",
    "湖南阳明山国家级自然保护区": "YZ-NNR-YMS",
    "湖南舜皇山国家级自然保护区": "XN-NNR-SHS",
    "湖南东安舜皇山国家森林公园": "YZ-NFP-SHS",
    "阳明山国家森林公园": "YZ-NFP-YMS",
    "湖南零陵潇水国家湿地公园": "YZ-NWP-LLXS",
    "湖南祁阳浯溪国家湿地公园": "YZ-NWP-QYWX",
    "湖南江永永明河国家湿地公园": "YZ-NWP-JYYMH",
    "双牌（潇水湖/日湖）湿地公园": "YZ-WP-SPXSH",
}
# approximate shape anchors (lon, lat, WGS84) read off public maps to ~1 km; illustrative only
SHAPES = {
    "YZ-NNR-DPL": {"kind": "ellipse"},  # the published bounding box is used
    "YZ-NNR-JYS": {"kind": "circle", "anchor": (111.95, 25.33),
                   "where": "九嶷山（九疑山瑶族乡一带）"},
    "YZ-NNR-YMS": {"kind": "circle", "anchor": (111.90, 26.08), "where": "阳明山（双牌县东北部）"},
    "YZ-NWP-LLXS": {"kind": "river", "where": "潇水 双牌方向至零陵城区萍岛",
                    "line": [(111.58, 26.08), (111.57, 26.12), (111.57, 26.16), (111.60, 26.21),
                             (111.62, 26.25)]},
    "YZ-NWP-QYWX": {"kind": "river", "where": "湘江 祁阳城区浯溪段",
                    "line": [(111.76, 26.555), (111.80, 26.57), (111.85, 26.58), (111.91, 26.61)]},
    "YZ-NWP-JYYMH": {"kind": "river", "where": "永明河 江永县城潇浦镇段",
                     "line": [(111.30, 25.21), (111.33, 25.25), (111.35, 25.29), (111.38, 25.33)]},
}
PA_FIELDS = ("pa_code", "name", "level", "pa_type", "counties", "county_codes", "in_yongzhou",
             "area_ha", "area_note", "established", "national_year", "zone_scheme", "zoning",
             "published_extent", "illustrative", "confidence", "sources")
_EXTENT = re.compile(r"E([\d.]+)-([\d.]+)\s+N([\d.]+)-([\d.]+)")
_AREA = re.compile(r"^\s*([\d.]+)\s*(.*)$")


def read_counties(path: Path) -> dict[str, tuple[str, object]]:
    """Map county name to (code, lon/lat geometry) from a shipped county GeoJSON."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {f["properties"]["name"]: (f["properties"]["code"], shape(f["geometry"]))
            for f in data["features"]}


def read_pa_list(path: Path, county_codes: dict[str, str]) -> list[dict]:
    """Read the compiled protected-area list and normalise it to the PA_FIELDS columns."""
    with open(path, encoding="utf-8", newline="") as fh:
        rows = enumerate(csv.DictReader(fh), start=2)  # line 1 is the header
        return [normalise_pa_row(i, row, county_codes) for i, row in rows]


def normalise_pa_row(line: int, row: dict, county_codes: dict[str, str]) -> dict:
    """Turn one compiled-list row into a protected_areas.csv row; errors name line and field."""
    name = row["name"].strip()
    if name not in PA_CODES:
        raise ValueError(f"protected-area list line {line}: field name: no pa_code for {name!r}")
    parts = [c.strip() for c in row["counties"].split(";") if c.strip()]
    codes = [county_codes[c] for c in parts if c in county_codes]
    in_yz = row["in_yongzhou"].strip().lower().startswith("yes")
    if in_yz and len(codes) != len(parts):
        raise ValueError(f"protected-area list line {line}: field counties: unknown county in "
                         f"{row['counties']!r}")
    area, note = parse_area(line, row["area_ha"])
    level = row["level"].split()[0] if row["level"].strip() else ""
    scheme = zone_scheme(row["pa_type"])
    return {
        "pa_code": PA_CODES[name], "name": name, "level": level, "pa_type": row["pa_type"].strip(),
        "counties": ";".join(parts), "county_codes": ";".join(codes),
        "in_yongzhou": "yes" if in_yz else "no", "area_ha": area, "area_note": note,
        "established": row["established"].strip(), "national_year": row["national_year"].strip(),
        "zone_scheme": scheme, "zoning": row["zoning"].strip(),
        "published_extent": row["published_extent"].strip(),
        "illustrative": "yes" if in_yz and level == "国家级" and scheme != "none" else "no",
        "confidence": row["confidence"].strip(), "sources": row["sources"].strip(),
    }


def parse_area(line: int, text: str) -> tuple[float | None, str]:
    """Split '1549.5 (wetland 1376.2)' into (1549.5, '(wetland 1376.2)'); empty gives None."""
    if not text.strip():
        return None, ""
    match = _AREA.match(text)
    if not match:
        raise ValueError(f"protected-area list line {line}: field area_ha: not a number: {text!r}")
    return float(match.group(1)), match.group(2).strip()


def zone_scheme(pa_type: str) -> str:
    """Return the zoning scheme a protected-area type uses (reserve3, wetland or none)."""
    if pa_type.startswith("自然保护区"):
        return "reserve3"
    if pa_type.startswith("湿地公园"):
        return "wetland"
    return "none"


def render_pa_csv(rows: list[dict]) -> str:
    """Serialise the normalised list as CSV sorted by pa_code."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=PA_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in sorted(rows, key=lambda r: r["pa_code"]):
        writer.writerow({**row, "area_ha": "" if row["area_ha"] is None else f"{row['area_ha']:g}"})
    return buf.getvalue()


def project(geometry, src: str, dst: str):
    """Reproject a shapely geometry between two CRSs (lon/lat order)."""
    tr = Transformer.from_crs(src, dst, always_xy=True)
    return shapely.transform(geometry, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))


def fit_parameter(make, target: float, start: float) -> float:
    """Find p with area(make(p)) == target (area grows with p) by doubling then bisection."""
    lo, hi = 0.0, start
    for _ in range(40):
        if make(hi).area >= target:
            break
        lo, hi = hi, hi * 2
    else:
        raise ValueError(f"region too small for an area of {target / 1e4:.1f} ha")
    for _ in range(80):
        mid = (lo + hi) / 2
        if make(mid).area < target:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-9 * hi:
            break
    return hi


def shape_maker(row: dict, counties: dict):
    """Return (make(p) -> polygon in EPSG:4546, starting p, method text) for one protected area."""
    spec = SHAPES[row["pa_code"]]
    region = shapely.union_all([counties[c][1] for c in row["counties"].split(";")])
    extent = _EXTENT.search(row["published_extent"])
    if extent:
        x0, x1, y0, y1 = map(float, extent.groups())
        region = region.intersection(box(x0, y0, x1, y1))
    region_m = project(region, "EPSG:4326", GK_CRS)
    where = f"clipped to {row['counties'].replace(';', '/')}"
    if extent:
        where += " ∩ published bbox"
    if spec["kind"] == "ellipse":
        bx = project(box(x0, y0, x1, y1), "EPSG:4326", GK_CRS)
        minx, miny, maxx, maxy = bx.bounds
        unit = Point((minx + maxx) / 2, (miny + maxy) / 2).buffer(1.0, quad_segs=32)
        rx, ry = (maxx - minx) / 2, (maxy - miny) / 2
        return (lambda s: affinity.scale(unit, rx * s, ry * s).intersection(region_m), 0.5,
                f"ellipse inscribed in the published bbox, {where}")
    if spec["kind"] == "circle":
        anchor = project(Point(spec["anchor"]), "EPSG:4326", GK_CRS)
        check_inside(row, spec["anchor"], region)
        return (lambda r: anchor.buffer(r, quad_segs=32).intersection(region_m), 1000.0,
                f"circle round {spec['where']} {spec['anchor']}, {where}")
    line = project(LineString(spec["line"]), "EPSG:4326", GK_CRS)
    for pt in spec["line"]:
        check_inside(row, pt, region)
    return (lambda w: line.buffer(w, quad_segs=16).intersection(region_m), 100.0,
            f"buffer of a polyline along {spec['where']}, {where}")


def check_inside(row: dict, lonlat: tuple[float, float], region) -> None:
    """Stop when an anchor falls outside the area's counties (a typo in SHAPES)."""
    if not region.contains(Point(lonlat)):
        raise ValueError(f"{row['pa_code']}: anchor {lonlat} lies outside {row['counties']}")


def build_features(rows: list[dict], counties: dict) -> list[tuple[dict, object]]:
    """Return (properties, lon/lat geometry) for every zone of every illustrated protected area."""
    features = []
    for row in sorted((r for r in rows if r["illustrative"] == "yes"), key=lambda r: r["pa_code"]):
        area_ha = row["area_ha"] if row["area_ha"] is not None else DEFAULT_WETLAND_AREA_HA
        make, start, method = shape_maker(row, counties)
        cumulative, previous = 0.0, None
        for zone, share in ZONES[row["zone_scheme"]]:
            cumulative += share
            outer = make(fit_parameter(make, cumulative * area_ha * 1e4, start))
            ring = outer if previous is None else outer.difference(previous)
            previous = outer
            features.append((zone_properties(row, zone, share, area_ha, method),
                             project(ring, GK_CRS, "EPSG:4326")))
    return features


def zone_properties(row: dict, zone: str, share: float, area_ha: float, method: str) -> dict:
    """Properties of one illustrative zone feature, in the protected_area layer contract order."""
    basis = "published" if row["area_ha"] is not None else "assumed (not published)"
    return {
        "pa_code": row["pa_code"], "name": row["name"], "level": row["level"],
        "pa_type": row["pa_type"], "zone": zone, "zone_scheme": row["zone_scheme"],
        "authoritative": False, "counties": row["counties"], "county_codes": row["county_codes"],
        "area_ha_published": row["area_ha"], "area_ha_illustrative": area_ha,
        "zone_share": share, "illustrative_note": ILLUSTRATIVE_NOTE,
        "method": f"{method}; total area {basis}; zone share {share:.0%} (illustrative)",
    }
