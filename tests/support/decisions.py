"""DMN decision tables for tests, and a process whose one business rule task calls a table on the start form's data."""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from engine.definitions.workspace import Files
from tests.support.builder import Node, bpmn, end, flows, render, start
from tests.support.workspaces import OPEN, workspace

DMN_HEADER = ('<?xml version="1.0" encoding="UTF-8"?>\n'
              '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="defs_{decision}" '
              'name="测试" namespace="http://tongban.local/dmn">\n')


@dataclass
class Table:
    """A decision table `decision`: inputs as (label, expression), outputs by name, rules as (inputs, outputs)."""

    inputs: list[tuple[str, str]]
    outputs: list[str]
    rules: list[tuple[list[str], list[str]]]
    hit_policy: str = "UNIQUE"
    aggregation: str | None = None
    decision: str = "decide_it"
    #: output name → its outputValues text (`"high","low"`), for PRIORITY and OUTPUT ORDER
    output_values: dict[str, str] = field(default_factory=dict)

    def xml(self) -> str:
        aggregation = f' aggregation="{self.aggregation}"' if self.aggregation else ""
        body = "".join(
            f'<input id="in_{i}" label="{escape(label)}"><inputExpression id="in_{i}_expr">'
            f"<text>{escape(expression)}</text></inputExpression></input>"
            for i, (label, expression) in enumerate(self.inputs))
        for name in self.outputs:
            values = self.output_values.get(name)
            listed = f"<outputValues><text>{escape(values)}</text></outputValues>" if values is not None else ""
            body += f'<output id="out_{name}" label="{name} 列" name="{name}">{listed}</output>'
        for n, (tests, values) in enumerate(self.rules, 1):
            body += f'\n<rule id="r{n}">' + "".join(
                f'<inputEntry id="r{n}_in{i}"><text>{escape(t)}</text></inputEntry>' for i, t in enumerate(tests))
            body += "".join(f'<outputEntry id="r{n}_out{i}"><text>{escape(v)}</text></outputEntry>'
                            for i, v in enumerate(values)) + "</rule>"
        return (DMN_HEADER.format(decision=self.decision) + f'<decision id="{self.decision}" name="测试决策">'
                f'<decisionTable id="{self.decision}_table" hitPolicy="{self.hit_policy}"{aggregation}>{body}'
                "\n</decisionTable></decision></definitions>\n")


def deciding(pid: str, decision: str = "decide_it") -> str:
    """A process: the applicant's start form, then the business rule task `decide` calling `decision`, then end."""
    decide = Node("businessRuleTask", "decide", "判定", ext=(
        f"<bpmn:extensionElements><spiffworkflow:calledDecisionId>{decision}</spiffworkflow:calledDecisionId>"
        "</bpmn:extensionElements>"))
    nodes = [start(form="apply.json"), decide, end()]
    return bpmn(pid, render(nodes, flows(("start", "decide"), ("decide", "end"))),
                {"申请人": ["start", "decide", "end"]})


def table_files(pid: str, table: Table) -> tuple[dict[str, str], dict[str, object], Files]:
    """What `put` deploys: the process, its open start form, and the table as processes/t/table.dmn."""
    return {"d.bpmn": deciding(pid, table.decision)}, {"apply.json": OPEN}, \
        {"processes/t/table.dmn": table.xml().encode()}


def table_workspace(table: Table, pid: str = "t_table") -> Files:
    """The same as one workspace, for `validate`."""
    files, forms, extra = table_files(pid, table)
    return workspace(files, forms, key=pid, extra=extra)
