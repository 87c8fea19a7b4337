"""A designer renames a task in the modeler and deploys version 2; a running case stays on version 1."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect

from engine.runtime.runtime import Runtime
from tests.browser.conftest import shot
from tests.support.designer import designer_page
from tests.support.shipped import SUBMIT

START = {"title": "设计器测试", "amount": 50_000}






def test_rename_in_the_modeler_and_deploy_version_2(browser: Browser,
                                                    design_server: tuple[str, Runtime]) -> None:
    base, runtime = design_server
    running = runtime.start("sample_approval", START, runtime.actor("haiyun"))
    runtime.complete(running.open_tasks[0].id, SUBMIT, runtime.actor("haiyun"))
    assert [t.name for t in runtime.instance(running.id, runtime.actor("admin")).open_tasks] == ["审批"]

    context, page = designer_page(browser, base)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto("/designer")
    expect(page.locator("table.list")).to_contain_text("v1")
    shot(page, "designer-processes")
    page.click("text=processes/sample/approval.bpmn")
    expect(page.locator("#modeler[data-ready=true]")).to_have_count(1, timeout=30_000)

    task = page.locator('#modeler [data-element-id="approve"]')
    task.click()
    expect(page.locator("#form-path")).to_have_text("forms/sample_approve.json")
    expect(page.locator("#form-json")).to_have_value(re.compile("审批意见"))
    task.dblclick()
    editor = page.locator(".djs-direct-editing-parent")
    editor.press("Control+A")
    editor.type("复核审批")
    page.locator('#modeler [data-element-id="end_reviewed"]').click()
    page.click("#save")
    expect(page.locator("#status")).to_contain_text("校验通过", timeout=30_000)
    shot(page, "designer-modeler")
    page.click("#deploy")
    expect(page.locator("#status")).to_contain_text("sample_approval v2", timeout=30_000)
    assert errors == []
    context.close()

    saved = (runtime.settings.design_workspace() / "processes" / "sample" / "approval.bpmn").read_text(encoding="utf-8")
    assert 'name="复核审批"' in saved
    still = runtime.instance(running.id, runtime.actor("admin"))
    assert still.version == 1 and [t.name for t in still.open_tasks] == ["审批"]
    fresh = runtime.start("sample_approval", START, runtime.actor("haiyun"))
    runtime.complete(fresh.open_tasks[0].id, SUBMIT, runtime.actor("haiyun"))
    fresh = runtime.instance(fresh.id, runtime.actor("admin"))
    assert fresh.version == 2 and [t.name for t in fresh.open_tasks] == ["复核审批"]


def test_a_broken_diagram_is_saved_and_its_problem_marked_on_the_element(
        browser: Browser, design_server: tuple[str, Runtime]) -> None:
    base, _ = design_server
    context, page = designer_page(browser, base)
    page.goto("/designer/edit?path=processes/sample/approval.bpmn")
    expect(page.locator("#modeler[data-ready=true]")).to_have_count(1, timeout=30_000)
    # rename the approver lane (through the modeler's own API): its task no longer maps to a role
    page.evaluate("""() => modeler.get("modeling").updateLabel(
        modeler.get("elementRegistry").get("lane_approver"), "无此角色")""")
    page.click("#save")
    expect(page.locator("#status")).to_contain_text("错误", timeout=30_000)
    expect(page.locator("#problems")).to_contain_text("[approve]")
    expect(page.locator('#modeler [data-element-id="approve"].problem')).to_have_count(1)
    shot(page, "designer-problem-marked")
    page.click("#deploy")
    expect(page.locator("#status")).to_contain_text("未部署", timeout=30_000)
    context.close()


def test_run_the_scenarios_and_see_flow_coverage_on_the_diagram(browser: Browser,
                                                                design_server: tuple[str, Runtime]) -> None:
    base, _ = design_server
    context, page = designer_page(browser, base)
    page.goto("/designer/edit?path=processes/qysq/qysq.bpmn")
    expect(page.locator("#modeler[data-ready=true]")).to_have_count(1, timeout=30_000)
    page.click("#scenarios")
    expect(page.locator("#coverage")).to_contain_text("qysq_request: 连线 100%", timeout=30_000)
    expect(page.locator("#modeler g.djs-connection.covered[data-element-id=f_reopen_yes]")).to_have_count(1)
    expect(page.locator("#scenario-results li")).not_to_have_count(0)
    shot(page, "designer-coverage")
    context.close()
