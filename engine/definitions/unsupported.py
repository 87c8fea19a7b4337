"""BPMN that SpiffWorkflow 3.2 parses but does not execute as the specification says — refused.

"Nothing is ever silently ignored": a designer who draws a compensation handler or a complex
gateway must hear at validate and deploy time that it will not behave as drawn, not find out from
a case that went the wrong way.  Each rule is one small function yielding the offending elements
with a message; `find_unsupported` runs them all, so a new rule is one function added to RULES.
Each docstring says what Spiff does instead, as read in its parser and specs and seen by running
a tiny workflow.  A problem names the flow node, sequence flow or data store the designer drew
(the activity, for its loop characteristics; the event, for its event definition) and its line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from lxml import etree

from engine.base.problems import Problem

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
TASKS = ("task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask", "businessRuleTask")
ACTIVITIES = (*TASKS, "subProcess", "callActivity", "transaction", "adHocSubProcess")
EVENTS = ("startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent")

Finding = tuple[etree._Element, str]
Rule = Callable[[etree._Element], Iterator[Finding]]


def _say(zh: str, en: str) -> str:
    """One message: Chinese first, English in parentheses."""
    return f"{zh} ({en})"


def _iter(root: etree._Element, *names: str) -> Iterator[etree._Element]:
    """BPMN elements with these local names, in document order."""
    return root.iter(*(BPMN + name for name in names))


def _triggers(event: etree._Element) -> set[str]:
    """The event's trigger kinds, from its event definitions: {"message"}, {"timer"}, set() for a none event."""
    return {etree.QName(child).localname.removesuffix("EventDefinition") for child in event.iterchildren(etree.Element)
            if child.tag.startswith(BPMN) and child.tag.endswith("EventDefinition")}


def trigger_kinds(event: etree._Element, ids: dict[str, etree._Element]) -> set[str]:
    """The event's triggers, counting the global definitions it references by eventDefinitionRef (`ids`: the
    document's elements by id)."""
    kinds = _triggers(event)
    for ref in event.iterfind(BPMN + "eventDefinitionRef"):
        target = ids.get((ref.text or "").strip())
        if target is not None and isinstance(target.tag, str):
            kinds.add(etree.QName(target).localname.removesuffix("EventDefinition"))
    return kinds


def _with_trigger(root: etree._Element, trigger: str, *kinds: str) -> Iterator[etree._Element]:
    """Events (of these kinds, or of any kind) carrying a `trigger` event definition."""
    for definition in _iter(root, f"{trigger}EventDefinition"):
        event = definition.getparent()
        if etree.QName(event).localname in (kinds or EVENTS):  # not a global definition under <definitions>
            yield event


def _is_event_subprocess(element: etree._Element) -> bool:
    return element.tag == BPMN + "subProcess" and element.get("triggeredByEvent") == "true"


def _event_subprocess_starts(root: etree._Element) -> Iterator[tuple[etree._Element, set[str]]]:
    """Each event subprocess's start event with its triggers (those it references included)."""
    ids = {d.get("id"): d for d in root if isinstance(d.tag, str) and d.tag.endswith("EventDefinition")}
    for sub in _iter(root, "subProcess"):
        if _is_event_subprocess(sub):
            for start in sub.iterfind(BPMN + "startEvent"):
                yield start, trigger_kinds(start, ids)


def _condition(flow: etree._Element) -> str:
    expression = flow.find(BPMN + "conditionExpression")
    return (expression.text or "").strip() if expression is not None else ""


def complex_gateways(root: etree._Element) -> Iterator[Finding]:
    """Spiff has no complex gateway: its activation condition and join rule would never be evaluated."""
    for gateway in _iter(root, "complexGateway"):
        yield gateway, _say(
            "不支持复杂网关 complexGateway：引擎不会按 BPMN 规范执行其激活条件，请改用排他/包容/并行网关",
            "complex gateways are not supported: their activation condition would never be evaluated; "
            "use an exclusive, inclusive or parallel gateway instead")


def compensation_events(root: etree._Element) -> Iterator[Finding]:
    """Spiff reads no compensate definitions: a throw, start or end runs as a none event, a boundary one fails."""
    for event in _with_trigger(root, "compensate"):
        yield event, _say(
            "不支持补偿事件 compensation event：补偿处理永远不会被触发，请把撤销步骤画成流程中的普通任务",
            "compensation events are not supported: no compensation handler would ever run; "
            "model the undo steps as ordinary tasks in the flow")


