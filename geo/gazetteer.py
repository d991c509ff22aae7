"""The Yongzhou gazetteer: NBS 2023 county, township and village names, aliases and features.

Read from ``data/boundaries/gazetteer/`` (built by ``scripts/build_gazetteer.py``). Every name
form a person may write (full NBS names, 县/市/区 swapped, stems, 某某村, aliases, features and
places outside Yongzhou) is registered in one ``NameTrie`` whose payloads are ``Place`` entries,
so the geocoder reads a string once. Names are data; codes are the keys.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from geo.address import (
    COUNTY_SUFFIXES,
    Match,
    NameTrie,
    county_stem,
    normalise_text,
    township_stem,
    village_base,
    village_forms,
)
from geo.datadir import SHIPPED_DIR
from geo.errors import BoundaryDataError
from geo.models import Area

__all__ = ["CITY_CODE", "GAZETTEER_DIR", "Collision", "Gazetteer", "Place", "load_gazetteer"]

GAZETTEER_DIR = SHIPPED_DIR / "gazetteer"
CITY_CODE = "431100"
VINTAGE = "NBS 2023 (cut-off 2023-06-30)"
STRONG, WEAK = 2, 1
_PROVINCE_SUFFIXES = (
    "维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市",
)
_CITY_SUFFIXES = ("自治州", "地区", "市", "盟")


@dataclass(frozen=True)
class Place:
    """One thing a name can denote: a trie payload.

    ``kind`` is county | township | village | feature | city | home_province | outside;
    ``county_codes`` are the usual Yongzhou counties it lies in (outside codes for features
    outside the city); ``strength`` is STRONG for a full or suffixed name, WEAK for a stem.
    """

    kind: str
    code: str
    name: str
    county_codes: tuple[str, ...] = ()
    township_code: str | None = None
    strength: int = STRONG
    note: str = ""  # alias kind or feature kind, quoted in evidence
    outside_context: str = ""  # for outside places: province and city names


@dataclass(frozen=True)
class Collision:
    """How often a Yongzhou township or village name occurs elsewhere in China."""

    outside_count: int
    hunan_outside_count: int
    examples: tuple[str, ...]


def _read(path: Path) -> list[dict[str, str]]:
    """Read one gazetteer CSV, naming the file if it is missing."""
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))
    except FileNotFoundError as exc:
        raise BoundaryDataError(f"gazetteer file {path} is missing; run "
                                "scripts/build_gazetteer.py") from exc


class Gazetteer:
    """Lookups by code and by name over the NBS 2023 Yongzhou gazetteer."""

    def __init__(self, data_dir: Path) -> None:
        """Load every gazetteer table from ``data_dir`` and build the name trie."""
        self.data_dir = Path(data_dir)
        variants = _read(self.data_dir / "variant_chars.csv")
        self.char_table = str.maketrans({r["variant"]: r["standard"] for r in variants})
        chars = "".join(r["variant"] for r in variants)
        self._variant_re = re.compile("[" + re.escape(chars) + "]")
        self.trie = NameTrie()
        self.areas: dict[str, Area] = {CITY_CODE: Area(CITY_CODE, "永州市", "city", "430000",
                                                       VINTAGE)}
        self.usual_county: dict[str, str] = {}
        self.collisions: dict[tuple[str, str], Collision] = {}
        self.features: dict[str, Place] = {}
        self.township_aliases: dict[str, list[str]] = {}
        self.outside_names: dict[str, str] = {}
        self._load_counties()
        self._load_townships()
        self._load_villages()
        self._load_aliases()
        self._load_features()
        self._load_outside()
        self._load_collisions()
        self._keep_strongest()
        self._build_typo_index()

    # -- loading ---------------------------------------------------------------------------

    def _add(self, name: str, place: Place) -> None:
        """Register a name form (normalised like the input text will be)."""
        key = normalise_text(name, self.char_table)
        if key:
            self.trie.add(key, place)

    def _load_counties(self) -> None:
        """Counties: full names, 县/市/区-swapped forms (strong) and bare stems (weak)."""
        for row in _read(self.data_dir / "counties.csv"):
            code, name, usual = row["code"], row["name"], row["usual_county_code"]
            self.areas[code] = Area(code, name, "county", CITY_CODE, VINTAGE)
            self.usual_county[code] = usual
            place = Place("county", code, name, (usual,))
            self._add(name, place)
            stem = county_stem(name) if row["kind"] == "county" else None
            if stem:
                for suffix in COUNTY_SUFFIXES:
                    self._add(stem + suffix, place)
                self._add(stem, Place("county", code, name, (usual,), strength=WEAK,
                                      note="short_form"))
        home = Place("home_province", "430000", "湖南省")
        self._add("湖南省", home)
        self._add("湖南", home)
        self._add("永州市", Place("city", CITY_CODE, "永州市"))

    def _load_townships(self) -> None:
        """Townships: the NBS name (strong), 瑶族乡 written 乡 (strong) and the stem (weak)."""
        for row in _read(self.data_dir / "townships.csv"):
            code, name = row["code_9"], row["name"]
            county = self.usual_county[row["county_code"]]
            self.areas[code] = Area(code, name, "township", row["county_code"], VINTAGE)
            place = Place("township", code, name, (county,), code)
            self._add(name, place)
            stem = township_stem(name)
            if stem is None:
                continue
            if name.endswith(("瑶族乡", "壮族乡")):
                self._add(stem + "乡", place)
            # a stem of three or more characters (高溪市, 九疑山) is as distinctive as the name
            strength = STRONG if len(stem) >= 3 else WEAK
            self._add(stem, Place("township", code, name, (county,), code, strength, "short_form"))

    def _load_villages(self) -> None:
        """Villages: the NBS name and the 某某村 / 某某社区 forms; a bare base is weak."""
        for row in _read(self.data_dir / "villages.csv"):
            code, name = row["code_12"], row["name"]
            county = self.usual_county[row["county_code"]]
            self.areas[code] = Area(code, name, "village", row["township_code_9"], VINTAGE)
            base = village_base(name)
            for form in village_forms(name):
                self._add(form, Place("village", code, name, (county,), row["township_code_9"],
                                      WEAK if form == base else STRONG))

    def _load_aliases(self) -> None:
        """Curated aliases: former names, short forms, variants, renamed and merged units."""
        for row in _read(self.data_dir / "aliases.csv"):
            alias, code, level, kind = row["alias"], row["code"], row["level"], row["kind"]
            if alias.isdigit():
                self.usual_county[alias] = self.usual_county[code]
                continue
            weak = kind == "short_form" and not alias.endswith(COUNTY_SUFFIXES + ("镇", "乡"))
            strength = WEAK if weak else STRONG
            if level == "city":
                place = Place("city", code, row["canonical"], strength=strength, note=kind)
            elif level == "county":
                place = Place("county", code, row["canonical"], (self.usual_county[code],),
                              strength=strength, note=kind)
            else:
                county = self.usual_county[self.areas[code].parent_code]
                place = Place("township", code, row["canonical"], (county,), code, strength, kind)
                self.township_aliases.setdefault(code, []).append(self.normalise(alias))
            self._add(alias, place)

    def _load_features(self) -> None:
        """Protected areas, reservoirs, rivers and sites with the counties they lie in."""
        for row in _read(self.data_dir / "features.csv"):
            codes = tuple(self.usual_county.get(c, c) for c in row["county_codes"].split(";"))
            place = Place("feature", row["name"], row["name"], codes, note=row["kind"],
                          outside_context=row["county_names"])
            self.features[row["name"]] = place
            for name in [row["name"], *filter(None, row["aliases"].split(";"))]:
                self._add(name, place)

    def _load_outside(self) -> None:
        """Provinces, cities and county-level units outside Yongzhou (stems of the first two)."""
        for row in _read(self.data_dir / "outside_places.csv"):
            name, level = row["name"], row["level"]
            if name == "湖南省":
                continue
            context = row["province"] + (row["city"] if level == "county" else "")
            place = Place("outside", row["code"], name, (row["code"],), note=level,
                          outside_context=context)
            self.outside_names[row["code"]] = context + name if level == "county" else name
            self._add(name, place)
            suffixes = _PROVINCE_SUFFIXES if level == "province" else _CITY_SUFFIXES
            if level != "county":
                for suffix in suffixes:
                    stem = name[: -len(suffix)]
                    if name.endswith(suffix) and len(stem) >= 2:
                        self._add(stem, Place("outside", row["code"], name, (row["code"],),
                                              strength=WEAK, note=level,
                                              outside_context=context))
                        break

    def _load_collisions(self) -> None:
        """Same-named townships and villages elsewhere in China."""
        for row in _read(self.data_dir / "collisions.csv"):
            self.collisions[(row["level"], row["name"])] = Collision(
                int(row["outside_count"]), int(row["hunan_outside_count"]),
                tuple(filter(None, row["examples"].split(";"))))

    def _keep_strongest(self) -> None:
        """Under each name keep only its strongest readings (a stem never beats a full name)."""
        stack = [self.trie.root]
        while stack:
            node = stack.pop()
            for key, child in node.items():
                if key == "":
                    top = max(p.strength for p in child)
                    node[key] = tuple(p for p in child if p.strength == top)
                else:
                    stack.append(child)

    def _build_typo_index(self) -> None:
        """Township names of 3+ characters with one character blanked, for typo tolerance."""
        self.typo_index: dict[str, set[Place]] = {}
        for place in {p for (_, p) in self._strong_townships()}:
            for name in {place.name, *self.township_aliases.get(place.code, ())}:
                body = len(name) - (2 if name.endswith("街道") else 1)
                for j in range(body if len(name) >= 3 else 0):
                    self.typo_index.setdefault(name[:j] + "\0" + name[j + 1:], set()).add(place)

    def _strong_townships(self):
        """(name, place) for every strong township name in the trie."""
        stack = [("", self.trie.root)]
        while stack:
            prefix, node = stack.pop()
            for key, child in node.items():
                if key == "":
                    for p in child:
                        if p.kind == "township" and p.strength == STRONG:
                            yield prefix, p
                else:
                    stack.append((prefix + key, child))

    def find_typo(self, text: str, counties: set[str]) -> tuple[Match, Place, str] | None:
        """A township written with one wrong character (八室镇 for 八宝镇), if only one fits.

        Only names ending in 镇/乡/街道 in the text are tried, and among several fits those in
        ``counties`` win; anything still ambiguous returns None.
        """
        ends = [i + 1 for i, ch in enumerate(text) if ch in "镇乡"]
        ends += [i + 2 for i in range(len(text) - 1) if text[i: i + 2] == "街道"]
        for end in ends:
            # longest first: 太口圩镇 should find 太平圩镇 before 口圩镇 finds 新圩镇
            for length in range(min(end, 9), 2, -1):
                s = text[end - length: end]
                body = length - (2 if s.endswith("街道") else 1)
                hits = {p.code: p for j in range(body)
                        for p in self.typo_index.get(s[:j] + "\0" + s[j + 1:], ())}
                if counties:
                    hits = {c: p for c, p in hits.items() if set(p.county_codes) & counties} \
                        or hits
                if len(hits) == 1:
                    place = next(iter(hits.values()))
                    return (Match(end - length, end, s, (place,)), place,
                            f"错别字容错: {s} ≈ {place.name}")
                if hits:
                    break
        return None

    # -- lookups ---------------------------------------------------------------------------

    def normalise(self, text: str) -> str:
        """Simplify variant and traditional characters and drop punctuation and spaces."""
        # translate only when needed: most ledger text has no traditional characters
        return normalise_text(text, self.char_table if self._variant_re.search(text) else None)

    def area(self, code: str) -> Area | None:
        """The county, township (9 or 12 digits) or village area with this NBS code."""
        code = str(code).strip()
        if len(code) == 12 and code.endswith("000") and code[:9] in self.areas:
            code = code[:9]
        if len(code) == 12 and code.endswith("000000"):
            code = code[:6]
        return self.areas.get(code)

    def find(self, name: str) -> tuple[Place, ...]:
        """Every place a complete name may denote (after normalisation)."""
        return self.trie.get(self.normalise(name))

    def county_name(self, code: str) -> str:
        """Name of a Yongzhou county code, or of an outside code, or the code itself."""
        area = self.areas.get(code)
        return area.name if area else self.outside_names.get(code, code)

    def resolve_county(self, text_or_code: str) -> Area | None:
        """The current county a declared county name or code denotes, or None.

        Former codes and names map to the current county (431121 祁阳县 -> 431181 祁阳市);
        the NBS statistical units map to the county most lists put them under, so the result
        can be compared with a county boundary layer.

        Examples
        --------
        >>> g = load_gazetteer()
        >>> [g.resolve_county(x).code for x in ("祁阳县", "祁阳", "431121", "江华县", "冷水滩")]
        ['431181', '431181', '431181', '431129', '431103']
        >>> g.resolve_county("邵阳县") is None
        True
        """
        text = self.normalise(str(text_or_code or ""))
        if text.isdigit():
            code = text[:6] if len(text) == 12 else text
            usual = self.usual_county.get(code)
            return self.areas.get(usual) if usual else None
        counties = {c for p in self.find(text) if p.kind == "county" for c in p.county_codes}
        if not counties:
            found = [p for m in self.trie.scan(text) for p in m.entries]
            if any(p.kind == "outside" and p.strength == STRONG for p in found):
                return None
            counties = {c for p in found if p.kind == "county" for c in p.county_codes}
        return self.areas[counties.pop()] if len(counties) == 1 else None


@lru_cache(maxsize=8)
def _load_cached(path: str) -> Gazetteer:
    """Build one Gazetteer per resolved directory."""
    return Gazetteer(Path(path))


def load_gazetteer(data_dir: str | Path | None = None) -> Gazetteer:
    """Load (once per directory) the gazetteer from ``data_dir`` or the shipped data.

    Examples
    --------
    >>> g = load_gazetteer()
    >>> g.area("431103104").name, len([a for a in g.areas.values() if a.level == "township"])
    ('高溪市镇', 195)
    """
    if data_dir is None:  # the common case, called per string: skip resolving the path
        return _load_default()
    return _load_cached(str(Path(data_dir).resolve()))


@lru_cache(maxsize=1)
def _load_default() -> Gazetteer:
    """The shipped gazetteer (the same object as ``load_gazetteer(GAZETTEER_DIR)``)."""
    return _load_cached(str(GAZETTEER_DIR.resolve()))


@lru_cache(maxsize=8)
def _county_names_cached(path: str) -> tuple[tuple[str, str], ...]:
    """Read (code, name) pairs of the county-level units in listing order, once per directory."""
    data_dir = Path(path)
    rows = _read(data_dir / "counties.csv")
    # official lists keep a renamed county where its former code put it (祁阳市 was 431121
    # 祁阳县 until 2021, so it follows 冷水滩区): sort by the earliest code each unit carried
    first_code = {r["code"]: r["code"] for r in rows}
    for row in _read(data_dir / "aliases.csv"):
        if row["alias"].isdigit() and row["code"] in first_code:
            first_code[row["code"]] = min(first_code[row["code"]], row["alias"])
    rows.sort(key=lambda r: first_code[r["code"]])
    return tuple((r["code"], r["name"]) for r in rows)


def county_names(data_dir: str | Path | None = None) -> dict[str, str]:
    """County-level codes and NBS names in official listing order, without loading villages.

    Reads only ``counties.csv`` and ``aliases.csv`` (for former codes), so importing modules
    can build their county table cheaply; each call returns a fresh dict.

    Examples
    --------
    >>> names = county_names()
    >>> list(names)[:4], names["431129"], len(names)
    (['431102', '431103', '431181', '431122'], '江华瑶族自治县', 13)
    """
    path = GAZETTEER_DIR if data_dir is None else Path(data_dir)
    return dict(_county_names_cached(str(path.resolve())))
