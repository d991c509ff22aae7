"""The ledger's words and signs in one place: statuses, RAG, parties, sources, zones, shapes.

Every page, API, picture, document and command takes these from here, so a status, a warning
class or a zone reads and looks the same through every door. Pure data: no imports from the rest
of yzmap.
"""

from __future__ import annotations

# -- statuses and the 销号 (sign-off) stages -------------------------------------------------
STATUSES = (
    "未启动",
    "整改中",
    "已完成待销号",
    "初审",
    "公示",
    "申请",
    "核查",
    "已销号",
    "持续推进",
)
REWORK, DONE, ONGOING = "整改中", "已销号", "持续推进"
# statuses that mean the rectification itself is finished (sign-off may still be running)
FINISHED = ("已完成待销号", "初审", "公示", "申请", "核查", "已销号")
PUBLICITY_STATUS = "公示"  # the sign-off stage during which the public may object
STAGE_OF_STATUS = {"初审": "初审", "公示": "公示", "申请": "申请", "核查": "核查", "已销号": "备案"}
# statuses only the city office may set: verification and filing close the case
CITY_ONLY_STATUSES = ("核查", "已销号")

# -- deadline warning classes (RAG) ---------------------------------------------------------
RAGS = ("red", "amber", "green", "done", "none")
RAG_LABELS = {"red": "逾期", "amber": "临期", "green": "正常", "done": "已销号", "none": "无时限"}
RAG_COLORS = {"red": "#d7191c", "amber": "#f39c12", "green": "#1a9641", "done": "#2c7bb6",
              "none": "#8c8c8c"}  # fmt: skip
RAG_COLOR_NAMES = {"red": "红", "amber": "黄", "green": "绿", "done": "蓝", "none": "灰"}
# what a legend says of a colour: "红：逾期"
RAG_LEGEND = {k: f"{RAG_COLOR_NAMES[k]}：{RAG_LABELS[k]}" for k in RAGS}
# a RAG filter value may be given by its Chinese label
RAG_ALIASES = {label: key for key, label in RAG_LABELS.items()}

# -- where issues come from and when they are due ---------------------------------------------
# source types named by the plan; other text is allowed (a ledger may carry a new source)
SOURCE_TYPES = (
    "回头看",
    "专项督察",
    "中央督察",
    "中央督察回头看",
    "省督察",
    "长江警示片",
    "省日常交办",
    "市交办",
)
DEADLINE_CLASSES = ("2021年底前", "2022年", "2023年及以后", "持续推进")
# the look-back plan: 20 problems by end-2021, 5 in 2022, 5 in 2023 and later / ongoing
LOOKBACK_SOURCE = "回头看"
LOOKBACK_TARGETS = {"2021年底前": 20, "2022年": 5, "2023年及以后": 5, "持续推进": 0}

# -- what the issue fields and the filters are called (tables, popups, captions, forms, CLI) ------
FIELD_LABELS = {
    "number": "编号", "title": "问题", "source_type": "问题来源", "batch": "批次",
    "category": "问题类别", "county_code": "县区代码", "county_name": "县（市、区）",
    "township_name": "乡镇（街道）", "protected_area": "自然保护地", "zone": "功能分区",
    "deadline_class": "时限类别", "due_date": "整改时限", "lead_unit": "牵头单位",
    "status": "整改状态", "progress": "进度（%）", "is_sample": "示例", "rag": "预警等级",
    "generalised": "坐标已模糊",
}  # fmt: skip
FILTER_LABELS = {
    "county": "县（市、区）", "source": "问题来源", "status": "整改状态", "deadline": "时限类别",
    "rag": "预警等级", "category": "问题类别", "protected_area": "自然保护地",
    "leader": "包联领导", "q": "关键词", "bbox": "范围", "as_of": "回看日期",
}  # fmt: skip

# -- who answers for an issue ---------------------------------------------------------------
PARTY_KINDS = ("county", "lead_unit", "partner_unit", "city_leader", "county_leader")
LEADER_KINDS = ("city_leader", "county_leader")  # 市级领导包县, 县级领导包案 (roster lines)
PARTY_KIND_LABELS = {
    "county": "属地县（市、区）",
    "lead_unit": "牵头单位",
    "partner_unit": "责任单位",
    "city_leader": "市级包县领导",
    "county_leader": "县级包案领导",
}
PARTY_SOURCE_LABELS = {"attribution": "空间归属", "declared": "台账填报", "rule": "规则表",
                       "roster": "领导名册", "override": "人工调整"}  # fmt: skip

# -- accountability ladder: (action, days overdue from which it is proposed) -----------------
LADDER = (("警示约谈", 1), ("公开通报", 30), ("挂牌督办", 60), ("区域限批", 90), ("依规问责", 180))
LADDER_KINDS = tuple(kind for kind, _ in LADDER)

# -- protected-area zones and overlap relations -------------------------------------------------
ZONE_COLORS = {
    "核心区": "#7b3294",
    "核心保护区": "#7b3294",
    "缓冲区": "#c2a5cf",
    "实验区": "#a6dba0",
    "一般控制区": "#a6dba0",
    "保育区": "#08519c",
    "恢复重建区": "#6baed6",
    "合理利用区": "#c6dbef",
    "宣教展示区": "#9ecae1",
    "管理服务区": "#deebf7",
}
OTHER_ZONE_COLOR = "#2c7fb8"
SCHEME_LABELS = {
    "reserve3": "自然保护区三区",
    "reform2": "整合优化两区",
    "wetland": "湿地公园分区",
    "none": "未分区",
    "mixed": "多种分区",
}
RELATION_GROUPS = {"inside": "完全在内", "partly": "部分在内", "buffer": "缓冲距离内",
                   "outside": "在外"}  # fmt: skip
# the layers an authoritative file may be imported as (replacing a shipped stand-in): slot -> kind
IMPORTABLE_LAYERS = {"protected_areas": "protected_area", "townships": "township"}
# boundary layers by the name of their slot in a LayerSet
LAYER_TITLES = {"city": "市界", "counties": "县（市、区）界", "townships": "乡镇（街道）界",
                "protected_areas": "自然保护地及功能分区"}  # fmt: skip
RELATION_COLORS = {"inside": "#d7191c", "partly": "#f46d43", "buffer": "#fdae61",
                   "outside": "#1a9641"}  # fmt: skip

# -- marker shapes by status (the map, its legend, snapshots and the detail page) ------------
SHAPE_LABELS = {"circle": "●", "triangle": "▲", "square": "■", "diamond": "◆", "star": "★",
                "check": "✔"}  # fmt: skip
STATUS_SHAPES = {"未启动": "circle", "整改中": "triangle", "已完成待销号": "square",
                 "初审": "diamond", "公示": "diamond", "申请": "diamond", "核查": "diamond",
                 "已销号": "check", "持续推进": "star"}  # fmt: skip
SAMPLE_MARK = "示例"  # what marks fictitious sample data everywhere it shows
UNFILLED_LABEL = "未填写"  # a grouping field left empty in the ledger
UNLOCATED_LABEL = "未定位"  # an issue no county could be found for
ILLUSTRATIVE_MARK = "示意"  # what marks a shipped stand-in for a non-public boundary layer
