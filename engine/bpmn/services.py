"""Service tasks: the operators a BPMN `serviceTask` may call, and what happens when a call fails.

A service task names an operator and its parameters (SpiffWorkflow's extension; parameter values are
expressions over the case data, evaluated in the restricted script environment):

    <spiffworkflow:serviceTaskOperator id="http_post" resultVariable="reply">
      <spiffworkflow:parameters>
        <spiffworkflow:parameter id="endpoint" type="str" value="'licence_system'"/>
        <spiffworkflow:parameter id="body" type="any" value="{'case': case_number}"/>
      </spiffworkflow:parameters>
      <spiffworkflow:retry retries="5" backoff_base="30"/>
    </spiffworkflow:serviceTaskOperator>

A *transient* failure (a timeout, a refused connection, HTTP 5xx/408/429) is retried with exponential
backoff: the task waits for its next attempt as a row in the timers table, so the sweep that fires timers
fires the retry, exactly once, on whichever worker.  A *permanent* failure (bad parameters, HTTP 4xx), or
a transient one that outlived its retries, puts the case in its error state naming the element;
`tongban retry CASE` runs the task again, with its retries renewed, once the cause is fixed.

Operators run after the step that reached their task has committed — from the embedded server's timer
thread, or in a `run_service` job on a worker — outside any database transaction.  Effects on
tongban's own tables (`notify`) are collected and written in the transaction of the step that made
the call, so a step that loses a race leaves no trace; effects elsewhere (`http_post`) are
at-least-once and carry an `Idempotency-Key` (the task's id) so the other system can drop a repeat.
More operators are plugged in through the `tongban.services` entry-point group, each an `Operator`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from engine.base.notice import Notice
from engine.base.settings import Settings
from engine.base.vocabulary import NoticeKind

ENTRY_POINTS = "tongban.services"
MAX_BACKOFF = timedelta(hours=1)
TRANSIENT_HTTP = frozenset({408, 429, 500, 502, 503, 504})


class ServiceError(Exception):
    """A call that will fail the same way if repeated: the case goes to its error state."""


class ServiceUnavailable(ServiceError):
    """A call that may well succeed later (timeout, connection refused, 5xx): retried with backoff."""


@dataclass(frozen=True)
class Operator:
    """What a service task may call: `run(params, calls)` returns a JSON-serialisable result."""

    name: str
    run: Callable[[dict[str, Any], ServiceCalls], Any]
    required: frozenset[str]
    optional: frozenset[str] = frozenset()
    description: str = ""


@dataclass(frozen=True)
class RoleNotice:
    """An in-app notice a `notify` call asked for, written with the step (the case id is known there)."""

    role: str
    org_code: str | None
    text_zh: str
    text_en: str
    task_id: str

    def notice(self, instance_id: int) -> Notice:
        return Notice(NoticeKind.SERVICE_NOTICE, f"service:{self.task_id}", self.text_zh, self.text_en, instance_id)


@dataclass
class ScriptedReplies:
    """A scenario's stand-in for the outside systems: each call to a listed operator takes the next reply
    the scenario scripts (`{reply: …}`, or `{fail: unavailable|refused}`), so `tongban test` never calls
    a real system and can play a retry or an incident."""

    replies: dict[str, list[dict[str, Any]]]

    def answer(self, name: str) -> Any:
        queue = self.replies[name]
        if not queue:
            raise ServiceError(f"场景没有为服务 {name} 准备更多回复 (the scenario scripts no further reply for {name})")
        reply = queue.pop(0)
        if "fail" in reply:
            failure = ServiceUnavailable if reply["fail"] == "unavailable" else ServiceError
            raise failure(reply.get("message") or f"场景设定的失败 (scripted failure: {reply['fail']})")
        return reply.get("reply")


@dataclass
class ServiceCalls:
    """The services of one step: the settings they need, and what they asked to be written with the step."""

    settings: Settings
    scripted: ScriptedReplies | None = None
    notices: list[RoleNotice] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    #: the task whose operator is running (its id is the idempotency key)
    task_id: str = ""

    @contextmanager
    def bound(self) -> Iterator[ServiceCalls]:
        """Make these the calls the script engine reaches while the workflow runs (per thread / context)."""
        token = _CURRENT.set(self)
        try:
            yield self
        finally:
            _CURRENT.reset(token)

    def call(self, name: str, params: dict[str, Any], task_id: str) -> Any:
        if problems := misuse(name, set(params)):
            raise ServiceError(problems[0])
        operator = operators()[name]
        self.task_id = task_id
        if self.scripted is not None and name in self.scripted.replies:
            return self.scripted.answer(name)
        return operator.run(params, self)

    def backoff(self, attempt: int, base_seconds: int | None) -> timedelta:
        """Exponential: base, 2×base, 4×base … for attempts 1, 2, 3 …, never more than an hour."""
        base = timedelta(seconds=base_seconds) if base_seconds is not None else self.settings.service_backoff
        return min(base * 2 ** (attempt - 1), MAX_BACKOFF)


_CURRENT: ContextVar[ServiceCalls] = ContextVar("tongban_service_calls")


def current() -> ServiceCalls:
    try:
        return _CURRENT.get()
    except LookupError:
        raise ServiceError("服务任务只能在流程引擎的步骤中执行 (service called outside a step)") from None


def misuse(name: str, given: set[str]) -> list[str]:
    """What is wrong with calling operator `name` with these parameter names: `tongban validate` reports it
    at deploy time, a call refuses with it at run time."""
    known = operators()
    if name not in known:
        return [f"未知的服务 {name!r} (unknown service operator; known: {', '.join(sorted(known))})"]
    operator, problems = known[name], []
    if missing := sorted(operator.required - given):
        problems.append(f"服务 {name} 缺少参数 {missing} (missing parameters)")
    if unknown := sorted(given - operator.required - operator.optional):
        problems.append(f"服务 {name} 不接受参数 {unknown} (unknown parameters)")
    return problems


# -- built-in operators ------------------------------------------------------------------------------

def _notify(params: dict[str, Any], calls: ServiceCalls) -> dict[str, Any]:
    """An in-app notice to every holder of a role (in one organisation when `org` names it)."""
    text_zh = str(params["text_zh"])
    calls.notices.append(RoleNotice(str(params["role"]), params.get("org"), text_zh,
                                    str(params.get("text_en") or text_zh), calls.task_id))
    return {"notified_role": params["role"]}


def _http_post(params: dict[str, Any], calls: ServiceCalls) -> Any:
    """POST JSON to an endpoint configured by name (never a URL from case data: no request forgery)."""
    endpoint = str(params["endpoint"])
    url = calls.settings.service_endpoints.get(endpoint)
    if url is None:
        raise ServiceError(f"未配置的服务端点 {endpoint!r} (endpoint not configured in TONGBAN_SERVICE_ENDPOINTS)")
    body = json.dumps(params.get("body", {}), ensure_ascii=False, default=str).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "Accept": "application/json",
        "Idempotency-Key": calls.task_id})
    try:
        with urllib.request.urlopen(request, timeout=calls.settings.service_timeout) as response:
            raw = response.read()
    except urllib.error.HTTPError as exc:
        detail = f"{endpoint}: HTTP {exc.code}"
        if exc.code in TRANSIENT_HTTP:
            raise ServiceUnavailable(f"服务暂时不可用 (service unavailable) {detail}") from None
        raise ServiceError(f"服务拒绝了请求 (service refused the call) {detail}") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ServiceUnavailable(f"服务无法连接或超时 (unreachable or timed out) {endpoint}: {reason}") from None
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return {"text": raw.decode(errors="replace")}


BUILT_IN = (
    Operator("notify", _notify, frozenset({"role", "text_zh"}), frozenset({"text_en", "org"}),
             "站内通知某角色 (in-app notice to the holders of a role)"),
    Operator("http_post", _http_post, frozenset({"endpoint"}), frozenset({"body"}),
             "向已配置的外部系统发送 JSON (POST JSON to a configured external system)"),
)


@cache
def operators() -> dict[str, Operator]:
    """Built-ins, then the `tongban.services` entry points (a plug-in may not replace a built-in)."""
    found = {op.name: op for op in BUILT_IN}
    for point in entry_points(group=ENTRY_POINTS):
        operator = point.load()
        if isinstance(operator, Operator) and operator.name not in found:
            found[operator.name] = operator
    return found
