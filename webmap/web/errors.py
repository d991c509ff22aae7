"""Error pages: Chinese HTML for pages, JSON under ``/api``; never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from geo.errors import GeoError
from webmap.web.wording import for_web

TITLES = {
    400: "请求有误",
    403: "无权访问",
    404: "未找到",
    405: "不支持的请求方法",
    413: "上传内容过大",
    429: "请求过于频繁",
    500: "服务器内部错误",
}
DEFAULT_MESSAGES = {
    400: "请求参数无法识别，请检查链接或筛选条件。",
    404: "请求的页面或问题不存在。",
    500: "服务器处理请求时出错，请稍后再试或联系管理员。",
}


def wants_json() -> bool:
    """Say whether the error should be JSON: API paths and clients that ask only for JSON."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes.accept_html


def error_response(status: int, message: str | None = None):
    """Build the JSON body or the HTML page for an error status."""
    message = for_web(message or DEFAULT_MESSAGES.get(status) or TITLES.get(status, "错误"))
    title = TITLES.get(status, "错误")
    if wants_json():
        return jsonify({"ok": False, "status": status, "title": title, "error": message}), status
    return render_template("errors/error.html", status=status, title=title, message=message), status


def _werkzeug_message(exc: HTTPException) -> str | None:
    """Return a description set by our own code (Chinese), not werkzeug's English default."""
    default = type(exc).description
    return None if exc.description == default else exc.description


def register_error_handlers(app: Flask) -> None:
    """Register the handlers on the app, so 404s outside any blueprint are covered too."""

    @app.errorhandler(HTTPException)
    def handle_http(exc):
        """Render an HTTP error (abort, unknown URL, bad method) in Chinese."""
        body, status = error_response(exc.code or 500, _werkzeug_message(exc))
        if status == 429:
            # a client (or the proxy) must know when to try again: the view's wait, else a minute
            return body, status, {"Retry-After": str(g.get("retry_after") or 60)}
        return body, status

    @app.errorhandler(GeoError)
    def handle_geo(exc):
        """Bad coordinates, unknown CRS and the like are the client's error: 400."""
        return error_response(400, str(exc))

    @app.errorhandler(Exception)
    def handle_unexpected(exc):
        """Log the traceback on the server; the client sees a plain 500 page."""
        if isinstance(exc, HTTPException):
            return handle_http(exc)
        logging.getLogger("webmap").exception("unhandled error on %s", request.path)
        if app.testing and app.config["PROPAGATE_TEST_ERRORS"]:
            raise exc
        return error_response(500, InternalServerError.description and DEFAULT_MESSAGES[500])
