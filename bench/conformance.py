"""BPMN conformance: the betsy suite's executable tests and constraint-violation models, run through tongban.

betsy (github uniba-dsg/betsy, LGPL-3.0; its BPMN models, expected traces and the BPMNspector rule ids
EXT001… of its constraint models) is read from a git mirror, never vendored:

    python bench/conformance.py [--betsy GITDIR] [--only executable|constraints] [-v] [-k NAME]

* constraints — each of the 301 models under bpmn_constraints/ violates one rule; it counts as rejected
  when `validate` reports at least one error for it (as the only file of a workspace beside roles.yaml).
* executable — each of the 136 models with a log script is deployed and run as tongban runs a case, one
  case per betsy test case: the model is adapted as a tongban designer would draw it (the start event in
  the applicant's lane, timer values quoted, betsy's Java conditions `test.contains("a")` written as
  Python `"a" in test`, each marker script as an assignment, its signals and messages named after the test
  — betsy deploys each test alone, all of them share one database here, and a signal reaches every process
  whose start event catches it); the case is started with betsy's inputs
  (`test`, `integerVariable`, `testCaseNumber`) — after its partner processes' cases when betsy runs them in
  parallel — and driven by the timer sweep while the clock travels
  one second at a time, up to 60 s (plus the test's delay).  betsy's scripts that sleep ten seconds are
  drawn as a tongban designer draws work that takes time — a ten-second timer of the same id (tongban's
  scripts are bounded and instant); two of them overlapping give `EXECUTION_parallel`.  Its trace is that
  of every case the test made (the cases its messages and signals started too): each completed run of a
  marker script in the task tree gives `SCRIPT_taskN` (loops, multi-instance children and the branches a
  cycle timer starts each count), a case in `error` gives `ERROR_runtime`/`ERROR`, an uncaught error or escalation
  recorded as such gives `ERROR_thrownErrorEvent`/`ERROR_thrownEscalationEvent`, a refusal at deploy
  `ERROR_deployment`.  A test passes when every case's trace equals betsy's expected one as a multiset,
  is *refused* when tongban refuses the model (with a message) and betsy expected it to run, and is
  *wrong* when the case ran and its trace differs — the figure that must stay 0.

Run by hand; this is not a test (tests/definitions/test_conformance*.py hold the vendored few).
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as `python bench/conformance.py`: bench/ must not shadow the `engine` package
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import re
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

from lxml import etree
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.task import TaskState
from sqlalchemy import select

from engine.background import timers
from engine.base import clock
from engine.base.errors import DefinitionInvalid, TongbanError
from engine.base.problems import errors_in
from engine.base.settings import Settings
from engine.definitions.catalogue import RoleCatalogue
from engine.definitions.registry import deploy, validate
from engine.design.demo import DEMO_ORGS, DEMO_USERS
from engine.people.accounts import add_user, ensure_org
from engine.runtime.runtime import Runtime
from engine.store.db import Database
from engine.store.models import Instance

ROOT = Path(__file__).resolve().parent.parent
BETSY = Path("/work/.mirror/uniba-dsg+betsy/repo")
FILES = "pebl-builder/src/main/resources/files/bpmn/"
CONFIG = "pebl-builder/src/main/java/configuration/bpmn/"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"
START_FORM = "betsy_start.json"
OPEN_FORM = b'{"type": "object", "additionalProperties": true}'
ROLES = (ROOT / "processes" / "roles.yaml").read_bytes()
APPLICANT_LANE, APPLICANT = "申请人", "haiyun"
INPUTS = {"inputA": "a", "inputB": "b", "inputC": "c", "inputAB": "ab", "inputAC": "ac", "inputBC": "bc",
          "inputABC": "abc"}
ASSERTIONS = {"assertTask1": "SCRIPT_task1", "assertTask2": "SCRIPT_task2", "assertTask3": "SCRIPT_task3",
              "assertTask4": "SCRIPT_task4", "assertTask5": "SCRIPT_task5", "assertMarkerExists": "MARKER_exists",
              "assertIncrement": "INCREMENT_correct", "assertRuntimeException": "ERROR_runtime",
              "assertErrorThrownErrorEvent": "ERROR_thrownErrorEvent",
              "assertErrorThrownEscalationEvent": "ERROR_thrownEscalationEvent",
              "assertGenericError": "ERROR", "assertExecutionParallel": "EXECUTION_parallel",
              "assertDataCorrect": "DATA_correct", "assertDeploymentFailed": "ERROR_deployment",
              "assertProcessAborted": "ERROR_processAborted"}
#: betsy's marker scripts, as tongban scripts: each changes the data, so its run is on the case's record
SCRIPTS = {"SET_STRING_DATA": 'data = "String"', "INCREMENT_INTEGER_VARIABLE": "integerVariable = integerVariable + 1",
           "INCREMENT_INTEGER_VARIABLE_AND_LOG": "integerVariable = integerVariable + 1",
           "THROW_ERROR": "failed = 1 / 0",
           "CREATE_MARKER_FILE": "marker_created = True"}  # needs no earlier data: a message-started case has none
COUNTING = "betsy_runs = betsy_runs + 1"
#: betsy's scripts that log a time stamp, sleep, and log another: the parallel gateway test checks they overlap
STAMPS = ("CREATE_TIMESTAMP_LOG_1", "CREATE_TIMESTAMP_LOG_2")
WAIT = timedelta(seconds=10)  # how long betsy's sleeping scripts sleep


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(BETSY), *args], capture_output=True, text=True, check=True).stdout


def show(path: str) -> bytes:
    return subprocess.run(["git", "-C", str(BETSY), "show", f"HEAD:{path}"], capture_output=True, check=True).stdout


# -- betsy's expectations ------------------------------------------------------------------------------
@dataclass
class Case:
    test: str = ""
    integer: int = 0
    delay_ms: int = 0
    parallel: bool = False
    expected: list[str] = field(default_factory=list)


def expectations() -> dict[str, list[Case]]:
    """model name → its test cases, read from betsy's Java configuration (BPMNTestCaseBuilder chains)."""
    found: dict[str, list[Case]] = {}
    for name in git("ls-tree", "--name-only", "HEAD", CONFIG).split():
        source = re.sub(r"//[^\n]*", "", show(name).decode())
        for match in re.finditer(r"BPMNProcessBuilder\.build\w+\(\s*\"(\w+)\"", source):
            depth, end = 0, match.end()
            for end in range(match.start(), len(source)):
                depth += {"(": 1, ")": -1}.get(source[end], 0)
                if depth == 0 and source[end] == ")":
                    break
            body = source[match.end():end]
            cases = []
            for chain in re.finditer(r"new BPMNTestCaseBuilder\(\)((?:\s*\.\w+\([^()]*\))*)", body):
                case = Case()
                for call, arg in re.findall(r"\.(\w+)\(([^()]*)\)", chain[1]):
                    if call in INPUTS:
                        case.test = INPUTS[call]
                    elif call in ASSERTIONS:
                        case.expected.append(ASSERTIONS[call])
                    elif call == "setIntegerVariable":
                        case.integer = int(arg)
                    elif call == "optionDelay":
                        case.delay_ms = int(arg)
                    elif call == "useParallelProcess":
                        case.parallel = True
                cases.append(case)
            found[match[1]] = cases
    return found


