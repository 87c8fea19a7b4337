"""The designers' scenarios (processes/*/scenarios/*.yaml) run under pytest too, with the coverage bar."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.design.scenarios import Coverage, Report, ScenarioInvalid, discover, load, run_all
from tests.support.builder import bpmn, end, flows, gateway, render, start, user
from tests.support.repo import REPO, repo_files
from tests.support.services import FORMS, POST, service_process
from tests.support.workspaces import workspace

ROOT = REPO / "processes"
FILES = discover(ROOT)
MIN_FLOW_COVERAGE = 0.95


@pytest.fixture(scope="session")
def report() -> Report:
    """Every scenario of the repository, played once per test session on a throw-away database."""
    return run_all(repo_files(), FILES, ROOT)


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_scenario(report: Report, path: Path) -> None:
    [result] = [r for r in report.results if r.scenario.path == str(path.relative_to(ROOT.parent))]
    assert result.passed, result.message


def test_every_process_with_scenarios_reaches_the_coverage_bar(report: Report) -> None:
    low = {key: (f"{c.flow_ratio:.0%}", c.missed_flows()) for key, c in report.coverage.items()
           if c.flow_ratio < MIN_FLOW_COVERAGE}
    assert low == {}


def test_a_malformed_scenario_names_the_file_and_the_step(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nprocess: sample_approval\nstart: {as: applicant}\n"
                    "steps:\n  - complete: submit\n  - advance: tomorrow\nexpect: {}\n", encoding="utf-8")
    with pytest.raises(ScenarioInvalid) as err:
        load(path, "bad.yaml")
    assert "bad.yaml" in err.value.message and set(err.value.fields) == {"/steps/0", "/steps/1"}


def test_a_failing_expectation_says_which_step(tmp_path: Path) -> None:
    path = tmp_path / "scenarios" / "wrong.yaml"
    path.parent.mkdir()
    path.write_text("name: 期望错误\nprocess: sample_approval\nstart: {as: applicant, data: {title: 改造, amount: 5}}\n"
                    "steps:\n  - expect_tasks: [approve]\nexpect: {status: completed}\n", encoding="utf-8")
    [result] = run_all(repo_files(), [path], tmp_path).results
    assert not result.passed and "step 1" in result.message and "['submit']" in result.message


JOIN = """name: 并行与包容
process: t_join
start: {as: applicant, data: {fire: false}}
steps:
  - complete: housing
    as: reviewer_zhujian
  - complete: street
    as: street_staff
expect: {status: completed}
"""


def test_coverage_counts_parallel_and_inclusive_joins_and_skipped_branches(tmp_path: Path) -> None:
    nodes = [start(form="apply.json"), gateway("parallel", "split"), user("housing", "住建审查", "open.json"),
             user("street", "街道核查", "open.json"), gateway("parallel", "join"), gateway("inclusive", "maybe",
                                                                                        default="done"),
             user("fire", "消防审查", "open.json"), gateway("inclusive", "merge"), end("done_end"),
             user("done", "办结", "open.json")]
    edges = flows(("start", "split"), ("split", "housing"), ("split", "street"), ("housing", "join"),
                  ("street", "join"), ("join", "maybe"), ("maybe", "fire", "fire"), ("maybe", "done"),
                  ("fire", "merge"), ("done", "merge"), ("merge", "done_end"))
    lanes = {"申请人": ["start", "split", "join", "maybe", "merge", "done_end"], "区住建": ["housing"],
             "街道": ["street", "done"], "消防救援大队": ["fire"]}
    files = workspace({"j.bpmn": bpmn("t_join", render(nodes, edges), lanes)},
                      {"apply.json": {"type": "object", "properties": {"company": {"type": "string"},
                                                                      "fire": {"type": "boolean"}}},
                       "open.json": {"type": "object"}}, key="t_join")
    scenario = tmp_path / "scenarios" / "join.yaml"
    scenario.parent.mkdir()
    scenario.write_text(JOIN.replace("  - complete: street\n    as: street_staff\n",
                                     "  - complete: street\n    as: street_staff\n  - complete: done\n"
                                     "    as: street_staff\n"), encoding="utf-8")
    report = run_all(files, [scenario], tmp_path)
    assert report.passed, report.results[0].message
    cov: Coverage = report.coverage["t_join"]
    assert set(cov.missed_flows()) == {"maybe__fire", "fire__merge"}  # the skipped inclusive branch
    assert cov.missed_nodes() == ["fire"]
    assert {"housing__join", "street__join", "join__maybe", "done__merge", "merge__done_end"} <= cov.flows_taken


SERVICE = """name: 外部系统先忙后答
process: t_service
start: {as: applicant, data: {company: 海韵科技}}
services:
  http_post:
    - fail: unavailable
    - reply: {licence: L-9}
steps:
  - expect_tasks: []
  - advance: 1 minutes
  - expect_tasks: [review]
  - complete: review
    as: window_clerk
expect: {status: completed, data: {reply: {licence: L-9}}}
"""
REFUSED = """name: 外部系统拒绝
process: t_service
start: {as: applicant, data: {company: 海韵科技}}
services:
  http_post:
    - fail: refused
      message: 统一社会信用代码不存在
expect: {status: error}
"""


def test_scenarios_script_what_outside_systems_answer(tmp_path: Path) -> None:
    files = {**repo_files(), **workspace({"t_service.bpmn": service_process("http_post", POST)}, FORMS,
                                         key="t_service")}
    paths = []
    for name, text in (("busy.yaml", SERVICE), ("refused.yaml", REFUSED), ("silent.yaml", SERVICE.replace(
            "    - reply: {licence: L-9}\n", ""))):
        paths.append(tmp_path / "scenarios" / name)
        paths[-1].parent.mkdir(exist_ok=True)
        paths[-1].write_text(text, encoding="utf-8")
    busy, refused, silent = run_all(files, paths, tmp_path).results
    assert busy.passed, busy.message  # no endpoint is configured: only the scripted replies answered
    assert refused.passed, refused.message
    assert not silent.passed and "no further reply for http_post" in silent.message
