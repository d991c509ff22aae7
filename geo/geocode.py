"""Address text -> county, township and village of Yongzhou, with honest ambiguity.

The text is normalised (simplified characters, no punctuation), segmented once into the
longest known names (``NameTrie.scan``), and the names are weighed:

1. counties written in full or with a 县/市/区 suffix are strong; bare stems (江华, 宁远) are weak
   and ignored when a strong county or a township comes first, because they are then part of a
   village or company name (宁远县东安建材厂 is in 宁远), unless a connector (与、和) or a border
   word (交界) shows the text lists places;
2. several counties written out (交界, 之间, a list) -> a township or village named in full, or
   a county the text says the place belongs to (属X县), decides; a feature name never does (a
   mountain on a county line belongs to both, whatever county the gazetteer files it under), so
   otherwise all of them are candidates and the result is ambiguous (confidence below 0.5);
3. no county -> a feature (reservoir, reserve, river), then a township, then a village decides;
   a name that exists in two Yongzhou counties or elsewhere in China (NBS 2023) with no
   永州 or 湖南 in the text is ambiguous with confidence below 0.5;
4. places outside Yongzhou (other provinces, cities, counties) give ``outside_city`` when no
   Yongzhou county is named.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from geo.address import Match, village_base
from geo.gazetteer import STRONG, Gazetteer, Place, load_gazetteer
from geo.models import Attribution

__all__ = ["geocode", "geocode_many", "named_townships"]

CONNECTORS = frozenset("与和及、至同跟或")
BORDER_WORDS = ("交界", "接壤", "毗邻", "边界", "之间", "交汇")
AMBIGUOUS_CONFIDENCE = 0.4
_BUCKETS = {"county": "counties", "township": "townships", "village": "villages",
            "feature": "features", "outside": "outside"}


@dataclass
class _Parse:
    """The names found in one string, bucketed by kind."""

    text: str
    counties: list[tuple[Match, Place]] = field(default_factory=list)
    townships: list[tuple[Match, Place]] = field(default_factory=list)
    villages: list[tuple[Match, Place]] = field(default_factory=list)
    features: list[tuple[Match, Place]] = field(default_factory=list)
    outside: list[tuple[Match, Place]] = field(default_factory=list)
    city: bool = False  # 永州 named
    province: bool = False  # 湖南 named
    typo: str = ""


def _lists_places(text: str, m: Match) -> bool:
    """True if the name stands next to a connector or a border word (交界, 与, 、)."""
    before, after = text[m.start - 1: m.start], text[m.end: m.end + 1]
    return (before in CONNECTORS and before != "") or (after in CONNECTORS and after != "") \
        or text[m.end: m.end + 2] in BORDER_WORDS or text[m.end: m.end + 3].endswith(BORDER_WORDS)


def _parse(g: Gazetteer, text: str) -> _Parse:
    """Scan the text and sort each name's strongest readings into buckets."""
    parse = _Parse(text)
    matches = g.trie.scan(text)  # entries are already only the strongest readings of a name
    context = None
    first_anchor = None  # end of the first strong county or township: names after it are parts
    for m in matches:
        places = m.entries
        if len(places) > 1 and any(p.kind == "outside" for p in places):
            if context is None:
                context = [p.name for m2 in matches for p in m2.entries
                           if p.kind == "outside" and p.note in ("province", "city")]
            places = _outside_or_home(places, context)
        for p in places:
            kind = p.kind
            if kind == "city":
                parse.city = True
            elif kind == "home_province":
                parse.province = True
            else:
                getattr(parse, _BUCKETS[kind]).append((m, p))
            if first_anchor is None and p.strength == STRONG and kind in ("county", "township"):
                first_anchor = m.end
    _drop_weak(parse, first_anchor)
    return parse


def _outside_or_home(places: list[Place], context: list[str]) -> list[Place]:
    """A name that is both a Yongzhou unit and an outside one (东安区): the text decides."""
    outside = [p for p in places if p.kind == "outside"]
    if any(c and c in p.outside_context for p in outside for c in context):
        return outside
    return [p for p in places if p.kind != "outside"]


def _drop_weak(parse: _Parse, first_anchor: int | None) -> None:
    """Drop weak county and outside stems that are parts of longer names (see module doc)."""
    strong_county = any(p.strength == STRONG for _, p in parse.counties)

    def keep(m: Match, p: Place) -> bool:
        """Keep strong names, listed names, and weak ones before any anchor."""
        if p.strength == STRONG or _lists_places(parse.text, m):
            return True
        return not strong_county and (first_anchor is None or m.start < first_anchor)

    parse.counties = [(m, p) for m, p in parse.counties if keep(m, p)]
    parse.outside = [(m, p) for m, p in parse.outside if keep(m, p)]


