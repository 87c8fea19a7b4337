"""Restricted evaluation of script tasks, gateway conditions and DMN expressions.

Process files are edited by designers, not programmers we trust with the server: code in
them must not import, open files, or walk `().__class__.__mro__` to reach the interpreter.
RestrictedPython rewrites the code so every attribute, item and iteration access goes
through a guard; on top of it we refuse `import` at compile time and offer only a
whitelist of builtins and domain helpers.

Nor may it freeze the server, which runs it in its own threads: every evaluation gets a CPU-time
and memory budget (engine/bpmn/budget.py stops it between bytecodes), and every operation that one C call
could make arbitrarily long or large is routed through a guard below, so no single step outruns the
budget by much:

* values: `*` repetition, `**`, `<<`, `+` concatenation, `%` and f-string formatting, padding and
  `replace`/`join`/`translate`/`expandtabs`, `to_bytes`, `range` — no new string, bytes, list or
  tuple above `value` bytes (1/64 of the memory budget), no integer above INT_BITS bits, no format
  width or precision above MAX_WIDTH, no Decimal with more than MAX_DIGITS integer digits turned
  into an int or fixed-point text;
* work: a value referenced many times costs each time it is compared, hashed, sorted, summed or
  printed (`[s for _ in range(10**6)] == [t for _ in range(10**6)]` is a million string compares
  in one C call), so comparisons of containers, `sorted`/`min`/`max`/`sum`, `str`/`repr`, building
  sets and dicts from lists and making tuples count the value as a tree and refuse more than `step`
  bytes (1/4 of the budget); so does what a script leaves in the case data, which the engine
  serializes after it;
* iteration: `enumerate`, `map`, `filter` and `reversed` are generators, so that a C consumer of
  them (`list()`, `dict()`) passes through Python between items, where the budget can stop it;
* catching: every `except` and `finally` body starts with `_budget_()`, which re-raises an
  exhausted budget, so a script cannot swallow it.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache, partial
from sys import getsizeof
from types import CodeType, GeneratorType
from typing import Any, NoReturn

from RestrictedPython import RestrictingNodeTransformer, compile_restricted, safe_builtins
from RestrictedPython.Guards import full_write_guard, guarded_iter_unpack_sequence, safer_getattr
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.base import clock, workdays
from engine.base.identity import credit_code_valid, id_number_valid
from engine.base.settings import ScriptBudget
from engine.bpmn import budget


class ScriptRefused(Exception):
    """The script uses something the restricted environment does not allow."""


class ScriptBudgetExceeded(ScriptRefused, SpiffWorkflowException):
    """The script used up its CPU time or memory, or one step of it would have exceeded them at once.

    Also a SpiffWorkflowException, so that SpiffWorkflow passes it on as it is, with notes saying where
    (a gateway condition, a decision table row), rather than as a bare "Error evaluating expression".
    """

    def __str__(self) -> str:
        return ". ".join([Exception.__str__(self), *self.notes])


#: Integers that `*`, `**`, `<<`, `int()` and `int.from_bytes` make (about 39 000 digits: multiplying two
#: takes under a millisecond, dividing them a few; turning one into a Decimal some 40 ms).
INT_BITS = 1 << 17
#: Integer digits of a Decimal turned into an int or fixed-point text (Python's own int-to-text limit:
#: `int(Decimal('1e999999'))` alone takes 47 s).
MAX_DIGITS = 4300
#: Widths and precisions in format specs and `%` formats.
MAX_WIDTH = 10_000
#: `pow(b, e, m)`: bits(e) × bits(m)², about 0.2 s (a 16 384-bit modulus takes 10 s).
POW_MOD_WORK = 4096**3

#: The file name scripts are compiled under; the budget may stop them there or in this module's guards.
SCRIPT_FILE = "<script>"
_INTERRUPTIBLE = frozenset({SCRIPT_FILE, __file__})

def _call(name: str, args: list[ast.expr], like: ast.AST) -> ast.Call:
    node = ast.copy_location(ast.Call(func=ast.Name(name, ast.Load()), args=args, keywords=[]), like)
    return ast.fix_missing_locations(node)


def _literal(node: ast.expr) -> bool:
    """A constant, or a display of constants (`status in ('a', 'b')`): nothing there to guard."""
    if isinstance(node, ast.Constant):
        return True
    return isinstance(node, ast.Tuple | ast.List | ast.Set) and all(isinstance(e, ast.Constant) for e in node.elts)


_BINOPS = {ast.Add: "_add_", ast.Mult: "_mul_", ast.Pow: "_pow_", ast.LShift: "_lshift_", ast.Mod: "_mod_"}
_IDENTITY = (ast.Is, ast.IsNot)
_MEMBERSHIP = (ast.In, ast.NotIn)


class _NoImports(RestrictingNodeTransformer):
    """RestrictedPython's policy without imports, and with the budget guards described above."""

    def visit_Import(self, node: ast.Import) -> ast.AST:
        self.error(node, "import 语句不允许使用 (imports are not allowed in process scripts)")
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST:
        return self.visit_Import(node)  # type: ignore[arg-type]

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        node = super().visit_BinOp(node)
        guard = _BINOPS.get(type(node.op))
        return node if guard is None else _call(guard, [node.left, node.right], node)

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        """Each operand of a comparison other than `is` goes through `_cmp_`; the container on the right of
        `in` through `_cmp_in_` (a dict or set lookup hashes one value, a list compares against each)."""
        node = super().visit_Compare(node)
        operands = [node.left, *node.comparators]
        for i, operand in enumerate(operands):
            roles = set()
            if i and not isinstance(node.ops[i - 1], _IDENTITY):
                roles.add("in" if isinstance(node.ops[i - 1], _MEMBERSHIP) else "cmp")
            if i < len(node.ops) and not isinstance(node.ops[i], _IDENTITY):
                roles.add("cmp")
            if roles and not _literal(operand):
                operands[i] = _call("_cmp_in_" if roles == {"in"} else "_cmp_", [operand], operand)
        node.left, node.comparators = operands[0], operands[1:]
        return node

    def visit_Tuple(self, node: ast.Tuple) -> ast.AST:
        node = super().visit_Tuple(node)
        if not isinstance(node.ctx, ast.Load) or _literal(node):
            return node
        return _call("_tuple_", node.elts, node)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        node = super().visit_FormattedValue(node)
        spec = node.format_spec if node.format_spec is not None else ast.Constant("")
        node.value = _call("_format_", [node.value, ast.Constant(node.conversion), spec], node.value)
        node.conversion, node.format_spec = -1, None
        return node

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.AST:
        node = super().visit_ExceptHandler(node)
        node.body.insert(0, _budget_check(node))
        return node

    def visit_Try(self, node: ast.Try) -> ast.AST:
        node = super().visit_Try(node)
        if node.finalbody:
            node.finalbody.insert(0, _budget_check(node.finalbody[0]))
        return node

    def check_function_argument_names(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        """`*args` would make tuples no guard sees (`f(t, t)` doubles a shared tuple's cost each call)."""
        super().check_function_argument_names(node)
        if node.args.vararg is not None:
            self.error(node, "*args 参数不允许使用 (*args parameters are not allowed in process scripts)")


def _budget_check(like: ast.AST) -> ast.Expr:
    return ast.fix_missing_locations(ast.copy_location(ast.Expr(_call("_budget_", [], like)), like))


_UNSAFE_BUILTINS = {"__build_class__", "setattr", "delattr", "id", "hash", "_getattr_"}
_BUILTINS: dict[str, Any] = {k: v for k, v in safe_builtins.items() if k not in _UNSAFE_BUILTINS}
_BUILTINS.update(
    dict=dict, list=list, set=set, frozenset=frozenset, tuple=tuple, sum=sum, min=min, max=max,
    any=any, all=all, enumerate=enumerate, sorted=sorted, reversed=reversed, map=map, filter=filter,
)

_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow, "<<=": operator.ilshift,
    ">>=": operator.irshift, "&=": operator.iand, "|=": operator.ior, "^=": operator.ixor,
}

