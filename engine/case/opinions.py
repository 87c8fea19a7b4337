"""审批意见 and 审批流水: the opinion a decision carries, and a case's opinion trail read from its event log.

A completion through a decision form (engine/definitions/opinionfields.py: a field marked `x-opinion`) must
carry a non-blank opinion of at most MAX_OPINION characters; it is recorded in the TASK_COMPLETED event's
detail, beside the field changes, so the trail is one read of the event log in the order things happened.

The detail shape any operation uses to join the trail (withdraw, return, add-signer, delegate… record their
reasons the same way):

    detail.opinion   str, required — the opinion or reason, as the person wrote it
    detail.decision  str, optional — what was decided, as people read it: "备案通过", "退回 (returned)"
    detail.internal  bool, optional — true: staff only, never shown to the enterprise (default false)

Who reads what (engine/people/access.py `may_see_internal_opinions`): staff who may see the case read the whole
trail; the enterprise reads its own case's public opinions — the 办理意见 of the steps that decide on its
application (行政许可法 art. 38 makes an adverse decision state its reasons; 政务服务 portals print these
steps' opinions on the 办件进度) — but not internal review notes, which are working papers (政府信息公开条例
art. 16: 内部事务信息、过程性信息 may be withheld).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import Connection, select

from engine.base.errors import FormInvalid
from engine.definitions.forms import Form, visible_length
from engine.store.models import Event, Organisation, User

MAX_OPINION = 2000
#: the detail keys the trail reads: shown through it (scoped), never as raw event detail
DETAIL_KEYS = frozenset({"opinion", "decision", "decision_value", "internal"})


def _at(data: Any, pointer: str) -> Any:
    """The value at a JSON pointer of the submitted data (None where a step of the path is missing)."""
    for part in pointer.strip("/").split("/"):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def recorded(form: Form | None, data: Mapping[str, Any]) -> dict[str, Any]:
    """What a completion through `form` adds to its event's detail: {} for a form that decides nothing, else the
    opinion (FormInvalid at the opinion's path when it is missing, blank or too long), the decision's label and
    value, and whether the opinion is internal."""
    marks = form.decision if form is not None else None
    if marks is None:
        return {}
    text = _at(data, marks.opinion)
    if not isinstance(text, str) or visible_length(text) == 0:
        raise FormInvalid("审批决定须填写审批意见 (a decision needs an opinion)",
                          {marks.opinion: ["请填写审批意见 (an opinion is required)"]})
    if len(text) > MAX_OPINION:
        raise FormInvalid(f"审批意见不能超过 {MAX_OPINION} 个字符 (an opinion has at most {MAX_OPINION} characters)",
                          {marks.opinion: [f"至多 {MAX_OPINION} 个字符 (at most {MAX_OPINION} characters)"]})
    value = _at(data, marks.decision) if marks.decision else None
    detail: dict[str, Any] = {"opinion": text.strip(), "internal": marks.internal}
    if value is not None:
        detail |= {"decision": marks.label(value), "decision_value": value}
    return detail


@dataclass(frozen=True)
class OpinionRow:
    """One line of the 审批流水: who (and their office), when, at which step, what was decided, the opinion."""

    at: datetime
    kind: str
    element_id: str | None
    step: str | None
    user: str | None
    office: str | None
    decision: str | None
    opinion: str
    internal: bool

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "at": self.at.isoformat()}


def trail(conn: Connection, instance_id: int, step_names: Mapping[str, str], with_internal: bool
          ) -> list[OpinionRow]:
    """The case's opinions, oldest first; internal ones only `with_internal` (the caller's scope decides)."""
    query = (select(Event.at, Event.kind, Event.element_id, Event.detail, User.display_name, Organisation.name)
             .outerjoin(User, User.id == Event.user_id).outerjoin(Organisation, Organisation.id == User.org_id)
             .where(Event.instance_id == instance_id, Event.detail.is_not(None)).order_by(Event.id))
    rows = []
    for at, kind, element, detail, user, office in conn.execute(query):
        opinion = detail.get("opinion") if isinstance(detail, dict) else None
        if not isinstance(opinion, str) or not opinion:
            continue
        internal = detail.get("internal") is True
        if internal and not with_internal:
            continue
        decision = detail.get("decision")
        rows.append(OpinionRow(at, kind, element, step_names.get(element or "", element), user, office,
                               str(decision) if decision is not None else None, opinion, internal))
    return rows


def printed(rows: list[OpinionRow], tz: tzinfo) -> str:
    """The trail as a decision document prints it: a numbered 办理意见 list, one step per line."""
    if not rows:
        return ""
    lines = ["附：审批流水（办理意见）"]
    for i, row in enumerate(rows, 1):
        local = row.at.astimezone(tz)
        when = f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
        who = "，".join(p for p in (row.office, row.user) if p)
        decided = f"【{row.decision}】" if row.decision else ""
        lines.append(f"{i}. {row.step or ''}（{who}，{when}）{decided}{row.opinion}")
    return "\n".join(lines)


def internal_fields(forms: Mapping[str, Form]) -> frozenset[str]:
    """The pointers of every internal opinion field of a process's forms (`/site_check/opinion`)."""
    return frozenset(f.decision.opinion for f in forms.values() if f.decision is not None and f.decision.internal)


WITHHELD = "（内部意见，不予显示 internal opinion, not shown）"


def withheld(data: Mapping[str, Any], pointers: frozenset[str]) -> dict[str, Any]:
    """The case data with the internal opinions at `pointers` replaced: for readers outside the office, the field
    history and the data must not tell what the trail keeps from them."""
    out = dict(data)
    for pointer in pointers:
        *parents, leaf = pointer.strip("/").split("/")
        node: Any = out
        for part in parents:
            child = node.get(part) if isinstance(node, dict) else None
            if not isinstance(child, dict):
                node = None
                break
            node[part] = node = dict(child)
        if isinstance(node, dict) and leaf in node:
            node[leaf] = WITHHELD
    return out


def withheld_history(rows: list[dict[str, Any]], pointers: frozenset[str]) -> list[dict[str, Any]]:
    """Field-history rows with internal opinions withheld: a row of the opinion itself, or inside an object
    change that holds one (`/site_check` changed as a whole)."""
    out = []
    for row in rows:
        path = row["path"].rstrip("/")
        for pointer in pointers:
            if pointer == path:
                row = {**row, **{side: WITHHELD for side in ("old", "new") if side in row}}
            elif pointer.startswith(path + "/"):
                inner = frozenset({pointer[len(path):]})
                row = {**row, **{side: withheld(row[side], inner) for side in ("old", "new")
                                 if isinstance(row.get(side), dict)}}
        out.append(row)
    return out
