"""Files from other modelers: what tongban ignores of Camunda 7 (camunda:) and Camunda 8 (zeebe:) extensions, said.

Camunda Modeler writes its engine's settings as extension attributes and elements, which the BPMN schema allows
and SpiffWorkflow skips. A task's `camunda:candidateGroups` silently did nothing (the task went to its lane's
role) and a `${amount > 5}` condition failed as a bare SyntaxError. Now each extension tongban ignores is one
warning on its element, saying what tongban does instead, and a JUEL `${…}` or FEEL `=…` expression that does
not compile gets its Python equivalent in the error. Warnings never block a deploy.
"""

from __future__ import annotations

import re

from lxml import etree

from engine.definitions.catalogue import RoleCatalogue
from engine.definitions.compiler import DUE_PROPERTY, FORM_PROPERTY, KEY_PROPERTY, WARN_PROPERTY, ParsedWorkspace

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"
PLATFORMS = {CAMUNDA_NS: "Camunda 7", ZEEBE_NS: "Camunda 8 (Zeebe)"}
PREFIXES = {CAMUNDA_NS: "camunda", ZEEBE_NS: "zeebe"}

_PROPERTY = '<spiffworkflow:property name="{0}" value="…"/>'
_FORM = (f"用表单属性：{_PROPERTY.format(FORM_PROPERTY)}，值为 forms/ 下 JSON Schema 文件名，如 {{0}} "
         f"(name the form with the spiffworkflow property {FORM_PROPERTY}: a JSON Schema file in forms/, e.g. {{0}})")
_DUE = (f"用期限属性 {_PROPERTY.format(DUE_PROPERTY)}，值为给出 ISO 时间的 Python 表达式，如 "
        "workdays_after(now_iso(), 5) "
        f"(set the spiffworkflow property {DUE_PROPERTY}: a Python expression giving an ISO datetime, e.g. "
        "workdays_after(now_iso(), 5) for five working days)")
_WARN = (f"用预警属性 {WARN_PROPERTY}（同 {DUE_PROPERTY} 的写法）(use the spiffworkflow property {WARN_PROPERTY}, "
         f"written as {DUE_PROPERTY} is)")
_PEOPLE = ("tongban 按泳道把任务交给角色（processes/roles.yaml），再按办件机构分派，不指定个人 (tongban gives a task "
           "to the role of its lane (processes/roles.yaml) in the case's organisation, never to a named person)")
_SCRIPT = ("用脚本任务（Python）在前后读写办件数据 (map data with a script task, in Python, before or after the "
           "element)")
_SERVICE = ("服务任务用 spiffworkflow:serviceTaskOperator 调用本系统提供的服务 (a service task calls one of this "
            "installation's services with spiffworkflow:serviceTaskOperator)")
_ENGINE = ("tongban 每一步在一个数据库事务中执行，由后台作业推进，无需配置 (each tongban step runs in one database "
           "transaction, advanced by background jobs: nothing to configure)")
_DECISION = ("业务规则任务用 spiffworkflow:calledDecisionId 指定决策 id (a business rule task names its decision id "
             "with spiffworkflow:calledDecisionId)")
_METADATA = ("tongban 的版本按内容区分，办件数据按保留规则清理 (tongban versions by content and keeps case data by its "
             "retention rules)")