#: Values whose own size is all that comparing, hashing or printing them costs.
_FLAT = frozenset({int, float, bool, complex, str, bytes, type(None), Decimal, date, datetime, time, timedelta})
_NUMBERS = frozenset({int, float, bool, Decimal})
_TEXTS = (str, bytes)
_SEQUENCES = (str, bytes, list, tuple)
_CONTAINERS = (list, tuple, set, frozenset, type({}.keys()), type({}.values()), type({}.items()))
#: Arguments whose elements come with their hashes (or are cheap to hash, or arrive one Python step at a time).
_HASHED = (dict, set, frozenset, str, bytes, range, GeneratorType)
_DIGITS = re.compile(r"\d+")
_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?[a-zA-Z%]")
_STRFTIME_WIDTH = re.compile(r"%[-_0^#]*\d")


def _mb(n: int) -> str:
    return f"{n / 2**20:g} MB"


def _tree_size(value: Any, limit: int) -> int:
    """The bytes of `value` counted as a tree — a value referenced twice counts twice, as comparing, hashing,
    printing or serializing it costs — stopping as soon as the count passes `limit`. Python-level, so the
    budget can stop it too."""
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        total += getsizeof(item)
        if total > limit:
            return total
        if type(item) in _FLAT:
            continue
        if isinstance(item, dict):
            total += sum(map(getsizeof, item))  # keys are hashable: flat, or tuples bounded when made
            children: Iterable[Any] = item.values()
        elif isinstance(item, _CONTAINERS):
            children = item
        else:
            continue
        if set(map(type, children)) <= _FLAT:  # the common case, counted in one C-level pass
            total += sum(map(getsizeof, children))
        else:
            stack.extend(children)
    return total