def compensation_activities(root: etree._Element) -> Iterator[Finding]:
    """A compensation handler has no incoming sequence flow, so Spiff never even parses it, let alone runs it."""
    for activity in _iter(root, *ACTIVITIES):
        if activity.get("isForCompensation") == "true":
            yield activity, _say(
                "不支持补偿活动 isForCompensation：该活动永远不会被执行，请把撤销步骤画进正常流程",
                "compensation activities (isForCompensation) are not supported: this activity would never run; "
                "put the undo steps in the normal flow")


def multi_instance_behaviour(root: etree._Element) -> Iterator[Finding]:
    """Spiff reads neither `behavior` nor complexBehaviorDefinition: it waits for every instance and throws nothing."""
    for loop in _iter(root, "multiInstanceLoopCharacteristics"):
        if loop.find(BPMN + "complexBehaviorDefinition") is not None:
            behaviour = "Complex"
        else:
            behaviour = loop.get("behavior", "All")
        if behaviour != "All":
            yield loop.getparent(), _say(
                f"不支持多实例行为 behavior=\"{behaviour}\"：引擎总是等待全部实例完成，请去掉该设置或改用完成条件",
                f"multi-instance behavior {behaviour!r} is not supported: Spiff always waits for every instance, "
                "as for 'All', and throws no events; remove it or use a completionCondition")


def negative_loop_counts(root: etree._Element) -> Iterator[Finding]:
    """A negative loopMaximum or loopCardinality has no meaning (BPMN asks for a count); Spiff loops without end
    on the one and waits for ever on the other."""
    for loop in _iter(root, "standardLoopCharacteristics"):
        value = loop.get("loopMaximum")
        if value is not None and value.strip().lstrip("-").isdigit() and int(value) < 0:
            yield loop.getparent(), _say(f"loopMaximum=\"{value}\" 不能为负数：请写最大循环次数（0 或以上）或去掉它",
                                         f"a negative loopMaximum ({value}) is not supported: give the most "
                                         "iterations (0 or more) or leave it out")
    for cardinality in _iter(root, "loopCardinality"):
        text = (cardinality.text or "").strip()
        if text.lstrip("-").isdigit() and int(text) < 0:
            yield cardinality.getparent().getparent(), _say(
                f"loopCardinality 为负数（{text}）：多实例活动的实例数须为 0 或以上",
                f"a negative loopCardinality ({text}) is not supported: a multi-instance activity runs 0 or more "
                "instances")


def intermediate_timer_cycles(root: etree._Element) -> Iterator[Finding]:
    """On an intermediate catch event Spiff counts the cycle's repetitions down and then lets one token through:
    the flow after it runs once, after the last repetition, not once per repetition."""
    for definition in _iter(root, "timerEventDefinition"):
        event = definition.getparent()
        if etree.QName(event).localname == "intermediateCatchEvent" and definition.find(BPMN + "timeCycle") is not None:
            yield event, _say(
                "中间定时事件不支持 timeCycle：引擎只会在最后一次重复后放行一次，请改用 timeDuration，"
                "或用非中断定时边界事件的 timeCycle 重复执行",
                "timeCycle on an intermediate timer is not supported: the flow would continue once, after the last "
                "repetition; use a timeDuration, or a non-interrupting boundary timer's cycle to repeat work")


#: task spec names SpiffWorkflow gives its own tasks: an element with such an id is mistaken for them
SPIFF_NAMES = frozenset({"Start", "End", "Root"})


def reserved_ids(root: etree._Element) -> Iterator[Finding]:
    """Spiff names the internal start task of every process `Start` (and its end `End`): a start event with the
    id `Start` replaces that task, so the case starts without its start event's lane — every start fails."""
    for element in root.iter(etree.Element):
        if element.tag.startswith(BPMN) and element.get("id") in SPIFF_NAMES \
                and etree.QName(element).localname in (*ACTIVITIES, *EVENTS, "exclusiveGateway", "inclusiveGateway",
                                                       "parallelGateway", "eventBasedGateway", "complexGateway"):
            yield element, _say(
                f"元素 id 不能是 “{element.get('id')}”：该名称为引擎内部保留，"
                f"请改用其他 id（如 {element.get('id')}Event）",
                f"the id {element.get('id')!r} is not supported: the engine reserves it for its own tasks; rename "
                f"the element (e.g. {element.get('id')}Event)")


def quantities(root: etree._Element) -> Iterator[Finding]:
    """Spiff starts an activity on every arriving token and emits one token: other quantities are ignored."""
    for activity in _iter(root, *ACTIVITIES):
        for attr, zh, en in (("startQuantity", "每到达一个令牌就启动", "starts on every single token"),
                             ("completionQuantity", "完成时只产生一个令牌", "completes with a single token")):
            value = activity.get(attr, "1")
            if value != "1":
                yield activity, _say(
                    f"不支持 {attr}=\"{value}\"：活动{zh}，请保持为 1 并用并行网关表达",
                    f"{attr} other than 1 is not supported: the activity {en}; keep it at 1 and use a parallel "
                    "gateway")


