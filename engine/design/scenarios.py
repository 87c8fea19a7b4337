"""Executable scenarios for process designers (`tongban test`), with flow coverage.

A scenario (YAML, `processes/<folder>/scenarios/*.yaml`) starts a case as a role, completes tasks as
roles, jumps the controllable clock, delivers messages, scripts what outside systems answer service
tasks (`services:`) and states what must hold at the end. The
runner plays them against a throw-away database with the whole workspace deployed, one user per
(role, organisation) made on demand, and records which sequence flows and flow nodes every case
took, so designers see which paths no scenario exercises.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from SpiffWorkflow.task import TaskState
from sqlalchemy import select

from engine.background import timers
from engine.base import clock, workdays
from engine.base.errors import FormInvalid, NotFound, TongbanError
from engine.base.settings import Settings
from engine.base.vocabulary import ENDED, InstanceStatus, OrgKind, Outcome, TimerKind
from engine.base.xmlsafe import parse_xml
from engine.bpmn import state
from engine.bpmn.services import ScriptedReplies
from engine.case.attachments import add_attachment, add_draft
from engine.definitions.catalogue import RoleCatalogue
from engine.definitions.compiler import BPMN_NS
from engine.definitions.organisations import organisations_in
from engine.definitions.registry import deploy
from engine.definitions.workspace import ROLES_PATH, Files
from engine.design.demo import DEMO_ORGS, demo_orgs
from engine.people.access import Actor
from engine.people.accounts import add_user, ensure_org, load_actor
from engine.runtime.runtime import SYSTEM, Runtime
from engine.store.db import Database
from engine.store.models import Instance

#: What a scenario's file fields upload: the smallest PDF the upload checks accept.
PLACEHOLDER_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

_DATA = {"type": "object"}
_AS = {"type": "string", "minLength": 1}
_FIELDS = {"type": "object", "required": ["fields"], "additionalProperties": False,
           "properties": {"fields": {"type": "array", "items": {"type": "string", "pattern": "^/"}}}}
_STEP = {"oneOf": [
    {"type": "object", "required": ["complete", "as"], "additionalProperties": False,
     "properties": {"complete": _AS, "as": _AS, "data": _DATA, "expect_error": _FIELDS}},
    {"type": "object", "required": ["advance"], "additionalProperties": False,
     "properties": {"advance": {"type": "string",
                                "pattern": r"^(\d+ (workdays?|days?|hours?|minutes?)|\d{4}-\d\d-\d\dT.+)$"}}},
    {"type": "object", "required": ["expect_tasks"], "additionalProperties": False,
     "properties": {"expect_tasks": {"type": "array", "items": _AS}}},
    {"type": "object", "required": ["message"], "additionalProperties": False,
     "properties": {"message": {"type": "object", "required": ["name"], "additionalProperties": False,
                                "properties": {"name": _AS, "data": {}}}}},
]}
_REPLY = {"oneOf": [
    {"type": "object", "required": ["reply"], "additionalProperties": False, "properties": {"reply": {}}},
    {"type": "object", "required": ["fail"], "additionalProperties": False,
     "properties": {"fail": {"enum": ["unavailable", "refused"]}, "message": {"type": "string"}}},
]}
SCHEMA = {
    "type": "object", "required": ["name", "process", "start", "expect"], "additionalProperties": False,
    "properties": {
        "name": _AS, "process": _AS, "clock": {"type": "string"},
        "services": {"type": "object", "additionalProperties": {"type": "array", "items": _REPLY}},
        "start": {"type": "object", "required": ["as"], "additionalProperties": False,
                  "properties": {"as": _AS, "data": _DATA, "expect_error": _FIELDS}},
        "steps": {"type": "array", "items": _STEP},
        "expect": {"type": "object", "additionalProperties": False, "properties": {
            "status": {"enum": list(InstanceStatus)},
            "outcome": {"enum": list(Outcome)},
            "data": _DATA,
            "documents": {"type": "array", "items": {
                "type": "object", "required": ["name"], "additionalProperties": False,
                "properties": {"name": _AS, "contains": {"type": "array", "items": {"type": "string"}}}}}}},
    },
}
_VALIDATOR = Draft202012Validator(SCHEMA)
#: task states meaning the element was reached (not merely predicted by SpiffWorkflow)
_REACHED = TaskState.COMPLETED | TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
_SCENARIO_ENTERPRISE = ("ent_scenario", "青岛场景测试有限公司", "enterprise", "91370202MA3C4XY01E")


class ScenarioInvalid(TongbanError):
    """A scenario file that is not a scenario: which file, which step, what is wrong."""

    code = "scenario_invalid"
    status = 422


class ScenarioFailed(AssertionError):
    """What the scenario expected and what happened instead, at which step."""


@dataclass(frozen=True)
class Scenario:
    path: str
    name: str
    process: str
    spec: dict[str, Any]


def load(path: Path, label: str | None = None) -> Scenario:
    """Parse and check one scenario file; ScenarioInvalid names the file and the offending step."""
    label = label or str(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=workdays.TextDatesLoader)  # dates stay text
    except yaml.YAMLError as exc:
        raise ScenarioInvalid(f"{label}: 不是有效的 YAML (not valid YAML): {exc}") from None
    problems = sorted(_VALIDATOR.iter_errors(raw), key=lambda e: list(e.absolute_path))
    if problems:
        fields = {"/" + "/".join(map(str, e.absolute_path)): [e.message] for e in problems}
        where = ", ".join(fields)
        raise ScenarioInvalid(f"{label}: 场景格式错误 (malformed scenario at {where})", fields)
    return Scenario(label, raw["name"], raw["process"], raw)


def discover(root: Path) -> list[Path]:
    """Scenario files under a processes tree, a process folder, or the file itself."""
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*.yaml") if "scenarios" in p.relative_to(root).parts
                  or p.parent.name == "scenarios")


# -- flow coverage ------------------------------------------------------------------------------

@dataclass
class Coverage:
    """Sequence flows and flow nodes of one process, and which of them any scenario's case took."""

    flows: dict[str, tuple[str, str]]  # flow id → (source, target)
    nodes: set[str]
    flows_taken: set[str] = field(default_factory=set)
    nodes_visited: set[str] = field(default_factory=set)

    @property
    def flow_ratio(self) -> float:
        return len(self.flows_taken) / len(self.flows) if self.flows else 1.0

    @property
    def node_ratio(self) -> float:
        return len(self.nodes_visited) / len(self.nodes) if self.nodes else 1.0

    def missed_flows(self) -> list[str]:
        return sorted(set(self.flows) - self.flows_taken)

    def missed_nodes(self) -> list[str]:
        return sorted(self.nodes - self.nodes_visited)