def geocode(text: str, gazetteer: Gazetteer | None = None) -> Attribution:
    """Read the Yongzhou county, township and village named in free text.

    Parameters
    ----------
    text : str
        Location text as written in a ledger, e.g. "冷水滩区高溪市镇某村养殖场".
    gazetteer : Gazetteer, optional
        Defaults to the shipped NBS 2023 gazetteer.

    Returns
    -------
    Attribution
        county/township/village codes and names, precision, confidence (0-1), candidate
        county names, flags (``ambiguous``, ``outside_city``) and evidence strings.

    Examples
    --------
    >>> a = geocode("冷水滩区高溪市镇")
    >>> a.county_name, a.township_name, a.precision, a.flags
    ('冷水滩区', '高溪市镇', 'township', [])
    >>> a = geocode("位于道县与江永县交界处")
    >>> a.county_code, a.candidates, a.flags
    (None, ['道县', '江永县'], ['ambiguous'])
    >>> a = geocode("宁远县与蓝山县交界的九嶷山")
    >>> a.county_code, a.candidates, a.flags, a.confidence < 0.5
    (None, ['宁远县', '蓝山县'], ['ambiguous'], True)
    """
    g = gazetteer or load_gazetteer()
    att = Attribution()
    norm = g.normalise(str(text or ""))
    if not norm:
        att.evidence.append("地址为空")
        return att
    parse = _parse(g, norm)
    if not parse.townships and not parse.villages:
        typo = g.find_typo(norm, {c for _, p in parse.counties for c in p.county_codes})
        if typo:
            parse.townships.append(typo[:2])
            parse.typo = typo[2]
    _resolve(g, parse, att)
    return att


def geocode_many(texts: Iterable[str], gazetteer: Gazetteer | None = None) -> list[Attribution]:
    """Geocode many strings; repeated strings are read once (results are shared copies)."""
    g = gazetteer or load_gazetteer()
    seen: dict[str, Attribution] = {}
    out = []
    for text in texts:
        key = str(text or "")
        if key not in seen:
            seen[key] = geocode(key, g)
        out.append(_copy(seen[key]))
    return out


def named_townships(text: str, gazetteer: Gazetteer | None = None) -> dict[str, tuple[str, ...]]:
    """Townships written in full in ``text``, each with every Yongzhou county it may lie in.

    Stems and typos are left out: this is for checking text against coordinates, where only a
    name the text really states may raise a disagreement. A name with readings in several
    counties (a village of one, a township of another) lists them all.

    Examples
    --------
    >>> named_townships("东安县文富市镇某养殖场")
    {'文富市镇': ('431181',)}
    >>> named_townships("零陵区")
    {}
    """
    g = gazetteer or load_gazetteer()
    norm = g.normalise(str(text or ""))
    found: dict[str, set[str]] = {}
    for m, p in _parse(g, norm).townships if norm else ():
        if p.strength == STRONG:
            found.setdefault(m.text, set()).update(c for q in m.entries for c in q.county_codes)
    return {name: tuple(sorted(codes)) for name, codes in found.items()}


def _copy(att: Attribution) -> Attribution:
    """A copy whose lists can be changed without touching the cached result."""
    return Attribution(**{**att.__dict__, "flags": list(att.flags),
                          "candidates": list(att.candidates), "evidence": list(att.evidence)})


def _counties_of(pairs: list[tuple[Match, Place]]) -> set[str]:
    """Union of the Yongzhou county codes of some found names."""
    return {c for _, p in pairs for c in p.county_codes}


def _resolve(g: Gazetteer, parse: _Parse, att: Attribution) -> None:
    """Decide county, then township and village, filling ``att``."""
    named = _counties_of(parse.counties)
    strong_outside = [(m, p) for m, p in parse.outside if p.strength == STRONG]
    if not named and parse.outside and (strong_outside or not (parse.townships or parse.features)):
        _set_outside(att, parse.outside)
        return
    counties, basis = _choose_counties(g, parse, named)
    if not counties:
        if parse.city or parse.province:
            att.precision = "city" if parse.city else "none"
            att.confidence = 0.9 if parse.city else 0.0
            att.evidence.append("只识别到永州市" if parse.city else "只识别到湖南省")
        else:
            att.evidence.append("未识别到永州市的县区、乡镇或村名")
        return
    att.candidates = [g.county_name(c) for c in sorted(counties | named, key=_order(parse, g))]
    if parse.outside and named:
        att.candidates += [p.outside_context + p.name for _, p in parse.outside
                           if p.note == "county"] or [p.name for _, p in parse.outside]
        if not _decided_by_lower_level(parse, counties):
            counties = counties | {"outside"}
    if len(counties) > 1:
        _set_ambiguous(g, parse, att, counties, basis)
        return
    county = next(iter(counties))
    if county not in g.areas:
        _set_outside(att, [(None, g.features[basis[1]])] if basis[0] == "feature" else [])
        return
    _set_county(g, parse, att, county, basis)


