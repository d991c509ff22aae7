"""Attribute mapping for imported boundary files: guess columns, normalise zones and codes.

Targets by kind:

- protected_area: ``name`` (required), ``code``, ``level``, ``type``, ``zone``
- township: ``code`` (9 or 12 digits, required), ``name`` (required), ``parent_code``
- water_source: ``name`` (source name, required), ``zone`` (一级/二级/准保护区, required),
  ``code``, ``river``, ``serves``, ``approval`` (mapped by ``importing.constraints``)
- redline: ``code`` (unit code), ``name``, ``type``; farmland: ``code`` (patch id), ``name``

Zone values are matched to one of three zoning schemes; anything else is an error that names the
file, the feature and the field.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import pandas as pd

from geo.errors import ImportFileError

ZONE_SCHEMES: dict[str, tuple[str, ...]] = {
    "reserve3": ("核心区", "缓冲区", "实验区"),
    "reform2": ("核心保护区", "一般控制区"),
    "wetland": ("保育区", "恢复重建区", "合理利用区", "宣教展示区", "管理服务区"),
}
# spellings seen in survey files, mapped to the canonical zone name
ZONE_ALIASES = {
    "试验区": "实验区",
    "湿地保育区": "保育区",
    "恢复区": "恢复重建区",
    "宣教区": "宣教展示区",
    "科普宣教区": "宣教展示区",
    "管理区": "管理服务区",
    "服务区": "管理服务区",
    "一般管控区": "一般控制区",
    "核心管控区": "核心保护区",
}
CANDIDATES: dict[str, dict[str, tuple[str, ...]]] = {
    "protected_area": {
        "name": (
            "name",
            "名称",
            "保护区名称",
            "保护地名称",
            "自然保护地名称",
            "湿地公园名称",
            "bhqmc",
            "bhdmc",
            "zrbhdmc",
            "mc",
            "pa_name",
        ),
        "code": (
            "pa_code",
            "code",
            "编码",
            "保护地编码",
            "保护区编码",
            "bhdbm",
            "bhqbm",
            "bm",
            "wdpaid",
        ),
        "level": ("level", "级别", "保护级别", "保护地级别", "jb", "bhjb", "bhdjb"),
        "type": ("type", "pa_type", "类型", "保护地类型", "保护区类型", "lx", "bhdlx", "bhqlx"),
        "zone": (
            "zone",
            "功能区",
            "分区",
            "功能分区",
            "功能区划",
            "功能区名称",
            "管控分区",
            "gnfq",
            "gnq",
            "gnqmc",
            "fq",
            "gkfq",
            "zone_name",
        ),
    },
    "township": {
        "code": (
            "code",
            "xzqdm",
            "乡镇代码",
            "区划代码",
            "统计用区划代码",
            "代码",
            "xzdm",
            "xzqhdm",
            "dm",
        ),
        "name": ("name", "xzqmc", "乡镇名称", "名称", "xzmc", "mc"),
        "parent_code": (
            "parent_code",
            "county_code",
            "县代码",
            "所属县代码",
            "区县代码",
            "xdm",
            "qxdm",
        ),
    },
}
CANDIDATES["water_source"] = {
    "name": ("name", "水源名称", "水源地名称", "饮用水水源地名称", "水源地", "symc", "sydmc", "mc"),
    "code": ("code", "编码", "水源地编码", "水源编码", "sydbm", "bm"),
    "zone": ("zone", "保护区级别", "保护区类别", "保护区类型", "分级", "级别", "分区",
             "功能区", "bhqjb", "bhqlb", "bhqlx", "jb", "fq"),
    "river": ("river", "河流", "水体", "水体名称", "所在水体", "河流水库", "河流（水库）",
              "水库", "stmc", "hlmc", "skmc"),
    "serves": ("serves", "供水对象", "服务乡镇", "供水范围", "供水乡镇", "gsdx", "gsfw"),
    "approval": ("approval", "批复文件", "批复文号", "批准文号", "批复", "pfwh", "pfwj"),
}
CANDIDATES["redline"] = {
    "code": ("code", "红线编码", "红线单元编码", "单元编码", "编码", "hxbm", "hxdybm", "bm"),
    "name": ("name", "红线名称", "单元名称", "名称", "hxmc", "mc"),
    "type": ("type", "红线类型", "类型", "功能类型", "生态功能", "hxlx", "lx"),
}
CANDIDATES["farmland"] = {
    "code": ("code", "图斑编号", "图斑编码", "地块编号", "编号", "tbbh", "bsm", "dkbh"),
    "name": ("name", "名称", "保护片块", "片块名称", "mc"),
}
REQUIRED = {"protected_area": ("name",), "township": ("code", "name"),
            "water_source": ("name", "zone"), "redline": (), "farmland": ()}  # fmt: skip


def _normalise_text(value) -> str | None:
    """Return a stripped NFKC string (full-width to half-width), or None for blank cells."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    return text or None