_NOT_NODES = {"laneSet", "lane", "sequenceFlow", "dataObject", "dataObjectReference", "dataStoreReference",
              "textAnnotation", "association", "extensionElements", "ioSpecification", "property"}


def process_graph(files: Files, process_id: str) -> Coverage:
    """The flows and nodes of one BPMN process (including its embedded subprocesses)."""
    for path, content in files.items():
        if not path.endswith(".bpmn"):
            continue
        for process in parse_xml(content, path).iter(f"{{{BPMN_NS}}}process"):
            if process.get("id") != process_id:
                continue
            flows = {f.get("id"): (f.get("sourceRef"), f.get("targetRef"))
                     for f in process.iter(f"{{{BPMN_NS}}}sequenceFlow")}
            nodes = {e.get("id") for e in process.iter() if isinstance(e.tag, str) and e.get("id")
                     and e.tag.startswith(f"{{{BPMN_NS}}}") and e.tag.split("}")[1] not in _NOT_NODES
                     and e.getparent() is not None and e.tag != f"{{{BPMN_NS}}}process"
                     and e.getparent().tag in (f"{{{BPMN_NS}}}process", f"{{{BPMN_NS}}}subProcess")}
            return Coverage(flows, nodes)
    raise NotFound(f"no BPMN process {process_id!r}")


def _element(task: Any) -> str | None:
    return getattr(task.task_spec, "bpmn_id", None)


