"""JSON values tongban can hold faithfully: finite numbers of sane size, encodable text, bounded nesting.

Python's `json` accepts `NaN` and `Infinity`, turns `1e999` into infinity, passes a lone surrogate
(`"\\ud800"`) through as a string no UTF-8 database or response can encode, parses integers until the
interpreter's 4,300-digit limit raises ValueError, and recurses once per nesting level.  Each of these
crashed a request or slipped a value past a comparison (`NaN > threshold` is false: a case was approved).
`loads` refuses them all, naming the JSON-pointer path of every offending value; `problems` finds the same
in data that was parsed elsewhere.  Both stay linear in the size of their input.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from itertools import accumulate
from typing import Any

from engine.base.errors import FormInvalid, TongbanError

MAX_DEPTH = 64  # containers inside containers; no form nests a tenth of that
MAX_DIGITS = 30  # well past BIGINT's 19 digits and the ledger's Numeric(14, 2), far below Python's 4,300
MAX_REPORTED = 100  # a body of a million NaNs gets a short answer, not a million-line one

NOT_FINITE = "不是有限数值 (not a finite number: NaN, Infinity or a number too large for a float)"
TOO_LONG = f"整数超过 {MAX_DIGITS} 位 (integer longer than {MAX_DIGITS} digits)"
SURROGATE = "含有单个代理字符，无法以 UTF-8 保存 (contains a lone UTF-16 surrogate, which UTF-8 cannot store)"
TOO_DEEP = f"嵌套超过 {MAX_DEPTH} 层 (nested deeper than {MAX_DEPTH} levels)"
REPEATED = "同一对象中键重复 (the key appears more than once in its object)"
INVALID = "数据校验未通过 (validation failed)"

_BOUND = 10**MAX_DIGITS
_SURROGATE = re.compile("[\ud800-\udfff]")
# What an oversized integer, a float that overflows to infinity (more than 308 digits or a three-digit
# exponent) or an escaped surrogate must contain; a text without any of them holds none.
_DIGITS = bytes.maketrans(b"0123456789", b"0000000000")
_DIGIT_RUN = b"0" * (MAX_DIGITS + 1)
_EXPONENT = re.compile(r"[eE]\+?0*[1-9][0-9]{2}")
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89abcdefABCDEF]")
# A string (possessive, so that an unterminated one costs one pass, not one per quote after it; an opening
# quote with no close takes the rest of the text, which the parser then refuses) or a bracket.
_TOKEN = re.compile(r'"(?:[^"\\]++|\\[\s\S])*+"|"[\s\S]*|[\[\]{}]')
_KEY_END = re.compile(r"[ \t\n\r]*:")
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")
_DELTA = [{ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}.get(c, 0) for c in range(256)]


class MalformedJSON(TongbanError):
    """The text is not JSON at all: a 400, as there is no field to point at."""

    code = "bad_request"
    status = 400


class _Repeated(dict[str, Any]):
    """An object whose text names a key twice: Python keeps the last, other parsers the first, so a check
    made elsewhere may have seen another value.  Only ever seen by `problems`, which reports the keys."""

    repeated: tuple[str, ...] = ()


def _segment(key: object) -> str:
    """One JSON-pointer segment (RFC 6901 escapes), itself encodable: a surrogate is shown as `\\udXXX`."""
    text = str(key).replace("~", "~0").replace("/", "~1")
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) if not text.isascii() else text


def _fault(value: Any) -> str | None:
    """What is wrong with a scalar, if anything."""
    if isinstance(value, float):
        return NOT_FINITE if value - value != 0 else None  # inf - inf and nan - nan are nan
    if isinstance(value, int) and not isinstance(value, bool):
        return None if -_BOUND < value < _BOUND else TOO_LONG
    if isinstance(value, str) and not value.isascii() and _SURROGATE.search(value):
        return SURROGATE
    return None


def _members(container: Any) -> Iterator[tuple[Any, Any]]:
    return iter(container.items()) if isinstance(container, dict) else enumerate(container)


def _repeated(container: Any) -> tuple[str, ...]:
    return container.repeated if isinstance(container, _Repeated) else ()


def problems(value: Any, path: str = "") -> dict[str, list[str]]:
    """Every value JSON cannot faithfully hold, by JSON-pointer path under `path` (the root is `/`).

    Non-finite floats, integers of more than MAX_DIGITS digits, strings and keys with a lone surrogate,
    containers nested deeper than MAX_DEPTH (reported at the first container too deep, not below it) and,
    in what `loads` parsed, keys an object repeats; at most MAX_REPORTED paths.  Iterative, so a deep value
    built in Python cannot exhaust the stack either.
    """
    found: dict[str, list[str]] = {}

    def report(keys: list[Any], message: str) -> bool:
        """Note a problem; True when enough are noted."""
        where = path + "".join(f"/{_segment(k)}" for k in keys)
        found.setdefault(where or "/", []).append(message)
        return len(found) >= MAX_REPORTED

    if not isinstance(value, dict | list | tuple):
        message = _fault(value)
        return {path or "/": [message]} if message else {}
    keys: list[Any] = []  # the path of the container whose members stack[-1] yields
    stack = [_members(value)]
    if any(report([k], REPEATED) for k in _repeated(value)):
        return found
    while stack:
        for key, item in stack[-1]:
            if isinstance(key, str) and _fault(key) and report([*keys, key], SURROGATE):
                return found
            if not isinstance(item, dict | list | tuple):
                if (message := _fault(item)) and report([*keys, key], message):
                    return found
            elif len(stack) >= MAX_DEPTH:
                if report([*keys, key], TOO_DEEP):
                    return found
            else:
                keys.append(key)
                stack.append(_members(item))
                if any(report([*keys, k], REPEATED) for k in _repeated(item)):
                    return found
                break
        else:
            stack.pop()
            if keys:
                keys.pop()
    return found


def _too_deep(text: str) -> str | None:
    """The path of the first container nested deeper than MAX_DEPTH, found before parsing (the parser
    recurses once per level: a thousand levels raise RecursionError).

    Linear and mostly in C: a body with few brackets is done at once; else the strings are cut out (escape
    pairs dropped, then every other piece between quotes) and the bracket depth summed.  Only a body that is
    too deep is read token by token, for the path.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None
    outside = "".join(text.replace("\\\\", "").replace('\\"', "").split('"')[::2])
    brackets = outside.encode("ascii", "ignore").translate(None, _NOT_BRACKETS)
    if max(accumulate(map(_DELTA.__getitem__, brackets)), default=0) <= MAX_DEPTH:
        return None
    return _path_to_depth(text)


