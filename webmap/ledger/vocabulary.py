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
    # constraint layers (#16): water-source zones in blues, the red line red, farmland yellow
    "一级保护区": "#023858",
    "二级保护区": "#0570b0",
    "准保护区": "#74a9cf",
    "生态保护红线": "#e31a1c",
    "永久基本农田": "#fec44f",
}
OTHER_ZONE_COLOR = "#2c7fb8"
SCHEME_LABELS = {
    "reserve3": "自然保护区三区",
    "reform2": "整合优化两区",
    "wetland": "湿地公园分区",
    "none": "未分区",
    "mixed": "多种分区",
    "water_source": "饮用水水源保护区分级",
    "redline": "生态保护红线",
    "farmland": "永久基本农田",
}
RELATION_GROUPS = {"inside": "完全在内", "partly": "部分在内", "buffer": "缓冲距离内",
                   "outside": "在外"}  # fmt: skip
# the layers an authoritative file may be imported as (replacing a shipped stand-in): slot -> kind
IMPORTABLE_LAYERS = {"protected_areas": "protected_area", "townships": "township",
                     "water_source": "water_source", "redline": "redline",
                     "farmland": "farmland"}  # fmt: skip
# boundary layers by the name of their slot in a LayerSet
LAYER_TITLES = {"city": "市界", "counties": "县（市、区）界", "townships": "乡镇（街道）界",
                "protected_areas": "自然保护地及功能分区",
                "water_source": "饮用水水源保护区", "redline": "生态保护红线",
                "farmland": "永久基本农田"}  # fmt: skip
# the constraint layers a site is checked against, by layer kind (overlap rows' ``layer_kind``)
CONSTRAINT_TITLES = {"protected_area": "自然保护地", "water_source": "饮用水水源保护区",
                     "redline": "生态保护红线", "farmland": "永久基本农田"}  # fmt: skip
# the layer control's outline colour of each constraint kind
CONSTRAINT_COLORS = {"protected_area": "#2c7fb8", "water_source": "#0570b0",
                     "redline": "#e31a1c", "farmland": "#d9a400"}  # fmt: skip
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

# field evidence photos (webmap.ledger.evidence): phases, checks and verdicts, worst last
PHOTO_PHASES = ("整改前", "整改中", "整改后")
PHOTO_VERDICTS = ("pass", "unverified", "warn", "flag")
PHOTO_VERDICT_LABELS = {"pass": "通过", "unverified": "无法核验", "warn": "存疑", "flag": "不符"}
PHOTO_VERDICT_COLORS = {"pass": "#1a9641", "unverified": "#7f7f7f", "warn": "#f39c12",
                        "flag": "#d7191c"}  # fmt: skip
PHOTO_CHECK_LABELS = {"location": "位置", "time": "时间", "reuse": "重复", "integrity": "完整性"}
# the evidence summary columns (issue page, 核查/备案 stages, briefing county pages)
PHOTO_SUMMARY_LABELS = {"checked": "已核验照片", "passed": "全部通过", "far": "位置偏离",
                        "early": "时间偏早", "reused": "重复使用",
                        "unverified": "无法核验"}  # fmt: skip

# -- reminders (yzmap remind) and the escalation queue -----------------------------------------
NOTICE_KINDS = {"due_soon": "临期提醒", "overdue": "逾期提醒", "stalled": "进展停滞",
                "publicity_ending": "公示即将届满", "publicity_ended": "公示期已满",
                "objection": "收到公示异议", "handover": "责任领导交接"}  # fmt: skip
RECIPIENT_ROLES = {"county": "县（市、区）填报员", "department": "牵头单位", "leader": "包联领导",
                   "city": "市督察办"}  # fmt: skip
DELIVERY_STATE_LABELS = {"pending": "待发送", "sent": "已发送", "failed": "发送失败"}
PROPOSAL_STATE_LABELS = {"proposed": "待确认", "confirmed": "已确认", "changed": "已调整",
                         "declined": "已驳回"}  # fmt: skip

# -- the audit log: what each kind of event is called, and the words of its details ----------
EVENT_KIND_LABELS = {
    "issue.created": "新建问题", "issue.imported": "导入问题",
    "issue.reimported": "重新导入问题", "issue.updated": "修改问题",
    "issue.deleted": "删除问题", "status.changed": "变更整改状态",
    "progress.reported": "报送进展", "disclosure.changed": "修改公开设置",
    "responsibility.assigned": "确定责任主体", "responsibility.overridden": "人工调整责任主体",
    "action.proposed": "提出问责措施", "action.applied": "实施问责措施",
    "escalation.declined": "不予采纳问责建议", "objection.submitted": "公示异议提交",
    "objection.handled": "公示异议处理", "evidence.added": "上传现场照片",
    "boundary.imported": "导入边界图层", "boundary.activated": "启用边界版本",
    "rule.set": "修改规则", "user.created": "新建账号", "user.disabled": "停用账号",
    "user.enabled": "启用账号", "user.password_reset": "重设密码",
    "token.created": "创建访问令牌", "token.revoked": "吊销访问令牌",
    "token.used": "使用访问令牌", "auth.login": "登录", "auth.logout": "退出登录",
}  # fmt: skip
# words of event details that are not issue fields (issue fields use FIELD_LABELS)
DETAIL_LABELS = {
    "note": "说明", "stage": "销号环节", "evidence": "材料", "kind": "类型",
    "filename": "文件", "url": "链接", "size": "大小（字节）", "mime": "文件类型",
    "sha256": "SHA-256", "text": "内容", "author": "填报人", "action": "措施",
    "unit": "对象单位", "reason": "理由", "address": "来源地址", "photo": "照片编号",
    "file": "文件", "phase": "照片反映", "verdict": "核验结论", "name": "名称", "role": "角色",
    "layer": "图层", "version": "版本", "description": "问题描述", "target": "整改目标",
    "measures": "整改措施", "partner_units": "责任单位", "location_text": "具体位置",
    "geometry": "图形", "lon": "经度", "lat": "纬度", "public": "公开",
    "sensitive": "敏感点位", "internal_notes": "内部备注", "township_code": "乡镇代码",
    "declared_county": "填报县区", "attribution": "归属依据", "original_number": "原编号",
    "party_kind": "责任类别", "source": "来源", "issue_ref": "问题编号", "contact": "联系方式",
}  # fmt: skip
GEOMETRY_LABELS = {
    "Point": "点", "MultiPoint": "多点", "LineString": "线", "MultiLineString": "多线",
    "Polygon": "面", "MultiPolygon": "多面", "GeometryCollection": "组合图形",
}  # fmt: skip


def geometry_name(kind: str | None) -> str:
    """Name a GeoJSON geometry type in Chinese ("图形" when unknown).

    >>> geometry_name("Polygon"), geometry_name(None)
    ('面', '图形')
    """
    return GEOMETRY_LABELS.get(kind or "", "图形")