def guess_field_map(
    columns: list[str],
    kind: str,
    explicit: dict[str, str] | None = None,
    *,
    source: str = "",
    blank: set[str] | frozenset = frozenset(),
) -> dict[str, str]:
    """Return target -> column for ``kind``, explicit entries first, then common column names.

    Columns in ``blank`` (entirely empty, like the Name column of many KML files) are not guessed.

    Examples
    --------
    >>> guess_field_map(["BHQMC", "GNFQ", "JB"], "protected_area")
    {'name': 'BHQMC', 'level': 'JB', 'zone': 'GNFQ'}
    >>> guess_field_map(["名称", "区"], "protected_area", {"zone": "区"})
    {'zone': '区', 'name': '名称'}
    """
    targets = CANDIDATES[kind]
    explicit = dict(explicit or {})
    for target, col in explicit.items():
        if target not in targets:
            raise ImportFileError(
                f"{source}: 字段映射 {target}={col} 的目标 {target!r} 无效"
                f"（可选: {', '.join(targets)}）"
            )
        if col not in columns:
            raise ImportFileError(
                f"{source}: 字段映射 {target}={col} 指定的列 {col!r} 不存在"
                f"（文件的列: {', '.join(columns)}）"
            )
    mapping = dict(explicit)
    lowered = {c.strip().lower(): c for c in columns if c not in blank}
    used = set(mapping.values())
    for target, names in targets.items():
        if target in mapping:
            continue
        for name in names:
            col = lowered.get(name.lower())
            if col is not None and col not in used:
                mapping[target] = col
                used.add(col)
                break
    missing = [t for t in REQUIRED[kind] if t not in mapping]
    if missing:
        raise ImportFileError(
            f"{source}: 找不到字段 {', '.join(missing)} 对应的列"
            f"（文件的列: {', '.join(columns)}）；"
            f"请用 --field {missing[0]}=列名 指定"
        )
    return mapping


def classify_zone(value) -> tuple[str | None, str]:
    """Return (canonical zone, scheme) for a zone cell; blank gives (None, "none").

    Examples
    --------
    >>> classify_zone(" 核心区 ")
    ('核心区', 'reserve3')
    >>> classify_zone("一般控制区")
    ('一般控制区', 'reform2')
    >>> classify_zone(None)
    (None, 'none')
    >>> classify_zone("游憩区")
    Traceback (most recent call last):
    ValueError: 游憩区
    """
    text = _normalise_text(value)
    if text is None:
        return None, "none"
    text = re.sub(r"\s+", "", text)
    text = ZONE_ALIASES.get(text, text)
    for scheme, zones in ZONE_SCHEMES.items():
        if text in zones:
            return text, scheme
    raise ValueError(text)


def _feature_label(frame: pd.DataFrame, idx: int, name_col: str | None) -> str:
    """Describe feature ``idx`` for error messages: its 1-based number and name when known."""
    label = f"要素 #{idx + 1}"
    if name_col is not None:
        name = _normalise_text(frame[name_col].iloc[idx])
        if name:
            label += f"（{name}）"
    return label