def _order(parse: _Parse, g: Gazetteer):
    """Sort key putting counties in the order the text names them."""
    first = {}
    for m, p in parse.counties + parse.features + parse.townships + parse.villages:
        for c in p.county_codes:
            first.setdefault(c, m.start)
    return lambda c: (first.get(c, 999), c)


def _decided_by_lower_level(parse: _Parse, counties: set[str]) -> bool:
    """True if a township or village in the chosen county shows where the place is."""
    return any(set(p.county_codes) & counties for _, p in parse.townships + parse.villages
               if p.strength == STRONG)


def _choose_counties(g: Gazetteer, parse: _Parse, named: set[str]) -> tuple[set[str], tuple]:
    """Candidate counties and the basis of the choice (kind, name)."""
    lower = _lower_level_counties(parse)
    if named:
        if len(named) > 1:
            # a feature must not collapse counties the text names (#16): only lower levels or 属;
            # a feature's name that is also a township stem (九嶷山) still reads as the feature
            narrowed = named & _lower_level_counties(parse, skip=_spans(parse.features)) \
                or _belongs(parse)
            if len(narrowed) == 1:
                return narrowed, ("county", "")
        return named, ("county", "")
    if parse.features:
        feats = _feature_counties(parse)
        narrowed = feats & lower
        name = parse.features[0][1].name
        return (narrowed if len(narrowed) == 1 else feats), ("feature", name)
    strong_t = [(m, p) for m, p in parse.townships if p.strength == STRONG]
    if strong_t:
        return _narrow_by_villages(parse, strong_t), ("township", strong_t[0][1].name)
    strong_v = [(m, p) for m, p in parse.villages if p.strength == STRONG]
    if strong_v:
        return _counties_of(strong_v), ("village", strong_v[0][1].name)
    return set(), ("none", "")


def _lower_level_counties(parse: _Parse, skip: frozenset = frozenset()) -> set[str]:
    """Counties of the strong township and village names (except those at ``skip`` spans)."""
    return _counties_of([(m, p) for m, p in parse.townships + parse.villages
                         if p.strength == STRONG and (m.start, m.end) not in skip])


def _spans(pairs: list[tuple[Match, Place]]) -> frozenset:
    """The (start, end) text spans of some found names."""
    return frozenset((m.start, m.end) for m, _ in pairs)


def _feature_counties(parse: _Parse) -> set[str]:
    """Counties common to every feature named (or all of them if they share none)."""
    sets = [set(p.county_codes) for _, p in parse.features]
    if not sets:
        return set()
    common = set.intersection(*sets)
    return common or set.union(*sets)


def _belongs(parse: _Parse) -> set[str]:
    """A county introduced by 属 / 属于 (…交界处，属X县) is where the place is."""
    return {c for m, p in parse.counties if parse.text[max(0, m.start - 2): m.start].endswith(
        ("属", "属于", "归")) for c in p.county_codes}


def _narrow_by_villages(parse: _Parse, townships: list[tuple[Match, Place]]) -> set[str]:
    """Counties of the townships, narrowed to those where a named village lies under them."""
    codes = {p.code for _, p in townships}
    under = {c for _, p in parse.villages if p.township_code in codes for c in p.county_codes}
    return under or _counties_of(townships)


def _set_outside(att: Attribution, outside: list[tuple[Match | None, Place]]) -> None:
    """The text names a place outside Yongzhou."""
    att.add_flag("outside_city")
    names = list(dict.fromkeys(
        (p.outside_context + p.name) if p.note == "county" else
        (p.outside_context if p.kind == "feature" else p.name) for _, p in outside))
    # keep the most specific: 湖南省邵阳市新宁县 makes 邵阳市 redundant
    names = [n for n in names if not any(n != o and n in o for o in names)]
    att.candidates = names
    strong = any(p.strength == STRONG for _, p in outside)
    att.confidence = 0.85 if strong else 0.6
    att.evidence.append("永州市以外: " + "、".join(names))


def _set_ambiguous(g: Gazetteer, parse: _Parse, att: Attribution, counties: set[str],
                   basis: tuple) -> None:
    """Several places fit: list them all and commit to none."""
    att.add_flag("ambiguous")
    att.confidence = AMBIGUOUS_CONFIDENCE
    inside = [c for c in counties if c in g.areas]
    att.precision = "city" if len(inside) == len(counties) else "none"
    kind = {"county": "多个县区", "feature": f"跨县地物 {basis[1]}",
            "township": f"乡镇名 {basis[1]}", "village": f"村名 {basis[1]}"}[basis[0]]
    att.evidence.append(f"{kind}: " + "、".join(att.candidates) + " (无法确定属于哪一个)")


