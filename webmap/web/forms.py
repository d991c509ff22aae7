"""Form errors shown beside their field: what the edit forms and the field report share.

A refused form comes back with what was typed and the message next to the field it is about
(server-side validation stays the authority; a browser without script gets the same page).
``FormError`` names the form field; ``from_ledger`` maps a refused ledger write onto one.
"""

from __future__ import annotations

from datetime import date

from flask import request

from webmap.ledger.events import LedgerError

TEXT_MAX = 4000
# the ledger's field names (WorkflowError.field) -> the form fields that take them
LEDGER_FIELDS = {"progress": "percent", "percent": "percent", "status": "to_status",
                 "evidence": "evidence", "note": "note", "date": "to_status", "photo": "photos",
                 "phase": "phase", "kind": "to_status"}  # fmt: skip


class FormError(ValueError):
    """A form field's value was refused; ``field`` names it, ``message`` says why (Chinese)."""

    def __init__(self, field: str, message: str):
        """Keep the field name with the message."""
        super().__init__(message)
        self.field, self.message = field, message

    @classmethod
    def from_ledger(cls, exc: LedgerError, default: str = "form") -> FormError:
        """Return the form error for a refused ledger write."""
        return cls(LEDGER_FIELDS.get(exc.field or "", default), exc.message)


def read_percent(name: str = "percent") -> int:
    """Return a 0-100 integer form field, or raise ``FormError`` naming the value."""
    raw = (request.form.get(name) or "").strip()
    # "²".isdigit() is True and int() refuses over 4,300 digits: both were 500s
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 3) or not 0 <= int(raw) <= 100:
        raise FormError(name, f"进度应为 0 到 100 的整数，收到“{raw}”")
    return int(raw)


def read_text(name: str, label: str, *, required: bool = False) -> str | None:
    """Return a trimmed text field of at most ``TEXT_MAX`` characters, or raise ``FormError``."""
    value = (request.form.get(name) or "").strip()
    if required and not value:
        raise FormError(name, f"请填写{label}")
    if len(value) > TEXT_MAX:
        raise FormError(name, f"{label}超过 {TEXT_MAX} 字（收到 {len(value)} 字）")
    return value or None


def read_day(args, name: str, label: str) -> date | None:
    """Return a YYYY-MM-DD argument (None when blank), or raise ``FormError`` naming it."""
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise FormError(name, f"{label}“{raw}”不是日期（年-月-日，如 2022-06-30）") from None
