"""Restricted evaluation of script tasks, gateway conditions and DMN expressions.

Process files are edited by designers, not programmers we trust with the server: code in
them must not import, open files, or walk `().__class__.__mro__` to reach the interpreter.
RestrictedPython rewrites the code so every attribute, item and iteration access goes
through a guard; on top of it we refuse `import` at compile time and offer only a
whitelist of builtins and domain helpers.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from types import CodeType
from typing import Any

from RestrictedPython import RestrictingNodeTransformer, compile_restricted, safe_builtins
from RestrictedPython.Guards import full_write_guard, guarded_iter_unpack_sequence, safer_getattr
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from . import clock, workdays


class ScriptRefused(Exception):
    """The script uses something the restricted environment does not allow."""


class _NoImports(RestrictingNodeTransformer):
    def visit_Import(self, node: ast.Import) -> ast.AST:
        self.error(node, "import 语句不允许使用 (imports are not allowed in process scripts)")
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST:
        return self.visit_Import(node)  # type: ignore[arg-type]


_UNSAFE_BUILTINS = {"__build_class__", "setattr", "delattr", "id", "hash", "_getattr_"}
_BUILTINS: dict[str, Any] = {k: v for k, v in safe_builtins.items() if k not in _UNSAFE_BUILTINS}
_BUILTINS.update(
    dict=dict, list=list, set=set, frozenset=frozenset, tuple=tuple, sum=sum, min=min, max=max,
    any=any, all=all, enumerate=enumerate, sorted=sorted, reversed=reversed, map=map, filter=filter,
)

_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow,
}


def _inplace(op: str, target: Any, value: Any) -> Any:
    return _INPLACE[op](target, value)


def decimal_sum(values: Any) -> Decimal:
    """Sum money amounts exactly (floats would drift on CNY cents)."""
    return sum((Decimal(str(v)) for v in values), Decimal(0))


def as_moment(value: Any) -> datetime:
    """Case data holds times as ISO text; a bare date means its start in the district's zone."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    else:
        moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=workdays.CHINA)


def now_iso() -> str:
    """The controllable clock's now, as scripts store it: `accepted_at = now_iso()`."""
    return clock.now().astimezone(workdays.CHINA).isoformat(timespec="seconds")


def workdays_after(start: Any, n: int) -> str:
    """The last second of the n-th working day after `start` (行政许可法 art. 82), as ISO text for timers."""
    return workdays.current().due_at(as_moment(start), int(n)).isoformat()


def paused_workdays_after(start: Any, n: int, pauses: Any) -> str:
    """As `workdays_after`, with the clock stopped during each `{"from", "to"}` pause (补正, hearings)."""
    spans = [(as_moment(p["from"]), as_moment(p["to"])) for p in pauses or []]
    return workdays.current().due_at(as_moment(start), int(n), pauses=spans).isoformat()


def workdays_between(a: Any, b: Any) -> int:
    """Working days in (a, b]; negative when b is before a (days overdue)."""
    return workdays.current().working_days_between(as_moment(a), as_moment(b))


def id_number_valid(s: Any) -> bool:
    """GB 11643 resident ID: 17 digits plus an ISO 7064 MOD 11-2 check character (a pattern cannot check it)."""
    text = str(s or "").upper()
    if len(text) != 18 or not text[:17].isdigit():
        return False
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(text[:17]))
    return text[17] == "10X98765432"[total % 11]


#: Helpers a process script may call.
HELPERS: dict[str, Any] = {
    "Decimal": Decimal,
    "decimal_sum": decimal_sum,
    "date": date,
    "datetime": datetime,
    "timedelta": timedelta,
    "now_iso": now_iso,
    "workdays_after": workdays_after,
    "paused_workdays_after": paused_workdays_after,
    "workdays_between": workdays_between,
    "id_number_valid": id_number_valid,
}

_GUARDS: dict[str, Any] = {
    "_getattr_": safer_getattr,
    "_getitem_": operator.getitem,
    "_getiter_": iter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_iter_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": _inplace,
    "__builtins__": _BUILTINS,
}

_RESERVED = set(_GUARDS) | set(HELPERS)


@lru_cache(maxsize=4096)
def _compile(source: str, mode: str) -> CodeType:
    try:
        return compile_restricted(source, "<script>", mode, policy=_NoImports)
    except SyntaxError as exc:
        reasons = exc.args[0] if exc.args and isinstance(exc.args[0], tuple) else exc.args
        raise ScriptRefused(f"脚本含有不允许的写法 (script refused): {'; '.join(map(str, reasons))}") from None


def check(source: str, mode: str = "exec") -> None:
    """Compile only: raises ScriptRefused for syntax the environment would refuse."""
    _compile(source, mode)


def data_names(expression: str) -> frozenset[str]:
    """The task-data fields an expression reads: its free names less helpers, builtins and the names it
    binds itself (comprehension variables), so callers can tell what data it needs before running it."""
    tree = ast.parse(expression.strip(), mode="eval")
    bound = {n.id for c in ast.walk(tree) if isinstance(c, ast.comprehension) for n in ast.walk(c.target)
             if isinstance(n, ast.Name)}
    bound |= {a.arg for n in ast.walk(tree) if isinstance(n, ast.Lambda) for a in ast.walk(n.args)
              if isinstance(a, ast.arg)}
    read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return frozenset(read - bound - _RESERVED - set(_BUILTINS))


def _run(code: CodeType, namespace: dict[str, Any]) -> Any:
    try:
        return eval(code, namespace)  # restricted bytecode: every access is guarded
    except NameError as exc:
        raise ScriptRefused(
            f"未定义或不允许的名称 {exc.name!r} (undefined or forbidden name; allowed helpers: "
            f"{', '.join(sorted(HELPERS))})"
        ) from None
    except (AttributeError, NotImplementedError) as exc:
        raise ScriptRefused(f"不允许的属性访问 (attribute access refused): {exc}") from None


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """Task data is the script's namespace, as in SpiffWorkflow's TaskDataEnvironment."""

    def evaluate(self, expression: str, context: Mapping[str, Any], external_context: Any = None) -> Any:
        namespace = {**(external_context or {}), **context, **HELPERS, **_GUARDS}
        return _run(_compile(expression.strip(), "eval"), namespace)

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        clash = _RESERVED.intersection(context)
        if clash:
            raise ScriptRefused(f"数据字段与内置函数重名 (data field shadows a helper): {sorted(clash)}")
        namespace = {**(external_context or {}), **context, **HELPERS, **_GUARDS}
        _run(_compile(script, "exec"), namespace)
        external = set(external_context or ())
        for key in list(context):
            if key not in namespace:
                del context[key]
        for key, value in namespace.items():
            if key in _RESERVED or key in external or key.startswith("_") or callable(value):
                continue
            context[key] = value
        return True


def script_engine() -> PythonScriptEngine:
    return PythonScriptEngine(environment=RestrictedEnvironment())
