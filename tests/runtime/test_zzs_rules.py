"""住转商 预备案 rules a single-case scenario cannot show (docs/domain-rules/zzs.md).

- The pre-registration number is derived from the case number, so two cases filed on consecutive days (whose
  case-number sequences both start at 000001) never get the same number (on a833291 both got ZZS-2026-000001).
- The negative-list table matches by code prefix in both directions: a 2- or 3-digit code whose division or
  group contains a listed class is a hit, whatever the form lets through.
"""

from __future__ import annotations

import re
from datetime import datetime
from io import BytesIO
from types import SimpleNamespace
from typing import Any

import pytest

from engine.base import clock
from engine.bpmn.scripting import script_engine
from engine.case.attachments import add_draft
from engine.definitions.compiler import ParsedWorkspace
from engine.runtime.runtime import Runtime
from tests.support.repo import repo_files
from tests.support.uploads import PDF
from tests.support.zzs import APPLICATION, CONSENT, SITE, _complete, _filed_on


def test_pre_registration_numbers_of_consecutive_days_differ_and_come_from_the_case_number(runtime: Runtime) -> None:
    first_case, first = _filed_on(runtime, "2026-03-02")
    second_case, second = _filed_on(runtime, "2026-03-03")
    numbers = [re.search(r"预备案编号：(\S+)", text).group(1) for text in (first, second)]  # type: ignore[union-attr]
    assert first_case.endswith("000001") and second_case.endswith("000001")  # each day's sequence starts again
    assert numbers == ["ZZS-370202-20260302000001", "ZZS-370202-20260303000001"]
    assert numbers[0] != numbers[1]


@pytest.fixture(scope="module")
def negative_list() -> Any:
    workspace = ParsedWorkspace(repo_files())
    [manifest] = [m for m in workspace.manifests if m.key == "zzs_prereg"]
    spec = workspace.compile(manifest).spec
    return spec.task_specs["screen"].dmnEngine


def _screen(table: Any, code: str) -> dict[str, Any]:
    task = SimpleNamespace(data={"industry_code": code}, workflow=SimpleNamespace(script_engine=script_engine()))
    return table.result(task)


@pytest.mark.parametrize("code", ["62", "90", "80", "6", "621", "901", "805", "6210", "6291", "9011", "8052",
                                  "26", "2614", "5162", "51", "18", "1810", "52", "526", "5265"])
def test_a_code_overlapping_a_listed_one_hits_at_any_length(negative_list: Any, code: str) -> None:
    result = _screen(negative_list, code)
    assert result["negative_hit"] is True and result["negative_reason"]


@pytest.mark.parametrize("code", ["6513", "65", "623", "6231", "6299", "8391", "83", "7", "9090", "8010"])
def test_a_code_outside_every_listed_one_passes(negative_list: Any, code: str) -> None:
    assert _screen(negative_list, code) == {"negative_hit": False, "negative_reason": ""}


def test_after_a_deemed_acceptance_no_follow_up_task_is_born_overdue(runtime: Runtime) -> None:
    """No 补正 notice in 5 working days: the case counts as accepted on receipt (art. 32), but the street's checks
    and the decision get their full periods from the moment the case was deemed accepted."""
    clock.travel(datetime.fromisoformat("2026-03-02T09:00:00+08:00") - clock.now())
    applicant = runtime.actor("haiyun")
    sheet = add_draft(runtime.db, runtime.blobs, BytesIO(PDF), "业主同意书.pdf", "application/pdf", applicant)
    case = runtime.start("zzs_prereg", {**APPLICATION, "consent_sheet": str(sheet.id)}, applicant).id
    clock.travel(datetime.fromisoformat("2026-03-10T08:00:00+08:00") - clock.now())  # the 5th working day is over
    runtime.advance(case)
    view = runtime.instance(case, runtime.actor("admin"))
    deemed_at = clock.now()
    assert sorted(t.element_id for t in view.open_tasks) == ["consent_check", "site_check"]
    assert all(t.due_at is not None and t.due_at > deemed_at for t in view.open_tasks)
    due = datetime.fromisoformat("2026-03-13T23:59:59+08:00")  # 3 working days on from Tuesday 10 March
    assert all(t.due_at == due for t in view.open_tasks)
    _complete(runtime, case, "site_check", "street_xgzl", SITE)
    _complete(runtime, case, "consent_check", "street_xgzl", CONSENT)
    [decide] = runtime.instance(case, runtime.actor("admin")).open_tasks
    assert decide.element_id == "decide" and decide.due_at is not None and decide.due_at > deemed_at