# -- the model, drawn as a tongban designer would -----------------------------------------------------------
def condition(text: str) -> str:
    """betsy's Java/JUEL condition as a tongban (Python) expression."""
    text = re.sub(r"(\w+)\.contains\((\"[^\"]*\")\)", r"\2 in \1", text.strip())
    text = re.sub(r"\btrue\b", "True", re.sub(r"\bfalse\b", "False", text))
    return re.sub(r"!(?!=)", "not ", text).replace("&&", " and ").replace("||", " or ")


def waiting(task: etree._Element) -> None:
    """A script task that sleeps (betsy's `Thread.sleep` of ten seconds) as a tongban designer draws work that
    takes time: a timer catch event of the same id and flows — tongban's scripts are bounded and instant."""
    task.tag = BPMN + "intermediateCatchEvent"
    for child in [c for c in task if etree.QName(c).localname not in ("incoming", "outgoing")]:
        task.remove(child)
    timer = etree.SubElement(task, BPMN + "timerEventDefinition", id=f"{task.get('id')}_wait")
    etree.SubElement(timer, BPMN + "timeDuration").text = f'"PT{WAIT.seconds}S"'
    for attribute in [a for a in task.attrib if a not in ("id", "name")]:
        del task.attrib[attribute]


def adapt(data: bytes, key: str) -> tuple[bytes, dict[str, str]]:
    """The model with tongban scripts, conditions and timer values; returns it and element id → marker."""
    root = etree.fromstring(data)
    markers: dict[str, str] = {}
    for script in list(root.iter(BPMN + "script")):
        marker, task = (script.text or "").strip(), script.getparent()
        if marker.startswith("SCRIPT_") or marker in ("CREATE_MARKER_FILE", "LOG_DATA", "WAIT_TEN_SECONDS",
                                                      "INCREMENT_INTEGER_VARIABLE_AND_LOG", *STAMPS):
            markers[task.get("id")] = marker
        if marker in ("WAIT_TEN_SECONDS", *STAMPS):
            waiting(task)
        else:
            script.text = SCRIPTS.get(marker, COUNTING) if marker != "LOG_DATA" else COUNTING
    for tag in ("conditionExpression", "condition", "loopCondition", "completionCondition"):
        for expression in root.iter(BPMN + tag):
            expression.text = condition(expression.text or "")
    for tag in ("timeDuration", "timeDate", "timeCycle"):
        for expression in root.iter(BPMN + tag):
            value = (expression.text or "").strip()
            if value and not value.startswith(("'", '"')):
                expression.text = f'"{value}"'
    for item in (*root.iterfind(BPMN + "signal"), *root.iterfind(BPMN + "message")):
        item.set("name", f"{key}.{item.get('name') or item.get('id')}")  # one test's throws reach no other test
    for process in root.iterfind(BPMN + "process"):  # the case's, and its partners' (messages, signals)
        starts = [s.get("id") for s in process.iterfind(BPMN + "startEvent")]
        lanes = list(process.iter(BPMN + "lane"))
        holding = [lane for lane in lanes if {(r.text or "").strip() for r in lane.iterfind(BPMN + "flowNodeRef")}
                   & set(starts)]
        for start in process.iterfind(BPMN + "startEvent"):  # the inputs come in through an open start form
            extensions = etree.Element(BPMN + "extensionElements")
            props = etree.SubElement(extensions, SPIFF + "properties")
            etree.SubElement(props, SPIFF + "property", name="formJsonSchemaFilename", value=START_FORM)
            start.insert(0, extensions)
        if holding:
            for lane in holding:
                lane.set("name", APPLICANT_LANE)
        elif not lanes:
            lane_set = etree.Element(BPMN + "laneSet", id=f"betsy_lanes_{process.get('id')}")
            lane = etree.SubElement(lane_set, BPMN + "lane", id=f"betsy_applicant_{process.get('id')}",
                                    name=APPLICANT_LANE)
            for start in starts:
                etree.SubElement(lane, BPMN + "flowNodeRef").text = start
            before = ("documentation", "extensionElements", "supportedInterfaceRef", "ioSpecification", "ioBinding",
                      "auditing", "monitoring", "property")  # the XSD's order: a lane set comes after these
            heads = [i for i, child in enumerate(process)
                     if isinstance(child.tag, str) and etree.QName(child).localname in before]
            process.insert(heads[-1] + 1 if heads else 0, lane_set)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8"), markers