def _path_to_depth(text: str) -> str | None:
    """Read strings and brackets in order, keeping each open container's current key (the string before a
    colon) or index (the commas between tokens: no string lies between two tokens), up to the container
    that is one too deep."""
    open_: list[list[Any]] = []  # per open container: [is_array, index or key token]
    last = 0
    for match in _TOKEN.finditer(text):
        token = match[0]
        if open_ and open_[-1][0]:
            open_[-1][1] += text.count(",", last, match.start())
        last = match.end()
        if token in "[{":
            if len(open_) == MAX_DEPTH:
                return "".join(f"/{_key(part)}" for _, part in open_)
            open_.append([token == "[", 0 if token == "[" else ""])
        elif token in "]}":
            if open_:
                open_.pop()
        elif open_ and not open_[-1][0] and _KEY_END.match(text, last):
            open_[-1][1] = token
    return None


def _key(part: int | str) -> str:
    """A path segment from an array index or an object key's JSON token."""
    if isinstance(part, int):
        return str(part)
    try:
        return _segment(json.loads(part)) if part else ""
    except ValueError:  # a raw control character: the parser refuses the text anyway
        return _segment(part[1:-1])


def loads(text: str | bytes) -> Any:
    """Parse JSON strictly: MalformedJSON when it is not JSON; FormInvalid naming every value `problems` finds
    and every key an object repeats when it is JSON tongban will not hold.

    The hooks are not told where a value is, so they only note that something is wrong; the parsed value is
    then walked for the paths.  A text with no long digit run, large exponent or surrogate escape cannot
    hold an oversized or non-finite number or a surrogate, so it is parsed at C speed and never walked.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode(json.detect_encoding(text))
        except UnicodeDecodeError as exc:
            raise MalformedJSON(f"不是合法的 JSON (not valid JSON: {exc.reason} at byte {exc.start})",
                                {"/": [str(exc.reason)]}) from None
    if where := _too_deep(text):
        raise FormInvalid(INVALID, {where: [TOO_DEEP]})
    suspect = _suspect(text)

    def constant(name: str) -> float:
        nonlocal suspect
        suspect = True
        return float(name)

    def members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal suspect
        obj = dict(pairs)
        if len(obj) == len(pairs):
            return obj
        suspect = True
        repeated = _Repeated(obj)
        repeated.repeated = tuple(k for k, n in Counter(k for k, _ in pairs).items() if n > 1)
        return repeated

    try:
        value = json.loads(text, parse_constant=constant, parse_int=_integer if suspect else None,
                           object_pairs_hook=members)
    except json.JSONDecodeError as exc:
        raise MalformedJSON(f"不是合法的 JSON (not valid JSON: {exc})", {"/": [str(exc)]}) from None
    if suspect and (found := problems(value)):
        raise FormInvalid(INVALID, found)
    return value


def _suspect(text: str) -> bool:
    """Whether the text may hold an oversized integer, an infinite float or a surrogate (a few C-speed passes:
    a regular expression for a run of digits retries at every digit)."""
    if not text.isascii() and _SURROGATE.search(text):
        return True
    return (_DIGIT_RUN in text.encode().translate(_DIGITS) or _EXPONENT.search(text) is not None
            or _ESCAPED_SURROGATE.search(text) is not None)


def _integer(digits: str) -> int:
    """Too long an integer is never parsed (slow, and past 4,300 digits a ValueError): it stands in as one
    just past the bound, which `problems` then reports at its path."""
    return int(digits) if len(digits) - digits.startswith("-") <= MAX_DIGITS else _BOUND


def escape(key: str) -> str:
    """A field name as one JSON-pointer segment (RFC 6901)."""
    return key.replace("~", "~0").replace("/", "~1")
