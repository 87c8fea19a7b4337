"""Lint: the yes/no properties of 撤回 and 退回 say `true` or `false`, on elements they mean something on.

`accepts` (any flow node: its completion means the case was accepted, engine/runtime/withdrawal.py) and
`allowReturnTo` / `allowReturnFrom` (user tasks only: engine/runtime/returns.py; `allowReturnTo` also on the start
event, the applicant's own step when it has a form). A typo ("no", "False") would
otherwise be read as the default silently: a return the designer meant to forbid would be allowed.
"""

from __future__ import annotations

from lxml import etree

from engine.definitions.compiler import (
    ACCEPTS_PROPERTY,
    RETURN_FROM_PROPERTY,
    RETURN_TO_PROPERTY,
    ParsedWorkspace,
    properties,
)

_HUMAN = frozenset({"userTask", "manualTask"})


def flags_are_booleans(ws: ParsedWorkspace) -> None:
    for path, tree in ws.trees.items():
        for element in tree.iter():
            if not isinstance(element.tag, str):
                continue
            props = properties(element)
            for prop in (ACCEPTS_PROPERTY, RETURN_TO_PROPERTY, RETURN_FROM_PROPERTY):
                value = props.get(prop)
                if value is None:
                    continue
                if value not in ("true", "false"):
                    ws.problem(path, element.get("id"), f"{prop} 只能是 true 或 false ({prop} must be true or "
                               f"false, not {value!r})")
                elif prop != ACCEPTS_PROPERTY and etree.QName(element).localname not in (
                        _HUMAN | ({"startEvent"} if prop == RETURN_TO_PROPERTY else set())):
                    ws.problem(path, element.get("id"), f"{prop} 只能用于用户任务 ({prop} applies to user tasks "
                               "only: a case is returned to and from them)")
