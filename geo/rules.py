"""The zone rule table: what applies in each zone of each zoning scheme, read from an editable CSV.

``data/boundaries/zone_rules.csv`` has one row per (scheme, zone, site_category) with the rule as a
summary in Chinese, the ``source`` (law, article numbers, version/year) and a ``confidence`` mark.
``site_category`` ``*`` applies to every site; a row for a specific category (mine, hydropower,
tourism, livestock, pollution, construction) wins over ``*``. Zone ``外围保护地带`` holds the rule
reported for sites within a buffer distance, and scheme ``none`` / zone ``未分区`` the rule for an
unzoned reserve.

Ledger categories (水污染, 小水电清理整改, 自然保护区内违规建设 ...) are not rule categories: the
editable ``data/boundaries/category_map.csv`` maps them, one row per ``ledger_category`` with a
``match`` of ``exact`` (the whole text, synonyms are further exact rows) or ``contains`` (a
substring rule), the ``rule_category`` and a ``note``. A category is resolved in this order:

1. empty: the general ``*`` rule, nothing to report;
2. a rule category itself (``mine``, ``hydropower`` ..., any case): used as is;
3. an ``exact`` row equal to the text (after NFKC and removing spaces);
4. ``contains`` rows whose key occurs in the text: the longest key wins, then the first listed;
5. otherwise unknown: the ``*`` rule, and the result says so.

A category the map sends to ``*`` (a deliberately general one) is not a fallback.
"""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from geo.datadir import SHIPPED_DIR
from geo.errors import BoundaryDataError

RULES_PATH = SHIPPED_DIR / "zone_rules.csv"
CATEGORY_MAP_PATH = RULES_PATH.with_name("category_map.csv")
COLUMNS = ("scheme", "zone", "site_category", "rule", "source", "confidence", "note")
MAP_COLUMNS = ("ledger_category", "match", "rule_category", "note")
MATCHES = ("exact", "contains")
CONFIDENCES = ("high", "medium", "low")
GENERAL = "*"
PERIMETER_ZONE = "外围保护地带"
UNZONED = "未分区"


@dataclass(frozen=True)
class ZoneRule:
    """One row of the rule table."""

    scheme: str
    zone: str
    site_category: str
    rule: str
    source: str
    confidence: str
    note: str = ""


@dataclass(frozen=True)
class CategoryResolution:
    """How a site or ledger category was resolved to a rule category."""

    category: str | None  # as given
    rule_category: str | None  # None when empty or unknown
    how: str  # empty | rule | exact | contains | unknown
    key: str = ""  # the map key that matched (exact text or substring)

    def describe(self) -> str:
        """Return the resolution in Chinese for reports ("" when no category was given)."""
        if self.how in ("empty", "rule"):
            return ""  # nothing to explain: no category, or already a rule category
        if self.how == "unknown":
            return f"类别“{self.category}”不在类别对照表中，采用通用规则（*）"
        how = "精确匹配" if self.how == "exact" else f"包含“{self.key}”"
        return f"类别“{self.category}”→ {self.rule_category}（类别对照表：{how}）"


@dataclass(frozen=True)
class RuleMatch(ZoneRule):
    """The rule found for a zone and category, with how the category was resolved.

    ``site_category`` is the table row's category (``*`` when the general rule was used);
    ``fallback`` is True when a category was given but the general rule had to stand in for it,
    and ``resolution`` says why in Chinese.
    """

    resolved: CategoryResolution | None = None
    fallback: bool = False
    resolution: str = ""


def normalise_category(text: str | None) -> str:
    """Return a category with NFKC applied and all whitespace removed.

    >>> normalise_category(" 小水电\\n清理整改 ")
    '小水电清理整改'
    """
    return "".join(unicodedata.normalize("NFKC", text or "").split())


class CategoryMap:
    """Ledger category -> rule category, from ``category_map.csv`` (see the module docstring)."""

    def __init__(self, exact: dict[str, str], contains: list[tuple[str, str]]) -> None:
        """Keep the exact keys and the substring rules (in file order)."""
        self.exact = dict(exact)
        # longest key first; sorted() is stable, so equal lengths keep the file's order
        self.contains = sorted(contains, key=lambda kv: -len(kv[0]))
        self._cache: dict[tuple[str | None, frozenset], CategoryResolution] = {}

    def targets(self) -> set[str]:
        """Return every rule category the map can produce."""
        return set(self.exact.values()) | {v for _, v in self.contains}

    def resolve(
        self, category: str | None, rule_categories: frozenset = frozenset()
    ) -> CategoryResolution:
        """Resolve a category; names in ``rule_categories`` pass through unchanged."""
        key = (category, rule_categories)
        if key not in self._cache:
            self._cache[key] = self._resolve(category, rule_categories)
        return self._cache[key]

    def _resolve(self, category: str | None, rule_categories: frozenset) -> CategoryResolution:
        """Apply the resolution order of the module docstring."""
        text = normalise_category(category)
        if not text or text == GENERAL:
            return CategoryResolution(category, None, "empty")
        if text.lower() in rule_categories:
            return CategoryResolution(category, text.lower(), "rule")
        if text in self.exact:
            return CategoryResolution(category, self.exact[text], "exact", text)
        for sub, target in self.contains:
            if sub in text:
                return CategoryResolution(category, target, "contains", sub)
        return CategoryResolution(category, None, "unknown")