def lone_or_ignored_conditions(root: etree._Element) -> Iterator[Finding]:
    """Conditions on flows out of activities and events run as an implicit split (rewrite.py) when there are
    several flows.  A lone conditional flow would swallow the token when false (BPMN forbids it, EXT.025); a
    condition out of a parallel gateway is ignored by the specification itself, so drawing one misleads."""
    tags = {element.get("id"): etree.QName(element).localname
            for element in root.iter(etree.Element) if element.get("id")}
    leaving: dict[str | None, int] = {}
    for flow in _iter(root, "sequenceFlow"):
        leaving[flow.get("sourceRef")] = leaving.get(flow.get("sourceRef"), 0) + 1
    for flow in _iter(root, "sequenceFlow"):
        source = flow.get("sourceRef")
        if not _condition(flow):
            continue
        if tags.get(source) == "parallelGateway":
            yield flow, _say(
                "并行网关的出口顺序流不能有条件：按 BPMN 规范条件会被忽略、每条流都会执行，请删除条件或改用包容网关",
                "conditions on flows out of a parallel gateway are not supported: BPMN ignores them and takes "
                "every flow; remove it or use an inclusive gateway")
        elif tags.get(source) in (*ACTIVITIES, *EVENTS) and leaving[source] == 1:
            yield flow, _say(
                "活动或事件唯一的出口顺序流不能带条件：条件为假时办件会停在这里，请加一条默认流或改用排他网关",
                "a lone conditional flow out of an activity or event is not supported: when the condition is "
                "false the case would stop there; add a default flow or use an exclusive gateway")


def event_gateway_variants(root: etree._Element) -> Iterator[Finding]:
    """Spiff reads neither eventGatewayType nor instantiate: every event-based gateway is exclusive, mid-flow."""
    for gateway in _iter(root, "eventBasedGateway"):
        if gateway.get("eventGatewayType", "Exclusive") != "Exclusive" or gateway.get("instantiate") == "true":
            yield gateway, _say(
                "不支持并行型或用于实例化的事件网关 eventBasedGateway：引擎总是按排他型执行，"
                "请改用排他型并放在开始事件之后",
                "parallel or instantiating event-based gateways are not supported: Spiff runs every event-based "
                "gateway as exclusive and non-instantiating; use an exclusive one after a start event")


def instantiating_receive_tasks(root: etree._Element) -> Iterator[Finding]:
    """Spiff never reads `instantiate` on a receive task: it only waits mid-flow and never starts a case."""
    for task in _iter(root, "receiveTask"):
        if task.get("instantiate") == "true":
            yield task, _say(
                "不支持用接收任务实例化流程 instantiate=\"true\"：请改用消息开始事件",
                "instantiating receive tasks are not supported: the task would only wait mid-flow; "
                "start the process with a message start event instead")


def message_tasks_without_message(root: etree._Element) -> Iterator[Finding]:
    """With no message Spiff gives a send or receive task a none event: the receive task does not wait and the send
    task sends nothing, so the drawn wait or notification silently does not happen."""
    for task in _iter(root, "sendTask", "receiveTask"):
        if task.get("messageRef") is None and task.find(BPMN + "messageEventDefinition") is None:
            yield task, _say(
                "发送/接收任务 sendTask/receiveTask 未指定消息：接收任务不会等待、发送任务不会发出消息，请为其设置消息",
                "send and receive tasks without a message are not supported: the receive task would not wait and "
                "the send task would send nothing; set its message")


def conditional_events(root: etree._Element) -> Iterator[Finding]:
    """Spiff evaluates a conditional catch or boundary event once, on arrival, and tongban re-checks only timers,
    so a later data change never fires it; a conditional event subprocess is never started at all."""
    for event in _with_trigger(root, "conditional"):
        yield event, _say(
            "不支持条件事件 conditional event：引擎只在到达时检查一次条件，之后的数据变化不会触发它，"
            "请改用排他网关或定时器",
            "conditional events are not supported: the condition is checked only once, when the event is reached, "
            "and never again; use an exclusive gateway or a timer instead")


def triggered_starts_in_subprocesses(root: etree._Element) -> Iterator[Finding]:
    """BPMN allows only a none start in an embedded subprocess; Spiff makes the subprocess wait for the trigger."""
    for sub in _iter(root, "subProcess", "transaction"):
        if _is_event_subprocess(sub):
            continue
        for start in sub.iterfind(BPMN + "startEvent"):
            kinds = "/".join(sorted(_triggers(start) & {"message", "signal", "timer"}))
            if kinds:
                yield start, _say(
                    f"嵌入子流程只能用空开始事件：{kinds} 开始事件会让子流程停在开始处等待，"
                    "请改用空开始事件加中间捕获事件",
                    f"{kinds} start events in an embedded subprocess are not supported: the subprocess would wait "
                    "at its start; use a none start event followed by an intermediate catch event")