def record(coverage: Coverage, workflow: Any) -> None:
    """Add what one case did: nodes that ran or wait, and each flow from a completed element to the next.

    SpiffWorkflow's task tree links a task to the one that produced it, with bookkeeping specs (start,
    boundary-event parents) in between; those are skipped to find the BPMN element a flow came from.
    """
    by_pair: dict[tuple[str, str], list[str]] = defaultdict(list)
    for flow_id, pair in coverage.flows.items():
        by_pair[pair].append(flow_id)
    for task in workflow.get_tasks(state=TaskState.ANY_MASK):
        element = _element(task)
        if element is None or element not in coverage.nodes or not _reached(task):
            continue  # a called process's elements (the shared rating) count towards their own process
        coverage.nodes_visited.add(element)
        parent = task.parent
        while parent is not None and _element(parent) is None:
            parent = parent.parent
        if parent is not None and parent.state & _REACHED:
            coverage.flows_taken.update(by_pair.get((_element(parent), element), ()))


def _reached(task: Any) -> bool:
    """Reached, not just predicted. At a join SpiffWorkflow gives every arriving branch its own task and
    cancels all but the one that goes on, so a cancelled join task still marks a flow that was taken."""
    if task.state & _REACHED:
        return True
    spec = task.task_spec
    return task.state == TaskState.CANCELLED and "Gateway" in type(spec).__name__ and len(spec.inputs) > 1


# -- running ------------------------------------------------------------------------------------

@dataclass
class Result:
    scenario: Scenario
    passed: bool
    message: str = ""


@dataclass
class Report:
    results: list[Result]
    coverage: dict[str, Coverage]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)


