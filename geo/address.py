"""Chinese place-name text: normalisation, name forms and a longest-match scanner.

Nothing here knows Yongzhou: the gazetteer feeds names in, the geocoder reads matches out.
The scanner is a character trie walked once per start position, so the cost per string does
not grow with the number of names (no per-name loop), and it keeps the *longest* name at each
position, which is what stops 高溪市镇 from being read as a city or 江永村 as the county 江永.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "COUNTY_SUFFIXES", "Match", "NameTrie", "county_stem", "normalise_text", "township_stem",
    "village_base", "village_forms",
]

# suffixes people swap freely for a county-level unit (a county written with 市 is that county)
COUNTY_SUFFIXES = ("县", "市", "区")
# village committee suffixes in NBS names, longest first; people write 某某村 / 某某社区
_VILLAGE_SUFFIXES = (
    "社区居委会", "村民委员会", "居民委员会", "村委会", "居委会", "委员会", "社区", "村",
)
_COMMUNITY_SUFFIXES = ("社区居委会", "居民委员会", "居委会", "社区")
_TOWNSHIP_SUFFIXES = ("瑶族乡", "壮族乡", "街道", "镇", "乡")
_ETHNIC = ("瑶族自治县", "自治县")
# spaces, brackets and quotes carry no place information; list separators do (道县、江永县)
_NOISE = re.compile(r"[\s\u3000·・:：()（）\[\]【】<>《》\"'“”‘’\\|-]+")
_SEPARATORS = re.compile(r"[,，、;；/]+")


def normalise_text(text: str, table: dict[int, str] | None = None) -> str:
    """Map variant and traditional characters to the standard simplified ones; drop punctuation.

    Examples
    --------
    >>> table = str.maketrans({"陽": "阳", "縣": "县", "寶": "宝", "鎮": "镇"})
    >>> normalise_text("祁陽縣 八寶鎮", table)
    '祁阳县八宝镇'
    >>> normalise_text("道县,江永县（交界）")
    '道县、江永县交界'
    """
    if table:
        text = text.translate(table)
    return _SEPARATORS.sub("、", _NOISE.sub("", text))


def village_base(name: str) -> str:
    """Strip the committee suffix from an NBS village name.

    Examples
    --------
    >>> village_base("蒋家田社区居委会"), village_base("鹿坪村"), village_base("石烟塘村村委会")
    ('蒋家田', '鹿坪', '石烟塘')
    """
    for suffix in _VILLAGE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    # "某某村村委会" leaves "某某村"; the base is without the second 村
    if name.endswith("村") and len(name) > 2:
        name = name[:-1]
    return name


def village_forms(name: str) -> list[str]:
    """Forms people write for an NBS village name: the name, 某某村 or 某某社区, and a bare base.

    Examples
    --------
    >>> village_forms("蒋家田社区居委会")
    ['蒋家田社区居委会', '蒋家田社区', '蒋家田居委会', '蒋家田村', '蒋家田']
    >>> village_forms("鹿坪村委会")
    ['鹿坪村委会', '鹿坪村']
    """
    base = village_base(name)
    community = name.endswith(_COMMUNITY_SUFFIXES)
    # a community is sometimes written as a village (舂陵村 for 舂陵社区)
    forms = [name] + ([base + "社区", base + "居委会"] if community else []) + [base + "村"]
    # a bare two-character base is too often an ordinary word to stand alone
    if len(base) >= 3:
        forms.append(base)
    return list(dict.fromkeys(f for f in forms if f))


def township_stem(name: str) -> str | None:
    """The township name without its 镇/乡/街道 suffix, if at least two characters remain.

    Examples
    --------
    >>> township_stem("九疑山瑶族乡"), township_stem("高溪市镇"), township_stem("道县大坪铺农场")
    ('九疑山', '高溪市', None)
    """
    for suffix in _TOWNSHIP_SUFFIXES:
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            return stem if len(stem) >= 2 else None
    return None


def county_stem(name: str) -> str | None:
    """The county-level name without 县/市/区 or 自治县, if at least two characters remain.

    Examples
    --------
    >>> county_stem("江华瑶族自治县"), county_stem("祁阳市"), county_stem("道县")
    ('江华', '祁阳', None)
    """
    for suffix in _ETHNIC + COUNTY_SUFFIXES:
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            return stem if len(stem) >= 2 else None
    return None


@dataclass(frozen=True)
class Match:
    """A name found in the text: where it is and the gazetteer entries it may denote."""

    start: int
    end: int
    text: str
    entries: tuple


class NameTrie:
    """A character trie from name to a tuple of entries (any hashable payloads)."""

    _END = ""  # key of the payload slot inside a node; never a real character

    def __init__(self) -> None:
        """Start with an empty trie."""
        self.root: dict = {}

    def add(self, name: str, entry: object) -> None:
        """Register ``entry`` under ``name`` (several entries may share one name)."""
        node = self.root
        for ch in name:
            node = node.setdefault(ch, {})
        existing = node.get(self._END, ())
        if entry not in existing:
            node[self._END] = existing + (entry,)

    def get(self, name: str) -> tuple:
        """Entries registered under exactly ``name``."""
        node = self.root
        for ch in name:
            node = node.get(ch)
            if node is None:
                return ()
        return node.get(self._END, ())

    def scan(self, text: str) -> list[Match]:
        """Leftmost-longest segmentation of ``text`` into known names.

        Examples
        --------
        >>> t = NameTrie(); t.add("高溪市镇", "T"); t.add("高溪", "x"); t.add("冷水滩区", "C")
        >>> [(m.text, m.entries) for m in t.scan("冷水滩区高溪市镇某村")]
        [('冷水滩区', ('C',)), ('高溪市镇', ('T',))]
        """
        end_key = self._END
        root = self.root
        matches = []
        i, n = 0, len(text)
        while i < n:
            node = root.get(text[i])
            best_end, best = 0, None
            j = i
            while node is not None:
                j += 1
                payload = node.get(end_key)
                if payload:
                    best_end, best = j, payload
                if j >= n:
                    break
                node = node.get(text[j])
            if best is None:
                i += 1
                continue
            matches.append(Match(i, best_end, text[i:best_end], best))
            i = best_end
        return matches
