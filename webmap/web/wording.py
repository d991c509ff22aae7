"""Messages from the core worded for the web: command-line option names become form fields.

``geo`` and the ledger write one message for every door, naming the command-line option a user
of ``yzmap`` would change (``--crs``); on a page the same advice must name the form field.
"""

from __future__ import annotations

import re

# the command line's options -> the upload forms' fields (webmap/web/templates/*/upload*.html)
FLAG_WORDS = {
    "--lon-col/--lat-col": "“经度列”“纬度列”",
    "--lon-col": "“经度列”",
    "--lat-col": "“纬度列”",
    "--x-col/--y-col": "“X 列”“Y 列”",
    "--crs": "“坐标系”",
    "--datum": "“坐标基准”",
    "--yes": "确认",
    "--layer": "“图层类型”",
    "--vintage": "“有效日期”",
}
_FLAGS = re.compile("|".join(re.escape(f) for f in sorted(FLAG_WORDS, key=len, reverse=True)))
_COMMANDS = re.compile(r"（?yzmap [a-z-]+(?: [a-z-]+)*(?: --[a-z-]+(?: [A-Za-z_-]+)?)*）?")


def for_web(message: str) -> str:
    """Return a core message with option names replaced by the web form's field names.

    >>> for_web("未声明坐标系，无法唯一确定，请指定 --crs。")
    '未声明坐标系，无法唯一确定，请指定“坐标系”。'
    >>> for_web("找不到经纬度列，请用 --lon-col/--lat-col 指定")
    '找不到经纬度列，请用“经度列”“纬度列”指定'
    >>> for_web("永久基本农田边界：未导入，未检查（yzmap boundaries import --layer farmland）")
    '永久基本农田边界：未导入，未检查'
    """
    text = _COMMANDS.sub("", message)
    text = _FLAGS.sub(lambda m: FLAG_WORDS[m.group(0)], text)
    text = re.sub(r"\s*((?:“[^”]+”)+)\s*", r"\1", text)  # Chinese takes no spaces around them
    return re.sub(r"\s+(?=[，。；）]|$)", "", text)