def workspace(key: str, model: bytes, others: list[str]) -> dict[str, bytes]:
    """The model as one process folder, and a process.yaml beside it for each other process it holds (the
    partner a message or signal goes to or comes from)."""
    files = {"processes/roles.yaml": ROLES, f"processes/{key}/{key}.bpmn": model, f"forms/{START_FORM}": OPEN_FORM}
    for number, process in enumerate([key, *others]):
        code = "BTS" if process == key else f"BT{number}"
        files[f"processes/{process}/process.yaml"] = (f"key: {process}\ncode: {code}\n"
                                                     f"name: {{zh: {process}, en: {process}}}\n").encode()
    return files


# -- running ---------------------------------------------------------------------------------------------
def trace(runtime: Runtime, instance: int, markers: dict[str, str]) -> list[str]:
    view = runtime.instance(instance, runtime.actor("admin"), detail=True)
    out: list[str] = []
    with runtime.db.reading() as conn:  # a multi-instance's runs: its children, whose data the history merges
        row, _, compiled = runtime._load(conn, instance, runtime.actor("admin"))
        workflow = runtime._workflow(row, compiled)
        began, ended = conn.execute(select(Instance.created_at, Instance.ended_at).where(Instance.id == instance)).one()
    # every run of a marker script is a completed task in the tree (loops, multi-instance children and the
    # branches a non-interrupting cycle timer starts each add one); the history's data changes would miss a
    # run that leaves the case data as an earlier one did
    runs = Counter(t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED)
                   if not isinstance(t.task_spec, LoopTask))  # a loop's runs are its children, not the loop
    for element, count in runs.items():
        if markers.get(element, "").startswith("SCRIPT_"):
            out.extend([markers[element]] * count)
    for event in view.events or []:
        marker = markers.get(event.get("element_id") or "")
        if event["kind"] == "data_changed" and marker:
            if marker == "CREATE_MARKER_FILE" and "MARKER_exists" not in out:
                out.append("MARKER_exists")
            elif marker == "LOG_DATA" and (view.data or {}).get("data") == "String":
                out.append("DATA_correct")
            elif marker == "INCREMENT_INTEGER_VARIABLE_AND_LOG":
                out.append("INCREMENT_correct")
        if event["kind"] == "error":
            message = (event.get("detail") or {}).get("message", "")
            out.append("ERROR_thrownErrorEvent" if "错误结束" in message or "error end" in message else
                       "ERROR_thrownEscalationEvent" if "escalation" in message else "ERROR_runtime")
    stamped = [e for e, m in markers.items() if m in STAMPS]
    if stamped and all(runs[e] for e in stamped) and ended is not None and ended - began < WAIT * len(stamped):
        # the sleeping scripts, drawn as waits (`waiting`), overlapped: the branches ran side by side
        out.append("EXECUTION_parallel")
    if view.status == "error" and not any(o.startswith("ERROR") for o in out):
        out.append("ERROR")
    return out


