"""Report facts: the keys a manifest lists under `report:` are copied into case_facts on every step."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from engine.definitions.registry import deploy, validate
from engine.definitions.workspace import Manifest, ManifestError
from engine.runtime.runtime import Runtime
from engine.store.models import CaseFact
from tests.support.builder import bpmn, form_props
from tests.support.workspaces import OPEN_FORM, workspace

BODY = (
    f'<bpmn:startEvent id="start">{form_props("f.json")}<bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
    '<bpmn:scriptTask id="calc"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>'
    '<bpmn:script>score = amount * 2\nwhen = "2026-03-05T23:59:59+08:00"\nflag = amount > 5</bpmn:script>'
    "</bpmn:scriptTask>"
    f'<bpmn:userTask id="fill" name="填写">{form_props("f.json")}<bpmn:incoming>f2</bpmn:incoming>'
    "<bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>"
    '<bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>'
    '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="calc" />'
    '<bpmn:sequenceFlow id="f2" sourceRef="calc" targetRef="fill" />'
    '<bpmn:sequenceFlow id="f3" sourceRef="fill" targetRef="end" />'
)
MANIFEST = "key: facts\ncode: FCT\nname: {zh: 测试, en: Test}\nreport: [amount, score, when, flag, tags, missing]\n"


def files(manifest: str = MANIFEST) -> dict[str, bytes]:
    return workspace({"t.bpmn": bpmn("facts", BODY, {"申请人": ["start", "calc", "fill", "end"]})},
                     {"f.json": OPEN_FORM}, extra={"processes/t/process.yaml": manifest.encode()})


def facts(runtime: Runtime, instance_id: int) -> dict[str, tuple]:
    with runtime.db.read() as s:
        rows = s.scalars(select(CaseFact).where(CaseFact.instance_id == instance_id))
        return {r.name: (r.value, r.moment, r.raw) for r in rows}


def test_declared_keys_are_written_on_start_and_updated_on_each_step(runtime: Runtime) -> None:
    deploy(runtime.db, files(), by="tests")
    haiyun = runtime.actor("haiyun")
    view = runtime.start("facts", {"amount": 3, "tags": ["a", "b"], "other": "not reported"}, haiyun)
    assert facts(runtime, view.id) == {
        "amount": ("3", None, 3), "score": ("6", None, 6), "flag": ("false", None, False),
        "when": ("2026-03-05T23:59:59+08:00", datetime(2026, 3, 5, 15, 59, 59, tzinfo=UTC),
                 "2026-03-05T23:59:59+08:00"),
        "tags": (None, None, ["a", "b"]),
    }
    runtime.complete(view.open_tasks[0].id, {"amount": 9, "tags": []}, haiyun)
    after = facts(runtime, view.id)
    assert after["amount"] == ("9", None, 9) and after["tags"] == (None, None, [])
    assert after["score"] == ("6", None, 6)  # the script ran before the change: its value stays


def test_a_process_without_report_writes_no_facts(runtime: Runtime) -> None:
    view = runtime.start("sample_approval", {"title": "办公用房改造", "amount": 50_000}, runtime.actor("haiyun"))
    assert facts(runtime, view.id) == {}


def test_malformed_report_is_refused_with_file_and_line() -> None:
    bad = MANIFEST.replace("report: [amount, score, when, flag, tags, missing]", "report:\n  - amount\n  - 2x\n")
    [problem] = validate(files(bad))
    assert (problem.file, problem.line, problem.severity) == ("processes/t/process.yaml", 6, "error")
    assert "'2x'" in problem.message
    for report in ("report: amount", "report: [a, a]", "report: [{a: 1}]", "report: [{a: b.2c}]",
                   "report: [{a: b, c: d}]", "report: [a, {a: b.c}]"):
        try:
            Manifest.from_yaml("p.yaml", MANIFEST.replace(MANIFEST.splitlines()[-1], report).encode())
        except ManifestError as exc:
            assert exc.line == 4 and exc.path == "p.yaml"
        else:
            raise AssertionError(f"{report} accepted")


def test_a_nested_value_is_reported_under_its_own_name(runtime: Runtime) -> None:
    manifest = MANIFEST.replace("report: [amount, score, when, flag, tags, missing]",
                                "report: [{street: address.street_office}, {deep: address.no.such}, amount]")
    deploy(runtime.db, files(manifest), by="tests")
    haiyun = runtime.actor("haiyun")
    view = runtime.start("facts", {"amount": 1, "address": {"street_office": "street_bdq", "no": "text"}}, haiyun)
    assert facts(runtime, view.id) == {"street": ("street_bdq", None, "street_bdq"), "amount": ("1", None, 1)}
    runtime.complete(view.open_tasks[0].id, {"address": {"street_office": "street_xgzl"}}, haiyun)
    assert facts(runtime, view.id)["street"] == ("street_xgzl", None, "street_xgzl")