#: what tongban does instead of an extension, by its local name (attribute or element)
INSTEAD: dict[str, str] = {
    "assignee": _PEOPLE, "candidateUsers": _PEOPLE, "initiator": "发起人即提交开始表单的申请人 (the case's starter is "
    "the applicant who submitted the start form; the case data holds what the form asked)",
    "formKey": _FORM, "formRef": _FORM, "formRefBinding": _FORM, "formRefVersion": _FORM, "formDefinition": _FORM,
    "formData": _FORM, "formField": _FORM, "formId": _FORM,
    "dueDate": _DUE, "taskSchedule": _DUE, "followUpDate": _WARN,
    "userTask": "用户任务本身就是 tongban 的待办，无需标记 (a user task is a tongban task as it is: no marker needed)",
    "script": "脚本任务的 Python 写在 BPMN 的 script 元素中 (a script task's Python goes in its BPMN script element)",
    "priority": "tongban 的待办按期限排序 (tongban orders inboxes by due date)",
    "inputOutput": _SCRIPT, "ioMapping": _SCRIPT, "in": _SCRIPT, "out": _SCRIPT,
    "executionListener": _SCRIPT, "taskListener": _SCRIPT, "resultVariable": "决策表的输出按输出列的 name 写入办件数据 "
    "(a decision table's outputs are written to the case data under each output's name)",
    "class": _SERVICE, "delegateExpression": _SERVICE, "expression": _SERVICE, "type": _SERVICE, "topic": _SERVICE,
    "taskDefinition": _SERVICE, "taskHeaders": _SERVICE, "connector": _SERVICE,
    "decisionRef": _DECISION, "calledDecision": _DECISION,
    "calledElement": "调用活动用 BPMN 的 calledElement 属性写被调流程的 id (a call activity names the process it calls "
    "in the BPMN calledElement attribute)",
    "subscription": f"消息的关联键用属性 {KEY_PROPERTY}，值为对办件数据的 Python 表达式 (correlate a message with the "
    f"spiffworkflow property {KEY_PROPERTY}: a Python expression over the case data)",
    "properties": "用 spiffworkflow:properties (use spiffworkflow:properties)",
    "asyncBefore": _ENGINE, "asyncAfter": _ENGINE, "exclusive": _ENGINE, "jobPriority": _ENGINE,
    "failedJobRetryTimeCycle": _ENGINE, "taskPriority": _ENGINE,
    "versionTag": _METADATA, "historyTimeToLive": _METADATA, "isStartableInTasklist": _METADATA,
}
_ROLE_NAMES = ("candidateGroups",)


def _owner(element: etree._Element) -> str | None:
    """The id of the BPMN element an extension belongs to."""
    while element is not None and (element.get("id") is None or etree.QName(element).namespace in PLATFORMS):
        element = element.getparent()
    return element.get("id") if element is not None else None


def _role_hint(groups: str, catalogue: RoleCatalogue) -> str:
    """candidateGroups → the lane to put the task in, when a group names a role of the catalogue."""
    for group in (g.strip() for g in groups.split(",")):
        role = catalogue.role_for_lane(group)
        if role is not None:
            lane = role.lanes[0] if role.lanes else role.zh
            return (f"任务按泳道分配角色：把它放进泳道“{lane}”（角色 {role.code}）(tasks go to the role of their lane: "
                    f"put this one in the lane “{lane}”, role {role.code})")
    return (f"任务按泳道分配角色：把它放进以 processes/roles.yaml 中角色命名的泳道，{groups!r} 不是其中的角色 "
            f"(tasks go to the role of their lane: put this one in a lane named after a role of processes/roles.yaml; "
            f"{groups!r} names none)")


def _instead(name: str, value: str | None, catalogue: RoleCatalogue) -> str:
    if name in _ROLE_NAMES:
        return _role_hint(value or "", catalogue)
    hint = INSTEAD.get(name, "tongban 没有对应功能 (tongban has no counterpart)")
    if hint is _FORM:
        stem = re.split(r"[:/]", value or "")[-1].rsplit(".", 1)[0] or "apply"
        return hint.format(f"{stem}.json")
    return hint


def _warn(ws: ParsedWorkspace, path: str, element: etree._Element, what: str, platform: str,
          instead: str) -> None:
    ws.problem(path, _owner(element), f"{platform} 扩展 {what} 被 tongban 忽略 ({platform} extension {what} is ignored "
               f"by tongban): {instead}", "warning", line=element.sourceline)


