"""Restricted scripts: no imports, no dunder walks, no open(); a failing script leaves an error state."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from engine.base.clock import now
from engine.bpmn.scripting import RestrictedEnvironment, ScriptRefused
from engine.definitions.registry import validate
from engine.runtime.runtime import Runtime
from engine.store.models import Event, ProcessVersion
from tests.support.builder import bpmn
from tests.support.workspaces import workspace

ATTACKS = {
    "dunder_import": "__import__('os').system('true')",
    "class_walk": "().__class__.__bases__[0].__subclasses__()",
    "open_file": "open('/etc/passwd').read()",
    "import_statement": "import os",
    "from_import": "from os import path",
    "format_escape": "'{0.__class__}'.format(1)",
    "eval_builtin": "eval('1 + 1')",
    "exec_builtin": "exec('x = 1')",
    "globals": "globals()",
    "type_builtin": "type(1).__mro__",
    "getattr_builtin": "getattr(1, '__class__')",
    "frame_walk": "(lambda: 0).__code__",
    "generator_frame": "(x for x in ()).gi_frame",
}


@pytest.mark.parametrize("source", ATTACKS.values(), ids=ATTACKS.keys())
def test_attack_is_refused_with_a_clear_error(source: str) -> None:
    env = RestrictedEnvironment()
    with pytest.raises(ScriptRefused) as err:
        env.execute(source, {})
    assert "不允许" in str(err.value) or "refused" in str(err.value) or "forbidden" in str(err.value)


def test_ordinary_scripts_still_work() -> None:
    data = {"items": [{"amount": "10.10"}, {"amount": "0.20"}], "count": 1}
    RestrictedEnvironment().execute(
        "total = decimal_sum(i['amount'] for i in items)\n"
        "count += 1\n"
        "labels = [f'{k}={v}' for k, v in {'a': 1}.items()]\n"
        "flags = {}\nflags['big'] = total > 10\n",
        data,
    )
    assert data["total"] == Decimal("10.30") and data["count"] == 2
    assert data["labels"] == ["a=1"] and data["flags"] == {"big": True}
    assert RestrictedEnvironment().evaluate("amount > threshold", {"amount": 5, "threshold": 3}) is True


def script_process(script: str) -> dict[str, bytes]:
    body = (
        '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
        f'<bpmn:scriptTask id="evil" name="计算"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>'
        f"<bpmn:script>{script}</bpmn:script></bpmn:scriptTask>"
        '<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="evil" />'
        '<bpmn:sequenceFlow id="f2" sourceRef="evil" targetRef="end" />'
    )
    return workspace({"p.bpmn": bpmn("scripted", body, {"申请人": ["start", "evil", "end"]})}, key="scripted",
                     code="SCR")


def store_without_lint(runtime: Runtime, files: dict[str, bytes]) -> None:
    """A version stored as an older release might have stored it: the runtime must not trust deploy."""
    with runtime.db.write() as session:
        session.add(ProcessVersion(process_key="scripted", version=1, content_hash=str(hash(files[
            "processes/t/p.bpmn"])), code="SCR", name_zh="脚本", name_en="Script",
            files={p: c.decode() for p, c in files.items()}, deployed_at=now(), deployed_by="legacy"))


@pytest.mark.parametrize("name", ["dunder_import", "class_walk", "open_file", "import_statement"])
def test_failing_script_leaves_the_instance_in_an_error_state_that_says_why(runtime: Runtime, name: str) -> None:
    files = script_process(ATTACKS[name].replace("'", "&apos;"))
    if name != "open_file":  # deploy-time lint refuses it before any case can run it
        assert any(p.element_id == "evil" for p in validate(files))
    store_without_lint(runtime, files)
    view = runtime.start("scripted", {}, runtime.actor("haiyun"))
    assert view.status == "error" and view.error_element == "evil"
    assert "不允许" in view.error or "forbidden" in view.error
    with runtime.db.read() as s:
        kinds = s.scalars(select(Event.kind).where(Event.instance_id == view.id).order_by(Event.id)).all()
    assert kinds == ["started", "error"]
    # the engine is fine: the sample process still runs
    ok = runtime.start("sample_approval", {"title": "正常", "amount": 1}, runtime.actor("haiyun"))
    assert ok.status == "running"