def run_case(runtime: Runtime, key: str, case: Case, number: int, markers: dict[str, str],
             partners: list[str]) -> list[str]:
    """One betsy test case: its partner processes first when it runs them in parallel (they wait for what the
    case sends), then the case; the trace is that of every case the test made, those its messages started too."""
    data = {"test": case.test, "integerVariable": case.integer, "testCaseNumber": number, "betsy_runs": 0}
    admin = runtime.actor("admin")
    try:
        started = [runtime.start(p, data, runtime.actor(APPLICANT)) for p in (partners if case.parallel else [])]
        started.append(runtime.start(key, data, runtime.actor(APPLICANT)))
    except TongbanError as exc:
        return [f"ERROR_start: {exc}"]
    first = min(v.id for v in started)
    waited = timedelta(0)
    while waited < timedelta(seconds=60, milliseconds=case.delay_ms):
        made = [v.id for v in runtime.instances(admin) if v.id >= first]
        if all(runtime.instance(i, admin).status != "running" for i in made):
            break
        clock.travel(timedelta(seconds=1))
        waited += timedelta(seconds=1)
        timers.sweep(runtime)
    made = sorted(v.id for v in runtime.instances(admin) if v.id >= first)
    return [marker for instance in made for marker in trace(runtime, instance, markers)]


def executable(verbose: bool, only: str | None) -> Counter[str]:
    cases = expectations()
    names = sorted(n for n in git("ls-tree", "-r", "--name-only", "HEAD", FILES).split()
                   if n.endswith(".bpmn") and "bpmn_constraints" not in n and b"CREATE_LOG_FILE" in show(n))
    figures: Counter[str] = Counter()
    with tempfile.TemporaryDirectory(prefix="tongban-conformance-") as tmp:
        db = Database(f"sqlite:///{tmp}/conformance.db")
        db.upgrade()
        catalogue = RoleCatalogue.from_yaml(ROLES)
        with db.write() as session:
            for code, name, kind, credit in DEMO_ORGS:
                ensure_org(session, code, name, kind, credit)
            for username, org, roles in DEMO_USERS:
                add_user(session, catalogue, username, org, roles)
        settings = Settings(instance_dir=Path(tmp), database_url=db.url, processes_dir=Path(tmp),
                            forms_dir=Path(tmp), district="370202", timezone=ZoneInfo("Asia/Shanghai"))
        runtime = Runtime(db, settings)
        with runtime.context.entered():
            for name in names:
                key = Path(name).stem
                if only and only not in key:
                    continue
                verdict, detail = judge(runtime, key, show(name), cases.get(key, []))
                figures[verdict] += 1
                if verdict != "pass" or verbose:
                    print(f"{verdict:8} {key}: {detail}")
        db.dispose()
    return figures


