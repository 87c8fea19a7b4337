"""tongban's own rules on top of the XSD and SpiffWorkflow's parser: roles, forms, timers, references.

Each rule is a small function over a ParsedWorkspace that records Problems; `lint` runs them all.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.base.vocabulary import OrgKind, Product
from engine.bpmn.scripting import HELPERS, ScriptRefused, check, data_names
from engine.bpmn.services import misuse
from engine.definitions.compiler import (
    BPMN_NS,
    DUE_PROPERTY,
    ENTERPRISE_PROPERTY,
    FORM_PROPERTY,
    KEY_PROPERTY,
    NS,
    ORG_PROPERTY,
    SPIFF_NS,
    UI_PROPERTY,
    WARN_PROPERTY,
    ParsedWorkspace,
    properties,
)
from engine.definitions.copies import CC_PROPERTY, parse
from engine.definitions.flags import flags_are_booleans
from engine.definitions.humaninput import logic_reads_only_intended_input
from engine.definitions.modelers import foreign_extensions_are_named, with_hint
from engine.definitions.organisations import ORGANISATIONS_PATH
from engine.definitions.outcomes import ends_have_outcomes, outcomes_are_known
from engine.definitions.reachability import nodes_are_reachable_and_finish
from engine.definitions.templates import DOCUMENT_PROPERTY, TEMPLATES_NAME, folder_of, load_templates, names
from engine.definitions.workspace import FORMS, ROLES_PATH

Rule = Callable[[ParsedWorkspace], None]


def _lane_of(process: etree._Element) -> dict[str, str]:
    """flow node id → lane name; nodes inside a subprocess inherit the subprocess's lane."""
    lanes = {ref.text.strip(): lane.get("name", "") for lane in process.iter(f"{{{BPMN_NS}}}lane")
             for ref in lane.iterfind(f"{{{BPMN_NS}}}flowNodeRef") if ref.text}
    for sub in process.iter(f"{{{BPMN_NS}}}subProcess"):
        for node in sub.iter():
            if node.get("id") and node.get("id") not in lanes and sub.get("id") in lanes:
                lanes[node.get("id")] = lanes[sub.get("id")]
    return lanes


def user_tasks_have_roles_and_forms(ws: ParsedWorkspace) -> None:
    """A human task without a role has no inbox to land in; a user task without a form, nothing to enter."""
    known = ", ".join(sorted(ws.catalogue.roles))
    for path, process in ws.process_elements():
        lanes = _lane_of(process)
        for task in process.iter(f"{{{BPMN_NS}}}userTask", f"{{{BPMN_NS}}}manualTask"):
            tid = task.get("id")
            lane = lanes.get(tid)
            if lane is None:
                ws.problem(path, tid, "用户任务不在任何泳道中 (user task is not in a lane, so no role can do it)")
            elif ws.catalogue.role_for_lane(lane) is None:
                ws.problem(path, tid, f"泳道“{lane}”未对应角色目录中的角色 (lane does not map to a role of "
                           f"processes/roles.yaml; known roles: {known})")
            if etree.QName(task).localname == "userTask" and FORM_PROPERTY not in properties(task):
                ws.problem(path, tid, f"用户任务未指定表单 (user task names no form: set the "
                           f"{FORM_PROPERTY} property)")
            role = ws.catalogue.role_for_lane(lane) if lane else None
            if ENTERPRISE_PROPERTY in properties(task) and (role is None or role.org_kind != OrgKind.ENTERPRISE):
                ws.problem(path, tid, f"{ENTERPRISE_PROPERTY} 只用于企业角色的任务 (only a task of an enterprise role "
                           "goes to the enterprise of another case)")
        for element in process.iter():
            props = properties(element) if isinstance(element.tag, str) else {}
            for key in (FORM_PROPERTY, UI_PROPERTY):
                if key in props and FORMS + props[key] not in ws.files:
                    ws.problem(path, element.get("id"), f"表单文件不存在 (form file forms/{props[key]} not found)")
                elif key == FORM_PROPERTY and key in props and props[key] not in ws.forms:
                    ws.problem(path, element.get("id"), f"表单 forms/{props[key]} 无效 (form is not a valid "
                               "JSON Schema; see the error reported for the form file)")


