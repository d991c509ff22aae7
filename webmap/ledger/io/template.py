"""The ledger template: each column's field, its Chinese header as officials write it, synonyms.

Column order in a file is free; headers are matched after removing spaces, line breaks and
full-width punctuation, so ``整改\n时限`` and ``整改时限（年月）`` both find ``due``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One template column: the field it fills, the header written on export, accepted synonyms."""

    field: str
    header: str
    synonyms: tuple[str, ...] = ()
    kind: str = "text"  # text | number | date | bool | percent | list
    note: str = ""  # shown in docs/ledger-template.md
    derived: bool = False  # written on export for readers, recomputed on import

    @property
    def names(self) -> tuple[str, ...]:
        """Return the header and its synonyms, normalised for matching."""
        return tuple(dict.fromkeys(normalise_header(h) for h in (self.header, *self.synonyms)))


COLUMNS: tuple[Column, ...] = (
    Column("number", "编号", ("问题编号", "序号", "台账编号"), note="唯一；重复导入按编号更新"),
    Column(
        "source",
        "问题来源",
        ("来源", "督察来源", "问题类型来源"),
        note="如 省督察回头看、中央环保督察、长江经济带警示片、省日常督察交办、市委市政府交办",
    ),
    Column("batch", "批次", ("交办批次",), note="如 第3批"),
    Column("original_number", "原编号", ("交办编号", "原始编号"), note="来源文件中的编号"),
    Column("title", "问题名称", ("问题标题", "名称"), note="简短标题"),
    Column("description", "问题描述", ("问题内容", "具体问题", "反馈问题", "问题详情")),
    Column("category", "问题类别", ("类别", "问题类型", "行业类别")),
    Column("location_text", "具体位置", ("问题地点", "地址", "位置", "地点")),
    Column("lon", "经度", ("东经", "经度(°)", "lon", "lng", "longitude"), kind="number"),
    Column("lat", "纬度", ("北纬", "纬度(°)", "lat", "latitude"), kind="number"),
    Column(
        "datum",
        "坐标系",
        ("坐标系统", "坐标类型", "datum", "crs"),
        note="WGS84 / CGCS2000 / GCJ-02（高德、腾讯）/ BD-09（百度）；空白按 CGCS2000",
    ),
    Column(
        "declared_county",
        "所在县区",
        ("属地", "县市区", "所在县市区", "所属县区", "县区"),
        note="填报的县市区；与坐标判定不一致时标记",
    ),
    Column("lead_unit", "牵头单位", ("牵头部门",)),
    Column(
        "partner_units",
        "责任单位",
        ("配合单位", "责任部门", "配合部门"),
        kind="list",
        note="多个单位以 、，; 分隔",
    ),
    Column("leader", "责任领导", ("包案领导", "责任人")),
    Column("target", "整改目标", ("目标",)),
    Column("measures", "整改措施", ("措施",)),
    Column(
        "due_date",
        "整改时限",
        ("完成时限", "时限", "整改期限"),
        kind="date",
        note="日期，或 2021年底前 / 2022年6月底前 / 持续推进 / 长期坚持",
    ),
    Column(
        "deadline_class",
        "时限类别",
        ("完成时限类别", "时限分类"),
        note="2021年底前 / 2022年 / 2023年及以后 / 持续推进；空白由整改时限推出",
    ),
    Column("progress_text", "整改进展", ("进展情况", "工作进展", "推进情况")),
    Column(
        "status",
        "完成情况",
        ("整改状态", "状态", "整改情况", "办理状态"),
        note="未启动 / 整改中 / 已完成待销号 / 初审 / 公示 / 申请 / 核查 / 已销号 / 持续推进",
    ),
    Column(
        "progress_pct",
        "完成进度",
        ("进度", "完成比例", "完成率"),
        kind="percent",
        note="0–100 或 80%",
    ),
    Column("is_public", "是否公开", ("公开",), kind="bool", note="是 / 否；空白为 是"),
    Column("internal_notes", "内部备注", ("备注",)),
    Column("is_sample", "示例", ("示例数据",), kind="bool", note="示例数据标记；正式台账留空"),
    Column("geometry_wkt", "几何", ("WKT", "几何WKT"), note="线或面的 WKT（WGS84），点可留空"),
    # written on export so a reader sees where the system put the issue; recomputed on import
    Column("county_name", "归属县区", ("系统判定县区",), derived=True),
    Column("township_name", "所在乡镇", ("乡镇", "乡镇街道"), derived=True),
    Column("protected_area", "自然保护地", ("保护地",), derived=True),
    Column("zone", "功能分区", ("保护地分区",), derived=True),
    Column("rag", "预警", ("红黄绿",), derived=True),
)

BY_FIELD = {c.field: c for c in COLUMNS}

# at least one header from each group must be present for a sheet to be a ledger
REQUIRED_GROUPS: tuple[tuple[str, ...], ...] = (
    ("number",),
    ("title", "description"),
    ("declared_county", "location_text", "lon"),
)

# the minimal header set that makes a row a ledger row: used to find the header row
SIGNAL_FIELDS = (
    "number",
    "source",
    "title",
    "description",
    "declared_county",
    "lead_unit",
    "due_date",
    "status",
    "location_text",
    "measures",
    "target",
)


_STRIP = re.compile(r"[\s\u3000:：*＊()（）\[\]【】<>《》、/／]+")
_PAREN_TAIL = re.compile(r"[（(][^）)]*[）)]\s*$")


def normalise_header(text: object) -> str:
    """Reduce a header cell to a matching key: no spaces, breaks, punctuation or bracketed units."""
    s = "" if text is None else str(text).strip()
    s = _PAREN_TAIL.sub("", s) if not s.startswith(("(", "（")) else s
    return _STRIP.sub("", s).lower()


_LOOKUP = {name: col.field for col in COLUMNS for name in col.names}


def match_header(text: object) -> str | None:
    """Return the field a header cell names, or None when it names none.

    >>> match_header("整改\\n时限（年月）"), match_header("属地"), match_header("合计")
    ('due_date', 'declared_county', None)
    """
    key = normalise_header(text)
    return _LOOKUP.get(key) if key else None


def export_columns() -> list[Column]:
    """Return the columns written on export, in template order."""
    return list(COLUMNS)