def judge(runtime: Runtime, key: str, data: bytes, cases: list[Case]) -> tuple[str, str]:
    """pass / refused / wrong / errored, and why."""
    model, markers = adapt(data, key)
    # betsy's generic "ERROR" is met by any error: a refusal at deploy or a case in error
    expects_refusal = bool(cases) and all({"ERROR_deployment", "ERROR"} & set(c.expected) for c in cases)
    root = etree.fromstring(data)
    called = {c.get("calledElement") for c in root.iter(BPMN + "callActivity")}
    others = [p.get("id") for p in root.iterfind(BPMN + "process") if p.get("id") not in (key, *called)]
    try:
        deploy(runtime.db, workspace(key, model, others), by="conformance")
    except DefinitionInvalid as exc:
        first = errors_in(exc.problems)[0] if errors_in(exc.problems) else None
        return ("pass" if expects_refusal else "refused"), f"{first.element_id}: {first.message}" if first else ""
    if any("ERROR_deployment" in c.expected for c in cases):
        return "wrong", "deployed, betsy expects it refused"
    partners = [p for p in others if _plainly_started(root, p)]
    for number, case in enumerate(cases, 1):
        try:
            got = run_case(runtime, key, case, number, markers, partners)
        except Exception as exc:  # a crash is a finding of its own, reported with the test
            return "errored", f"case {number}: {type(exc).__name__}: {exc}"
        if case.expected == ["ERROR"] and any(g.startswith("ERROR") for g in got):
            continue
        if "MARKER_exists" not in case.expected:  # betsy checks the marker file only when a test asks
            got = [g for g in got if g != "MARKER_exists"]
        if sorted(got) != sorted(case.expected):
            return "wrong", f"case {number} (test={case.test!r}): got {sorted(got)}, expected {sorted(case.expected)}"
    return "pass", ""


def _plainly_started(root: etree._Element, process: str) -> bool:
    """Whether a process starts by a none start event (a partner the test starts), not by a message or signal."""
    element = root.find(f"{BPMN}process[@id='{process}']")
    return element is not None and any(
        not [c for c in start if etree.QName(c).localname.endswith("EventDefinition")]
        for start in element.iterfind(BPMN + "startEvent"))


def constraints(verbose: bool) -> Counter[str]:
    names = sorted(n for n in git("ls-tree", "-r", "--name-only", "HEAD", FILES + "bpmn_constraints").split()
                   if n.endswith(".bpmn"))
    figures: Counter[str] = Counter()
    for name in names:
        problems = errors_in(validate({"processes/roles.yaml": ROLES, "processes/t/m.bpmn": show(name)}))
        figures["rejected" if problems else "accepted"] += 1
        if verbose or not problems:
            where = f"{problems[0].element_id}:{problems[0].line} {problems[0].message}" if problems else ""
            print(f"{'rejected' if problems else 'ACCEPTED'} {Path(name).parent.name}/{Path(name).stem} {where}")
    return figures


def main() -> None:
    global BETSY
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--betsy", type=Path, default=BETSY, help="a git directory of github uniba-dsg/betsy")
    parser.add_argument("--only", choices=("executable", "constraints"))
    parser.add_argument("-k", help="only executable models whose name contains this")
    parser.add_argument("-v", action="store_true", help="print every model, not only the failing ones")
    args = parser.parse_args()
    BETSY = args.betsy
    if args.only != "constraints":
        figures = executable(args.v, args.k)
        print(f"executable: {figures['pass']} pass, {figures['refused']} refused, {figures['wrong']} wrong, "
              f"{figures['errored']} errored of {sum(figures.values())}")
    if args.only != "executable" and not args.k:
        figures = constraints(args.v)
        print(f"constraints: {figures['rejected']} rejected, {figures['accepted']} accepted of "
              f"{sum(figures.values())}")


if __name__ == "__main__":
    main()