class Runner:
    """One throw-away database and deployment for a whole run; each scenario is its own case."""

    def __init__(self, files: Files, workdir: Path) -> None:
        self.files = files
        self.db = Database(f"sqlite:///{workdir / 'scenarios.db'}")
        self.db.upgrade()
        settings = Settings.from_env({"TONGBAN_INSTANCE": str(workdir), "TONGBAN_DATABASE_URL": self.db.url})
        self.runtime = Runtime(self.db, settings)
        try:
            listed = organisations_in(files)
        except ValueError:
            listed = None  # the deploy below refuses a malformed list, naming it
        with self.db.write() as session:
            for code, name, kind, credit in [*(demo_orgs(listed) if listed else DEMO_ORGS), _SCENARIO_ENTERPRISE]:
                ensure_org(session, code, name, kind, credit)
        deploy(self.db, files, by="scenarios")  # refuses a folder without a role catalogue, naming it
        self.catalogue = RoleCatalogue.from_yaml(files[ROLES_PATH])
        self.blobs = self.runtime.blobs  # blobs/ in the workdir: the runtime's instance folder
        self.coverage: dict[str, Coverage] = {}
        self._users: dict[tuple[str, str], Actor] = {}

    def close(self) -> None:
        self.db.dispose()

    # users ------------------------------------------------------------------------------------
    def user(self, role: str, org: str | None) -> Actor:
        """A user holding `role` in `org` (the role's fixed organisation, or the scenario enterprise)."""
        spec = self.catalogue.roles.get(role)
        if spec is None:
            raise ScenarioFailed(f"未知角色 (unknown role {role!r})")
        org = spec.org or org or (_SCENARIO_ENTERPRISE[0] if spec.org_kind == OrgKind.ENTERPRISE else "platform")
        if (role, org) not in self._users:
            username = f"{role}.{org}"
            with self.db.write() as session:
                try:
                    load_actor(session, username)
                except NotFound:
                    add_user(session, self.catalogue, username, org, [role])
            self._users[role, org] = self.runtime.actor(username)
        return self._users[role, org]

    # steps ------------------------------------------------------------------------------------
    def run(self, scenario: Scenario) -> Result:
        """Play one scenario in this runner's runtime context: its clock jumps move nobody else's time."""
        with self.runtime.context.entered():
            return self._play(scenario)

    def _play(self, scenario: Scenario) -> Result:
        spec = scenario.spec
        clock.reset()
        if spec.get("clock"):
            clock.travel(datetime.fromisoformat(spec["clock"]) - clock.now())
        instance: int | None = None
        self.runtime.scripted_services = ScriptedReplies({name: list(replies) for name, replies in
                                                          (spec.get("services") or {}).items()})
        try:
            start = spec["start"]
            actor = self.user(start["as"], None)
            with _expecting(start.get("expect_error"), "start") as expected:
                form = next((p for p in self.runtime.startable(actor) if p["key"] == scenario.process), {})
                data = self._files(form.get("start_ui_schema"), start.get("data") or {}, actor)
                instance = self.runtime.start(scenario.process, data, actor).id
            if expected.refused:
                return Result(scenario, True)
            for index, step in enumerate(spec.get("steps") or [], start=1):
                self._call_services()
                try:
                    self._step(instance, step)
                except ScenarioFailed as exc:
                    raise ScenarioFailed(f"第 {index} 步 (step {index}) {_describe(step)}: {exc}") from None
            self._call_services()
            self._expect(instance, spec["expect"])
            return Result(scenario, True)
        except ScenarioFailed as exc:
            return Result(scenario, False, str(exc))
        except TongbanError as exc:
            return Result(scenario, False, f"{type(exc).__name__}: {exc.message} {exc.fields or ''}".strip())
        finally:
            if instance is not None:
                self._record(scenario.process, instance)
                self._retire(instance)
            self.runtime.scripted_services = None
            clock.reset()

    def _files(self, ui: dict[str, Any] | None, data: dict[str, Any], actor: Actor, task: Any = None
               ) -> dict[str, Any]:
        """Scenarios name files by a label (`consent_sheet: 同意书.pdf`): each becomes a placeholder PDF uploaded
        as the person would — a draft before a start, a file of the case for a task — and its id is sent."""
        out = dict(data)
        for name, hints in (ui or {}).items():
            if not (isinstance(hints, dict) and hints.get("ui:widget") == "files") or name not in data:
                continue
            labels = data[name] if isinstance(data[name], list) else [data[name]]
            ids = [self._upload(str(label), actor, task) if isinstance(label, str) else label for label in labels]
            out[name] = ids if isinstance(data[name], list) else ids[0]
        return out

    def _upload(self, label: str, actor: Actor, task: Any) -> str:
        """The placeholder's id, as text as the forms' file fields hold it."""
        stream = io.BytesIO(PLACEHOLDER_PDF)
        if task is None:
            return str(add_draft(self.db, self.blobs, stream, f"{label}.pdf", "application/pdf", actor).id)
        return str(add_attachment(self.db, self.blobs, task.instance_id, stream, f"{label}.pdf", "application/pdf",
                                  actor, task.id).id)

    def _open(self, instance: int) -> list[Any]:
        return self.runtime.instance(instance, SYSTEM).open_tasks

    def _step(self, instance: int, step: dict[str, Any]) -> None:
        if "complete" in step:
            element = step["complete"]
            task = next((t for t in self._open(instance) if t.element_id == element), None)
            if task is None:
                raise ScenarioFailed(f"任务 {element} 未就绪 (task not ready; ready: "
                                     f"{sorted(t.element_id for t in self._open(instance))})")
            actor = self.user(step["as"], task.org)
            with _expecting(step.get("expect_error"), element):
                ui = self.runtime.task_detail(task.id, actor)["ui_schema"]
                self.runtime.complete(task.id, self._files(ui, step.get("data") or {}, actor, task), actor)
        elif "advance" in step:
            clock.travel(_jump(step["advance"]))
            self._fire(instance)
        elif "expect_tasks" in step:
            view = self.runtime.instance(instance, SYSTEM)
            ready = sorted(t.element_id for t in view.open_tasks)
            if ready != sorted(step["expect_tasks"]):
                error = f"; 办件出错 case in error at {view.error_element}: {view.error}" if view.error else ""
                raise ScenarioFailed(f"就绪任务为 {ready} (ready tasks are {ready}, expected "
                                     f"{sorted(step['expect_tasks'])}{error})")
        else:
            message = step["message"]
            self.runtime.deliver(instance, message["name"], message.get("data"), SYSTEM)

    def _call_services(self) -> None:
        """The service calls a step made due: the server's timer thread makes them within a second."""
        while timers.sweep(self.runtime, kind=TimerKind.SERVICE):
            pass

    def _fire(self, instance: int) -> None:
        """Everything that came due: the timer sweep (as the background thread would), then this case."""
        while timers.sweep(self.runtime):
            pass
        self.runtime.advance(instance)

    def _expect(self, instance: int, expect: dict[str, Any]) -> None:
        view = self.runtime.instance(instance, SYSTEM, detail=True)
        if "status" in expect and view.status != expect["status"]:
            detail = f" ({view.error} at {view.error_element})" if view.error else ""
            raise ScenarioFailed(f"结束状态为 {view.status}{detail} (status is {view.status}, expected "
                                 f"{expect['status']})")
        if "outcome" in expect and view.outcome != expect["outcome"]:
            raise ScenarioFailed(f"办结结果为 {view.outcome} (outcome is {view.outcome}, expected {expect['outcome']})")
        data = view.data or {}
        wrong = {k: data.get(k, "<missing>") for k, v in (expect.get("data") or {}).items() if data.get(k) != v}
        if wrong:
            raise ScenarioFailed(f"数据不符 (data differs): {wrong} (expected {expect['data']})")
        for doc in expect.get("documents") or []:
            self._expect_document(view, doc)

    def _expect_document(self, view: Any, doc: dict[str, Any]) -> None:
        document = getattr(self.runtime, "document", None)
        if document is None:
            raise ScenarioFailed("此版本尚不能生成文书 (documents are not supported by this engine yet)")
        try:
            text = document(view.id, doc["name"], SYSTEM).text
        except NotFound:
            raise ScenarioFailed(f"文书 {doc['name']} 不存在 (no document {doc['name']!r})") from None
        for needle in doc.get("contains") or []:
            wanted = needle.replace("{case_number}", view.case_number)
            if wanted not in text:
                raise ScenarioFailed(f"文书 {doc['name']} 缺少 “{wanted}” (document lacks {wanted!r})")

    def _record(self, key: str, instance: int) -> None:
        with self.db.reading() as conn:
            row = conn.execute(select(Instance.version_id, Instance.state).where(Instance.id == instance)).one()
            _, compiled = self.runtime.compiled_version(conn, row.version_id)
        coverage = self.coverage.get(key)
        if coverage is None:
            coverage = self.coverage[key] = process_graph(compiled.files, compiled.spec.name)
        record(coverage, state.loads(row.state, compiled))

    def _retire(self, instance: int) -> None:
        """A case a scenario leaves running must not fire its timers into the next scenario."""
        if self.runtime.instance(instance, SYSTEM).status not in ENDED:
            self.runtime.terminate(instance, SYSTEM)


