"""Decision tables run by cases: the FEEL entries dmn-js writes, and every DMN 1.3 hit policy (issue 15 point 4).

The first three reproduce what SpiffWorkflow's DMN engine did: a range validated and then put every case in
error; a list and `not(...)` matched nothing, so every case took the default row.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.runtime.runtime import Runtime
from engine.runtime.views import InstanceView
from tests.support.decisions import Table, table_files
from tests.support.steps import begin, put

DEFAULT = (["-"], ['"default"'])


def decide(runtime: Runtime, table: Table, data: dict[str, Any], pid: str = "t_table") -> InstanceView:
    put(runtime, pid, *table_files(pid, table))
    return begin(runtime, pid, data)


def decided(runtime: Runtime, table: Table, data: dict[str, Any]) -> dict[str, Any]:
    view = decide(runtime, table, data)
    assert view.status == "completed", view.error
    detail = runtime.instance(view.id, runtime.actor("admin"), detail=True).data
    assert detail is not None
    return detail


@pytest.mark.parametrize(("amount", "level"), [(30000, "small"), (50000, "middle"), (200000, "middle"),
                                               (200001, "large")])
def test_a_feel_range_decides_instead_of_erroring(runtime: Runtime, amount: int, level: str) -> None:
    table = Table([("金额", "amount")], ["level"], [
        (["< 50000"], ['"small"']), (["[50000..200000]"], ['"middle"']), (["> 200000"], ['"large"'])])
    assert decided(runtime, table, {"amount": amount})["level"] == level


@pytest.mark.parametrize(("code", "group"), [("AA", "listed"), ("BB", "listed"), ("CC", "default")])
def test_a_feel_list_matches_any_of_its_values(runtime: Runtime, code: str, group: str) -> None:
    table = Table([("代码", "code")], ["group"], [(['"AA","BB"'], ['"listed"']), DEFAULT], hit_policy="FIRST")
    assert decided(runtime, table, {"code": code})["group"] == group


@pytest.mark.parametrize(("code", "group"), [("XX", "default"), ("YY", "other"), (None, "other")])
def test_feel_not_matches_every_other_value(runtime: Runtime, code: str | None, group: str) -> None:
    table = Table([("代码", "code")], ["group"], [(['not("XX")'], ['"other"']), DEFAULT], hit_policy="FIRST")
    assert decided(runtime, table, {"code": code})["group"] == group


@pytest.mark.parametrize(("count", "kind"), [(1, "listed"), (2, "listed"), (3, "other"), (5, "open")])
def test_not_of_several_numbers_and_a_left_open_range(runtime: Runtime, count: int, kind: str) -> None:
    table = Table([("数量", "count"), ("数量2", "count")], ["kind"], [
        (["not(1,2)", "(3..5]"], ['"open"']), (["1,2", "-"], ['"listed"']), (["-", "-"], ['"other"'])],
        hit_policy="FIRST")
    assert decided(runtime, table, {"count": count})["kind"] == kind


@pytest.mark.parametrize(("day", "period"), [("2025-12-31", "before"), ("2026-01-01", "after"),
                                             ("2026-03-01T10:00:00+08:00", "after")])
def test_dates_compare_with_the_iso_text_cases_hold(runtime: Runtime, day: str, period: str) -> None:
    table = Table([("申请日", "filed_on")], ["period"], [
        ([' >= date("2026-01-01")'], ['"after"']), (['< date("2026-01-01")'], ['"before"'])])
    assert decided(runtime, table, {"filed_on": day})["period"] == period


def test_literal_outputs_are_typed_and_booleans_strings_and_numbers_match(runtime: Runtime) -> None:
    table = Table([("是否", "flag"), ("类别", "kind"), ("面积", "area")], ["days", "fee", "note", "start", "none"], [
        (["true", '"shop"', "120"], ["5", "-1.5", '"说明"', 'date("2026-01-01")', "null"]),
        (["false", "-", ""], ["0", "0", '""', 'date("2026-01-02")', "null"])])
    data = decided(runtime, table, {"flag": True, "kind": "shop", "area": 120})
    assert (data["days"], data["fee"], data["note"], data["start"], data["none"]) == (5, -1.5, "说明", "2026-01-01",
                                                                                     None)


def test_a_name_in_an_entry_compares_with_that_case_field(runtime: Runtime) -> None:
    table = Table([("面积", "area")], ["over"], [(["> limit"], ["true"]), (["<= limit"], ["false"])])
    assert decided(runtime, table, {"area": 120, "limit": 100})["over"] is True


def test_the_python_dialect_with_a_question_mark_still_runs(runtime: Runtime) -> None:
    table = Table([("行业", "industry")], ["food"], [(['? in ("restaurant", "cafe")'], ["True"]),
                                                   (['? not in ("restaurant", "cafe")'], ["False"])])
    assert decided(runtime, table, {"industry": "cafe"})["food"] is True


def test_a_text_input_against_a_number_entry_puts_the_case_in_error_saying_where(runtime: Runtime) -> None:
    table = Table([("金额", "amount")], ["level"], [(["< 10"], ['"small"']), ([">= 10"], ['"large"'])])
    view = decide(runtime, table, {"amount": "5"})
    assert view.status == "error" and view.error_element == "decide"
    assert "decision table decide_it, rule r1, #1" in (view.error or "")
    assert "输入值 '5'（string）不能与 10（number）比较" in (view.error or "")


# -- hit policies ------------------------------------------------------------------------------------

OVERLAPPING = [(["> 10"], ['"big"']), (["> 100"], ['"huge"']), (["<= 10"], ['"small"'])]


def test_unique_with_two_matching_rules_errors_naming_both(runtime: Runtime) -> None:
    view = decide(runtime, Table([("面积", "area")], ["size"], OVERLAPPING), {"area": 500})
    assert view.status == "error" and view.error_element == "decide"
    assert "decision table decide_it has hit policy UNIQUE but 2 rules match: r1 (#1), r2 (#2)" in (view.error or "")
    assert "命中策略为 UNIQUE，但有 2 条规则同时命中" in (view.error or "")


def test_unique_with_one_match_decides(runtime: Runtime) -> None:
    assert decided(runtime, Table([("面积", "area")], ["size"], OVERLAPPING), {"area": 5})["size"] == "small"


def test_no_matching_rule_of_a_single_hit_table_leaves_the_outputs_unset(runtime: Runtime) -> None:
    data = decided(runtime, Table([("面积", "area")], ["size"], [(["> 10"], ['"big"'])]), {"area": 5})
    assert "size" not in data


def test_first_takes_the_first_matching_rule_in_order(runtime: Runtime) -> None:
    table = Table([("面积", "area")], ["size"], OVERLAPPING, hit_policy="FIRST")
    assert decided(runtime, table, {"area": 500})["size"] == "big"


def test_priority_takes_the_match_whose_output_comes_first_in_output_values(runtime: Runtime) -> None:
    table = Table([("面积", "area")], ["size"], OVERLAPPING, hit_policy="PRIORITY",
                  output_values={"size": '"huge","big","small"'})
    assert decided(runtime, table, {"area": 500})["size"] == "huge"


def test_any_with_agreeing_matches_decides(runtime: Runtime) -> None:
    table = Table([("面积", "area")], ["size"], [(["> 10"], ['"big"']), (["> 100"], ['"big"'])], hit_policy="ANY")
    assert decided(runtime, table, {"area": 500})["size"] == "big"


def test_any_with_disagreeing_matches_errors(runtime: Runtime) -> None:
    view = decide(runtime, Table([("面积", "area")], ["size"], OVERLAPPING, hit_policy="ANY"), {"area": 500})
    assert view.status == "error"
    assert "hit policy ANY but the matching rules ['r1', 'r2'] give different outputs" in (view.error or "")


def test_collect_lists_every_match_in_rule_order(runtime: Runtime) -> None:
    table = Table([("面积", "area")], ["size", "rank"], [(r[0], [*r[1], str(n)]) for n, r in enumerate(OVERLAPPING)],
                  hit_policy="COLLECT")
    data = decided(runtime, table, {"area": 500})
    assert (data["size"], data["rank"]) == (["big", "huge"], [0, 1])


def test_collect_with_no_match_gives_empty_lists(runtime: Runtime) -> None:
    table = Table([("面积", "area")], ["size"], [(["> 10"], ['"big"'])], hit_policy="COLLECT")
    assert decided(runtime, table, {"area": 5})["size"] == []


def test_rule_order_lists_matches_in_rule_order(runtime: Runtime) -> None:
    table = Table([("面积", "area")], ["size"], list(reversed(OVERLAPPING)), hit_policy="RULE ORDER")
    assert decided(runtime, table, {"area": 500})["size"] == ["huge", "big"]


def test_output_order_lists_matches_by_output_priority(runtime: Runtime) -> None:
    table = Table([("面积", "area")], ["size"], OVERLAPPING, hit_policy="OUTPUT ORDER",
                  output_values={"size": '"small","huge","big"'})
    assert decided(runtime, table, {"area": 500})["size"] == ["huge", "big"]


FEES = [(["> 0"], ["10"]), (["> 100"], ["25"]), (["> 1000"], ["40"])]


@pytest.mark.parametrize(("aggregation", "area", "fee"), [
    ("SUM", 500, 35), ("MIN", 500, 10), ("MAX", 5000, 40), ("COUNT", 5000, 3), ("COUNT", 0, 0), ("SUM", 0, None)])
def test_collect_aggregations(runtime: Runtime, aggregation: str, area: int, fee: int | None) -> None:
    table = Table([("面积", "area")], ["fee"], FEES, hit_policy="COLLECT", aggregation=aggregation)
    assert decided(runtime, table, {"area": area})["fee"] == fee


def test_a_sum_over_text_outputs_errors(runtime: Runtime) -> None:
    table = Table([("面积", "area")], ["fee"], [(["> 0"], ['"a"']), (["> 1"], ['"b"'])], hit_policy="COLLECT",
                  aggregation="SUM")
    view = decide(runtime, table, {"area": 5})
    assert view.status == "error" and "decision table decide_it cannot SUM the outputs ['a', 'b']" in (view.error or "")
