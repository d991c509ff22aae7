"""Attribute mapping for the constraint layers: drinking-water source zones, red line, farmland.

Each is mapped to the protected-area columns (``pa_code``, ``name``, ``level``, ``pa_type``,
``zone``, ``zone_scheme``), so ``geo.overlap`` reads every constraint layer the same way, plus the
attributes of its kind:

- water_source: zones 一级保护区 / 二级保护区 / 准保护区 (``WATER_ZONES``; 水域/陆域 prefixes and
  short forms such as 一级 or 一级区 are accepted); ``river`` (river or reservoir), ``serves``
  (the town served), ``approval`` (approval document);
- redline: one zone, 生态保护红线; ``unit_code`` and ``redline_type``;
- farmland: one zone, 永久基本农田.
"""

from __future__ import annotations

import hashlib
import re

import pandas as pd

from geo.errors import ImportFileError
from geo.importing.fields import _feature_label, _normalise_text

__all__ = ["CONSTRAINT_COLUMNS", "SINGLE_ZONES", "WATER_ZONES", "classify_water_zone",
           "map_constraints"]

WATER_ZONES = ("一级保护区", "二级保护区", "准保护区")
SINGLE_ZONES = {"redline": "生态保护红线", "farmland": "永久基本农田"}
# extra attribute columns a constraint layer carries, by kind
CONSTRAINT_COLUMNS = {"water_source": ("river", "serves", "approval"),
                      "redline": ("unit_code", "redline_type"), "farmland": ()}  # fmt: skip
_BASE = ["pa_code", "name", "level", "pa_type", "zone", "zone_scheme"]
_TYPE_LABELS = {"water_source": "饮用水水源保护区", "redline": "生态保护红线",
                "farmland": "永久基本农田"}  # fmt: skip


def classify_water_zone(value) -> str:
    """Return the canonical water-source zone of a cell, or raise ValueError naming it.

    Examples
    --------
    >>> classify_water_zone("水域一级保护区"), classify_water_zone("二级")
    ('一级保护区', '二级保护区')
    >>> classify_water_zone("准保护区")
    '准保护区'
    >>> classify_water_zone("三级保护区")
    Traceback (most recent call last):
    ValueError: 三级保护区
    """
    text = re.sub(r"\s+", "", _normalise_text(value) or "")
    core = re.sub(r"^(水域|陆域)", "", text).removesuffix("饮用水水源保护区")
    core = core.removesuffix("水源保护区").removesuffix("保护区").removesuffix("区")
    core = {"1级": "一级", "2级": "二级", "准": "准", "一级": "一级", "二级": "二级"}.get(core)
    if core is None:
        raise ValueError(text)
    return f"{core}保护区"


def _codes(frame: pd.DataFrame, mapping: dict, names: list[str], prefix: str) -> list[str]:
    """Return the code column, or a stable code derived from the name and row (versions compare)."""
    given = ([_normalise_text(v) for v in frame[mapping["code"]]] if "code" in mapping
             else [None] * len(frame))  # fmt: skip
    # a content fingerprint, not a secret: sha1 is fine (and bandit is told so)
    return [c or f"{prefix}-" + _fingerprint(f"{n}#{i}")
            for i, (c, n) in enumerate(zip(given, names, strict=True))]  # fmt: skip


def _fingerprint(text: str) -> str:
    """Return 8 hex digits identifying ``text`` (stable across runs, not for security)."""
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:8]


def _column(frame: pd.DataFrame, mapping: dict, target: str) -> list:
    """Return a mapped text column, or Nones when the file has no such column."""
    if target not in mapping:
        return [None] * len(frame)
    return [_normalise_text(v) for v in frame[mapping[target]]]


def map_constraints(frame: pd.DataFrame, mapping: dict[str, str], kind: str, *,
                    source: str) -> pd.DataFrame:  # fmt: skip
    """Return the layer columns for a water-source, red-line or farmland file."""
    n = len(frame)
    names = _column(frame, mapping, "name")
    if kind == "water_source":
        zones = []
        for i in range(n):
            if names[i] is None:
                raise ImportFileError(f"{source}: {_feature_label(frame, i, None)} 的字段 "
                                      f"{mapping['name']!r} 为空（水源名称）")  # fmt: skip
            try:
                zones.append(classify_water_zone(frame[mapping["zone"]].iloc[i]))
            except ValueError as exc:
                raise ImportFileError(
                    f"{source}: {_feature_label(frame, i, mapping['name'])} 的字段 "
                    f"{mapping['zone']!r} 值 {str(exc)!r} 不是饮用水水源保护区分级"
                    f"（可选: {'/'.join(WATER_ZONES)}）") from None  # fmt: skip
    else:
        zones = [SINGLE_ZONES[kind]] * n
        codes = _column(frame, mapping, "code")
        names = [nm or (f"{SINGLE_ZONES[kind]} {c}" if c else SINGLE_ZONES[kind])
                 for nm, c in zip(names, codes, strict=True)]  # fmt: skip
    out = pd.DataFrame({"name": names, "zone": zones}, index=frame.index)
    out["pa_code"] = _codes(frame, mapping, names, {"water_source": "WS", "redline": "RL",
                                                    "farmland": "FL"}[kind])  # fmt: skip
    out["level"] = None
    out["pa_type"] = _TYPE_LABELS[kind]
    out["zone_scheme"] = kind
    if kind == "water_source":
        for target in CONSTRAINT_COLUMNS[kind]:
            out[target] = _column(frame, mapping, target)
    elif kind == "redline":
        out["unit_code"] = _column(frame, mapping, "code")
        out["redline_type"] = _column(frame, mapping, "type")
    return out[_BASE + list(CONSTRAINT_COLUMNS[kind])]
