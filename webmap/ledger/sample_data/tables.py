"""The sample ledger's fixed tables: counties and townships, categories, sources, due dates.

All of it is invented in the style of Yongzhou's 2021 rectification plan (示例); the township
names are real (NBS 2023 gazetteer) so that addresses geocode.
"""

from __future__ import annotations

from datetime import date

# county code -> (name, real townships from the NBS 2023 gazetteer)
COUNTIES = {
    "431102": ("零陵区", ("富家桥镇", "珠山镇", "邮亭圩镇")),
    "431103": ("冷水滩区", ("花桥街镇", "普利桥镇", "黄阳司镇")),
    "431181": ("祁阳市", ("观音滩镇", "茅竹镇", "大忠桥镇")),
    "431122": ("东安县", ("白牙市镇", "紫溪市镇", "井头圩镇")),
    "431123": ("双牌县", ("江村镇", "五里牌镇", "何家洞镇")),
    "431124": ("道县", ("梅花镇", "寿雁镇", "祥霖铺镇")),
    "431125": ("江永县", ("上江圩镇", "桃川镇", "粗石江镇")),
    "431126": ("宁远县", ("天堂镇", "湾井镇", "冷水镇")),
    "431127": ("蓝山县", ("毛俊镇", "楠市镇", "所城镇")),
    "431128": ("新田县", ("金陵镇", "骥村镇", "石羊镇")),
    "431129": ("江华瑶族自治县", ("大路铺镇", "白芒营镇", "河路口镇")),
}
# category -> (title pattern, lead department, target, measures)
CATEGORIES = {
    "畜禽养殖污染": (
        "{t}生猪养殖场粪污直排",
        "畜牧水产事务中心",
        "粪污资源化利用率达标，杜绝直排",
        "关停禁养区养殖场，配套建设粪污处理设施",
    ),
    "矿山生态修复": (
        "{t}废弃矿山生态修复滞后",
        "自然资源局",
        "完成矿山复绿",
        "清理废渣、覆土复绿、边坡治理",
    ),
    "小水电清理整改": (
        "{t}小水电站未落实生态流量",
        "水利局",
        "保障最小下泄生态流量",
        "安装生态流量泄放设施和在线监控，退出类电站拆除",
    ),
    "黑臭水体": (
        "{t}集镇黑臭水体",
        "住房和城乡建设局",
        "消除黑臭，水质稳定达标",
        "截污纳管、清淤疏浚、生态补水",
    ),
    "污水处理厂提标": (
        "{t}污水处理厂出水超标",
        "住房和城乡建设局",
        "出水稳定达到一级A标准",
        "实施提标改造，完善配套管网",
    ),
    "非法采砂": (
        "{t}河段非法采砂",
        "水利局",
        "取缔非法采砂点，修复河道",
        "联合执法打击，清理砂石堆场",
    ),
    "工业污染": (
        "{t}工业企业废气超标排放",
        "生态环境分局",
        "废气稳定达标排放",
        "停产整治，安装在线监测",
    ),
    "垃圾填埋场": (
        "{t}垃圾填埋场渗滤液外溢",
        "城市管理和综合执法局",
        "渗滤液全收集全处理",
        "建设渗滤液处理站，封场覆盖",
    ),
}
PA_CATEGORY = "自然保护区内违规建设"
PA_TITLES = (
    "{pa}{zone}内违规建设旅游设施",
    "{pa}{zone}内小水电站未退出",
    "{pa}{zone}内违规采石",
    "{pa}{zone}内违规修建道路",
)
# look-back due dates: 20 by end-2021, 5 in 2022, 5 in 2023 and later or ongoing (the plan)
LOOKBACK_DUES = (
    [date(2021, 6, 30)] * 4
    + [date(2021, 9, 30)] * 4
    + [date(2021, 12, 31)] * 12
    + [date(2022, 6, 30)] * 2
    + [date(2022, 12, 31)] * 3
    + [date(2023, 12, 31), date(2024, 6, 30), date(2025, 12, 31), None, None]
)
OTHER_SOURCES = (
    ("中央督察", "中央环保督察", 5),
    ("中央督察回头看", "中央督察回头看", 3),
    ("长江警示片", "2020年长江经济带警示片", 6),
    ("省日常交办", "省日常督察交办", 6),
    ("市交办", "市委市政府交办", 6),
)
# number prefix of each source type
SOURCE_PREFIXES = {
    "中央督察": "ZY",
    "中央督察回头看": "ZYH",
    "长江警示片": "JSP",
    "省日常交办": "SRC",
    "市交办": "SJB",
    "专项督察": "ZXD",
}
# outcomes of the dated issues, in turn: most signed off, some late, one escalated
OUTCOME_CYCLE = (
    "done",
    "done",
    "done",
    "late",
    "done",
    "signing",
    "done",
    "late_escalated",
    "checking",
    "done",
)
