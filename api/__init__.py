"""The HTTP face of tongban: a Flask app factory serving the REST API under /api/v1.

Everything here translates HTTP to `engine` calls and back; authorization, validation and
state changes live in the engine, so the CLI, workers and the API behave the same.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, request
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType
from werkzeug.routing import IntegerConverter, UUIDConverter

from engine.background import embedded
from engine.background.jobs import runtime_for
from engine.base import jsonvalues
from engine.base.paging import MAX_ID
from engine.base.settings import Settings
from engine.runtime.runtime import Runtime

from . import errors, limits, observability, pages, security
from .docs import docs_assets
from .openapi import ErrorResponses, TongbanApi
from .routes import (
    attachments,
    audit,
    auth,
    carboncopies,
    designer,
    funds,
    instances,
    notifications,
    opinions,
    processes,
    public,
    signers,
    supervision,
    tasks,
    urges,
    withdrawals,
    worklists,
)

MAX_UPLOAD = 20 * 1024 * 1024


class IdConverter(IntegerConverter):
    """Row ids: positive and within BIGINT, so an absurd number is a 404 instead of a database overflow."""

    def __init__(self, url_map: Any) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)


class TaskIdConverter(UUIDConverter):
    """Task ids are UUIDs: anything else (NUL bytes included) is a 404 before it reaches the database."""

    def to_python(self, value: str) -> str:  # type: ignore[override]
        return str(super().to_python(value))


#: Parsing costs CPU in proportion to the body; the largest process folder a designer sends is a few hundred KB.
MAX_JSON_BODY = 2 * 2**20


def _parse_json_body() -> None:
    """Every JSON body is parsed by `engine.base.jsonvalues.loads` before any view runs: NaN, infinity, a lone
    surrogate, an integer of thousands of digits or nesting that makes the parser recurse is a 4xx naming
    its paths.  flask-smorest's argument parser (webargs) then reads the body again with the standard `json`
    module, which would take all of these; it is handed the values parsed here instead.
    """
    if not request.is_json:
        if request.path.startswith("/api/") and request.content_length and request.mimetype != "multipart/form-data":
            # a form-encoded or text body would reach the views as "no data", not as the caller's mistake
            raise UnsupportedMediaType("请以 JSON 提交 (send application/json; files as multipart/form-data)")
        return
    if (request.content_length or 0) > MAX_JSON_BODY:  # uploads are multipart; a form or a process is far less
        raise RequestEntityTooLarge(f"JSON 请求体超过 {MAX_JSON_BODY // 2**20} MB (JSON body over "
                                    f"{MAX_JSON_BODY // 2**20} MB)")
    if raw := request.get_data(cache=True):
        g.json_body = jsonvalues.loads(raw)  # what the argument parser reads (api/openapi.py), not parsing it again


def _enter_runtime_context(app: Flask, runtime: Runtime) -> None:
    """Each request runs in its runtime's clock, calendar and script budget (engine/runtime/context.py)."""

    @app.before_request
    def enter() -> None:
        g.runtime_context = runtime.context.entered()
        g.runtime_context.__enter__()

    @app.teardown_request
    def leave(_: BaseException | None) -> None:
        if (entered := g.pop("runtime_context", None)) is not None:
            entered.__exit__(None, None, None)


def create_app(settings: Settings | None = None, runtime: Runtime | None = None, *,
               background: bool | None = None) -> Flask:
    """The web app.  `api:create_app()` (what a WSGI server such as gunicorn calls) makes its own runtime and, in
    the embedded mode, starts this process's timer, mail and checkpoint threads; a caller handing over its own
    runtime (tests, an embedding) owns that runtime's background work, unless it passes `background=True`."""
    made_here = runtime is None
    settings = settings or Settings.from_env()
    (settings if made_here else runtime.settings).require_shared_database()  # a web process of scale-out
    app = Flask(__name__)
    app.before_request(_parse_json_body)
    app.url_map.converters["id"] = IdConverter
    app.url_map.converters["task"] = TaskIdConverter
    app.config.update(
        API_TITLE="楼宇通办 tongban API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="v1/openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/api/docs/assets/",
        MAX_CONTENT_LENGTH=MAX_UPLOAD + 64 * 1024,  # the upload plus its multipart envelope
    )
    app.json.ensure_ascii = False  # Chinese stays readable in responses
    app.extensions["tongban"] = runtime = runtime or runtime_for(settings)
    _enter_runtime_context(app, runtime)
    observability.install(app, settings, runtime)
    api = TongbanApi(app, spec_kwargs={"components": {"securitySchemes": security.SCHEMES},
                                       "extra_plugins": [ErrorResponses()]})
    for blueprint in (auth.blp, audit.blp, processes.blp, instances.blp, tasks.blp, attachments.blp, designer.blp,
                      funds.blp, notifications.blp, public.blp, signers.blp, withdrawals.blp,
                      opinions.blp, carboncopies.blp, urges.blp, worklists.blp, supervision.blp):
        api.register_blueprint(blueprint, url_prefix="/api/v1")
        pages.csrf.exempt(blueprint)  # bearer calls carry no cookie; cookie calls are checked in security.actor
    app.register_blueprint(docs_assets)
    pages.install(app, settings)
    limits.install(app, settings)
    errors.install(app)
    if made_here if background is None else background:
        embedded.start(runtime)  # once per process and database; nothing in scale-out (engine/background/embedded.py)
    return app
