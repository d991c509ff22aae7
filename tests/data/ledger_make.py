"""Write the small hand-made ledger files used by tests/webmap/test_ledger_io*.py."""

from __future__ import annotations

import csv
import datetime as dt


def main() -> None:
    """Write the files into tests/data (run from the repository root)."""
    from openpyxl import Workbook

    HEAD = [
        "序 号",
        "问题来源",
        "批次",
        "问题标题",
        "具体问题",
        "问题类别",
        "问题地点",
        "经度",
        "纬度",
        "坐标系",
        "属地",
        "牵头单位",
        "配合单位",
        "责任领导",
        "整改目标",
        "整改措施",
        "整改\n时限",
        "整改进展",
        "整改状态",
        "完成进度",
        "是否公开",
        "备注",
    ]
    ROWS = [
        [
            "HK-01",
            "省督察回头看",
            "第1批",
            "东安县某养猪场粪污直排",
            "养殖粪污未经处理直排入河",
            "畜禽养殖污染",
            "东安县芦洪市镇",
            111.30,
            26.40,
            "WGS84",
            "东安县",
            "东安县畜牧水产事务中心",
            "东安县生态环境分局、芦洪市镇人民政府",
            "县级领导甲",
            "粪污资源化利用",
            "关停并拆除直排设施",
            dt.datetime(2021, 12, 31),
            "已完成拆除",
            "已完成",
            "100%",
            "是",
            "",
        ],
        [
            "HK-02",
            "自然保护地专项督察",
            "第1批",
            "阳明山保护区内违规建设",
            "实验区内违规建设房屋",
            "自然保护区内违规建设",
            "双牌县阳明山",
            111.85,
            26.10,
            "CGCS2000",
            "双牌",
            "双牌县林业局",
            "阳明山国家级自然保护区管理局",
            "县级领导乙",
            "拆除并复绿",
            "拆除违建、植被恢复",
            "2022年6月底前",
            "正在拆除",
            "整改中",
            0.6,
            "是",
            "内部：涉及历史遗留",
        ],
        [
            "HK-03",
            "省督察回头看",
            "第1批",
            "江华县小水电清理整改",
            "小水电站未落实生态流量",
            "小水电清理整改",
            "江华瑶族自治县",
            None,
            None,
            None,
            "江华县",
            "江华瑶族自治县水利局",
            "",
            "",
            "落实生态流量",
            "安装在线监控",
            "持续推进",
            "",
            "持续推进",
            "",
            "否",
            "",
        ],
    ]
    wb = Workbook()
    ws = wb.active
    ws.title = "台账"
    ws.append(["永州市省生态环境保护督察“回头看”反馈问题整改台账"])
    ws.merge_cells("A1:V1")
    ws.append(
        ["填报单位：市突出环境问题整改工作领导小组办公室", None, None, None, "截至2021年12月31日"]
    )
    ws.merge_cells("A2:D2")
    ws.append([])
    ws.append(HEAD)
    ws.append(ROWS[0])
    ws.append([])
    ws.append(ROWS[1])
    ws.append([None] * 5)
    ws.append(ROWS[2])
    wb.save("tests/data/ledger_title_rows.xlsx")

    with open("tests/data/ledger_gbk.csv", "w", encoding="gbk", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            ["编号", "来源", "问题名称", "地址", "所在县区", "牵头单位", "整改时限", "完成情况"]
        )
        w.writerow(
            [
                "SJ-01",
                "长江经济带警示片",
                "潇水非法采砂",
                "零陵区富家桥镇潇水河段",
                "零陵区",
                "零陵区水利局",
                "2021年底前",
                "已销号",
            ]
        )
        w.writerow(
            [
                "SJ-02",
                "市委市政府交办",
                "城区黑臭水体",
                "冷水滩区梧桐街道",
                "冷水滩区",
                "冷水滩区住建局",
                "2023-06-30",
                "整改中",
            ]
        )

    # a bad file: every kind of bad input issue 4 lists, one per row
    wb = Workbook()
    ws = wb.active
    ws.append(
        [
            "编号",
            "问题来源",
            "问题名称",
            "所在县区",
            "经度",
            "纬度",
            "坐标系",
            "整改时限",
            "完成情况",
        ]
    )
    ws.append(
        ["B-01", "省督察回头看", "好行", "冷水滩区", 111.61, 26.43, "WGS84", "2021-12-31", "整改中"]
    )
    ws.append(
        ["B-02", "省督察回头看", "未知县区", "长沙县", None, None, None, "2021-12-31", "整改中"]
    )
    ws.append(["B-03", "省督察回头看", "日期不对", "道县", None, None, None, "明年春天", "整改中"])
    ws.append(
        [
            "B-04",
            "省督察回头看",
            "坐标在永州外",
            "道县",
            113.0,
            28.2,
            "WGS84",
            "2021-12-31",
            "整改中",
        ]
    )
    ws.append(
        [
            "B-05",
            "省督察回头看",
            "坐标是投影坐标",
            "道县",
            37512345.0,
            2830000.0,
            "CGCS2000",
            "2021-12-31",
            "整改中",
        ]
    )
    ws.append(
        [
            "B-06",
            "省督察回头看",
            "坐标系不认识",
            "道县",
            111.6,
            25.5,
            "北京54",
            "2021-12-31",
            "整改中",
        ]
    )
    ws.append(
        ["B-01", "省督察回头看", "编号重复", "道县", None, None, None, "2021-12-31", "整改中"]
    )
    wb.save("tests/data/ledger_bad_rows.xlsx")

    # not a ledger at all: a meeting sign-in sheet
    wb = Workbook()
    ws = wb.active
    ws.append(["会议签到表"])
    ws.append(["姓名", "单位", "电话"])
    ws.append(["张三", "市生态环境局", "0746-0000000"])
    wb.save("tests/data/ledger_not_a_ledger.xlsx")


if __name__ == "__main__":
    main()
