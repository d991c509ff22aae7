"""#19: one CLI language: every command's help, option help and click's own words are Chinese.

English stays where it is a name: option names (``--out``), metavars (``PATH``), field and
column names (``county_code``), ``yzmap`` and its command names, and format or standard names
(CSV, XLSX, EPSG, WGS84, GeoJSON...). Anything else in Latin letters is a leftover to translate.
"""

from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner

from webmap.cli import main

# names that are names in any language: formats, standards, products, units
NAMES = {
    "yzmap", "csv", "xlsx", "xls", "epsg", "wgs84", "geojson", "gpkg", "kml", "shp", "zip",
    "pdf", "docx", "tar", "gz", "json", "html", "png", "svg", "gcj02", "bd09", "cgcs2000",
    "gcj", "bd", "api", "url", "http", "https", "smtp", "ogc", "sqlite", "postgresql",
    "postgis", "id", "utf", "bom", "gbk", "crs", "cpu", "a4", "a3", "ip", "wkt", "dpi",
    "amap", "osm", "tianditu", "km", "m", "ha", "ok", "py", "cli", "ci", "vs",
    "shapefile", "geopackage", "kmz", "waitress", "windows", "basic", "bearer", "sigterm",
}  # fmt: skip
_CODE = re.compile(r"``[^`]*``|`[^`]*`")  # literal names, e.g. ``yzmap boundaries import``
# data/boundaries/category_map.csv, and file extensions such as .prj
_PATH = re.compile(r"(?:[\w.-]+/)+[\w.-]+\.\w+|(?<![\w.])\.[A-Za-z0-9]+")
_OPTION = re.compile(r"(?<![\w-])--?[A-Za-z][\w-]*")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[_.:-][A-Za-z0-9]+)*")


def _commands(group=main, path=("yzmap",)):
    """Yield (path, command) for every command and subcommand under ``group``."""
    yield path, group
    if isinstance(group, click.Group):
        for name, command in sorted(group.commands.items()):
            yield from _commands(command, (*path, name))


def _texts(command):
    """Yield (where, text) of a command's help, short help and every parameter's help."""
    for attr in ("help", "short_help", "epilog"):
        text = getattr(command, attr, None)
        if text:
            yield attr, text
    for param in command.params:
        if getattr(param, "help", None):
            yield "/".join(param.opts), param.help


def _values(command) -> set[str]:
    """Return the values a user types as they are: choices, roles and RAG names."""
    from geo.locate import OUTPUT_COLUMNS
    from webmap.ledger.access import ROLES
    from webmap.ledger.vocabulary import RAGS

    found = {*ROLES, *RAGS, *OUTPUT_COLUMNS, "error"}  # locate's output columns are names
    for param in command.params:
        found.update(getattr(param.type, "choices", ()) or ())
    return {str(v) for v in found}


def english_words(text: str, allowed=()) -> list[str]:
    """Return the Latin-letter words of ``text`` that are not names (see the module doc)."""
    text = _OPTION.sub(" ", _PATH.sub(" ", _CODE.sub(" ", text)))
    # value lists such as red/amber/green or admin|county are names too
    text = " ".join(
        w
        for w in re.split(r"[\s，、（）()：:；;。]+", text)
        if not (w and all(v in allowed for v in re.split(r"[/|]", w)))
    )
    found = []
    for word in _WORD.findall(text):
        if word.isupper() or "_" in word or word.lower() in NAMES or word in allowed:
            continue  # metavars (PATH), field names (county_code), formats (CSV)
        if re.fullmatch(r"[A-Za-z]\d*|EPSG:\d+|[a-z]+\.[a-z]+", word):
            continue  # axis and unit letters (x, m), EPSG:4546, file names such as config.py
        found.append(word)
    return found


def test_english_words_spots_prose_and_spares_names():
    """The checker flags English prose, not option names, metavars, fields or formats."""
    assert english_words("Export the issues to CSV") == ["Export", "the", "issues", "to"]
    assert english_words("输出 --out PATH 的 county_code 列，CSV、EPSG:4546、``yzmap init``") == []
    assert english_words("含 .prj 的 zip 包，见 data/boundaries/zone_rules.csv") == []


COMMANDS = list(_commands())


@pytest.mark.parametrize("path,command", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_help_texts_are_chinese(path, command):
    """Every help text of the command is Chinese apart from names."""
    leftovers = {where: words for where, text in _texts(command)
                 if (words := english_words(text, allowed={*path, *_values(command)}))}  # fmt: skip
    assert not leftovers, f"{' '.join(path)}: {leftovers}"


@pytest.mark.parametrize("path,command", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_rendered_help_has_no_click_english(path, command):
    """``--help`` output has click's headings and help option in Chinese."""
    out = CliRunner().invoke(main, [*path[1:], "--help"]).output
    for english in ("Usage:", "Options:", "Commands:", "Show this message and exit."):
        assert english not in out
    assert "用法" in out and "显示本帮助并退出" in out


def test_click_errors_are_chinese():
    """A wrong option and a bad value are answered by click in Chinese."""
    out = CliRunner().invoke(main, ["init", "--no-such-option"]).output
    assert "错误：没有选项" in out and "Error" not in out and "Usage" not in out
    out = CliRunner().invoke(main, ["no-such-command"]).output
    assert "错误：没有命令" in out


def test_click_value_errors_are_chinese():
    """Bad choices, numbers and extra arguments get click's messages in Chinese."""
    runner = CliRunner()
    out = runner.invoke(main, ["brief", "--size", "A5", "--out", "x.pdf"]).output
    assert "不是可选值之一：'A4', 'A3'" in out
    assert "不是有效的数值" in runner.invoke(main, ["serve", "--port", "abc"]).output
    assert "多余的参数（a b）" in runner.invoke(main, ["init", "a", "b"]).output


def test_command_list_shows_a_summary_of_each():
    """``yzmap --help`` lists every command with a Chinese summary, none cut down to "..."."""
    out = CliRunner().invoke(main, ["--help"]).output
    listed = out.split("命令:")[1].strip().splitlines()
    assert len(listed) == len(main.commands)
    for line in listed:
        name, _, text = line.strip().partition(" ")
        assert text.strip() and text.strip() != "...", line
