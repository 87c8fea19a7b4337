"""Every error leaves as JSON `{"error", "message", "fields"}` with the HTTP status it means; never a 500 page."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from engine.base.errors import TongbanError, Unauthorized

from .messages import bilingual
from .security import answering_with_error_page

log = logging.getLogger(__name__)

_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
          409: "conflict", 413: "upload_too_large", 415: "unsupported_media_type", 422: "validation_failed",
          429: "too_many_attempts"}
_MESSAGES = {400: "请求格式错误 (malformed request)", 404: "资源不存在 (not found)",
             405: "不支持该方法 (method not allowed)", 413: "上传内容过大 (request too large)",
             415: "不支持的内容类型 (unsupported media type)", 422: "数据校验未通过 (validation failed)"}
CSRF_REFUSED = ("页面已过期或缺少页面令牌，请刷新页面后重试 "
                "(the page's CSRF token is missing or invalid: reload the page and try again)")


def body(status: int, message: str, fields: dict[str, list[str]] | None = None, code: str | None = None) -> Response:
    """JSON for the API; a page for a browser that asked for a page (same message, same status).

    A browser's navigation puts text/html first; fetch's default `*/*` and API clients get JSON.
    """
    wants_page = request.accept_mimetypes.best_match(("application/json", "text/html")) == "text/html"
    if not request.path.startswith("/api/") and wants_page:
        answering_with_error_page()
        page = Response(render_template("error.html", status=status, message=message, title=str(status)))
        page.status_code = status
        return page
    response = jsonify({"error": code or _CODES.get(status, "error"), "message": message, "fields": fields or {}})
    response.status_code = status
    return response


def _paths(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """webargs/marshmallow nest messages by field; flatten to JSON-pointer paths like `/data/mobile`, each message
    in Chinese and English."""
    if isinstance(messages, list):
        return {prefix or "/": [bilingual(str(m)) for m in messages]}
    out: dict[str, list[str]] = {}
    for key, value in (messages or {}).items():
        out.update(_paths(value, f"{prefix}/{key}"))
    return out


def _http_body(exc: HTTPException) -> Response:
    """Werkzeug's and webargs' errors in tongban's shape (a webargs 400 is the 422 of a failing field)."""
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages") or data.get("errors")
    if messages:  # webargs: {"json": {...}} / {"query": {...}}: the location is not part of the path
        fields: dict[str, list[str]] = {}
        for location_messages in messages.values():
            fields.update(_paths(location_messages))
        status = 422 if exc.code in (400, 422) else exc.code
        return body(status, _MESSAGES[422], fields)
    status = exc.code or 500
    return body(status, _MESSAGES.get(status, exc.description or "error"))


def install(app: Flask) -> None:
    @app.errorhandler(TongbanError)
    def _tongban(exc: TongbanError) -> Response:
        response = body(exc.status, exc.message, exc.fields, exc.code)
        if isinstance(exc, Unauthorized):
            response.headers["WWW-Authenticate"] = 'Bearer realm="tongban"'
        return response

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Response:
        return body(400, CSRF_REFUSED, {"/csrf_token": [exc.description or "invalid"]})

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        response = _http_body(exc)
        if exc.code == 405 and (allowed := getattr(exc, "valid_methods", None)):
            response.headers["Allow"] = ", ".join(sorted(allowed))  # RFC 9110: a 405 names what is allowed
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return body(500, "服务器内部错误，已记录 (internal error; it has been logged)", code="internal_error")