def _set_county(g: Gazetteer, parse: _Parse, att: Attribution, county: str,
                basis: tuple) -> None:
    """One county: fill it, then its township and village, and weigh the confidence."""
    att.county_code, att.county_name = county, g.county_name(county)
    # keep every county the text named (交界), the chosen one first
    att.candidates = [att.county_name] + [c for c in att.candidates if c != att.county_name]
    att.precision = "county"
    explicit = basis[0] == "county"
    strong = any(p.strength == STRONG and county in p.county_codes for _, p in parse.counties)
    att.confidence = (0.9 if strong else 0.8) if explicit else 0.8
    att.evidence.append(_county_evidence(parse, county, basis, att.county_name))
    township = _pick_township(g, parse, att, county, context=explicit or basis[0] == "feature")
    _pick_village(g, parse, att, county, township)
    _pick_feature(parse, att, county)
    if not explicit and basis[0] in ("township", "village"):
        _weigh_collisions(g, parse, att, basis)
    if parse.typo:
        att.confidence = min(0.7, round(att.confidence * 0.75, 2))
        att.evidence.append(parse.typo)


def _county_evidence(parse: _Parse, county: str, basis: tuple, name: str) -> str:
    """One line saying how the county was found."""
    if basis[0] == "county":
        written = [m.text for m, p in parse.counties if county in p.county_codes]
        return f"县区: {name} (原文 {'、'.join(dict.fromkeys(written)) or '由乡镇/村确定'})"
    level = {"feature": "地物", "township": "乡镇", "village": "村"}[basis[0]]
    return f"县区: {name} (由{level} {basis[1]} 确定)"


def _pick_township(g: Gazetteer, parse: _Parse, att: Attribution, county: str,
                   context: bool) -> str | None:
    """The one township of ``county`` the text names (weak stems only with county context)."""
    found = {p.code: (m, p) for m, p in parse.townships
             if county in p.county_codes and (p.strength == STRONG or context)}
    others = [p.name for _, p in parse.townships if p.strength == STRONG
              and county not in p.county_codes]
    if others and not found:
        att.confidence = 0.6
        att.evidence.append(f"乡镇 {'、'.join(others)} 不属于 {att.county_name}，未采用")
    if len(found) != 1:
        if len(found) > 1:
            att.evidence.append("多个乡镇: " + "、".join(p.name for _, p in found.values()))
        return None
    m, p = next(iter(found.values()))
    area = g.areas[p.code]
    att.township_code, att.township_name = area.code, area.name
    att.precision = "township"
    att.confidence = max(att.confidence, 0.95 if context else 0.85)
    via = "" if m.text == area.name else f" (原文 {m.text}{'，' + p.note if p.note else ''})"
    att.evidence.append(f"乡镇: {area.name}{via}")
    return area.code


def _pick_village(g: Gazetteer, parse: _Parse, att: Attribution, county: str,
                  township: str | None) -> None:
    """The one village under the township (or the county) the text names."""
    found = {p.code: (m, p) for m, p in parse.villages if county in p.county_codes
             and (township is None or p.township_code == township)
             and (p.strength == STRONG or township is not None)}
    if len(found) != 1:
        return
    m, p = next(iter(found.values()))
    att.village_name = p.name
    if township is None:
        area = g.areas[p.township_code]
        att.township_code, att.township_name = area.code, area.name
        att.evidence.append(f"乡镇: {area.name} (由村 {m.text} 确定)")
    att.precision = "village"
    att.confidence = min(0.97, att.confidence + 0.02)
    att.evidence.append(f"村: {p.name} (原文 {m.text})")


def _pick_feature(parse: _Parse, att: Attribution, county: str) -> None:
    """Name the protected area the text mentions if it lies in the chosen county."""
    for _, p in parse.features:
        if county in p.county_codes:
            if p.note == "protected_area":
                att.protected_area = p.name
            att.evidence.append(f"地物: {p.name} ({p.note}; {p.outside_context})")
            return


def _weigh_collisions(g: Gazetteer, parse: _Parse, att: Attribution, basis: tuple) -> None:
    """A township or village name alone that exists elsewhere in China is ambiguous."""
    level, name = basis
    key = name if level == "township" else village_base(name)
    hit = g.collisions.get((level, key))
    confirmed = level == "township" and att.precision == "village"
    if parse.city or hit is None or confirmed:
        return
    elsewhere = hit.hunan_outside_count if parse.province else hit.outside_count
    if elsewhere == 0:
        return
    att.add_flag("ambiguous")
    att.confidence = AMBIGUOUS_CONFIDENCE
    att.candidates += list(hit.examples)
    examples = "、".join(hit.examples)
    att.evidence.append(f"{name} 在永州市以外还有 {elsewhere} 处同名 (如 {examples})")