class RuleTable:
    """Rules keyed by (scheme, zone, site_category), with ``*`` as the category fallback."""

    def __init__(self, rules: list[ZoneRule], categories: CategoryMap | None = None) -> None:
        """Index the rules; a repeated key, or a map target no rule uses, is a data error."""
        self.rules = list(rules)
        self.categories = categories or CategoryMap({}, [])
        self._by_key: dict[tuple[str, str, str], ZoneRule] = {}
        for r in self.rules:
            key = (r.scheme, r.zone, r.site_category)
            if key in self._by_key:
                raise BoundaryDataError(f"zone rule table repeats scheme/zone/category {key}")
            self._by_key[key] = r
        self.rule_categories = frozenset(r.site_category for r in self.rules) - {GENERAL}
        unused = self.categories.targets() - self.rule_categories - {GENERAL}
        if unused:
            raise BoundaryDataError(
                f"category map names rule categor(ies) {', '.join(sorted(unused))} "
                f"that no zone rule uses (known: {', '.join(sorted(self.rule_categories))})"
            )

    def resolve_category(self, category: str | None) -> CategoryResolution:
        """Resolve a site or ledger category to a rule category through the category map.

        >>> t = load_zone_rules()
        >>> t.resolve_category("小水电清理整改").rule_category
        'hydropower'
        >>> t.resolve_category("某某矿区复绿").key
        '矿'
        """
        return self.categories.resolve(category, self.rule_categories)

    def rule_for(
        self, scheme: str | None, zone: str | None, site_category: str | None = None
    ) -> RuleMatch | None:
        """Return the most specific rule for a zone, or None when the table has none.

        ``site_category`` may be a rule category or a ledger category (resolved through the
        category map); an unknown one gets the ``*`` rule with ``fallback`` set.

        Examples
        --------
        >>> t = load_zone_rules()
        >>> t.rule_for("reserve3", "缓冲区", "tourism").source.endswith("第二十八条")
        True
        >>> r = t.rule_for("reserve3", "核心区", "unknown-category")
        >>> r.site_category, r.fallback
        ('*', True)
        >>> t.rule_for("reserve3", "核心区", "小水电清理整改").site_category
        'hydropower'
        >>> t.rule_for("wetland", "不存在的区") is None
        True
        """
        scheme = scheme or "none"
        zone = zone or UNZONED
        resolved = self.resolve_category(site_category)
        wanted = resolved.rule_category
        if wanted and wanted != GENERAL:
            found = self._by_key.get((scheme, zone, wanted))
            if found is not None:
                return _match(found, resolved, False, resolved.describe())
        found = self._by_key.get((scheme, zone, GENERAL))
        if found is None:
            return None
        if resolved.how == "unknown":
            return _match(found, resolved, True, resolved.describe())
        if wanted and wanted != GENERAL:
            note = f"{resolved.describe()}；{scheme}/{zone} 没有该类专门规则，采用通用规则（*）"
            return _match(found, resolved, True, note)
        return _match(found, resolved, False, resolved.describe())


def _match(rule: ZoneRule, resolved: CategoryResolution, fallback: bool, note: str) -> RuleMatch:
    """Return a table row as a RuleMatch carrying how its category was found."""
    fields = {f: getattr(rule, f) for f in ZoneRule.__dataclass_fields__}
    return RuleMatch(**fields, resolved=resolved, fallback=fallback, resolution=note)


def _read_csv(path: Path, columns: tuple[str, ...], what: str) -> list[dict]:
    """Read a UTF-8 CSV, check its header has ``columns``; return stripped rows."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in columns if c not in (reader.fieldnames or ())]
            if missing:
                raise BoundaryDataError(f"{path}: missing column(s) {', '.join(missing)}")
            rows = list(reader)
    except OSError as exc:
        raise BoundaryDataError(f"cannot read {what} {path}: {exc}") from exc
    return [{c: (row.get(c) or "").strip() for c in columns} for row in rows]


def load_category_map(path: str | Path = CATEGORY_MAP_PATH) -> CategoryMap:
    """Read the ledger category map; errors name the line, field and value."""
    path = Path(path)
    exact: dict[str, str] = {}
    contains: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for lineno, values in enumerate(_read_csv(path, MAP_COLUMNS, "category map"), start=2):
        for required in ("ledger_category", "rule_category"):
            if not values[required]:
                raise BoundaryDataError(f"{path} line {lineno}: field {required!r} is empty")
        if values["match"] not in MATCHES:
            raise BoundaryDataError(
                f"{path} line {lineno}: field 'match' is {values['match']!r}, "
                f"expected one of {', '.join(MATCHES)}"
            )
        key = normalise_category(values["ledger_category"])
        if (key, values["match"]) in seen:
            raise BoundaryDataError(
                f"{path} line {lineno}: field 'ledger_category' {key!r} ({values['match']}) "
                "is listed twice"
            )
        seen.add((key, values["match"]))
        if values["match"] == "exact":
            exact[key] = values["rule_category"]
        else:
            contains.append((key, values["rule_category"]))
    return CategoryMap(exact, contains)


def load_zone_rules(
    path: str | Path = RULES_PATH, category_map: str | Path | None = CATEGORY_MAP_PATH
) -> RuleTable:
    """Read the rule CSV (and the category map, unless None); errors name the row."""
    path = Path(path)
    rules = []
    for lineno, values in enumerate(_read_csv(path, COLUMNS, "zone rule table"), start=2):
        for required in ("scheme", "zone", "rule", "source"):
            if not values[required]:
                raise BoundaryDataError(f"{path} line {lineno}: field {required!r} is empty")
        if values["confidence"] not in CONFIDENCES:
            raise BoundaryDataError(
                f"{path} line {lineno}: field 'confidence' is {values['confidence']!r}, "
                f"expected one of {', '.join(CONFIDENCES)}"
            )
        values["site_category"] = values["site_category"] or GENERAL
        rules.append(ZoneRule(**values))
    categories = load_category_map(category_map) if category_map is not None else None
    return RuleTable(rules, categories)
