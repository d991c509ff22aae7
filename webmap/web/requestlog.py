"""One log line per request, with a request id that is also returned as ``X-Request-ID``.

The line carries method, path (never the query string, which may hold a token), status,
duration in milliseconds, the user id (when a session named one) and the client address (after
``ProxyFix`` when proxies are trusted). A proxy's own ``X-Request-ID`` is kept when it looks
like an id, so one request can be followed through nginx and the app.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, g, request

from webmap.ledger.logs import configure_from

log = logging.getLogger("webmap.request")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._\-]{8,64}")


def request_id() -> str:
    """Return this request's id (the proxy's when it sent a sane one, else a new uuid)."""
    if "request_id" not in g:
        offered = request.headers.get("X-Request-ID", "")
        g.request_id = offered if _REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
    return g.request_id


def start_request() -> None:
    """Before each request: note the start time and fix the request id."""
    g.request_started = time.perf_counter()
    g.pop("request_id", None)  # g can outlive a request in tests and CLIs
    request_id()


def log_request(response):
    """After each request: return the id and log one line about the request."""
    rid = request_id()
    response.headers["X-Request-ID"] = rid
    started = g.get("request_started")
    duration = round((time.perf_counter() - started) * 1000, 1) if started else None
    user = g.get("user")
    fields = {"method": request.method, "path": request.path, "status": response.status_code,
              "duration_ms": duration, "user_id": getattr(user, "id", None),
              "request_id": rid, "client": request.remote_addr}  # fmt: skip
    level = logging.WARNING if response.status_code >= 500 else logging.INFO
    log.log(level, "%s %s %s %sms user=%s id=%s client=%s", *fields.values(), extra=fields)
    return response


def init_app(app: Flask) -> None:
    """Configure logging from the app's settings and register the request hooks."""
    configure_from(app.config)
    app.before_request(start_request)
    app.after_request(log_request)
