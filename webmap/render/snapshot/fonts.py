"""The CJK font for server-side pictures: Noto Sans CJK SC from the ``mplfonts`` package (OFL).

The font comes from PyPI with the project, so a fresh machine with no system CJK fonts (and no
internet) still draws Chinese labels instead of empty boxes. It is registered with matplotlib's
``font_manager`` at run time; nothing is copied into matplotlib's own data folder.
"""

from __future__ import annotations

import importlib.resources
from functools import lru_cache
from pathlib import Path

FONT_PACKAGE = "mplfonts"
FONT_FILE = "NotoSansCJKsc-Regular.otf"


class FontMissingError(RuntimeError):
    """The packaged CJK font cannot be found (the ``mplfonts`` dependency is not installed)."""


def font_path() -> Path:
    """Return the path of the packaged Noto Sans CJK SC font file."""
    try:
        root = importlib.resources.files(FONT_PACKAGE)
    except ModuleNotFoundError:
        raise FontMissingError(
            f"缺少中文字体包 {FONT_PACKAGE}：请运行 pip install {FONT_PACKAGE}"
        ) from None
    path = Path(str(root / "fonts" / FONT_FILE))
    if not path.is_file():
        raise FontMissingError(f"字体包 {FONT_PACKAGE} 中没有 {FONT_FILE}")
    return path


@lru_cache(maxsize=1)
def register_font() -> str:
    """Add the CJK font to matplotlib's font manager once; return its family name."""
    from matplotlib import font_manager

    path = font_path()
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def rc_params() -> dict:
    """Return the matplotlib settings every snapshot and briefing page is drawn with."""
    family = register_font()
    return {
        "font.family": [family],
        "axes.unicode_minus": False,  # the CJK font's hyphen-minus reads better than U+2212
        # TrueType/CID embedding keeps text as text: selectable, searchable, pdftotext-readable
        "pdf.fonttype": 42,
        "svg.fonttype": "none",
    }


@lru_cache(maxsize=1)
def _cmap() -> frozenset[int]:
    """Return the code points the font maps to glyphs."""
    from fontTools.ttLib import TTFont

    with TTFont(str(font_path()), lazy=True) as font:
        return frozenset(font.getBestCmap())


def missing_glyphs(text: str) -> list[str]:
    """Return the characters of ``text`` the font has no glyph for (whitespace ignored)."""
    cmap = _cmap()
    return sorted({ch for ch in text if not ch.isspace() and ord(ch) not in cmap})