def _hash_size(items: Iterable[Any], limit: int) -> int:
    """What hashing each of `items` costs: tuples do not keep their hash, so a tuple is hashed anew, element by
    element, every time (strings and frozensets keep theirs; lists and dicts are not hashable)."""
    total = 0
    stack = list(items)
    while stack:
        item = stack.pop()
        total += getsizeof(item)
        if total > limit:
            return total
        if type(item) is tuple:
            stack.extend(item)
    return total


def _refuse_int(what: str) -> NoReturn:
    raise ScriptBudgetExceeded(f"脚本超出 CPU 时间限制：整数不得超过 {INT_BITS} 位 (script exceeded its CPU budget: "
                               f"integers may have at most {INT_BITS} bits; {what})")


def _check_decimal(value: Decimal) -> None:
    if value.is_finite() and abs(value.adjusted()) > MAX_DIGITS:
        raise ScriptBudgetExceeded(f"脚本超出 CPU 时间限制：Decimal 的指数超过 {MAX_DIGITS} 位，不能转为整数或定点文本 "
                                   f"(script exceeded its CPU budget: a Decimal with an exponent beyond {MAX_DIGITS} "
                                   "digits cannot become an int or fixed-point text)")


def _check_width(number: str) -> None:
    if len(number) > 5 or int(number) > MAX_WIDTH:
        raise ScriptBudgetExceeded(f"脚本超出内存限制：格式宽度或精度不得超过 {MAX_WIDTH} (script exceeded its memory "
                                   f"budget: format widths and precisions may not exceed {MAX_WIDTH})")


def _int(*args: Any, **kwargs: Any) -> int:
    """`int(…)` as scripts call it: no Decimal with a huge exponent, no integer beyond INT_BITS from text."""
    if args and isinstance(args[0], Decimal):
        _check_decimal(args[0])
    result = int(*args, **kwargs)
    if result.bit_length() > INT_BITS:
        _refuse_int(f"int() of {result.bit_length()} bits")
    return result


def _each(iterator: Iterator[Any]) -> Iterator[Any]:
    """One Python step per item: a plain loop, since `yield from` resumes without looking at the budget."""
    for item in iterator:  # noqa: UP028
        yield item


def _enumerate(iterable: Iterable[Any], start: int = 0) -> Iterator[tuple[int, Any]]:
    return _each(enumerate(iterable, start))


def _map(function: Callable[..., Any], *iterables: Iterable[Any]) -> Iterator[Any]:
    def mapped(rows: Iterator[tuple[Any, ...]]) -> Iterator[Any]:
        for row in rows:
            yield function(*row)
    return mapped(zip(*iterables, strict=False))


def _filter(function: Callable[[Any], Any] | None, iterable: Iterable[Any]) -> Iterator[Any]:
    def kept(items: Iterator[Any]) -> Iterator[Any]:
        for item in items:
            if (item if function is None else function(item)):
                yield item
    return kept(iter(iterable))


def _reversed(sequence: Any) -> Iterator[Any]:
    return _each(reversed(sequence))


def _type(base: type, convert: Callable[..., Any]) -> type:
    """`base` as scripts see it — `isinstance(x, str)`, `str.upper`, `dict.fromkeys` as before — except that
    calling it goes through `convert`, which returns a plain `base` value."""

    class Checked(type):
        def __instancecheck__(cls, instance: Any) -> bool:
            return isinstance(instance, base)

        def __subclasscheck__(cls, subclass: type) -> bool:
            return issubclass(subclass, base)

    def construct(cls: type, *args: Any, **kwargs: Any) -> Any:
        return convert(*args, **kwargs)

    return Checked(base.__name__, (base,), {"__new__": construct, "__slots__": ()})


_INT_TYPE = _type(int, _int)


