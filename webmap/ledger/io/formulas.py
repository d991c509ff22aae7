"""Keep user text in spreadsheet exports from running as a formula, reversibly.

Excel and WPS run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, per OWASP's CSV
injection guidance, tab or carriage return) as a formula, so ``=HYPERLINK(...)`` in a title
would become a live link. On export every text cell (ledger files, the public CSV) goes
through ``neutralise_cell``, which puts an apostrophe in front. To keep export → import → export
identical the rule must be reversible, so it is applied to the whole family
``'*[=+-@\\t\\r]``: a value that starts with any number of apostrophes followed by a formula
character gets one more apostrophe on export, and the importer removes exactly one apostrophe
from a cell of that shape. Other text is untouched, so an ordinary value starting with an
apostrophe survives as written.

Numeric columns (经度, 纬度, 完成进度) are written as numbers and never prefixed:
``-5`` stays ``-5``.

>>> [neutralise_text(v) for v in ("=1+1", "'=1+1", "'ok", "")]
["'=1+1", "''=1+1", "'ok", '']
>>> restore_text("'=1+1"), restore_text("''=1+1"), restore_text("'ok"), restore_text("'")
('=1+1', "'=1+1", "'ok", "'")
"""

from __future__ import annotations

import re

from webmap.ledger.io.template import BY_FIELD, COLUMNS

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NEUTRAL_PREFIX = "'"
NUMERIC_KINDS = ("number", "percent")  # written as plain numbers; a minus sign is a sign there
_STARTS = "".join(re.escape(c) for c in FORMULA_STARTS)
# what our exporter writes for a formula-like value: one or more apostrophes, then a formula char
_NEUTRALISED = re.compile(rf"^{NEUTRAL_PREFIX}+[{_STARTS}]")


def neutralise_cell(value):
    """Return a spreadsheet cell value that cannot run as a formula (OWASP CSV injection).

    Text starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading
    apostrophe; numbers, booleans and None pass unchanged.

    >>> neutralise_cell("=SUM(A1)"), neutralise_cell("-5"), neutralise_cell(-5)
    ("'=SUM(A1)", "'-5", -5)
    """
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return NEUTRAL_PREFIX + value
    return value


def is_text_field(field: str) -> bool:
    """Tell whether a template field is written as text (and so gets neutralised)."""
    return BY_FIELD[field].kind not in NUMERIC_KINDS


def neutralise_text(value: str) -> str:
    """Return ``value`` as a cell that cannot run as a formula and that ``restore_text`` undoes."""
    if _NEUTRALISED.match(value):
        # already looks neutralised: add one more apostrophe so the importer gives this value back
        return NEUTRAL_PREFIX + value
    return neutralise_cell(value)


def restore_text(value: str) -> str:
    """Remove the one apostrophe ``neutralise_text`` added; leave any other text as written."""
    if _NEUTRALISED.match(value):
        return value[len(NEUTRAL_PREFIX) :]
    return value


def neutralise_row(cells: list[str]) -> list[str]:
    """Neutralise the text cells of one ledger row in template column order."""
    return [
        neutralise_text(v) if is_text_field(c.field) else v
        for c, v in zip(COLUMNS, cells, strict=True)
    ]