def _check_timer_value(kind: str, value: str) -> None:
    if kind == "timeDuration":
        TimerEventDefinition.parse_iso_duration(value)
    elif kind == "timeCycle":
        TimerEventDefinition.parse_iso_recurring_interval(value)
    else:
        TimerEventDefinition.get_datetime(value)


def _case_data_names(ws: ParsedWorkspace) -> set[str]:
    """Every name a case's data can come to hold: form fields, names scripts assign, DMN outputs, and the
    variables BPMN and Spiff extensions name (data objects, multi-instance items, message variables)."""
    names = {k for form in ws.forms.values() for k in form.schema.get("properties", {})}
    for tree in ws.trees.values():
        root = tree.getroot()
        for script in root.iter(f"{{{BPMN_NS}}}script"):
            try:
                names.update(n.id for n in ast.walk(ast.parse(script.text or ""))
                             if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
            except SyntaxError:
                continue  # reported by conditions_and_scripts_compile
        names.update(o.get("name") for o in root.iter("{*}output") if o.get("name"))
        for tag in ("dataObject", "dataInput", "dataOutput", "inputDataItem", "outputDataItem"):
            names.update(v for e in root.iter(f"{{{BPMN_NS}}}{tag}") for v in (e.get("id"), e.get("name")) if v)
        names.update((e.text or "").strip() for e in root.iter(f"{{{BPMN_NS}}}loopDataInputRef",
                                                               f"{{{BPMN_NS}}}loopDataOutputRef"))
        names.update((e.text or "").strip() for e in root.iter(f"{{{SPIFF_NS}}}*")
                     if etree.QName(e).localname.endswith("Variable"))
    return names


def timers_parse(ws: ParsedWorkspace) -> None:
    """Timer expressions are evaluated at run time; a typo would only show up when the case waits.

    A name in an expression must be a helper or something the case's data can hold (a form field, a
    script's variable, a decision's output): `workday_after(...)` or `acepted_at` is refused here."""
    known = _case_data_names(ws)
    for path, process in ws.process_elements():
        for timer in process.iter(f"{{{BPMN_NS}}}timerEventDefinition"):
            owner = timer.getparent().get("id")
            for expr in timer:
                if not isinstance(expr.tag, str):
                    continue
                kind, text = etree.QName(expr).localname, (expr.text or "").strip()
                try:
                    check(text, "eval")
                    node = ast.parse(text, mode="eval").body
                    if isinstance(node, ast.Constant) and isinstance(node.value, str):
                        _check_timer_value(kind, node.value)
                    elif unknown := sorted(data_names(text) - known):
                        ws.problem(path, owner, f"定时器表达式中的名称 {unknown} 既不是函数也不是办件数据 (timer "
                                   f"expression names {unknown}: neither a helper ({', '.join(sorted(HELPERS))}) "
                                   "nor a field any form, script or decision table sets)")
                except ScriptRefused as exc:
                    ws.problem(path, owner, with_hint(f"定时器表达式无效 (timer expression refused): {exc}", text))
                except Exception as exc:
                    ws.problem(path, owner, with_hint(f"定时器表达式无法解析 (cannot parse {kind} {text!r}: {exc}); "
                               'use an ISO 8601 value in quotes, e.g. "P5D" or "2026-12-01T09:00:00+08:00"', text))


def references_resolve(ws: ParsedWorkspace) -> None:
    """Call activities and business rule tasks must point at something that is deployed with them."""
    for path, process in ws.process_elements():
        for call in process.iter(f"{{{BPMN_NS}}}callActivity"):
            called = call.get("calledElement")
            if not called or called not in ws.process_file:
                ws.problem(path, call.get("id"), f"调用的流程不存在 (called process {called!r} not found in "
                           "processes/)")
        for rule in process.iter(f"{{{BPMN_NS}}}businessRuleTask"):
            refs = rule.xpath(".//spiffworkflow:calledDecisionId", namespaces=NS)
            decision = (refs[0].text or "").strip() if refs else ""
            if not decision:
                ws.problem(path, rule.get("id"), "业务规则任务未指定决策 (the business rule task names no decision: "
                           "add spiffworkflow:calledDecisionId with the decision's id)")
            elif decision not in ws.decision_file:
                ws.problem(path, rule.get("id"), f"引用的决策表不存在 (decision {decision!r} not found in any "
                           ".dmn file)")


def organisations_are_listed(ws: ParsedWorkspace) -> None:
    """With an organisation list, a role's fixed `org` and a quoted `candidateOrg` must name one of its codes:
    `tongban orgs sync` creates exactly those, so a task never waits for an organisation nobody belongs to."""
    listed = ws.organisations
    if listed is None:
        return
    for role in ws.catalogue.roles.values():
        if role.org and role.org not in listed:
            ws.problem(ROLES_PATH, None, f"角色 {role.code} 的 org {role.org!r} 不在组织目录 {ORGANISATIONS_PATH} 中 "
                       f"(role {role.code}: organisation {role.org!r} is not in the organisation list)")
    for path, process in ws.process_elements():
        for element in process.iter():
            expression = (properties(element) if isinstance(element.tag, str) else {}).get(ORG_PROPERTY, "")
            try:
                node = ast.parse(expression.strip(), mode="eval").body
            except SyntaxError:
                continue  # reported with the other task properties
            if isinstance(node, ast.Constant) and node.value not in listed:
                ws.problem(path, element.get("id"), f"candidateOrg {node.value!r} 不在组织目录 {ORGANISATIONS_PATH} "
                           f"中 (organisation {node.value!r} is not in the organisation list)")


def conditions_and_scripts_compile(ws: ParsedWorkspace) -> None:
    """Refuse at deploy time what the restricted script environment would refuse at run time."""
    for path, process in ws.process_elements():
        for cond in process.iter(f"{{{BPMN_NS}}}conditionExpression"):
            try:
                check((cond.text or "").strip(), "eval")
            except ScriptRefused as exc:
                ws.problem(path, cond.getparent().get("id"),
                           with_hint(f"条件表达式无效 (condition refused): {exc}", cond.text or ""))
        for script in process.iter(f"{{{BPMN_NS}}}script"):
            try:
                check(script.text or "", "exec")
            except ScriptRefused as exc:
                ws.problem(path, script.getparent().get("id"), f"脚本无效 (script refused): {exc}")
        for element in process.iter():
            props = properties(element) if isinstance(element.tag, str) else {}
            for key in (ORG_PROPERTY, ENTERPRISE_PROPERTY, DUE_PROPERTY, WARN_PROPERTY, KEY_PROPERTY):
                if key in props:
                    try:
                        check(props[key], "eval")
                    except ScriptRefused as exc:
                        ws.problem(path, element.get("id"),
                                   with_hint(f"属性 {key} 的表达式无效 (expression refused): {exc}", props[key]))


def service_tasks_resolve(ws: ParsedWorkspace) -> None:
    """A service task must call an operator this installation has, with the parameters it takes."""
    for path, process in ws.process_elements():
        for task in process.iter(f"{{{BPMN_NS}}}serviceTask"):
            for operator in task.xpath("./bpmn:extensionElements/spiffworkflow:serviceTaskOperator", namespaces=NS):
                given = {p.get("id") for p in operator.xpath(".//spiffworkflow:parameter", namespaces=NS)}
                for problem in misuse(operator.get("id"), given):
                    ws.problem(path, task.get("id"), problem)


def gateways_are_complete(ws: ParsedWorkspace) -> None:
    """Without a default flow a case whose data matches no condition stops dead at the gateway."""
    for path, process in ws.process_elements():
        flows = {f.get("id"): f for f in process.iter(f"{{{BPMN_NS}}}sequenceFlow")}
        for tag in ("exclusiveGateway", "inclusiveGateway"):
            for gateway in process.iter(f"{{{BPMN_NS}}}{tag}"):
                gid, default = gateway.get("id"), gateway.get("default")
                outgoing = [flows[o.text.strip()] for o in gateway.iterfind(f"{{{BPMN_NS}}}outgoing")
                            if o.text and o.text.strip() in flows]
                if len(outgoing) < 2:
                    continue
                bare = [f.get("id") for f in outgoing
                        if f.find(f"{{{BPMN_NS}}}conditionExpression") is None and f.get("id") != default]
                if bare:
                    ws.problem(path, gid, f"网关出口 {bare} 既无条件也不是默认流 (outgoing flows without a "
                               "condition that are not the default flow)")
                if tag == "exclusiveGateway" and not default:
                    ws.problem(path, gid, "排他网关有条件但没有默认流 (exclusive gateway with conditions and no "
                               "default flow: a case matching no condition would stop here)", "warning")


def manifests_point_at_processes(ws: ParsedWorkspace) -> None:
    """A startable process needs an executable BPMN process and a start event someone may trigger."""
    for manifest in ws.manifests:
        path = ws.process_file.get(manifest.key)
        if path is None and manifest.key in ws.refused:
            continue  # its file was refused with the reasons: "no such process" would only mislead
        if path is None:
            ws.problem(manifest.path, manifest.key, f"process.yaml 指向的流程 {manifest.key!r} 不存在 "
                       "(no BPMN process with that id)")
            continue
        process = ws.trees[path].getroot().find(f"{{{BPMN_NS}}}process[@id='{manifest.key}']")
        lanes = _lane_of(process)
        for start in process.iterfind(f"{{{BPMN_NS}}}startEvent"):
            if ws.catalogue.role_for_lane(lanes.get(start.get("id"))) is None:
                ws.problem(path, start.get("id"), "开始事件须位于映射到角色的泳道中 (the start event must sit in "
                           "a lane mapped to a role: that role may start the process)")


#: the element property that posts to the building fund's ledger (engine/case/ledger.py)
LEDGER_PROPERTY = "ledger"


def ledger_elements_have_the_fund_ledger(ws: ParsedWorkspace) -> None:
    """An element that posts to the fund ledger needs `products: [fund_ledger]` in its process.yaml
    (engine/case/products.py): listed without it, its postings would never be made; a process.yaml without
    `products:` still posts, as before the key existed, and is told to say so."""
    for manifest in ws.manifests:
        if manifest.products is not None and Product.FUND_LEDGER in manifest.products:
            continue
        files = ws.dependencies(manifest.key)
        posting = [(path, element.get("id")) for path, process in ws.process_elements() if path in files
                   for element in process.iter() if isinstance(element.tag, str)
                   and LEDGER_PROPERTY in properties(element)]
        if not posting:
            continue
        elements = sorted({element for _, element in posting})
        if manifest.products is None:
            ws.problem(manifest.path, None, f"元素 {elements} 记入基金台账，请在 process.yaml 中写明 "
                       f"products: [{Product.FUND_LEDGER}] (elements {elements} post to the fund ledger: list "
                       f"{Product.FUND_LEDGER} under products)", "warning")
        else:
            for path, element in posting:
                ws.problem(path, element, f"元素记入基金台账，但 {manifest.path} 的 products 未列出 "
                           f"{Product.FUND_LEDGER}，不会记账 (the element posts to the fund ledger, but the products "
                           f"of {manifest.path} leave out {Product.FUND_LEDGER}: nothing would be posted)")


def documents_resolve(ws: ParsedWorkspace) -> None:
    """Every `document` property names a template of its folder's documents.yaml, and the templates parse."""
    templates: dict[str, dict[str, object]] = {}
    for path, content in ws.files.items():
        if path.endswith("/" + TEMPLATES_NAME):
            try:
                templates[folder_of(path)] = load_templates(path, content)  # type: ignore[assignment]
            except ValueError as exc:
                ws.problem(path, None, str(exc))
                templates[folder_of(path)] = {}
    for path, process in ws.process_elements():
        known = templates.get(folder_of(path), {})
        for element in process.iter():
            wanted = names(properties(element).get(DOCUMENT_PROPERTY)) if isinstance(element.tag, str) else []
            missing = [n for n in wanted if n not in known]
            if missing:
                ws.problem(path, element.get("id"), f"文书模板不存在 (document templates {missing} not in "
                           f"{folder_of(path)}{TEMPLATES_NAME})")


#: Flow nodes that finish within the step that reaches them: a cycle of only these never waits.
_AUTOMATIC = frozenset({"scriptTask", "businessRuleTask", "task", "exclusiveGateway", "inclusiveGateway",
                        "parallelGateway", "intermediateThrowEvent"})


def loops_wait_somewhere(ws: ParsedWorkspace) -> None:
    """A loop of scripts and gateways with no step that waits runs inside one request until SpiffWorkflow gives
    up (it marks the case completed after about 500 rounds, end event unreached): every loop needs a person,
    a timer or a message in it."""
    for path, process in ws.process_elements():
        automatic = {e.get("id") for e in process if isinstance(e.tag, str) and etree.QName(e).localname in _AUTOMATIC}
        succ: dict[str, set[str]] = {n: set() for n in automatic}
        for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
            if flow.get("sourceRef") in automatic and flow.get("targetRef") in automatic:
                succ[flow.get("sourceRef")].add(flow.get("targetRef"))
        for cycle in _cycles(succ):
            ws.problem(path, cycle[0], f"循环 {cycle} 中没有等待的环节（人工任务、定时器或消息），会在一次请求内"
                       f"不停运行 (the loop {cycle} has no step that waits — a user task, timer or message — so "
                       "it would run without end inside one request)", "warning")


def _cycles(succ: dict[str, set[str]]) -> list[list[str]]:
    """The groups of nodes that reach each other (a process has tens of nodes: reachability is enough)."""
    reach: dict[str, set[str]] = {}
    for start in succ:
        seen, todo = set(), list(succ[start])
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo.extend(succ[node])
        reach[start] = seen
    groups: list[list[str]] = []
    for node in sorted(n for n in succ if n in reach[n]):
        if not any(node in g for g in groups):
            groups.append(sorted(m for m in reach[node] if node in reach[m]))
    return groups


def copies_name_known_roles(ws: ParsedWorkspace) -> None:
    """A `cc` property names roles of the catalogue and well-formed `user:<name>` entries (a typo would copy to
    nobody, silently). Users are not checked: they live in the database, not in the files deployed."""
    for path, tree in ws.trees.items():
        for element in tree.iter():
            value = properties(element).get(CC_PROPERTY) if isinstance(element.tag, str) else None
            if value is None:
                continue
            recipients, bad = parse(value)
            unknown = [r for r in recipients.roles if r not in ws.catalogue.roles]
            if bad or unknown or not recipients:
                ws.problem(path, element.get("id"), f"抄送对象无法识别 {bad + unknown or [value]} (cc names unknown "
                           "roles or malformed entries: list role codes of processes/roles.yaml or user:<username>, "
                           "separated by commas)")


RULES: tuple[Rule, ...] = (
    user_tasks_have_roles_and_forms,
    timers_parse,
    references_resolve,
    organisations_are_listed,
    conditions_and_scripts_compile,
    service_tasks_resolve,
    gateways_are_complete,
    manifests_point_at_processes,
    ledger_elements_have_the_fund_ledger,
    documents_resolve,
    logic_reads_only_intended_input,
    loops_wait_somewhere,
    nodes_are_reachable_and_finish,
    outcomes_are_known,
    ends_have_outcomes,
    flags_are_booleans,
    copies_name_known_roles,
    foreign_extensions_are_named,
)


def lint(ws: ParsedWorkspace) -> None:
    ws.forms  # noqa: B018 - loading the forms records their problems first
    for rule in RULES:
        rule(ws)
