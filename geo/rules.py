"""The zone rule table: what applies in each zone of each zoning scheme, read from an editable CSV.

``data/boundaries/zone_rules.csv`` has one row per (scheme, zone, site_category) with the rule as a
summary in Chinese, the ``source`` (law, article numbers, version/year) and a ``confidence`` mark.
``site_category`` ``*`` applies to every site; a row for a specific category (mine, hydropower,
tourism ...) wins over ``*``. Zone ``外围保护地带`` holds the rule reported for sites
within a buffer distance, and scheme ``none`` / zone ``未分区`` the rule for an unzoned reserve.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from geo.errors import BoundaryDataError

RULES_PATH = Path(__file__).resolve().parent.parent / "data" / "boundaries" / "zone_rules.csv"
COLUMNS = ("scheme", "zone", "site_category", "rule", "source", "confidence", "note")
CONFIDENCES = ("high", "medium", "low")
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


class RuleTable:
    """Rules keyed by (scheme, zone, site_category), with ``*`` as the category fallback."""

    def __init__(self, rules: list[ZoneRule]) -> None:
        """Index the rules; a repeated key is a data error."""
        self.rules = list(rules)
        self._by_key: dict[tuple[str, str, str], ZoneRule] = {}
        for r in self.rules:
            key = (r.scheme, r.zone, r.site_category)
            if key in self._by_key:
                raise BoundaryDataError(f"zone rule table repeats scheme/zone/category {key}")
            self._by_key[key] = r

    def rule_for(
        self, scheme: str | None, zone: str | None, site_category: str | None = None
    ) -> ZoneRule | None:
        """Return the most specific rule for a zone, or None when the table has none.

        Examples
        --------
        >>> t = load_zone_rules()
        >>> t.rule_for("reserve3", "缓冲区", "tourism").source.endswith("第二十八条")
        True
        >>> t.rule_for("reserve3", "核心区", "unknown-category").site_category
        '*'
        >>> t.rule_for("wetland", "不存在的区") is None
        True
        """
        scheme = scheme or "none"
        zone = zone or UNZONED
        for cat in (site_category or "*", "*"):
            found = self._by_key.get((scheme, zone, cat))
            if found is not None:
                return found
        return None


def load_zone_rules(path: str | Path = RULES_PATH) -> RuleTable:
    """Read the rule CSV and check its columns and confidence marks; errors name the row."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
            if missing:
                raise BoundaryDataError(f"{path}: missing column(s) {', '.join(missing)}")
            rows = list(reader)
    except OSError as exc:
        raise BoundaryDataError(f"cannot read zone rule table {path}: {exc}") from exc
    rules = []
    for lineno, row in enumerate(rows, start=2):
        values = {c: (row.get(c) or "").strip() for c in COLUMNS}
        for required in ("scheme", "zone", "rule", "source"):
            if not values[required]:
                raise BoundaryDataError(f"{path} line {lineno}: field {required!r} is empty")
        if values["confidence"] not in CONFIDENCES:
            raise BoundaryDataError(
                f"{path} line {lineno}: field 'confidence' is {values['confidence']!r}, "
                f"expected one of {', '.join(CONFIDENCES)}"
            )
        values["site_category"] = values["site_category"] or "*"
        rules.append(ZoneRule(**values))
    return RuleTable(rules)
