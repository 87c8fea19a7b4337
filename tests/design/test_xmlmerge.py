"""Saving from the modeler patches only the changed elements into the file: comments and layout stay."""

from __future__ import annotations

import difflib

import pytest
from lxml import etree

from engine.design.xmlmerge import merge
from tests.support.repo import REPO

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
ORIGINAL = """<?xml version="1.0" encoding="UTF-8"?>
<!-- 示例流程：文件头注释 (a header comment) -->
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  id="defs" targetNamespace="http://tongban.local">
  <bpmn:process id="p" isExecutable="true">
    <!-- 受理：窗口人员 (the window accepts) -->
    <bpmn:userTask   id="accept"  name="受理" />

    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="accept" />
    <bpmn:sequenceFlow id="f2" sourceRef="accept" targetRef="end"><!-- 默认 -->
      <bpmn:conditionExpression>x &gt; 1</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
  </bpmn:process>
</bpmn:definitions>
"""


def editor(text: str, change: object = None) -> str:
    """What an editor writes: no comments, its own indentation and attribute spacing."""
    root = etree.fromstring(text.encode(), etree.XMLParser(remove_comments=True, remove_blank_text=True))
    if change:
        change(root)  # type: ignore[operator]
    return etree.tostring(root, pretty_print=True, encoding="unicode")


def by_id(root: etree._Element, element_id: str) -> etree._Element:
    return root.xpath(f"//*[@id='{element_id}']")[0]


def changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


@pytest.mark.parametrize("path", sorted(p.relative_to(REPO).as_posix() for p in (REPO / "processes").glob("*/*.*mn")))
def test_an_unchanged_save_gives_back_every_shipped_file_byte_for_byte(path: str) -> None:
    original = (REPO / path).read_text(encoding="utf-8")
    assert merge(original, editor(original), path) == original


def test_a_renamed_task_changes_its_start_tag_only_and_every_comment_stays() -> None:
    merged = merge(ORIGINAL, editor(ORIGINAL, lambda r: by_id(r, "accept").set("name", "受理审查")), "p.bpmn")
    assert changed_lines(ORIGINAL, merged) == ['-    <bpmn:userTask   id="accept"  name="受理" />',
                                               '+    <bpmn:userTask   id="accept"  name="受理审查" />']
    assert merged.count("<!--") == 3


def test_a_changed_condition_rewrites_that_expression_and_keeps_the_comment_beside_it() -> None:
    def change(root: etree._Element) -> None:
        by_id(root, "f2")[0].text = "x > 2 and y"
    merged = merge(ORIGINAL, editor(ORIGINAL, change), "p.bpmn")
    assert changed_lines(ORIGINAL, merged) == [
        "-      <bpmn:conditionExpression>x &gt; 1</bpmn:conditionExpression>",
        "+      <bpmn:conditionExpression>x &gt; 2 and y</bpmn:conditionExpression>"]
    assert "<!-- 默认 -->" in merged


def test_a_removed_flow_goes_with_its_line_and_an_added_task_takes_its_neighbours_indentation() -> None:
    def change(root: etree._Element) -> None:
        flow = by_id(root, "f1")
        flow.getparent().remove(flow)
        etree.SubElement(by_id(root, "p"), f"{{{BPMN}}}task", id="notify", name="通知 & <告知>")
    merged = merge(ORIGINAL, editor(ORIGINAL, change), "p.bpmn")
    assert changed_lines(ORIGINAL, merged) == [
        '-    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="accept" />',
        '+    <bpmn:task id="notify" name="通知 &amp; &lt;告知&gt;" />']
    assert etree.fromstring(merged.encode()).xpath("//*[@id='notify']")[0].get("name") == "通知 & <告知>"


def test_an_element_of_a_namespace_the_file_lacks_is_declared_on_the_root() -> None:
    def change(root: etree._Element) -> None:
        extension = etree.SubElement(by_id(root, "accept"), f"{{{BPMN}}}extensionElements")
        etree.SubElement(extension, "{http://spiffworkflow.org/bpmn/schema/1.0/core}properties",
                         nsmap={"spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"})
    merged = merge(ORIGINAL, editor(ORIGINAL, change), "p.bpmn")
    parsed = etree.fromstring(merged.encode())
    assert parsed.nsmap["spiffworkflow"] == "http://spiffworkflow.org/bpmn/schema/1.0/core"
    assert by_id(parsed, "accept")[0][0].tag == "{http://spiffworkflow.org/bpmn/schema/1.0/core}properties"
    assert merged.count("<!--") == 3


def test_a_process_reordered_by_the_editor_keeps_the_files_order_and_a_default_attribute_stays() -> None:
    original = ORIGINAL.replace('name="受理" />', 'name="受理" />\n    <bpmn:boundaryEvent id="late" '
                                'attachedToRef="accept" cancelActivity="true" />')

    def change(root: etree._Element) -> None:
        by_id(root, "p").insert(0, by_id(root, "f2"))
        del by_id(root, "late").attrib["cancelActivity"]  # bpmn-js leaves out what is the default
    assert merge(original, editor(original, change), "p.bpmn") == original


DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="x">
  <!-- FIRST: the first rule that matches wins -->
  <decision id="t"><decisionTable id="dt" hitPolicy="FIRST">
    <input id="i"><inputExpression id="ie"><text>code</text></inputExpression></input>
    <output id="o" name="hit" />
    <rule id="r1"><inputEntry id="r1i"><text>"a"</text></inputEntry>
      <outputEntry id="r1o"><text>True</text></outputEntry></rule>
    <rule id="r2"><inputEntry id="r2i"><text>-</text></inputEntry>
      <outputEntry id="r2o"><text>False</text></outputEntry></rule>
  </decisionTable></decision>
</definitions>
"""


def test_reordered_rules_of_a_decision_table_are_written_in_the_new_order() -> None:
    def change(root: etree._Element) -> None:
        table = by_id(root, "dt")
        table.insert(2, by_id(root, "r2"))
    merged = merge(DMN, editor(DMN, change), "t.dmn")
    assert [e.get("id") for e in by_id(etree.fromstring(merged.encode()), "dt")] == ["i", "o", "r2", "r1"]
    assert "<!-- FIRST: the first rule that matches wins -->" in merged
