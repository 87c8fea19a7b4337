"""The BPMN 2.0.2 rules on how flow nodes connect that neither the XSD nor SpiffWorkflow's parser checks.

Spiff follows whatever flows it finds: a start event with an incoming flow, a diverging gateway with
two inputs or an end event that flows on are parsed and then run in a way nobody drew.  Each rule is a
function over the document yielding (element, message); `structure_problems` runs them and
references.py's rules, so a designer hears every one at validate time with the element id and line.
The rule texts are the specification's (chapters 10 and 13), worded for a designer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

from engine.base.problems import Problem
from engine.definitions import dataflow, references
from engine.definitions.references import FLOW_NODES, GATEWAYS, executable, local, owner_of
from engine.definitions.unsupported import BPMN, Finding, _is_event_subprocess, _say, _triggers, trigger_kinds

LEVELS = ("process", "subProcess", "transaction", "adHocSubProcess")
CHOREOGRAPHY = ("choreographyTask", "callChoreography", "subChoreography")
#: the event definitions each kind of event may carry (BPMN 2.0.2 tables 10.84, 10.86, 10.88, 10.89, 10.90)
ALLOWED_TRIGGERS = {
    "startEvent": {"message", "timer", "conditional", "signal"},
    "endEvent": {"message", "error", "escalation", "cancel", "compensate", "signal", "terminate"},
    "intermediateCatchEvent": {"message", "timer", "conditional", "link", "signal"},
    "intermediateThrowEvent": {"message", "escalation", "compensate", "link", "signal"},
}
#: an event subprocess's start may also be triggered by these (table 10.85)
EVENT_SUBPROCESS_TRIGGERS = {"message", "timer", "conditional", "signal", "error", "escalation", "compensate"}
INTERRUPTING_BOUNDARY = {"message", "timer", "error", "escalation", "cancel", "compensate", "conditional", "signal"}
NON_INTERRUPTING_BOUNDARY = {"message", "timer", "escalation", "conditional", "signal"}
EVENT_GATEWAY_TARGETS = {"message", "timer", "signal", "conditional"}


@dataclass
class Flows:
    """The document's sequence and message flows, by the node they start and end at."""

    incoming: dict[str, list[etree._Element]] = field(default_factory=lambda: defaultdict(list))
    outgoing: dict[str, list[etree._Element]] = field(default_factory=lambda: defaultdict(list))
    messages_in: dict[str, list[etree._Element]] = field(default_factory=lambda: defaultdict(list))
    messages_out: dict[str, list[etree._Element]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def of(cls, root: etree._Element) -> Flows:
        flows = cls()
        for flow in root.iter(BPMN + "sequenceFlow"):
            flows.outgoing[flow.get("sourceRef")].append(flow)
            flows.incoming[flow.get("targetRef")].append(flow)
        for flow in root.iter(BPMN + "messageFlow"):
            flows.messages_out[flow.get("sourceRef")].append(flow)
            flows.messages_in[flow.get("targetRef")].append(flow)
        return flows


def _nodes(root: etree._Element, *kinds: str) -> Iterator[etree._Element]:
    return root.iter(*(BPMN + kind for kind in kinds))


def _in_event_subprocess(event: etree._Element) -> bool:
    parent = event.getparent()
    return parent is not None and _is_event_subprocess(parent)


def gateway_directions(root: etree._Element) -> Iterator[Finding]:
    flows = Flows.of(root)
    for gateway in _nodes(root, *GATEWAYS):
        gid, direction = gateway.get("id"), gateway.get("gatewayDirection", "Unspecified")
        ins, outs = len(flows.incoming[gid]), len(flows.outgoing[gid])
        if direction == "Converging" and outs > 1:
            yield gateway, _say("汇聚网关只能有一条出口顺序流", "a converging gateway must not have more than one "
                                "outgoing sequence flow")
        elif direction == "Diverging" and ins > 1:
            yield gateway, _say("分支网关只能有一条入口顺序流", "a diverging gateway must not have more than one "
                                "incoming sequence flow")
        elif direction == "Mixed" and (ins < 2 or outs < 2):
            yield gateway, _say("混合网关须有多条入口和多条出口顺序流", "a mixed gateway must have more than one "
                                "incoming and more than one outgoing sequence flow")
        elif ins < 2 and outs < 2:
            yield gateway, _say("网关须有多条入口或多条出口顺序流，否则它什么也不做，请删除它",
                                "a gateway must have several incoming or several outgoing sequence flows; "
                                "this one does nothing: remove it")


def event_gateways(root: etree._Element) -> Iterator[Finding]:
    """An event-based gateway waits for the first of its events: only catching events and receive tasks,
    each reached only from it, with no conditions on the way."""
    flows, ids = Flows.of(root), references.index(root)
    for gateway in _nodes(root, "eventBasedGateway"):
        outgoing = flows.outgoing[gateway.get("id")]
        if len(outgoing) < 2:
            yield gateway, _say("事件网关须有两条以上出口顺序流", "an event-based gateway must have two or more "
                                "outgoing sequence flows")
        kinds_seen: set[str] = set()
        for flow in outgoing:
            if flow.find(BPMN + "conditionExpression") is not None:
                yield flow, _say("事件网关的出口顺序流不能有条件", "a sequence flow out of an event-based gateway "
                                 "must not have a condition")
            target = ids.get(flow.get("targetRef"))
            if target is None:
                continue
            kind = local(target)
            triggers = trigger_kinds(target, ids) if kind == "intermediateCatchEvent" else set()
            if not (kind == "receiveTask" or (kind == "intermediateCatchEvent" and len(triggers) == 1
                                               and triggers <= EVENT_GATEWAY_TARGETS)):
                yield target, _say("事件网关之后只能是接收任务或消息/定时/信号/条件中间捕获事件",
                                   "an event-based gateway may only lead to a receive task or an intermediate "
                                   "message, timer, signal or conditional catch event")
            elif len(flows.incoming[target.get("id")]) > 1:
                yield target, _say("事件网关之后的节点不能有其他入口顺序流", "an element after an event-based "
                                   "gateway must have no other incoming sequence flow")
            kinds_seen.add("receive" if kind == "receiveTask" else "message" if "message" in triggers else "")
            if kind == "receiveTask" and any(b.get("attachedToRef") == target.get("id")
                                             for b in _nodes(root, "boundaryEvent")):
                yield target, _say("事件网关之后的接收任务不能附有边界事件", "a receive task after an "
                                   "event-based gateway must not have boundary events")
        if {"receive", "message"} <= kinds_seen:
            yield gateway, _say("同一事件网关之后不能同时使用接收任务和消息中间事件",
                                "an event-based gateway must not lead to both receive tasks and message events")


def start_and_end_events(root: etree._Element) -> Iterator[Finding]:
    """Start events only start, end events only end, both carry only the triggers their kind allows."""
    flows, ids = Flows.of(root), references.index(root)
    for event in _nodes(root, "startEvent", "endEvent"):
        eid, kind = event.get("id"), local(event)
        triggers = trigger_kinds(event, ids)
        if kind == "startEvent":
            if flows.incoming[eid]:
                yield event, _say("开始事件不能有入口顺序流", "a start event must not have an incoming sequence flow")
            if not flows.outgoing[eid] and not _in_event_subprocess(event):
                yield event, _say("开始事件须有出口顺序流", "a start event must have an outgoing sequence flow")
            if flows.messages_out[eid]:
                yield event, _say("开始事件不能是消息流的源", "a start event must not be the source of a message flow")
            if flows.messages_in[eid] and "message" not in triggers:
                yield event, _say("消息流指向的开始事件须有消息事件定义", "a start event that a message flow targets "
                                  "must have a message event definition")
            if "error" in triggers and event.get("isInterrupting", "true") == "false":
                yield event, _say("错误开始事件总是中断型的，不能设置 isInterrupting=\"false\"",
                                  "an error start event always interrupts: it must not be isInterrupting=\"false\"")
            parent = event.getparent()
            allowed = (EVENT_SUBPROCESS_TRIGGERS if _in_event_subprocess(event)
                       else ALLOWED_TRIGGERS[kind] if local(parent) == "process" else set())
        else:
            if flows.outgoing[eid]:
                yield event, _say("结束事件不能有出口顺序流", "an end event must not have an outgoing sequence flow")
            if not flows.incoming[eid]:
                yield event, _say("结束事件须有入口顺序流", "an end event must have an incoming sequence flow")
            if flows.messages_in[eid]:
                yield event, _say("结束事件不能是消息流的目标", "an end event must not be the target of a message flow")
            if flows.messages_out[eid] and "message" not in triggers:
                yield event, _say("作为消息流源的结束事件须有消息事件定义", "an end event that is the source of a "
                                  "message flow must have a message event definition")
            allowed = ALLOWED_TRIGGERS[kind]
            if "cancel" in triggers and not _inside(event, "transaction"):
                yield event, _say("取消结束事件只能用在事务子流程中", "a cancel end event is only allowed inside a "
                                  "transaction")
        if triggers - allowed:
            where = ("事件子流程中" if _in_event_subprocess(event) else "流程顶层" if local(event.getparent())
                     == "process" else "嵌入子流程中")
            yield event, _say(
                f"{where}的{'开始' if kind == 'startEvent' else '结束'}事件不能使用 "
                f"{sorted(triggers - allowed)} 事件定义",
                f"a {kind} {'at the top of a process' if where == '流程顶层' else 'here'} must not carry "
                f"{sorted(triggers - allowed)} event definitions")


def _inside(element: etree._Element, kind: str) -> bool:
    parent = element.getparent()
    while parent is not None:
        if local(parent) == kind:
            return True
        parent = parent.getparent()
    return False


def intermediate_and_boundary_events(root: etree._Element) -> Iterator[Finding]:
    flows, ids = Flows.of(root), references.index(root)
    for event in _nodes(root, "intermediateCatchEvent", "intermediateThrowEvent"):
        eid, kind = event.get("id"), local(event)
        triggers = trigger_kinds(event, ids)
        if kind == "intermediateCatchEvent" and not triggers:
            yield event, _say("中间捕获事件须有事件定义：没有触发器它等不到任何东西",
                              "an intermediate catch event needs an event definition: with no trigger it waits "
                              "for nothing")
        if triggers - ALLOWED_TRIGGERS[kind]:
            yield event, _say(f"中间{'捕获' if 'Catch' in kind else '抛出'}事件不能使用 "
                              f"{sorted(triggers - ALLOWED_TRIGGERS[kind])} 事件定义",
                              f"an {kind} must not carry {sorted(triggers - ALLOWED_TRIGGERS[kind])} event definitions")
        link = "link" in triggers
        if link and flows.incoming[eid] and flows.outgoing[eid]:
            yield event, _say("链接事件不能同时有入口和出口顺序流", "a link event must not be both the target and "
                              "the source of sequence flows")
        if not flows.incoming[eid] and not (link and kind == "intermediateCatchEvent"):
            yield event, _say("中间事件须有入口顺序流", "an intermediate event must be the target of a sequence flow")
        if not flows.outgoing[eid] and not (link and kind == "intermediateThrowEvent"):
            yield event, _say("中间事件须有出口顺序流", "an intermediate event must be the source of a sequence flow")
        if kind == "intermediateThrowEvent" and flows.messages_in[eid]:
            yield event, _say("中间抛出事件不能是消息流的目标", "an intermediate throw event must not be the target "
                              "of a message flow")
        if kind == "intermediateCatchEvent" and flows.messages_out[eid]:
            yield event, _say("中间捕获事件不能是消息流的源", "an intermediate catch event must not be the source of "
                              "a message flow")
    for event in _nodes(root, "boundaryEvent"):
        eid, triggers = event.get("id"), trigger_kinds(event, ids)
        interrupting = event.get("cancelActivity", "true") != "false"
        allowed = INTERRUPTING_BOUNDARY if interrupting else NON_INTERRUPTING_BOUNDARY
        if not triggers or triggers - allowed:
            yield event, _say(
                f"{'中断' if interrupting else '非中断'}边界事件须有事件定义且只能是 {sorted(allowed)}",
                f"an {'interrupting' if interrupting else 'non-interrupting'} boundary event needs an event "
                f"definition among {sorted(allowed)}")
        host = ids.get(event.get("attachedToRef", ""))
        if "cancel" in triggers and host is not None and local(host) != "transaction":
            yield event, _say("取消边界事件只能附在事务子流程上", "a cancel boundary event must be attached to a "
                              "transaction")
        if flows.incoming[eid]:
            yield event, _say("边界事件不能有入口顺序流", "a boundary event must not be the target of a sequence flow")
        if "compensate" in triggers:
            if flows.outgoing[eid]:
                yield event, _say("补偿边界事件不能有出口顺序流", "a compensation boundary event must not have an "
                                  "outgoing sequence flow")
        elif not flows.outgoing[eid]:
            yield event, _say("边界事件须有出口顺序流", "a boundary event must be the source of a sequence flow")


def escalations_have_codes(root: etree._Element) -> Iterator[Finding]:
    """A thrown escalation needs an escalation with a code: a catcher matches on it."""
    ids = references.index(root)
    for definition in root.iter(BPMN + "escalationEventDefinition"):
        event = definition.getparent()
        if local(event) not in ("endEvent", "intermediateThrowEvent"):
            continue
        escalation = ids.get(definition.get("escalationRef", ""))
        if escalation is None or not escalation.get("escalationCode"):
            yield event, _say("抛出的升级须引用带 escalationCode 的升级定义",
                              "a thrown escalation must refer to an escalation with an escalationCode")


def links_pair(root: etree._Element) -> Iterator[Finding]:
    """A link throw jumps to the catch of the same name on its own process level."""
    for level in _nodes(root, *LEVELS):
        catches, throws = defaultdict(list), []
        for event in level.iterchildren(BPMN + "intermediateCatchEvent", BPMN + "intermediateThrowEvent"):
            for link in event.iterfind(BPMN + "linkEventDefinition"):
                if local(event) == "intermediateCatchEvent":
                    catches[link.get("name")].append(event)
                else:
                    throws.append((event, link.get("name")))
        for event, name in throws:
            if len(catches.get(name, [])) != 1:
                yield event, _say(f"链接抛出事件 “{name}” 须在同一流程层级恰有一个同名链接捕获事件",
                                  f"the link throw {name!r} needs exactly one link catch event of that name on the "
                                  "same process level")
        thrown = {name for _, name in throws}
        for name, events in catches.items():
            if name not in thrown:
                yield events[0], _say(f"链接捕获事件 “{name}” 没有同名的链接抛出事件",
                                      f"the link catch {name!r} has no link throw event of that name")


def levels_start_and_end(root: etree._Element) -> Iterator[Finding]:
    """On one process level, start and end events come together; with them every node is on a path from a start
    to an end (so nothing waits for a token that never comes, or leaves one behind)."""
    flows = Flows.of(root)
    for level in _nodes(root, *LEVELS):
        if _is_event_subprocess(level) or local(level) == "adHocSubProcess":
            continue
        nodes = [n for n in level if isinstance(n.tag, str) and local(n) in FLOW_NODES]
        starts = [n for n in nodes if local(n) == "startEvent"]
        ends = [n for n in nodes if local(n) == "endEvent"]
        if ends and not starts and not any(n.get("instantiate") == "true" for n in nodes):
            yield ends[0], _say("该流程层级有结束事件却没有开始事件", "this process level has an end event but no "
                                "start event")
        if starts and not ends:
            yield starts[0], _say("该流程层级有开始事件却没有结束事件", "this process level has a start event but no "
                                  "end event")
        for node in nodes:
            kind, nid = local(node), node.get("id")
            exempt = (kind in ("startEvent", "boundaryEvent") or _is_event_subprocess(node)
                      or node.get("isForCompensation") == "true" or "link" in _triggers(node))
            if starts and not exempt and not flows.incoming[nid]:
                yield node, _say("流程有开始事件时，每个节点都须有入口顺序流", "with a start event on its level, every "
                                 "flow node must have an incoming sequence flow")
            exempt = (kind in ("endEvent", "boundaryEvent") or _is_event_subprocess(node)
                      or node.get("isForCompensation") == "true" or "link" in _triggers(node))
            if ends and not exempt and not flows.outgoing[nid]:
                yield node, _say("流程有结束事件时，每个节点都须有出口顺序流", "with an end event on its level, every "
                                 "flow node must have an outgoing sequence flow")


def sequence_flows_stay_on_their_level(root: etree._Element) -> Iterator[Finding]:
    """A sequence flow connects two nodes of one process level; an event subprocess is never connected."""
    ids = references.index(root)
    for flow in root.iter(BPMN + "sequenceFlow"):
        for end in ("sourceRef", "targetRef"):
            node = ids.get(flow.get(end, ""))
            if node is None:
                continue
            if _is_event_subprocess(node):
                yield node, _say("事件子流程不能有顺序流", "an event subprocess must not have incoming or outgoing "
                                 "sequence flows")
            elif node.getparent() is not flow.getparent() and local(node) in FLOW_NODES:
                yield flow, _say(f"顺序流跨越了流程或子流程的边界（{end} “{node.get('id')}” 不在同一层级）",
                                 f"the sequence flow crosses the border of its process or subprocess ({end} "
                                 f"{node.get('id')!r} is on another level)")
        if flow.get("isImmediate") == "false" and executable(flow):
            yield flow, _say("可执行流程中的顺序流不能设 isImmediate=\"false\"",
                             "isImmediate=\"false\" is not allowed in an executable process")


def event_subprocesses(root: etree._Element) -> Iterator[Finding]:
    for sub in _nodes(root, "subProcess"):
        if _is_event_subprocess(sub):
            starts = sub.findall(BPMN + "startEvent")
            if len(starts) != 1:
                yield sub, _say("事件子流程须恰有一个开始事件", "an event subprocess must have exactly one start event")


def processes(root: etree._Element) -> Iterator[Finding]:
    """Process-level rules: no choreography inside, a public process is not executable, no I/O in subprocesses."""
    for level in _nodes(root, *LEVELS):
        for node in level.iterchildren(*(BPMN + kind for kind in CHOREOGRAPHY)):
            yield node, _say("流程或子流程中不能包含编排活动", "a process or subprocess must not contain "
                             "choreography activities")
        if local(level) == "process" and level.get("processType") == "Public" and level.get("isExecutable") == "true":
            yield level, _say("公共流程 processType=\"Public\" 不能标记为可执行",
                              "a public process must not be marked executable")
        if local(level) != "process" and level.find(BPMN + "ioSpecification") is not None:
            yield level, _say("子流程不能有 ioSpecification", "subprocesses must not have an ioSpecification")


def collaborations(root: etree._Element) -> Iterator[Finding]:
    """Message flows join different pools; a participant's multiplicity is a sane range."""
    ids = references.index(root)
    pool_of_process = {p.get("processRef"): p.get("id") for p in root.iter(BPMN + "participant")}

    def pool(element: etree._Element | None) -> str | None:
        while element is not None and local(element) not in ("process", "participant"):
            element = element.getparent()
        if element is None:
            return None
        return element.get("id") if local(element) == "participant" else pool_of_process.get(element.get("id"))

    for flow in root.iter(BPMN + "messageFlow"):
        source, target = ids.get(flow.get("sourceRef", "")), ids.get(flow.get("targetRef", ""))
        if source is not None and target is not None and pool(source) == pool(target):
            yield flow, _say("消息流须连接不同泳池中的元素", "a message flow must connect elements of different pools")
    for element in root.iter(BPMN + "choreography", BPMN + "globalConversation"):
        if element.find(BPMN + "choreographyRef") is not None:
            yield element, _say("编排或全局会话不能引用编排", "a choreography or global conversation must not refer to "
                                "a choreography")
        if local(element) == "globalConversation" and any(
                isinstance(c.tag, str) and local(c) not in ("participant", "messageFlow", "correlationKey",
                                                            "documentation", "extensionElements") for c in element):
            yield element, _say("全局会话只能包含参与者、消息流和关联键", "a global conversation may only contain "
                                "participants, message flows and correlation keys")
    for multiplicity in root.iter(BPMN + "participantMultiplicity"):
        low, high = int(multiplicity.get("minimum", "0")), int(multiplicity.get("maximum", "1"))
        if low < 0 or high < 1 or high < low:
            yield multiplicity.getparent(), _say("参与者多重性须满足 0 ≤ minimum ≤ maximum 且 maximum ≥ 1",
                                                 "participant multiplicity needs 0 ≤ minimum ≤ maximum, maximum ≥ 1")


def messages_are_named(root: etree._Element) -> Iterator[Finding]:
    """In an executable process a message event must say which message: nothing could be correlated to it."""
    for definition in root.iter(BPMN + "messageEventDefinition"):
        event = definition.getparent()
        if local(event) != "definitions" and executable(event) and not definition.get("messageRef"):
            yield event, _say("可执行流程中的消息事件须引用消息 messageRef",
                              "a message event in an executable process must name its message (messageRef)")


def called_processes_start(root: etree._Element) -> Iterator[Finding]:
    """A call activity starts the called process at a none start event, so that process needs one."""
    ids = references.index(root)
    for call in root.iter(BPMN + "callActivity"):
        called = ids.get(call.get("calledElement", ""))
        if called is not None and local(called) == "process" and not any(
                not _triggers(start) and not start.findall(BPMN + "eventDefinitionRef")
                for start in called.iterfind(BPMN + "startEvent")):
            yield call, _say(f"被调用的流程 “{called.get('id')}” 没有空开始事件，调用活动无法启动它",
                             f"the called process {called.get('id')!r} has no none start event to start it at")


def expressions_have_bodies(root: etree._Element) -> Iterator[Finding]:
    """An empty formal expression (a condition, a message path, a transformation…) means nothing."""
    tags = ("conditionExpression", "messagePath", "transformation", "dataPath", "completionCondition",
            "loopCardinality", "timeDate", "timeDuration", "timeCycle", "condition", "activationCondition")
    for expression in root.iter(*(BPMN + tag for tag in tags)):
        if not "".join(expression.itertext()).strip():
            yield owner_of(expression), _say(f"表达式 {local(expression)} 为空",
                                                      f"the {local(expression)} expression is empty")


RULES = (*references.RULES, gateway_directions, event_gateways, start_and_end_events,
         intermediate_and_boundary_events, escalations_have_codes, links_pair, levels_start_and_end,
         sequence_flows_stay_on_their_level, event_subprocesses, processes, collaborations, messages_are_named,
         called_processes_start, expressions_have_bodies, *dataflow.RULES)


def structure_problems(tree: etree._ElementTree, filename: str) -> list[Problem]:
    """Every violation of the connection and reference rules in this document, each found once."""
    seen: set[tuple[int | None, str | None, str]] = set()
    problems: list[Problem] = []
    for rule in RULES:
        for element, message in rule(tree.getroot()):
            key = (element.sourceline if element is not None else None,
                   element.get("id") if element is not None else None, message)
            if key not in seen:
                seen.add(key)
                problems.append(Problem(filename, key[0], key[1], message))
    return problems
