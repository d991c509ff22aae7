"""One logging set-up for the web app and the command line, with secrets scrubbed from every line.

``configure_logging(level, fmt)`` installs a single handler on the root logger (so waitress,
Alembic and our own ``webmap.*`` loggers all go through it): plain text lines, or JSON lines when
``fmt`` is ``"json"`` (``YZMAP_LOG_FORMAT=json``). Every formatted line, traceback included,
passes through ``redact``: database and SMTP URL passwords, ``password=``/``token=`` values,
session cookies and bearer tokens never reach a log. Standard library only, so the command line
configures logging without importing Flask.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FORMATS = ("text", "json")
MASK = "***"
# what a secret looks like inside a log line; each keeps its label and hides the value
_SECRET_PATTERNS = [
    # scheme://user:password@host (database, SMTP, webhook URLs)
    (re.compile(r"(\b[a-z][a-z0-9+.\-]*://[^:/@\s]*:)[^@\s]+(@)", re.I), rf"\g<1>{MASK}\g<2>"),
    # password=…, passwd: …, token=…, secret=…, api_key=… (form bodies, query strings, reprs)
    (re.compile(r"""((?:password|passwd|pwd|token|secret|api[_-]?key|access[_-]?key)"""
                r"""["']?\s*[=:]\s*["']?)[^\s"'&,;}]+""", re.I), rf"\g<1>{MASK}"),
    # session cookies and Authorization headers
    (re.compile(r"(\b\w*session\w*=)[^\s;,\"']+", re.I), rf"\g<1>{MASK}"),
    (re.compile(r"(\b(?:Bearer|Basic|Token)\s+)[A-Za-z0-9._~+/=\-]+", re.I), rf"\g<1>{MASK}"),
]
_OURS = "_yzmap_handler"


def redact(text: str) -> str:
    """Return ``text`` with passwords, tokens and session cookies replaced by ``***``."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFormatter(logging.Formatter):
    """A text formatter whose output (message and traceback) has its secrets scrubbed."""

    def format(self, record: logging.LogRecord) -> str:
        """Format the record as usual, then scrub it."""
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's extra fields."""

    # attributes every LogRecord has; anything else was passed with ``extra=`` and is kept
    _STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message"}

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a scrubbed JSON line."""
        out = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        out |= {k: v for k, v in vars(record).items() if k not in self._STANDARD}
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(out, ensure_ascii=False, default=str))


def check_settings(level: str, fmt: str) -> tuple[int, str]:
    """Return the numeric level and format, or raise ValueError naming the bad setting."""
    name = str(level or "INFO").upper()
    if name not in LEVELS:
        raise ValueError(f"LOG_LEVEL 的值“{level}”无效，可选 {'、'.join(LEVELS)}")
    fmt = str(fmt or "text").lower()
    if fmt not in FORMATS:
        raise ValueError(f"LOG_FORMAT 的值“{fmt}”无效，可选 {'、'.join(FORMATS)}")
    return getattr(logging, name), fmt


def configure_logging(level: str = "INFO", fmt: str = "text", stream=None) -> logging.Handler:
    """Install (or replace) yzmap's one handler on the root logger and return it."""
    number, fmt = check_settings(level, fmt)
    handler = logging.StreamHandler(stream or sys.stderr)
    text = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    handler.setFormatter(JsonFormatter() if fmt == "json" else RedactingFormatter(text))
    setattr(handler, _OURS, True)
    root = logging.getLogger()
    # replace only our own handler: pytest's capture handlers and an operator's stay
    for old in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(number)
    # Alembic announces every plugin and context at INFO each time a schema is checked
    logging.getLogger("alembic").setLevel(max(number, logging.WARNING))
    return handler


def configure_from(config) -> logging.Handler:
    """Configure logging from the settings ``LOG_LEVEL`` and ``LOG_FORMAT``."""
    return configure_logging(config.get("LOG_LEVEL", "INFO"), config.get("LOG_FORMAT", "text"))
