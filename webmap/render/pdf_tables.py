"""Tables and text on matplotlib pages that never clip: cells wrap at their measured width,
columns are sized to their content, and a table that runs out of room goes on on the next page
under its repeated header.

Why not reportlab's Platypus ``Table`` or WeasyPrint: reportlab embeds TrueType outlines only,
while the CJK font the project ships (Noto Sans CJK SC from ``mplfonts``) has CFF outlines, and
WeasyPrint needs Pango from the system. The briefing pack also draws a vector map beside a table
on one page, which matplotlib does. So text is measured here with the font's own advance widths
(the ones a PDF viewer uses) and set with matplotlib's line height (the font's ascender plus
descender times the line spacing), and whatever does not fit is moved on, never cut.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache

from matplotlib.figure import Figure

HEADER_COLOR = "#e8eef5"
RULE_COLOR = "#dddddd"
LINESPACING = 1.25
PAD = 2.5  # points of padding inside a cell, each side
STRIPE = 3.0  # points: the RAG colour stripe at the left of a row
MIN_COLUMN_EMS = 5.0  # a column is not squeezed below 5 characters unless its text is shorter
# a line never starts with closing punctuation nor ends with an opening one (GB/T 15834 habit)
CLOSING = set("，。、；：！？）》」』】〕…%,.;:!?)]}·")
OPENING = set("（《「『【〔([{")
_WORD = re.compile(r"[A-Za-z0-9_.\-/:+#%@&']+|\s+|.", re.S)


@lru_cache(maxsize=1)
def _font():
    """Return the packaged CJK font (a private FT2Font, so matplotlib's own copy is untouched)."""
    from matplotlib.ft2font import FT2Font

    from webmap.render.snapshot.fonts import font_path

    font = FT2Font(str(font_path()))
    font.set_size(100, 72)  # measure at 100 pt and scale: advances are linear when unhinted
    return font


@cache
def _advance(ch: str) -> float:
    """Return the advance width of one character in ems (unhinted, as the PDF places it)."""
    from matplotlib.ft2font import LoadFlags

    font = _font()
    glyph = font.load_glyph(font.get_char_index(ord(ch)), flags=LoadFlags.NO_HINTING)
    return glyph.linearHoriAdvance / 65536 / 100


@lru_cache(maxsize=1)
def em_height() -> float:
    """Return the font's line height at linespacing 1 in ems (OS/2 typo ascender - descender)."""
    font = _font()
    os2 = font.get_sfnt_table("OS/2")
    return (os2["sTypoAscender"] - os2["sTypoDescender"]) / font.units_per_EM


def line_height(fontsize: float) -> float:
    """Return the distance in points between two lines of text set by matplotlib at LINESPACING."""
    return LINESPACING * em_height() * fontsize


def text_width(text: str, fontsize: float) -> float:
    """Return the width in points of one line of text in the packaged font.

    >>> round(text_width("永州", 10), 1), round(text_width("", 10), 1)
    (20.0, 0.0)
    """
    return sum((_advance(ch) for ch in text), 0.0) * fontsize


def _tokens(text: str) -> list[str]:
    """Split a line into unbreakable pieces: a CJK character, an ASCII word, a space run."""
    out: list[str] = []
    for piece in _WORD.findall(text):
        if out and (piece[0] in CLOSING or out[-1][-1] in OPENING) and not piece.isspace():
            out[-1] += piece  # keep punctuation with its neighbour
        else:
            out.append(piece)
    return out


def wrap(text: str, width: float, fontsize: float) -> list[str]:
    """Break text into lines no wider than ``width`` points (a word longer than that is split).

    >>> wrap("零陵区某某生猪养殖场粪污直排（逾期 12 天）", 60, 10)
    ['零陵区某某生', '猪养殖场粪污', '直排（逾期', '12 天）']
    """
    lines: list[str] = []
    for para in str(text).split("\n"):
        line, used = "", 0.0
        for token in _tokens(para):
            w = text_width(token, fontsize)
            if used + w <= width:
                line, used = line + token, used + w
                continue
            if line.strip():
                lines.append(line.rstrip())
            line, used = "", 0.0
            if token.isspace():
                continue
            if w <= width:
                line, used = token, w
                continue
            for ch in token:  # a word wider than the column is split by character
                cw = text_width(ch, fontsize)
                if used + cw > width and line:
                    lines.append(line)
                    line, used = "", 0.0
                line, used = line + ch, used + cw
        lines.append(line.rstrip())
    return lines


def _min_width(text: str, fontsize: float) -> float:
    """Return the narrowest a cell may be: its widest word, or 5 ems, whichever is more."""
    words = [text_width(t, fontsize) for t in _tokens(str(text)) if not t.isspace()]
    natural = max((text_width(line, fontsize) for line in str(text).split("\n")), default=0.0)
    return min(natural, max(max(words, default=0.0), MIN_COLUMN_EMS * fontsize))


@dataclass
class Table:
    """A table to lay out: header, rows of text and an optional colour stripe per row."""

    columns: list[str]
    rows: list[list[str]]
    fontsize: float = 7.5
    colors: list[str | None] | None = None
    align: list[str] | None = None  # "left" or "right" per column (numbers read better right)


@dataclass
class Laid:
    """A table laid out at one width: column widths, wrapped cells and row heights (points)."""

    table: Table
    widths: list[float]
    header: list[list[str]]
    cells: list[list[list[str]]]
    heights: list[float] = field(default_factory=list)
    header_height: float = 0.0


def column_widths(table: Table, total: float) -> list[float]:
    """Size columns to their content within ``total`` points (the CSS automatic table layout).

    Columns whose text fits get their natural width; when the text does not fit, each column
    keeps its minimum and shares the rest in proportion to how much more it would like.
    """
    fs, extra = table.fontsize, 2 * PAD
    texts = [[head, *(str(r[i]) for r in table.rows)] for i, head in enumerate(table.columns)]
    natural = [max(text_width(line, fs) for t in col for line in t.split("\n")) + extra
               for col in texts]  # fmt: skip
    least = [max(_min_width(t, fs) for t in col) + extra for col in texts]
    if table.colors:
        natural[0] += STRIPE
        least[0] += STRIPE
    if sum(natural) <= total:
        return [n + (total - sum(natural)) * n / sum(natural) for n in natural]
    if sum(least) >= total:
        return [m * total / sum(least) for m in least]
    want = [n - m for n, m in zip(natural, least, strict=True)]
    return [m + (total - sum(least)) * w / sum(want) for m, w in zip(least, want, strict=True)]


def lay_out(table: Table, total: float) -> Laid:
    """Wrap every cell at its column's width and measure each row."""
    widths = column_widths(table, total)
    inner = [w - 2 * PAD - (STRIPE if table.colors and i == 0 else 0)
             for i, w in enumerate(widths)]  # fmt: skip
    fs = table.fontsize
    header = [wrap(t, w, fs) for t, w in zip(table.columns, inner, strict=True)]
    cells = [[wrap(t, w, fs) for t, w in zip(row, inner, strict=True)] for row in table.rows]
    laid = Laid(table, widths, header, cells)
    laid.header_height = _height(header, fs)
    laid.heights = [_height(row, fs) for row in cells]
    return laid


def _height(row: list[list[str]], fontsize: float) -> float:
    """Return a row's height in points: its tallest cell plus padding."""
    return max(len(lines) for lines in row) * line_height(fontsize) + 2 * PAD


def fitting(laid: Laid, start: int, room: float) -> int:
    """Return the end of the rows from ``start`` that fit in ``room`` points under the header."""
    used, end = laid.header_height, start
    while end < len(laid.heights) and used + laid.heights[end] <= room:
        used, end = used + laid.heights[end], end + 1
    return end


def split_tall_rows(laid: Laid, room: float) -> Laid:
    """Cut any row taller than a whole page into pieces of lines, each drawn as its own row."""
    fs, pitch = laid.table.fontsize, line_height(laid.table.fontsize)
    most = max(int((room - laid.header_height - 2 * PAD) // pitch), 1)
    cells, colors = [], []
    for r, row in enumerate(laid.cells):
        for k in range(0, max(len(lines) for lines in row), most):
            cells.append([lines[k : k + most] for lines in row])
            colors.append(laid.table.colors[r] if laid.table.colors else None)
    if len(cells) == len(laid.cells):
        return laid
    table = Table(laid.table.columns, [], fs, colors if laid.table.colors else None,
                  laid.table.align)  # fmt: skip
    out = Laid(table, laid.widths, laid.header, cells, header_height=laid.header_height)
    out.heights = [_height(row, fs) for row in cells]
    return out


def draw_rows(fig: Figure, x: float, top: float, laid: Laid, start: int, end: int) -> float:
    """Draw the header and rows ``start:end`` with their top-left at (x, top) in points.

    Returns the y (points from the page bottom) under the last row drawn.
    """
    fs, table = laid.table.fontsize, laid.table
    total = sum(laid.widths)
    rows = [(laid.header, laid.header_height, HEADER_COLOR, None)]
    for r in range(start, end):
        color = table.colors[r] if table.colors else None
        rows.append((laid.cells[r], laid.heights[r], None, color))
    y = top
    for row, height, fill, stripe in rows:
        if fill:
            _box(fig, x, y - height, total, height, fill)
        if stripe:
            _box(fig, x, y - height, STRIPE, height, stripe)
        left = x
        for i, (lines, width) in enumerate(zip(row, laid.widths, strict=True)):
            right = bool(table.align) and table.align[i] == "right"
            tx = left + width - PAD if right else left + PAD + (STRIPE if table.colors and i == 0
                                                                  else 0)  # fmt: skip
            if lines and any(lines):
                fig.text(tx / _pt_w(fig), (y - PAD) / _pt_h(fig), "\n".join(lines), fontsize=fs,
                         ha="right" if right else "left", va="top",
                         linespacing=LINESPACING)  # fmt: skip
            left += width
        y -= height
        fig.add_artist(_rule(fig, x, x + total, y))
    return y


def _pt_w(fig: Figure) -> float:
    """Return the page width in points."""
    return fig.get_figwidth() * 72


def _pt_h(fig: Figure) -> float:
    """Return the page height in points."""
    return fig.get_figheight() * 72


def _box(fig: Figure, x: float, y: float, w: float, h: float, color: str) -> None:
    """Fill a rectangle given in points from the page's lower left."""
    from matplotlib.patches import Rectangle

    W, H = _pt_w(fig), _pt_h(fig)
    fig.add_artist(Rectangle((x / W, y / H), w / W, h / H, transform=fig.transFigure,
                             facecolor=color, edgecolor="none", zorder=0))  # fmt: skip


def _rule(fig: Figure, x0: float, x1: float, y: float):
    """Return a thin horizontal line in points from the page's lower left."""
    from matplotlib.lines import Line2D

    W, H = _pt_w(fig), _pt_h(fig)
    return Line2D([x0 / W, x1 / W], [y / H, y / H], transform=fig.transFigure,
                  color=RULE_COLOR, linewidth=0.4)  # fmt: skip


def draw_table(fig: Figure, rect: tuple[float, float, float, float], table: Table,
               start: int = 0) -> int:  # fmt: skip
    """Draw as many rows from ``start`` as fit in ``rect`` (figure fraction); return the next row.

    The header is always drawn; a table with no rows says （无）.
    """
    W, H = _pt_w(fig), _pt_h(fig)
    x, bottom, width, height = rect[0] * W, rect[1] * H, rect[2] * W, rect[3] * H
    empty = not table.rows
    laid = lay_out(_none_row(table) if empty else table, width)
    end = fitting(laid, start, height)
    draw_rows(fig, x, bottom + height, laid, start, end)
    return 0 if empty else end


def _none_row(table: Table) -> Table:
    """Return the table with one row saying （无）, for a table with no rows."""
    return Table(table.columns, [["（无）", *[""] * (len(table.columns) - 1)]], table.fontsize,
                 None, table.align)  # fmt: skip


class Flow:
    """Text and tables set top to bottom on pages, a new page whenever the next piece needs one.

    ``new_page(n)`` returns a fresh figure for page ``n`` (2, 3, ...); text on it starts at
    ``next_top`` points. ``left``, ``width`` and ``bottom`` bound the text area, in points.
    """

    def __init__(self, fig: Figure, top: float, *, left: float, width: float, bottom: float,
                 new_page: Callable[[int], Figure], next_top: float,
                 next_columns: tuple[float, float] | None = None):  # fmt: skip
        """Start on ``fig`` at ``top`` points; ``next_columns`` is (left, width) on later pages."""
        self.pages, self.fig, self.y = [fig], fig, top
        self.left, self.width, self.bottom, self._new_page = left, width, bottom, new_page
        self.next_top, self.next_columns = next_top, next_columns or (left, width)

    def _break(self) -> None:
        """Go on to a new page."""
        self.fig, self.y = self._new_page(len(self.pages) + 1), self.next_top
        self.left, self.width = self.next_columns
        self.pages.append(self.fig)

    def space(self, points: float) -> None:
        """Leave a vertical gap (dropped at the foot of a page)."""
        self.y = max(self.y - points, self.bottom)

    def text(self, text: str, fontsize: float, color: str = "#000000", indent: float = 0.0,
             keep: float = 0.0) -> None:  # fmt: skip
        """Write wrapped text across pages; ``keep`` points of what follows stay on its page."""
        pitch = line_height(fontsize)
        lines = wrap(text, self.width - indent, fontsize)
        while lines:
            room = int((self.y - self.bottom) // pitch)
            if room < 1 or (keep and self.y - pitch * len(lines) - keep < self.bottom
                            and len(lines) <= room):  # fmt: skip
                self._break()
                room = int((self.y - self.bottom) // pitch)
                keep = 0.0
            part, lines = lines[:room], lines[room:]
            self.fig.text((self.left + indent) / _pt_w(self.fig), self.y / _pt_h(self.fig),
                          "\n".join(part), fontsize=fontsize, color=color, ha="left", va="top",
                          linespacing=LINESPACING)  # fmt: skip
            self.y -= pitch * len(part)

    def table(self, table: Table, indent: float = 0.0) -> None:
        """Set a table, continuing on new pages under its repeated header."""
        table = table if table.rows else _none_row(table)
        while True:
            width = self.width - indent
            laid = split_tall_rows(lay_out(table, width), self.next_top - self.bottom)
            end = fitting(laid, 0, self.y - self.bottom)
            if end == 0 and self.y < self.next_top:
                self._break()
                continue
            end = max(end, 1)  # taller than a whole page: drawn anyway rather than lost
            self.y = draw_rows(self.fig, self.left + indent, self.y, laid, 0, end)
            if end >= len(laid.cells):
                return
            if len(laid.cells) != len(table.rows):  # rows were split: keep this width
                colors = laid.table.colors[end:] if laid.table.colors else None
                rest = Table(table.columns, [], table.fontsize, colors, table.align)
                self._rest(Laid(rest, laid.widths, laid.header, laid.cells[end:],
                                laid.heights[end:], laid.header_height))  # fmt: skip
                return
            colors = table.colors[end:] if table.colors else None
            table = Table(table.columns, table.rows[end:], table.fontsize, colors, table.align)
            self._break()

    def _rest(self, laid: Laid) -> None:
        """Draw the remaining pieces of a split table at the width they were wrapped for."""
        start = 0
        while start < len(laid.cells):
            self._break()
            end = max(fitting(laid, start, self.y - self.bottom), start + 1)
            self.y = draw_rows(self.fig, self.left, self.y, laid, start, end)
            start = end


def page_breaks(laid: Laid, first: float, then: float) -> list[tuple[int, int]]:
    """Return the (start, end) rows of each page: ``first`` points of room, then ``then`` each."""
    spans, start, room = [], 0, first
    while start < len(laid.heights) or not spans:
        end = fitting(laid, start, room)
        if end == start and start < len(laid.heights) and room >= then:
            end = start + 1  # taller than a page even after split_tall_rows: draw it anyway
        spans.append((start, end))
        start, room = end, then
    return spans