class _Expected:
    refused = False


@contextmanager
def _expecting(expect_error: dict[str, Any] | None, what: str) -> Iterator[_Expected]:
    """With `expect_error`, the step must be refused (422) naming at least those fields; else it must pass."""
    outcome = _Expected()
    try:
        yield outcome
    except FormInvalid as exc:
        if expect_error is None:
            raise ScenarioFailed(f"{what} 被拒绝 (refused): {exc.message} {exc.fields}") from None
        missing = sorted(set(expect_error["fields"]) - set(exc.fields))
        if missing:
            raise ScenarioFailed(f"{what} 被拒绝，但没有指出 {missing} (refused, but not for {missing}; "
                                 f"fields: {sorted(exc.fields)})") from None
        outcome.refused = True
        return
    if expect_error is not None:
        raise ScenarioFailed(f"{what} 应被拒绝却通过了 (was accepted; expected refusal for {expect_error['fields']})")


def _jump(text: str) -> timedelta:
    """How far `advance:` moves the clock: N workdays (same time of day), days, hours, minutes, or to an instant."""
    match = re.fullmatch(r"(\d+) (workday|day|hour|minute)s?", text)
    now = clock.now()
    if match is None:
        return datetime.fromisoformat(text) - now
    n, unit = int(match.group(1)), match.group(2)
    if unit == "workday":
        local = now.astimezone(workdays.CHINA)
        day = workdays.current().add_working_days(local, n)
        return datetime.combine(day, local.timetz()) - local
    return timedelta(**{f"{unit}s": n})


def _describe(step: dict[str, Any]) -> str:
    key = next(iter(step))
    return f"{key}: {step[key]}" if not isinstance(step[key], dict) else f"{key}: {step[key].get('name', '')}"


def _label(path: Path, root: Path) -> str:
    return str(path.relative_to(root.parent)) if path.is_relative_to(root.parent) else str(path)