def untriggered_event_subprocesses(root: etree._Element) -> Iterator[Finding]:
    """Spiff connects an event subprocess whose start has no trigger straight to the case start: it runs at once."""
    for start, kinds in _event_subprocess_starts(root):
        if not kinds:
            yield start, _say(
                "事件子流程的开始事件必须有触发器：没有事件定义时引擎会在办件开始时立即执行它，"
                "请设置消息、信号、定时、错误或升级事件定义",
                "an event subprocess start event without a trigger is not supported: Spiff would run the event "
                "subprocess as soon as the case starts; give it a message, signal, timer, error or escalation "
                "definition")


def interrupting_timer_cycles(root: etree._Element) -> Iterator[Finding]:
    """An interrupting event subprocess starts once, but on a timeCycle Spiff runs the handler at every repetition
    and counts the start as fired only after the last: the scope would be interrupted at the end, not at the
    first firing."""
    for start, kinds in _event_subprocess_starts(root):
        if "timer" in kinds and start.get("isInterrupting", "true") != "false" \
                and start.find(f"{BPMN}timerEventDefinition/{BPMN}timeCycle") is not None:
            yield start, _say(
                "中断型事件子流程的定时开始事件不支持 timeCycle：中断只发生一次，请改用 timeDuration/timeDate，"
                "或设为非中断（isInterrupting=\"false\"）以重复执行",
                "timeCycle on the timer start of an interrupting event subprocess is not supported: it interrupts "
                "once; use a timeDuration or timeDate, or make it non-interrupting to repeat the handler")


def multiple_trigger_event_subprocesses(root: etree._Element) -> Iterator[Finding]:
    """Spiff starts an event subprocess only on an event equal to its start's definition: a start with several
    definitions (a multiple start event) is never equal to any one thrown event, so it would never start."""
    for start, kinds in _event_subprocess_starts(root):
        if len(kinds) > 1:
            yield start, _say(
                "事件子流程的开始事件只能有一个触发器：多重开始事件永远不会被触发，请为每种事件各画一个事件子流程",
                "an event subprocess start event with several triggers is not supported: it would never be "
                "triggered; draw one event subprocess per trigger")


def ad_hoc_subprocesses(root: etree._Element) -> Iterator[Finding]:
    """Spiff 3.2 looks for `ordering` and `cancelRemainingInstances` as bpmn-namespaced attributes, so both are
    ignored; it crashes without a completionCondition, and even a one-task ad-hoc subprocess with one failed to
    start (KeyError 'data_objects') when tried."""
    for sub in _iter(root, "adHocSubProcess"):
        yield sub, _say(
            "不支持临时子流程 adHocSubProcess：引擎会忽略其顺序与取消设置且可能无法启动，请改用嵌入子流程加包容网关",
            "ad-hoc subprocesses are not supported: Spiff ignores their ordering and cancellation settings and may "
            "fail to start them; use an embedded subprocess with an inclusive gateway")


def data_stores(root: etree._Element) -> Iterator[Finding]:
    """tongban registers no data store implementation with Spiff, so nothing is ever read from or written to one
    (Spiff itself rejects only a dataStore definition, in English and without a line; a bare reference passes)."""
    for store in _iter(root, "dataStore", "dataStoreReference"):
        yield store, _say(
            "不支持数据存储 dataStore：平台没有数据存储实现，请改用流程变量或服务任务",
            "data stores are not supported: the platform has no data store implementation; keep the data in "
            "process variables or use a service task")


RULES: tuple[Rule, ...] = (
    complex_gateways,
    compensation_events,
    compensation_activities,
    multi_instance_behaviour,
    quantities,
    negative_loop_counts,
    intermediate_timer_cycles,
    reserved_ids,
    lone_or_ignored_conditions,
    event_gateway_variants,
    instantiating_receive_tasks,
    message_tasks_without_message,
    conditional_events,
    triggered_starts_in_subprocesses,
    untriggered_event_subprocesses,
    interrupting_timer_cycles,
    multiple_trigger_event_subprocesses,
    ad_hoc_subprocesses,
    data_stores,
)


def find_unsupported(tree: etree._ElementTree, filename: str) -> list[Problem]:
    """Every BPMN construct in this document that SpiffWorkflow 3.2 parses but does not execute as the spec says."""
    root = tree.getroot()
    return [Problem(filename, element.sourceline, element.get("id"), message)
            for rule in RULES for element, message in rule(root)]
