"""What an operator's tools read from the web app: probes, Prometheus metrics, request ids in the logs.

- `GET /healthz` — the process is up and serving (touches nothing: a liveness probe must not fail, and get the
  process restarted, because the database is down).
- `GET /readyz` — the database answers, its schema is this release's, the broker (scale-out) accepts
  connections: 200, or 503 naming what failed.  For a load balancer or orchestrator to send traffic only here.
- `GET /metrics` — Prometheus text: the step figures of engine/runtime/metrics.py, HTTP latency by URL rule
  (`/api/v1/tasks/<task:task_id>`, never the raw path: one series per route, not per case), and the database
  counts of engine/background/gauges.py.  Served only to a scraper with `TONGBAN_METRICS_TOKEN` as its bearer
  token and/or from a network in `TONGBAN_METRICS_ALLOW`; with neither it answers 404, as if absent.

These three are infrastructure, outside the versioned `/api/v1` and so outside its OpenAPI document (they are
described in docs/operations.md, "Monitoring"): no login, no CSRF, no session, and no data about any case.
"""

from __future__ import annotations

import hmac
import os
import re
import uuid
from ipaddress import ip_address
from time import perf_counter

from flask import Flask, Response, abort, g, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from engine.background import readiness
from engine.background.gauges import StateCollector
from engine.base import logs
from engine.base.settings import Settings
from engine.runtime.metrics import STEP_BUCKETS
from engine.runtime.runtime import Runtime

REQUEST_ID_HEADER = "X-Request-ID"
#: an incoming id is kept when it looks like one (a UUID, a trace id, a proxy's `$request_id`): anything else —
#: too long, spaces, quotes, control characters that could forge log lines — is replaced by a fresh one
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:+=/-]{8,128}")
PROBES = ("/healthz", "/readyz", "/metrics")

HTTP_SECONDS = Histogram("tongban_http_request_duration_seconds", "HTTP requests: how long they took, by URL rule, "
                         "method and status", ["endpoint", "method", "status"], buckets=STEP_BUCKETS)



#: The methods counted by name; any other (a server takes whatever a client sends) is one series, "other", so a
#: stranger cannot add a series per request.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _method() -> str:
    return request.method if request.method in METHODS else "other"

def install(app: Flask, settings: Settings, runtime: Runtime) -> None:
    """Configure logging (once per process), tag every request with an id, time it, and add the three routes."""
    logs.configure(settings.log_format, settings.log_level)
    _request_ids_and_timing(app)
    registry = _registry(runtime)

    @app.get("/healthz")
    def healthz() -> Response:
        return _no_store(jsonify(status="ok"))

    @app.get("/readyz")
    def readyz() -> Response:
        found = readiness.checks(runtime)
        ready = all(c.ok for c in found)
        response = jsonify(status="ready" if ready else "not_ready",
                           checks={c.name: {"ok": c.ok, "detail": c.detail} for c in found})
        response.status_code = 200 if ready else 503
        return _no_store(response)

    @app.get("/metrics")
    def metrics() -> Response:
        if not _may_scrape(settings):
            abort(404)  # as if absent: a stranger learns nothing, not even that there is something to guess at
        return _no_store(Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST))


def _request_ids_and_timing(app: Flask) -> None:
    def begin() -> None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        g.request_started = perf_counter()
        g.request_id_token = logs.request_id.set(g.request_id)

    # first of all: the JSON-body check and the login that follow log with the id
    app.before_request_funcs.setdefault(None, []).insert(0, begin)

    @app.after_request
    def finish(response: Response) -> Response:
        if (request_id := g.get("request_id")) is not None:
            response.headers[REQUEST_ID_HEADER] = request_id
        if (started := g.get("request_started")) is not None and request.path not in PROBES:
            rule = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
            HTTP_SECONDS.labels(rule, _method(), str(response.status_code)).observe(perf_counter() - started)
        return response

    @app.teardown_request
    def forget(_: BaseException | None) -> None:
        if (token := g.pop("request_id_token", None)) is not None:
            logs.request_id.reset(token)


def _may_scrape(settings: Settings) -> bool:
    """The token (constant-time compare) and the networks, each when set; with neither, nobody."""
    if settings.metrics_token is None and not settings.metrics_allow:
        return False
    if settings.metrics_token is not None:
        sent = request.headers.get("Authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {settings.metrics_token}".encode()):
            return False
    if settings.metrics_allow:
        try:
            client = ip_address(request.remote_addr or "")
        except ValueError:
            return False
        if not any(client in network for network in settings.metrics_allow):
            return False
    return True


class _ThisProcess(Collector):
    """The process-wide registry's metrics (steps, HTTP, the Python process), next to the app's database counts."""

    def collect(self):  # type: ignore[no-untyped-def]
        yield from REGISTRY.collect()


def _registry(runtime: Runtime) -> CollectorRegistry:
    """What a scrape reads: this process's figures — or, with PROMETHEUS_MULTIPROC_DIR (gunicorn -w N), every
    worker process's, added up from the files they write there — and the counts in the database."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(StateCollector(runtime))
    return registry


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response