class _Guards:
    """The guard functions and builtins for one budget, shared by all its evaluations."""

    def __init__(self, limits: ScriptBudget) -> None:
        memory = limits.memory_mb << 20
        self.value = memory // 64  # bytes of the largest new string, bytes, list or tuple
        self.step = memory // 4  # bytes one comparison, hash, sort or conversion may visit
        self.methods: dict[str, Callable[[Any, Callable[..., Any], tuple[Any, ...], dict[str, Any]], Any]] = {
            "center": self._pad, "ljust": self._pad, "rjust": self._pad, "zfill": self._pad,
            "expandtabs": self._expandtabs, "replace": self._replace, "join": self._join,
            "translate": self._translate, "to_bytes": self._to_bytes, "from_bytes": self._from_bytes,
            "as_integer_ratio": self._ratio, "strftime": self._strftime, "sort": self._sort,
            "count": self._compares, "index": self._compares, "remove": self._compares, "fromkeys": self._hashes,
            **dict.fromkeys(("update", "union", "intersection", "intersection_update", "difference",
                             "difference_update", "symmetric_difference", "symmetric_difference_update",
                             "issubset", "issuperset", "isdisjoint"), self._hashes),
        }
        builtins = dict(_BUILTINS)
        builtins.update(
            range=self.range, pow=self.pow, round=self.round, sum=self.sum, min=partial(self.extreme, min),
            max=partial(self.extreme, max), sorted=self.sorted, repr=self.repr, enumerate=_enumerate,
            map=_map, filter=_filter, reversed=_reversed, int=_INT_TYPE, str=_type(str, self.str),
            tuple=_type(tuple, self.tuple), set=_type(set, partial(self.hashing, set)),
            frozenset=_type(frozenset, partial(self.hashing, frozenset)), dict=_type(dict, partial(self.hashing, dict)),
        )
        self.names: dict[str, Any] = {
            "_getattr_": self.getattr,
            "_getitem_": operator.getitem,
            "_getiter_": iter,
            "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
            "_unpack_sequence_": guarded_iter_unpack_sequence,
            "_write_": full_write_guard,
            "_inplacevar_": self.inplace,
            "_add_": self.add, "_mul_": self.mul, "_pow_": self.pow, "_lshift_": self.lshift, "_mod_": self.mod,
            "_cmp_": self.compared, "_cmp_in_": self.searched, "_tuple_": self.tuple_display,
            "_format_": self.format, "_budget_": budget.check,
            "__builtins__": builtins,
        }

    # -- refusals -------------------------------------------------------------------------------------
    def _too_large(self, what: str) -> NoReturn:
        raise ScriptBudgetExceeded(f"脚本超出内存限制：单个值不得超过 {_mb(self.value)} (script exceeded its memory "
                                   f"budget: no single value may exceed {_mb(self.value)}; {what})")

    def _too_much(self, what: str) -> NoReturn:
        raise ScriptBudgetExceeded(f"脚本超出 CPU 时间限制：一次比较、哈希、排序或转换的数据不得超过 {_mb(self.step)} "
                                   f"(script exceeded its CPU budget: one comparison, hash, sort or conversion may "
                                   f"visit at most {_mb(self.step)}; {what})")

    def _visits(self, value: Any, what: str, limit: int | None = None) -> None:
        if _tree_size(value, limit or self.step) > (limit or self.step):
            self._too_much(what)

    def _hashable(self, items: Iterable[Any], what: str) -> None:
        if not isinstance(items, _HASHED) and _hash_size(items, self.step) > self.step:
            self._too_much(what)

    def left(self, value: Any) -> None:
        """What a script leaves for the engine to store: serializing it costs its size as a tree."""
        if _tree_size(value, self.step) > self.step:
            raise ScriptBudgetExceeded(f"脚本超出内存限制：留下的数据不得超过 {_mb(self.step)} (script exceeded its "
                                       f"memory budget: it may leave at most {_mb(self.step)} of data, counting a "
                                       "value once for every place it appears)")

    # -- operators ------------------------------------------------------------------------------------
    def add(self, a: Any, b: Any) -> Any:
        if type(a) in _NUMBERS:
            return a + b
        self._check_add(a, b)
        result = a + b
        if type(result) is tuple:
            self._hashable(result, "tuple +")
        return result

    def _check_add(self, a: Any, b: Any) -> None:
        if isinstance(a, _TEXTS) and isinstance(b, _TEXTS):
            if len(a) + len(b) > self.value:
                self._too_large(f"{type(a).__name__} + of {len(a) + len(b)} characters")
        elif isinstance(a, list | tuple) and isinstance(b, list | tuple) and 8 * (len(a) + len(b)) > self.value:
            self._too_large(f"{type(a).__name__} + of {len(a) + len(b)} items")

    def mul(self, a: Any, b: Any) -> Any:
        kinds = type(a), type(b)
        if kinds == (int, int):
            if a.bit_length() + b.bit_length() > INT_BITS:
                _refuse_int(f"int * int of {a.bit_length() + b.bit_length()} bits")
            return a * b
        if float in kinds or Decimal in kinds:
            return a * b
        self._check_mul(a, b)
        return a * b

    def _check_mul(self, a: Any, b: Any) -> None:
        if isinstance(a, int) and isinstance(b, int):
            if a.bit_length() + b.bit_length() > INT_BITS:
                _refuse_int(f"int * int of {a.bit_length() + b.bit_length()} bits")
            return
        if isinstance(a, _SEQUENCES) and isinstance(b, int):
            sequence, times = a, b
        elif isinstance(b, _SEQUENCES) and isinstance(a, int):
            sequence, times = b, a
        else:
            return
        if times <= 1 or not sequence:
            return
        unit = 1 if isinstance(sequence, _TEXTS) else 8
        if unit * len(sequence) * times > self.value:
            self._too_large(f"{type(sequence).__name__} * {times}")
        if unit == 8:
            self._visits(sequence, f"{type(sequence).__name__} * {times} repeats its items", self.step // times)

    def pow(self, base: Any, exponent: Any, modulus: Any = None) -> Any:
        if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
            if modulus is None:
                if exponent > INT_BITS or (base.bit_length() - 1) * exponent > INT_BITS:
                    _refuse_int(f"{base.bit_length()}-bit int ** {exponent}")
            elif isinstance(modulus, int) and exponent.bit_length() * modulus.bit_length() ** 2 > POW_MOD_WORK:
                _refuse_int(f"pow() with a {exponent.bit_length()}-bit exponent and {modulus.bit_length()}-bit "
                            "modulus")
        return base**exponent if modulus is None else pow(base, exponent, modulus)

    def lshift(self, a: Any, b: Any) -> Any:
        if isinstance(a, int) and isinstance(b, int) and a and b > 0 and a.bit_length() + b > INT_BITS:
            _refuse_int(f"int << {b}")
        return a << b

    def mod(self, a: Any, b: Any) -> Any:
        if isinstance(a, _TEXTS):
            self._check_percent(a, b)
        return a % b

    def _check_percent(self, template: str | bytes, args: Any) -> None:
        text = template.decode("latin-1") if isinstance(template, bytes) else template
        total = len(text)
        for match in _PERCENT.finditer(text):
            for number in match.groups():
                if number == "*":
                    raise ScriptBudgetExceeded("脚本超出内存限制：% 格式不允许 * 宽度 (script exceeded its memory "
                                               "budget: a * width or precision in a % format could be any size)")
                if number:
                    _check_width(number)
                    total += int(number)
        values = args.values() if isinstance(args, Mapping) else args if isinstance(args, tuple) else (args,)
        for value in values:
            total += self._text_size(value)
        if total > self.value:
            self._too_large(f"% formatting of about {total} characters")

    def inplace(self, op: str, target: Any, value: Any) -> Any:
        if op == "+=":
            self._check_add(target, value)
        elif op == "*=":
            self._check_mul(target, value)
        elif op == "**=":
            return self.pow(target, value)
        elif op == "<<=":
            return self.lshift(target, value)
        elif op == "%=":
            return self.mod(target, value)
        result = _INPLACE[op](target, value)
        if op == "+=" and type(result) is tuple:
            self._hashable(result, "tuple +=")
        return result

    def compared(self, value: Any) -> Any:
        if type(value) not in _FLAT:
            self._visits(value, "comparing a container")
        return value

    def searched(self, value: Any) -> Any:
        if type(value) not in _FLAT and not isinstance(value, _HASHED):
            self._visits(value, "searching a container")
        return value

    def tuple_display(self, *items: Any) -> tuple[Any, ...]:
        for item in items:
            if type(item) not in _FLAT:
                self._hashable(items, "a tuple")
                break
        return items

    # -- text -----------------------------------------------------------------------------------------
    def _text_size(self, value: Any) -> int:
        """About how many characters `str(value)` has; refused when it would be more than one value may be."""
        kind = type(value)
        if kind is str:
            return len(value)
        if kind is bytes:
            return 4 * len(value)
        if kind is int:
            return value.bit_length() // 3 + 2
        if kind is Decimal:
            _check_decimal(value)
            return abs(value.adjusted()) + 64
        if kind in _FLAT:
            return 64
        size = _tree_size(value, self.value)
        if size > self.value:
            self._too_large(f"the text of a {kind.__name__}")
        return size

    def str(self, *args: Any, **kwargs: Any) -> str:
        if len(args) == 1 and not kwargs:
            self._text_size(args[0])
        return str(*args, **kwargs)

    def repr(self, value: Any) -> str:
        self._text_size(value)
        return repr(value)

    def format(self, value: Any, conversion: int, spec: str) -> str:
        """One `{value!conversion:spec}` of an f-string."""
        if conversion != -1:
            self._text_size(value)
            value = {115: str, 114: repr, 97: ascii}[conversion](value)
        if isinstance(value, date | time):
            self._check_strftime(spec)
        elif spec:
            for number in _DIGITS.findall(spec):
                _check_width(number)
            if isinstance(value, Decimal):
                _check_decimal(value)
        elif type(value) not in _FLAT:
            self._text_size(value)
        return format(value, spec)

    def _check_strftime(self, template: Any) -> None:
        if isinstance(template, str) and (_STRFTIME_WIDTH.search(template) or 16 * len(template) > self.value):
            raise ScriptBudgetExceeded("脚本超出内存限制：日期格式不允许宽度修饰，且不得过长 (script exceeded its "
                                       "memory budget: date formats may not use width modifiers such as %10Y, nor be "
                                       f"longer than {self.value // 16} characters)")

    # -- builtins -------------------------------------------------------------------------------------
    def range(self, *args: Any) -> range:
        result = range(*args)
        try:
            length = len(result)
        except OverflowError:
            length = self.value
        if 8 * length > self.value:
            self._too_large(f"range of more than {self.value // 8} items")
        return result

    def round(self, number: Any, ndigits: Any = None) -> Any:
        if ndigits is None:
            if isinstance(number, Decimal):
                _check_decimal(number)
            return round(number)
        if isinstance(number, int) and isinstance(ndigits, int) and ndigits < -MAX_DIGITS:
            _refuse_int(f"round() to {ndigits} digits")
        return round(number, ndigits)

    def _materialized(self, iterable: Any, what: str) -> list[Any]:
        items = list(iterable)
        self._visits(items, what)
        return items

    def sum(self, iterable: Any, /, start: Any = 0) -> Any:
        if type(start) not in _NUMBERS:
            raise ScriptRefused("sum() 的初值须为数字 (sum() adds numbers; join text with str.join)")
        return sum(self._materialized(iterable, "sum()"), start)

    def sorted(self, iterable: Any, /, *, key: Callable[[Any], Any] | None = None, reverse: bool = False) -> list[Any]:
        items = self._materialized(iterable, "sorted()")
        if key is None:
            items.sort(reverse=reverse)
            return items
        keys = self._materialized(map(key, items), "sorted() keys")
        return [items[i] for i in sorted(range(len(items)), key=keys.__getitem__, reverse=reverse)]

    def extreme(self, pick: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """min() or max(), over one iterable or several arguments."""
        items = self._materialized(args[0] if len(args) == 1 else args, f"{pick.__name__}()")
        key = kwargs.pop("key", None)
        if key is None or not items:
            return pick(items, **kwargs)
        keys = self._materialized(map(key, items), f"{pick.__name__}() keys")
        return items[pick(range(len(items)), key=keys.__getitem__)]

    def tuple(self, *args: Any) -> tuple[Any, ...]:
        result = tuple(*args)
        self._hashable(result, "a tuple")
        return result

    def hashing(self, kind: type, *args: Any, **kwargs: Any) -> Any:
        """set(), frozenset(), dict(): hashing every element of a list."""
        for arg in args:
            self._hashable(arg, f"{kind.__name__}()")
        return kind(*args, **kwargs)

    # -- methods --------------------------------------------------------------------------------------
    def getattr(self, obj: Any, name: str) -> Any:
        value = safer_getattr(obj, name)
        guard = self.methods.get(name)
        if guard is None or not callable(value):
            return value
        if getattr(value, "__self__", None) is obj or not isinstance(obj, type):

            def bound(*args: Any, **kwargs: Any) -> Any:
                return guard(obj, value, args, kwargs)

            return bound

        def unbound(*args: Any, **kwargs: Any) -> Any:  # `str.join(sep, items)`: the receiver comes first
            if not args:
                return value(**kwargs)
            return guard(args[0], partial(value, args[0]), args[1:], kwargs)

        return unbound

    def _pad(self, receiver: Any, method: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if isinstance(receiver, _TEXTS) and args and isinstance(args[0], int) and args[0] > self.value:
            self._too_large(f"padding to {args[0]}")
        return method(*args, **kwargs)

    def _expandtabs(self, receiver: Any, method: Callable[..., Any], args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> Any:
        size = args[0] if args else kwargs.get("tabsize", 8)
        if isinstance(receiver, _TEXTS) and isinstance(size, int):
            tabs = receiver.count("\t" if isinstance(receiver, str) else b"\t")
            if len(receiver) + tabs * size > self.value:
                self._too_large(f"expandtabs({size})")
        return method(*args, **kwargs)

    def _replace(self, receiver: Any, method: Callable[..., Any], args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> Any:
        if isinstance(receiver, _TEXTS) and len(args) >= 2 and isinstance(args[0], _TEXTS) and isinstance(
                args[1], _TEXTS):
            old, new = args[0], args[1]
            times = receiver.count(old) if old else len(receiver) + 1
            limit = args[2] if len(args) > 2 else kwargs.get("count", -1)
            if isinstance(limit, int) and limit >= 0:
                times = min(times, limit)
            if len(receiver) + times * (len(new) - len(old)) > self.value:
                self._too_large(f"replace() making {len(receiver) + times * (len(new) - len(old))} characters")
        return method(*args, **kwargs)

    def _join(self, receiver: Any, method: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if not isinstance(receiver, _TEXTS) or len(args) != 1:
            return method(*args, **kwargs)
        items = list(args[0])
        try:
            total = sum(map(len, items)) + len(receiver) * max(len(items) - 1, 0)
        except TypeError:  # not all text: join says so
            total = 0
        if total > self.value:
            self._too_large(f"join() of {total} characters")
        return method(items)

    def _translate(self, receiver: Any, method: Callable[..., Any], args: tuple[Any, ...],
                   kwargs: dict[str, Any]) -> Any:
        if isinstance(receiver, str) and args:
            table = args[0]
            values = table.values() if isinstance(table, dict) else table if isinstance(table, list | tuple) else ()
            longest = max((len(v) for v in values if isinstance(v, str)), default=1)
            if len(receiver) * longest > self.value:
                self._too_large(f"translate() to {len(receiver) * longest} characters")
        return method(*args, **kwargs)

    def _to_bytes(self, receiver: Any, method: Callable[..., Any], args: tuple[Any, ...],
                  kwargs: dict[str, Any]) -> Any:
        length = args[0] if args else kwargs.get("length", 1)
        if isinstance(length, int) and length > self.value:
            self._too_large(f"to_bytes({length})")
        return method(*args, **kwargs)

    def _from_bytes(self, receiver: Any, method: Callable[..., Any], args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> Any:
        data = args[0] if args else kwargs.get("bytes", b"")
        if not hasattr(data, "__len__"):
            data = bytes(data)
        if 8 * len(data) > INT_BITS:
            _refuse_int(f"from_bytes() of {len(data)} bytes")
        return method(data, *args[1:], **kwargs)

    def _ratio(self, receiver: Any, method: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if isinstance(receiver, Decimal):
            _check_decimal(receiver)
        return method(*args, **kwargs)

    def _strftime(self, receiver: Any, method: Callable[..., Any], args: tuple[Any, ...],
                  kwargs: dict[str, Any]) -> Any:
        self._check_strftime(args[0] if args else kwargs.get("format"))
        return method(*args, **kwargs)

    def _sort(self, receiver: Any, method: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if not isinstance(receiver, list) or args:
            return method(*args, **kwargs)
        receiver[:] = self.sorted(receiver, **kwargs)
        return None

    def _compares(self, receiver: Any, method: Callable[..., Any], args: tuple[Any, ...],
                  kwargs: dict[str, Any]) -> Any:
        if isinstance(receiver, list | tuple):
            self._visits(receiver, "searching a list")
        return method(*args, **kwargs)

    def _hashes(self, receiver: Any, method: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if isinstance(receiver, dict | set | frozenset) or (
                isinstance(receiver, type) and issubclass(receiver, dict | set | frozenset)):
            for arg in args:
                self._hashable(arg, f"{method.__name__}() of a list")
        return method(*args, **kwargs)


@lru_cache(maxsize=16)
def _guards(limits: ScriptBudget) -> _Guards:
    """One set of guards per budget, shared by every evaluation with it (they keep no state)."""
    return _Guards(limits)


def decimal_sum(values: Any) -> Decimal:
    """Sum money amounts exactly (floats would drift on CNY cents)."""
    return sum((Decimal(str(v)) if isinstance(v, float) else Decimal(v) for v in values), Decimal(0))


def as_moment(value: Any) -> datetime:
    """Case data holds times as ISO text; a bare date means its start in the district's zone."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value)
    else:
        raise ValueError(f"不是日期或时间 (not a date or time: a {type(value).__name__})")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=workdays.CHINA)


def _whole(n: Any) -> int:
    """A count of days from a script: as `int()`, but no Decimal with a huge exponent (that takes minutes)."""
    if isinstance(n, Decimal):
        _check_decimal(n)
    return int(n)


def now_iso() -> str:
    """The controllable clock's now, as scripts store it: `accepted_at = now_iso()`."""
    return clock.now().astimezone(workdays.CHINA).isoformat(timespec="seconds")


def workdays_after(start: Any, n: int) -> str:
    """The last second of the n-th working day after `start` (行政许可法 art. 82), as ISO text for timers."""
    return workdays.current().due_at(as_moment(start), _whole(n)).isoformat()


def paused_workdays_after(start: Any, n: int, pauses: Any) -> str:
    """As `workdays_after`, with the clock stopped during each `{"from", "to"}` pause (补正, hearings)."""
    spans = [(as_moment(p["from"]), as_moment(p["to"])) for p in pauses or []]
    return workdays.current().due_at(as_moment(start), _whole(n), pauses=spans).isoformat()


def workdays_between(a: Any, b: Any) -> int:
    """Working days in (a, b]; negative when b is before a (days overdue)."""
    return workdays.current().working_days_between(as_moment(a), as_moment(b))


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
    "credit_code_valid": credit_code_valid,
}

_RESERVED = set(_guards(ScriptBudget()).names) | set(HELPERS)


@lru_cache(maxsize=4096)
def _compile(source: str, mode: str) -> CodeType:
    try:
        return compile_restricted(source, SCRIPT_FILE, mode, policy=_NoImports)
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


def _evaluated(guards: _Guards, expression: str, namespace: dict[str, Any]) -> Any:
    result = eval(_compile(expression, "eval"), namespace)  # restricted bytecode: every access is guarded
    if type(result) not in _FLAT:
        guards.left(result)
    return result


def _executed(guards: _Guards, script: str, namespace: dict[str, Any], external: set[str]) -> dict[str, Any]:
    """Run the script; what it leaves as case data: its names less helpers, guards, externals and functions."""
    exec(_compile(script, "exec"), namespace)  # restricted bytecode: every access is guarded
    values = {key: namespace[key] for key in namespace.keys() - _RESERVED - external
              if not key.startswith("_") and not callable(namespace[key])}
    guards.left(values)
    return values


def _run(limits: ScriptBudget, body: Callable[..., Any], *args: Any) -> Any:
    """Compile and run within the budget, turning what went wrong into ScriptRefused."""
    try:
        return budget.run(limits, _INTERRUPTIBLE, body, *args)
    except budget.Exhausted as exc:
        raise ScriptBudgetExceeded(str(exc)) from None
    except NameError as exc:
        raise ScriptRefused(
            f"未定义或不允许的名称 {exc.name!r} (undefined or forbidden name; allowed helpers: "
            f"{', '.join(sorted(HELPERS))})"
        ) from None
    except (AttributeError, NotImplementedError) as exc:
        raise ScriptRefused(f"不允许的属性访问 (attribute access refused): {exc}") from None


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """Task data is the script's namespace, as in SpiffWorkflow's TaskDataEnvironment; each evaluation runs
    within `budget`, or else the budget of the runtime whose code runs now (engine/bpmn/budget.py `current`)."""

    def __init__(self, budget: ScriptBudget | None = None) -> None:
        super().__init__()
        self.budget = budget

    def evaluate(self, expression: str, context: Mapping[str, Any], external_context: Any = None) -> Any:
        limits = self.budget or budget.current()
        guards = _guards(limits)
        namespace = {**(external_context or {}), **context, **HELPERS, **guards.names}
        return _run(limits, _evaluated, guards, expression.strip(), namespace)

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        clash = _RESERVED.intersection(context)
        if clash:
            raise ScriptRefused(f"数据字段与内置函数重名 (data field shadows a helper): {sorted(clash)}")
        limits = self.budget or budget.current()
        guards = _guards(limits)
        namespace = {**(external_context or {}), **context, **HELPERS, **guards.names}
        values = _run(limits, _executed, guards, script, namespace, set(external_context or ()))
        for key in list(context):
            if key not in namespace:
                del context[key]
        context.update(values)
        return True


def script_engine(budget: ScriptBudget | None = None) -> PythonScriptEngine:
    return PythonScriptEngine(environment=RestrictedEnvironment(budget))
