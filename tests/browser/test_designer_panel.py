"""The modeler's properties panel, problems from other files, the unreachable-node check and the DMN table editor."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from engine.runtime.runtime import Runtime
from tests.browser.conftest import DESKTOP, PHONE, shot
from tests.support.designer import designer_page

ZZS = "processes/zzs/zzs.bpmn"


def workspace(runtime: Runtime) -> Path:
    return runtime.settings.design_workspace()


def open_diagram(browser: Browser, base: str, path: str, viewport: dict[str, int] = DESKTOP,
                 locale: str = "zh-CN") -> tuple[Page, list[str]]:
    _, page = designer_page(browser, base, viewport, locale)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"/designer/edit?path={path}" + ("&lang=en" if locale == "en" else ""))
    expect(page.locator("[data-ready=true]")).to_have_count(1, timeout=30_000)  # after validating the workspace
    return page, errors


def select(page: Page, element_id: str) -> None:
    """Select an element as a click would (the wide diagram puts some under the palette at first)."""
    page.evaluate("id => modeler.get('selection').select(modeler.get('elementRegistry').get(id))", element_id)


def test_an_unchanged_save_leaves_the_file_byte_for_byte(browser: Browser,
                                                          design_server: tuple[str, Runtime]) -> None:
    base, runtime = design_server
    before = (workspace(runtime) / ZZS).read_bytes()
    page, errors = open_diagram(browser, base, ZZS)
    page.click("#save")
    expect(page.locator("#status")).to_contain_text("校验通过", timeout=30_000)
    assert (workspace(runtime) / ZZS).read_bytes() == before and errors == []


def test_the_panel_sets_a_due_date_and_a_condition_and_only_those_lines_change(
        browser: Browser, design_server: tuple[str, Runtime]) -> None:
    base, runtime = design_server
    before = (workspace(runtime) / ZZS).read_text(encoding="utf-8")
    page, errors = open_diagram(browser, base, ZZS)
    select(page, "precheck")
    panel = page.locator("#properties")
    expect(panel).to_contain_text("办理（tongban）")
    expect(panel.locator("select[name=tongban-formJsonSchemaFilename]")).to_have_value("zzs_precheck.json")
    due = panel.locator("input[name=tongban-dueDate]")
    expect(due).to_have_value("precheck_due_at")
    due.fill("workdays_after(received_at, 3)")
    page.wait_for_timeout(500)  # typed text is committed after the panel's debounce
    panel.locator("input[name=tongban-warnAt]").fill("workdays_after(received_at, 2)")
    page.wait_for_timeout(400)  # the panel's input debounce, before another element is selected
    shot(page, "designer-properties-panel")
    select(page, "f_accept")
    page.wait_for_timeout(500)
    select(page, "f_accept")  # a change still in the panel's debounce re-shows its element once: select again
    condition = panel.locator("textarea[name=tongban-condition-expression]")
    expect(condition).to_have_value("precheck_result == 'accept'")
    condition.fill("precheck_result == 'accept' and True")
    page.wait_for_timeout(400)  # the panel's input debounce
    page.click("#save")
    expect(page.locator("#status")).to_contain_text("校验通过", timeout=30_000)
    after = (workspace(runtime) / ZZS).read_text(encoding="utf-8")
    changed = [line for line in after.splitlines() if line not in before.splitlines()]
    assert after.count("<!--") == before.count("<!--") > 0
    assert 'name="dueDate" value="workdays_after(received_at, 3)"' in changed[0]
    assert 'name="warnAt" value="workdays_after(received_at, 2)"' in changed[0]
    assert "precheck_result == 'accept' and True" in changed[1]
    # beyond those two lines, only the edited flow's own diagram edge (bpmn-js gives its name a label position)
    edge = re.search(r'<bpmndi:BPMNEdge id="f_accept_di".*?</bpmndi:BPMNEdge>', after, re.S).group()
    assert all(line.strip() in edge for line in changed[2:])
    assert errors == []


def test_a_problem_of_another_file_is_listed_and_marked_on_the_task_using_it(
        browser: Browser, design_server: tuple[str, Runtime]) -> None:
    base, runtime = design_server
    page, _ = open_diagram(browser, base, ZZS)  # the workspace exists from here on
    form = workspace(runtime) / "forms" / "zzs_precheck.json"
    form.write_text(form.read_text(encoding="utf-8").replace('"type": "object"', '"type": "objekt"', 1),
                    encoding="utf-8")
    page.reload()
    expect(page.locator("[data-ready=true]")).to_have_count(1, timeout=30_000)
    expect(page.locator("#problems")).to_contain_text("其他文件 forms/zzs_precheck.json")
    expect(page.locator('#modeler [data-element-id="precheck"].problem')).to_have_count(1)
    page.click("#save")
    expect(page.locator("#status")).to_contain_text("错误数", timeout=30_000)
    shot(page, "designer-problem-other-file")


def test_deleting_the_accept_flows_marks_accept_as_cut_off(browser: Browser,
                                                           design_server: tuple[str, Runtime]) -> None:
    base, _ = design_server
    page, errors = open_diagram(browser, base, ZZS)
    page.evaluate("""() => {
        const registry = modeler.get("elementRegistry");
        modeler.get("modeling").removeElements([registry.get("f_accept"), registry.get("f_deemed_accept")]);
    }""")
    page.click("#save")
    expect(page.locator("#status")).to_contain_text("错误数", timeout=30_000)
    expect(page.locator("#problems")).to_contain_text(re.compile(r"\[accept\].*须有入口顺序流"))  # no way in
    expect(page.locator('#modeler [data-element-id="accept"].problem')).to_have_count(1)
    shot(page, "designer-unreachable")
    assert errors == []


def test_the_dmn_editor_changes_a_rule_and_keeps_the_comment(browser: Browser,
                                                             design_server: tuple[str, Runtime]) -> None:
    base, runtime = design_server
    path = "processes/zzs/negative_list.dmn"
    page, errors = open_diagram(browser, base, path)
    before = (workspace(runtime) / path).read_text(encoding="utf-8")
    expect(page.locator(".tjs-table")).to_be_visible()
    shot(page, "designer-dmn")
    cell = page.locator('td[data-element-id="rule_chemicals_hit"]')
    cell.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("False")
    page.locator("h1").click()
    page.click("#save")
    expect(page.locator("#status")).to_contain_text("已保存", timeout=30_000)
    after = (workspace(runtime) / path).read_text(encoding="utf-8")
    changed = [line for line in after.splitlines() if line not in before.splitlines()]
    assert changed == ['        <outputEntry id="rule_chemicals_hit"><text>False</text></outputEntry>']
    assert after.count("<!--") == before.count("<!--") == 1
    assert errors == []


def test_the_panel_in_english_and_at_phone_width(browser: Browser,
                                                 design_server: tuple[str, Runtime]) -> None:
    base, _ = design_server
    page, errors = open_diagram(browser, base, ZZS, locale="en")
    select(page, "precheck")
    expect(page.locator("#properties")).to_contain_text("Due date")
    shot(page, "designer-panel-en")
    phone, _ = open_diagram(browser, base, ZZS, viewport=PHONE)
    select(phone, "precheck")
    shot(phone, "designer-panel-phone")
    assert errors == []