def map_protected_areas(
    frame: pd.DataFrame, mapping: dict[str, str], *, source: str
) -> pd.DataFrame:
    """Return pa_code, name, level, pa_type, zone and zone_scheme from the raw attributes."""
    name_col = mapping["name"]
    names, zones, schemes = [], [], []
    allowed = "；".join(f"{s}: {'/'.join(z)}" for s, z in ZONE_SCHEMES.items())
    for i in range(len(frame)):
        name = _normalise_text(frame[name_col].iloc[i])
        if name is None:
            raise ImportFileError(
                f"{source}: {_feature_label(frame, i, None)} 的字段 {name_col!r} 为空（保护地名称）"
            )
        names.append(name)
        try:
            zone, scheme = (
                classify_zone(frame[mapping["zone"]].iloc[i])
                if "zone" in mapping
                else (None, "none")
            )
        except ValueError as exc:
            raise ImportFileError(
                f"{source}: {_feature_label(frame, i, name_col)} 的字段 {mapping['zone']!r} 值 "
                f"{str(exc)!r} 不属于任何分区方案（{allowed}）"
            ) from None
        zones.append(zone)
        schemes.append(scheme)
    out = pd.DataFrame({"name": names, "zone": zones, "zone_scheme": schemes}, index=frame.index)
    if "code" in mapping:
        codes = [_normalise_text(v) for v in frame[mapping["code"]]]
    else:
        codes = [None] * len(frame)
    # a stable code derived from the name keeps versions of one reserve comparable
    out["pa_code"] = [
        c or "PA-" + hashlib.sha1(n.encode(), usedforsecurity=False).hexdigest()[:8]
        for c, n in zip(codes, names, strict=False)
    ]
    for target, col in (("level", "level"), ("type", "pa_type")):
        out[col] = (
            [_normalise_text(v) for v in frame[mapping[target]]] if target in mapping else None
        )
    return out[["pa_code", "name", "level", "pa_type", "zone", "zone_scheme"]]


def _code_text(value) -> str | None:
    """Return a division code as digits, undoing float columns (431102001.0) from spreadsheets."""
    if isinstance(value, float) and not pd.isna(value) and value.is_integer():
        value = int(value)
    return _normalise_text(value)


def map_townships(
    frame: pd.DataFrame, mapping: dict[str, str], *, source: str, warnings: list[str]
) -> pd.DataFrame:
    """Return the layer columns (code, name, parent_code) for a township file, checking codes."""
    codes, names, parents = [], [], []
    for i in range(len(frame)):
        label = _feature_label(frame, i, mapping["name"])
        code = _code_text(frame[mapping["code"]].iloc[i])
        if code is None or not re.fullmatch(r"\d{9}|\d{12}", code):
            raise ImportFileError(
                f"{source}: {label} 的字段 {mapping['code']!r} 值 {code!r} "
                "不是 9 位或 12 位乡镇代码"
            )
        name = _normalise_text(frame[mapping["name"]].iloc[i])
        if name is None:
            raise ImportFileError(f"{source}: {label} 的字段 {mapping['name']!r} 为空（乡镇名称）")
        parent = (
            _code_text(frame[mapping["parent_code"]].iloc[i]) if "parent_code" in mapping else None
        )
        if parent is not None and not re.fullmatch(r"\d{6}", parent):
            raise ImportFileError(
                f"{source}: {label} 的字段 {mapping['parent_code']!r} 值 {parent!r} "
                "不是 6 位县级代码"
            )
        if parent is not None and parent != code[:6]:
            warnings.append(
                f"{label}: 所属县代码 {parent} 与乡镇代码前 6 位 {code[:6]} 不一致，"
                f"采用文件中的 {parent}"
            )
        codes.append(code)
        names.append(name)
        parents.append(parent or code[:6])
    return pd.DataFrame({"code": codes, "name": names, "parent_code": parents}, index=frame.index)
