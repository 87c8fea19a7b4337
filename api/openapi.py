"""The OpenAPI document: every status an operation can answer, each with the error body tongban sends.

Two sources, so that neither can be forgotten:

* what the machinery in front of every view answers is added here, to every operation it applies to
  (`ErrorResponses`): 401 where a token is required, 403 on an authenticated state change (a role the
  caller lacks, or a page's cookie call without its CSRF token), 404 where the path names an object
  (a malformed or unknown id, or one the caller may not see), and for a request body 400 (not JSON at
  all), 413 (too large), 415 (not the declared media type) and 422 (fails its schema);
* what a view itself refuses — conflicts, a bad paging cursor, login throttling — is declared next to
  the view with `@blp.alt_response`, using the descriptions below where several views share one.

No `default` response: an answer that is not listed is a bug, and schemathesis' status-code check
(tests/api/test_api_fuzz.py) and tests/api/test_openapi.py catch it.
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec, BasePlugin
from flask import Request, g
from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import Schema
from webargs.flaskparser import FlaskParser

from .schemas import ErrorSchema

ERROR = {"application/json": {"schema": "Error"}}

UNAUTHENTICATED = ("未登录，或令牌无效、已过期、已撤销 (not logged in: the bearer token is missing, invalid, expired "
                   "or revoked)")
FORBIDDEN = ("无权执行：缺少所需角色，或页面调用缺少 CSRF 令牌 (not allowed: the caller lacks the role, or a "
             "cookie-authenticated page call lacks its CSRF token)")
NOT_FOUND = "不存在，或调用者无权查看 (no such object, or not the caller's to see)"
MALFORMED = "请求体不是合法的 JSON (the body is not JSON at all)"
TOO_LARGE = "请求体过大 (the body is over the limit: 2 MB of JSON, 20 MB for an upload)"
UNSUPPORTED = "请求体类型不符 (the body is not of the declared media type)"
INVALID = "数据校验未通过，`fields` 按 JSON 路径列出每处问题 (validation failed: `fields` names each failing path)"

#: descriptions several views share
STEP_CONFLICT = ("办件或任务已变化：已办结、已暂停、已被他人办理 (the case or task changed first: ended, suspended, or "
                 "done by someone else; reload)")
TASK_CLOSED = "任务已不可办理，或已被他人认领 (the task is no longer open, or someone else holds it)"
BAD_CURSOR = "分页游标无效 (the paging cursor is not one this list gave)"
UPLOAD_TOO_LARGE = "文件超过上传上限 (the file is over the upload limit)"
UPLOAD_TYPE = "不允许的文件类型（按内容判断） (file type not allowed, judged by its content)"
STORAGE_DOWN = "文件存储暂不可用，未存储任何内容 (file storage unavailable: nothing was stored or read)"
STEP_PRODUCT_FAILED = "该步骤的文书或记账无法生成 (a document or a fund entry of the step could not be produced)"

_UNSAFE = frozenset({"post", "put", "patch", "delete"})
#: operations that read the bearer token only, never the pages' cookie: no CSRF check, no role to lack
BEARER_ONLY = frozenset({"revokeToken"})


def _error(description: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": ERROR, **extra}


class ErrorResponses(BasePlugin):
    """Adds the statuses every request can meet before or around its view (see the module docstring); a view's
    own declaration of the same status wins. Also gives every error response without a body the error schema."""

    def init_spec(self, spec: APISpec) -> None:
        super().init_spec(spec)
        spec.components.schema("Error", schema=ErrorSchema)

    def operation_helper(self, path: str | None = None, operations: dict[str, Any] | None = None,
                         **kwargs: Any) -> None:
        rule = kwargs.get("rule")
        names_objects = bool(rule is not None and rule.arguments)
        for method, operation in (operations or {}).items():
            responses = operation.setdefault("responses", {})
            for status, response in responses.items():
                if response == "UNPROCESSABLE_ENTITY":  # flask-smorest's generic 422 of @blp.arguments
                    responses[status] = _error(INVALID)
            implied: dict[int, dict[str, Any]] = {}
            if operation.get("security"):
                implied[401] = _error(UNAUTHENTICATED, headers={"WWW-Authenticate": {
                    "description": 'Bearer realm="tongban"', "schema": {"type": "string"}}})
                if method in _UNSAFE and operation.get("operationId") not in BEARER_ONLY:
                    implied[403] = _error(FORBIDDEN)
            if names_objects:
                implied[404] = _error(NOT_FOUND)
            body = operation.get("requestBody", {}).get("content", {})
            if body:
                if "application/json" in body:
                    implied[400] = _error(MALFORMED)
                implied[413] = _error(TOO_LARGE)
                implied[415] = _error(UNSUPPORTED)
                implied[422] = _error(INVALID)
            for status, response in implied.items():
                if not any(str(key) == str(status) for key in responses):
                    responses[status] = response
            for status, response in responses.items():
                if int(status) >= 400 and isinstance(response, dict) and "content" not in response:
                    response["content"] = ERROR
                if int(status) == 429 and isinstance(response, dict):
                    response.setdefault("headers", {})["Retry-After"] = {
                        "description": "seconds until the next attempt is heard", "schema": {"type": "integer"}}


class _Parser(FlaskParser):
    """webargs, reading a JSON body as api/__init__.py's strict parser read it before any view ran."""

    def _raw_load_json(self, req: Request) -> Any:
        return g.json_body if "json_body" in g else super()._raw_load_json(req)


class Blueprint(SmorestBlueprint):
    """flask-smorest's blueprint, with each argument schema made once, where the view is declared: webargs
    instantiates a schema class on every request (marshmallow deep-copies every field for that), and the schemas
    keep no per-request state."""

    ARGUMENTS_PARSER = _Parser()

    def arguments(self, schema: type[Schema] | Schema, **kwargs: Any) -> Any:
        return super().arguments(schema() if isinstance(schema, type) else schema, **kwargs)


class TongbanApi(Api):
    """flask-smorest, documenting errors as tongban sends them: `{"error", "message", "fields"}`, and only the
    statuses an operation can answer (no catch-all `default`)."""

    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None
