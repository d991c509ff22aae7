"""The OGC API exception: HTTP status, OGC code and a Chinese message naming field and value."""

from __future__ import annotations


class OgcError(Exception):
    """A request the OGC API refuses; ``status`` and ``code`` become the exception JSON."""

    def __init__(self, status: int, code: str, message: str):
        """Keep the HTTP status, the OGC exception code and the message."""
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict:
        """Return the OGC exception document (``code`` and ``description``)."""
        return {"code": self.code, "description": self.message, "status": self.status}


def bad_parameter(name: str, value, why: str) -> OgcError:
    """Return a 400 naming the parameter and the value received."""
    shown = str(value)
    shown = shown if len(shown) <= 80 else shown[:80] + "…"
    return OgcError(400, "InvalidParameterValue", f"参数 {name} 的值“{shown}”无效：{why}")