def foreign_extensions_are_named(ws: ParsedWorkspace) -> None:
    """One warning per camunda:/zeebe: attribute or extension element, on the element that carries it."""
    for path, tree in ws.trees.items():
        if not path.endswith(".bpmn"):
            continue
        for element in tree.iter():
            if not isinstance(element.tag, str):
                continue
            namespace = etree.QName(element).namespace
            parent = element.getparent()
            if namespace in PLATFORMS and (parent is None or etree.QName(parent).namespace not in PLATFORMS):
                _warn(ws, path, element, f"{PREFIXES[namespace]}:{etree.QName(element).localname}",
                      PLATFORMS[namespace], _element_instead(element, ws.catalogue))
            if namespace in PLATFORMS:
                continue  # its attributes are part of the element's warning
            for attribute, value in element.attrib.items():
                attr_ns = etree.QName(attribute).namespace
                if attr_ns in PLATFORMS:
                    name = etree.QName(attribute).localname
                    _warn(ws, path, element, f"{PREFIXES[attr_ns]}:{name}=\"{value}\"", PLATFORMS[attr_ns],
                          _instead(name, value, ws.catalogue))


def _element_instead(element: etree._Element, catalogue: RoleCatalogue) -> str:
    """An extension element: its own hint, or that of its first attribute with one (zeebe:assignmentDefinition's
    candidateGroups, zeebe:formDefinition's formKey, zeebe:taskSchedule's dueDate)."""
    name = etree.QName(element).localname
    for attribute, value in element.attrib.items():
        if attribute in _ROLE_NAMES or (attribute in INSTEAD and name not in INSTEAD):
            return _instead(attribute, value, catalogue)
    return _instead(name, next(iter(element.attrib.values()), None), catalogue)


# -- expressions -------------------------------------------------------------------------------------

_JUEL = re.compile(r"^[$#]\{(?P<body>.*)\}$", re.S)
_JUEL_WORDS = [(r"&&", " and "), (r"\|\|", " or "), (r"!(?!=)", " not "), (r"\beq\b", "=="), (r"\bne\b", "!="),
               (r"\bgt\b", ">"), (r"\blt\b", "<"), (r"\bge\b", ">="), (r"\ble\b", "<="), (r"\bempty\s+", "not "),
               (r"\bnull\b", "None"), (r"\btrue\b", "True"), (r"\bfalse\b", "False")]
_FEEL_WORDS = [(r"(?<![<>!=])=(?!=)", "=="), (r"\bnull\b", "None"), (r"\btrue\b", "True"), (r"\bfalse\b", "False")]


def _rewritten(text: str, words: list[tuple[str, str]]) -> str:
    for pattern, replacement in words:
        text = re.sub(pattern, replacement, text)
    return " ".join(text.split())


def expression_hint(text: str) -> str | None:
    """For a Camunda 7 JUEL `${…}` or Camunda 8 FEEL `=…` expression: how to write it for tongban (Python)."""
    text = text.strip()
    juel = _JUEL.match(text)
    if juel:
        python = _rewritten(juel.group("body"), _JUEL_WORDS)
        return (f"这是 Camunda 7 的 JUEL 表达式；tongban 用 Python 表达式，可写作 {python} (a Camunda 7 JUEL "
                f"expression: tongban expressions are Python, e.g. {python})")
    if text.startswith("=") and not text.startswith("=="):
        python = _rewritten(text[1:], _FEEL_WORDS)
        return (f"这是 Camunda 8 的 FEEL 表达式；tongban 用 Python 表达式，可写作 {python} (a Camunda 8 FEEL "
                f"expression: tongban expressions are Python, e.g. {python})")
    return None


def with_hint(message: str, text: str) -> str:
    """An expression's error, followed by how to write it for tongban when it is JUEL or FEEL."""
    hint = expression_hint(text)
    return f"{message}; {hint}" if hint else message

