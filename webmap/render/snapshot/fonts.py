"""The CJK font for server-side pictures: Noto Sans CJK SC from the ``mplfonts`` package (OFL).

The font comes from PyPI with the project, so a fresh machine with no system CJK fonts (and no
internet) still draws Chinese labels instead of empty boxes. It is registered with matplotlib's
``font_manager`` at run time; nothing is copied into matplotlib's own data folder.
"""

from __future__ import annotations

import importlib.resources
import io
import threading
from collections import OrderedDict
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
    _cache_pdf_subsets()
    return font_manager.FontProperties(fname=str(path)).get_name()


SUBSET_CACHE_SIZE = 16
_subsets: OrderedDict = OrderedDict()
_subsets_lock = threading.Lock()  # waitress serves exports from several threads


def _cache_pdf_subsets() -> None:
    """Keep the font subsets matplotlib embeds in PDFs, keyed by font file and glyph set.

    Cutting the 16 MB CJK font down to the glyphs a page uses takes 1-4 s with fontTools, and a
    snapshot or pack made again (the same filters, the next request) needs the same glyphs: the
    kept bytes are the same subset, so the PDF is the same. Only matplotlib >= 3.10 has the
    ``SubsetResults`` hook wrapped here; older ones simply subset every time.
    """
    from matplotlib.backends import _backend_pdf_ps as pdf_ps

    original = getattr(pdf_ps, "get_glyphs_subset", None)
    if not hasattr(pdf_ps, "SubsetResults") or getattr(original, "yzmap_cached", False):
        return

    def get_glyphs_subset(fontfile, glyphs):
        """Return matplotlib's subset of ``fontfile``, from the cache when made before."""
        from fontTools.ttLib import TTFont

        key = (str(fontfile), getattr(fontfile, "face_index", 0), frozenset(glyphs))
        with _subsets_lock:
            kept = _subsets.get(key)
        if kept is None:
            with original(fontfile, glyphs) as made:
                kept = (pdf_ps.font_as_file(made.font).getvalue(), dict(made.glyph_index_map))
        with _subsets_lock:
            _subsets[key] = kept
            _subsets.move_to_end(key)
            while len(_subsets) > SUBSET_CACHE_SIZE:
                _subsets.popitem(last=False)
        data, index_map = kept
        return pdf_ps.SubsetResults(TTFont(io.BytesIO(data)), dict(index_map))._as_cm()

    get_glyphs_subset.yzmap_cached = True
    pdf_ps.get_glyphs_subset = get_glyphs_subset


def rc_params() -> dict:
    """Return the matplotlib settings every snapshot and briefing page is drawn with."""
    family = register_font()
    return {
        "font.family": [family],
        "axes.unicode_minus": False,  # the CJK font's hyphen-minus reads better than U+2212
        # TrueType/CID embedding keeps text as text: selectable, searchable, pdftotext-readable
        "pdf.fonttype": 42,
        # matplotlib sizes the PDF font subsets by ps.fonttype (3: 256 glyphs each), so a pack
        # embedded the 16 MB CJK font once per 256 distinct characters, ~2 s of subsetting each
        "ps.fonttype": 42,
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