def run_all(files: Files, paths: Iterable[Path], root: Path,
            each: Callable[[Result], object] | None = None) -> Report:
    """Load and run every scenario file; malformed ones fail with their reason, the others still run.
    `each` sees every result as soon as it is known (run_bounded streams them to its caller)."""
    with tempfile.TemporaryDirectory(prefix="tongban-scenarios-") as tmp:
        runner = Runner(files, Path(tmp))
        try:
            results = []
            for path in paths:
                label = _label(path, root)
                try:
                    scenario = load(path, label)
                except ScenarioInvalid as exc:
                    result = Result(Scenario(label, path.stem, "?", {}), False, exc.message)
                else:
                    result = runner.run(scenario)
                results.append(result)
                if each is not None:
                    each(result)
            return Report(results, runner.coverage)
        finally:
            runner.close()


#: Address space a bounded run's child may add to what it starts with (its database, the parsed processes,
#: the scripts' own budgets): past it allocations fail there instead of the machine running short.
CHILD_MEMORY = 1 << 30
_CHILD = "from engine.design.scenarios import _bounded_child; _bounded_child()"


def run_bounded(files: Files, paths: Iterable[Path], root: Path, seconds: float) -> Report:
    """`run_all` in a child process that is killed after `seconds`, so that the request always returns.

    Each script in a scenario is bounded by its budget, but a scenario as a whole is not: a process may loop
    through gateways and tasks without ever waiting, or take many steps that each stay just under the
    budget. A child process also keeps the scenarios' clock jumps and throw-away calendar out of the server.
    It is a fresh interpreter (not fork, since the server's other threads may hold locks; not multiprocessing's
    spawn, which would re-run the server's main module), with its temporary files in one folder removed here.
    Results stream back as they are known; on a time-out the one running and those after it fail, saying so.
    """
    paths = list(paths)
    with tempfile.TemporaryDirectory(prefix="tongban-bounded-") as tmp:
        job = Path(tmp) / "job.pickle"
        job.write_bytes(pickle.dumps((files, paths, root)))
        read, write = os.pipe()
        receiver = Connection(read, writable=False)
        env = {**os.environ, "TMPDIR": tmp, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        try:
            child = subprocess.Popen([sys.executable, "-c", _CHILD, str(job), str(write)], pass_fds=(write,),
                                     env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        finally:
            os.close(write)
        try:
            results, why = _receive(receiver, child, seconds)
        finally:
            if child.poll() is None:
                child.kill()
            child.wait()
            receiver.close()
    if isinstance(results, Report):
        return results
    stopped = [Result(Scenario(_label(p, root), p.stem, "?", {}), False, why) for p in paths[len(results):]]
    return Report(results + stopped, {})


def _receive(receiver: Connection, child: subprocess.Popen[bytes], seconds: float) -> tuple[Report | list[Result], str]:
    """The child's whole report; or the results it sent in time, and why the rest are missing."""
    deadline = time.monotonic() + seconds
    results: list[Result] = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not receiver.poll(remaining):
            return results, (f"场景运行超过 {seconds:g} 秒，已停止 (the scenario run exceeded its {seconds:g} s limit "
                             "and was stopped: does the process loop without waiting?)")
        try:
            kind, *payload = receiver.recv()
        except EOFError:
            return results, (f"场景运行意外结束 (the scenario run ended abnormally, exit code {child.wait()})")
        if kind == "result":
            results.append(payload[0])
        elif kind == "refused":  # e.g. the files do not deploy: the caller answers with it, as before
            error_type, message, fields = payload
            error = error_type.__new__(error_type)
            TongbanError.__init__(error, message, fields)
            raise error
        else:
            return Report(results, payload[0]), ""


def _bounded_child() -> None:
    """The child's main: limit its address space, run, send each result, then the coverage (or the refusal)."""
    job, fd = sys.argv[1], int(sys.argv[2])
    sender = Connection(fd, readable=False)
    files, paths, root = pickle.loads(Path(job).read_bytes())
    with contextlib.suppress(OSError), open("/proc/self/statm", "rb") as statm:  # Linux; elsewhere unlimited
        start = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        resource.setrlimit(resource.RLIMIT_AS, (start + CHILD_MEMORY, resource.RLIM_INFINITY))
    try:
        report = run_all(files, paths, root, lambda result: sender.send(("result", result)))
    except TongbanError as exc:
        sender.send(("refused", type(exc), exc.message, exc.fields))
        return
    sender.send(("coverage", report.coverage))
