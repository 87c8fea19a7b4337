"""The 135 supervision dashboard: figures by unit and building, overdue and 督办 lists, scoping and exports."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from engine.base import clock
from engine.base.errors import Forbidden
from engine.base.xmlsafe import parse_xml
from engine.people.accounts import ensure_org
from engine.runtime.runtime import Runtime
from engine.runtime.supervision import Period, Watched, dashboard, watched_processes
from tests.support.http import log_in
from tests.support.repo import REPO
from tests.support.supervision import at, facts, make_case
from tests.support.supervision import building as building_value

MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))


def test_figures_by_unit_and_building(runtime: Runtime, cases: dict[str, int]) -> None:
    board = dashboard(runtime.db, runtime.actor("dispatcher"), MARCH, runtime.settings.timezone)
    t = board.total
    assert (t.requests, t.finished, t.on_time, t.overdue, t.supervised, t.reported) == (6, 2, 1, 1, 2, 1)
    assert t.on_time_rate == 0.5 and t.rated == 2 and t.satisfied_share == 0.5
    assert t.ratings == {"非常满意": 0, "满意": 1, "基本满意": 0, "不满意": 1, "非常不满意": 0}
    units = {f.key: f for f in board.by_unit}
    assert set(units) == {"chengguan", "xzsp", None}
    assert units["chengguan"].label == "市南区城市管理局"
    assert (units["chengguan"].requests, units["chengguan"].finished, units["chengguan"].on_time) == (2, 2, 1)
    assert (units["xzsp"].requests, units["xzsp"].finished, units["xzsp"].overdue) == (3, 0, 1)
    assert units["xzsp"].on_time_rate is None and units[None].requests == 1
    buildings = {f.key: f for f in board.by_building}
    # a building is stored by its code (processes/organisations.yaml) and shown by its name
    assert {key: f.label for key, f in buildings.items()} == {"bld_wtc": "世贸中心", "bld_huarun": "华润大厦",
                                                               "bld_hisense": "海信大厦"}
    assert buildings["bld_wtc"].ratings["不满意"] == 1 and buildings["bld_wtc"].supervised == 2
    assert buildings["bld_huarun"].requests == 3 and buildings["bld_huarun"].satisfied_share == 1.0


def test_overdue_and_supervised_lists(runtime: Runtime, cases: dict[str, int]) -> None:
    board = dashboard(runtime.db, runtime.actor("inspector"), MARCH, runtime.settings.timezone)
    [late] = board.overdue
    assert (late.id, late.building, late.unit, late.reported) == (cases["overdue"], "世贸中心", "市南区行政审批服务局",
                                                                  True)
    assert late.due == datetime(2026, 3, 5, 15, 59, 59, tzinfo=UTC)
    assert late.days_overdue == 7  # 6, 9, 10, 11, 12, 13, 16 March
    assert late.enterprise == "青岛海韵科技有限公司"
    assert [c.id for c in board.supervised] == [cases["late"], cases["overdue"]]
    assert board.supervised[0].days_overdue is None  # finished: no longer counting


def test_the_period_is_the_start_date(runtime: Runtime, cases: dict[str, int]) -> None:
    board = dashboard(runtime.db, runtime.actor("admin"), Period(date(2026, 3, 9), date(2026, 3, 9)),
                      runtime.settings.timezone)
    assert board.total.requests == 2 and board.overdue == []


def test_only_supervisors_see_the_figures(runtime: Runtime, cases: dict[str, int]) -> None:
    for user in ("haiyun", "zhujian", "handler", "window"):
        with pytest.raises(Forbidden):
            dashboard(runtime.db, runtime.actor(user), MARCH, runtime.settings.timezone)


def test_pages_and_exports_are_for_supervisors_only(client: FlaskClient, cases: dict[str, int]) -> None:
    for user in ("haiyun", "zhujian"):
        log_in(client, user)
        assert "/supervision" not in client.get("/cases").get_data(as_text=True)
        for path in ("/supervision", "/supervision/export.csv", "/supervision/export.xlsx"):
            assert client.get(path).status_code == 403, (user, path)
    log_in(client, "dispatcher")
    page = client.get("/supervision?from=2026-03-01&to=2026-03-31")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'href="/supervision"' in html
    assert f'href="/cases/{cases["overdue"]}"' in html and "市南区城市管理局" in html
    assert 'id="supervision-charts"' in html and "<script>" not in html


def test_csv_export_opens_in_excel(client: FlaskClient, cases: dict[str, int]) -> None:
    log_in(client, "dispatcher")
    reply = client.get("/supervision/export.csv?from=2026-03-01&to=2026-03-31")
    assert reply.status_code == 200 and reply.mimetype == "text/csv"
    raw = reply.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:5] == ["承办单位", "诉求数", "已办结", "按期办结", "按期率"]
    assert rows[1][:5] == ["市南区城市管理局", "2", "2", "1", "50.0%"]
    assert ["逾期清单"] in rows and any(r and r[0] == "370202QYSQ20260302000003" for r in rows)
    assert "supervision_20260301-20260331.csv" in reply.headers["Content-Disposition"]


def test_xlsx_export_loads(client: FlaskClient, cases: dict[str, int]) -> None:
    log_in(client, "inspector")
    reply = client.get("/supervision/export.xlsx?from=2026-03-01&to=2026-03-31")
    assert reply.status_code == 200
    book = load_workbook(io.BytesIO(reply.get_data()))
    assert book.sheetnames == ["按承办单位", "按楼宇", "逾期清单", "督办清单", "催办统计"]
    overdue = list(book["逾期清单"].values)
    assert overdue[0][0] == "办件编号" and overdue[1][0] == "370202QYSQ20260302000003" and overdue[1][5] == 7
    total = list(book["按楼宇"].values)[-1]
    assert total[:3] == ("合计", 6, 2)


REQUEST = {"enterprise_name": "青岛海韵科技有限公司", "credit_code": "91370202MA3C4XY01E", "contact": "王海燕",
           "mobile": "13805320001", "category": "city_management",
           "description": "楼宇北侧人行道共享单车长期乱停放，影响员工通行，请协调清理。"}
DONE = {"handle_outcome": "done", "result_status": "resolved", "result_report": "已协调运营企业清理车辆并划定停放区。"}


def step(runtime: Runtime, case: int, element: str, user: str, data: dict) -> None:
    """Complete the case's ready task `element` as `user`, as the scenarios do."""
    actor = runtime.actor(user)
    [task] = [t for t in runtime.instance(case, actor).open_tasks if t.element_id == element]
    runtime.complete(task.id, data, actor)


def test_real_qysq_cases_end_to_end(runtime: Runtime) -> None:
    """Cases driven through the runtime: the facts the steps leave are what the dashboard counts."""
    clock.travel(at("2026-03-02T09:00:00") - clock.now())
    ids = {}
    for name, building in (("on_time", "华润大厦"), ("overdue", "世贸中心"), ("late", "世贸中心")):
        data = REQUEST | {"building": building_value(runtime, building)}
        ids[name] = case = runtime.start("qysq_request", data, runtime.actor("haiyun")).id
        step(runtime, case, "intake", "street", {"kind": "request", "items": [{"title": "清理乱停放单车"}]})
        step(runtime, case, "dispatch", "dispatcher", {"complexity": "ordinary", "lead_unit": "chengguan"})
        step(runtime, case, "sign", "handler", {"sign_action": "sign"})
    clock.travel(at("2026-03-03T10:00:00") - clock.now())
    step(runtime, ids["on_time"], "handle", "handler", DONE)
    step(runtime, ids["on_time"], "quality", "dispatcher", {"quality_result": "pass",
                                                            "quality_note": "办理结果符合要求"})
    step(runtime, ids["on_time"], "rate", "haiyun", {"rating": "满意"})
    clock.travel(at("2026-03-09T10:00:00") - clock.now())  # due 5 March: overdue, 督办 red flag
    for name in ("overdue", "late"):
        runtime.advance(ids[name])
    step(runtime, ids["late"], "handle", "handler", DONE)
    step(runtime, ids["late"], "quality", "dispatcher", {"quality_result": "pass", "quality_note": "办理结果符合要求"})
    step(runtime, ids["late"], "rate", "haiyun", {"rating": "不满意"})
    clock.travel(at("2026-03-16T10:00:00") - clock.now())  # five working days after due: reported to 督查室
    runtime.advance(ids["overdue"])

    board = dashboard(runtime.db, runtime.actor("inspector"), MARCH, runtime.settings.timezone)
    t = board.total
    assert (t.requests, t.finished, t.on_time, t.overdue, t.supervised, t.reported) == (3, 2, 1, 1, 2, 1)
    assert (t.ratings["满意"], t.ratings["不满意"]) == (1, 1)
    [unit] = board.by_unit
    assert (unit.key, unit.label, unit.on_time_rate) == ("chengguan", "市南区城市管理局", 0.5)
    assert {f.label: f.requests for f in board.by_building} == {"世贸中心": 2, "华润大厦": 1}
    [late] = board.overdue
    assert (late.id, late.days_overdue, late.reported) == (ids["overdue"], 7, True)
    assert late.due == datetime(2026, 3, 5, 15, 59, 59, tzinfo=UTC)
    assert [c.id for c in board.supervised] == [ids["overdue"], ids["late"]]


def test_a_late_dispatch_is_overdue_and_supervised(runtime: Runtime, cases: dict[str, int]) -> None:
    """The 1-day dispatch pledge counts: a request not dispatched by its due time is in 当前逾期, and once the
    escalation timer fired it is in the 督办 list — the old dashboard looked at `handle` only."""
    waiting = make_case(runtime, 8, "2026-03-12T09:00:00", facts(None, "bld_hisense", None),
                        [("ready", "2026-03-13T23:59:59", None)], fired=("b_dispatch_late",), element="dispatch")
    on_time = make_case(runtime, 9, "2026-03-16T08:00:00", facts(None, "bld_hisense", None),
                        [("ready", "2026-03-17T23:59:59", None)], element="dispatch")  # due tomorrow: not late
    board = dashboard(runtime.db, runtime.actor("dispatcher"), MARCH, runtime.settings.timezone)
    assert board.total.requests == 8 and board.total.overdue == 2 and board.total.supervised == 3
    assert [c.id for c in board.overdue] == [cases["overdue"], waiting]
    late = board.overdue[1]
    assert late.due == datetime(2026, 3, 13, 15, 59, 59, tzinfo=UTC) and late.days_overdue == 1 and late.unit is None
    assert waiting in [c.id for c in board.supervised] and on_time not in [c.id for c in board.supervised]


def test_not_rated_is_counted_apart(runtime: Runtime, cases: dict[str, int]) -> None:
    make_case(runtime, 8, "2026-03-03T09:00:00", facts("chengguan", "bld_huarun", "2026-03-06T23:59:59", "未评价"),
              [("completed", "2026-03-06T23:59:59", "2026-03-05T10:00:00")])
    board = dashboard(runtime.db, runtime.actor("dispatcher"), MARCH, runtime.settings.timezone)
    t = board.total
    assert t.not_rated == 1 and t.rated == 2 and t.satisfied_share == 0.5  # neither satisfied nor not
    assert {f.key: f.not_rated for f in board.by_unit}["chengguan"] == 1


def test_the_process_declares_what_the_dashboard_reads(runtime: Runtime) -> None:
    """processes/qysq/process.yaml names the elements; each must exist in the diagram with the right kind."""
    with runtime.db.read() as session:
        [watched] = watched_processes(session)
    assert watched == Watched("qysq_request", "handle", ("dispatch", "handle"), ("b_dispatch_late", "b_overdue"),
                              ("b_report",))
    tree = parse_xml((REPO / "processes/qysq/qysq.bpmn").read_bytes(), "qysq.bpmn")
    kinds = {el.get("id"): el.tag.rsplit("}", 1)[1] for el in tree.iter() if el.get("id")}
    assert all(kinds[e] == "userTask" for e in (watched.handling, *watched.deadlines))
    assert all(kinds[e] == "boundaryEvent" for e in (*watched.supervised, *watched.reported))


def test_a_malformed_section_is_refused() -> None:
    with pytest.raises(ValueError, match="handling"):
        Watched.from_manifest("x", {"deadlines": ["dispatch"]})
    with pytest.raises(ValueError, match="supervised"):
        Watched.from_manifest("x", {"handling": "handle", "supervised": "b_overdue"})
    assert Watched.from_manifest("x", {"handling": "handle"}).deadlines == ("handle",)


def test_a_building_listed_by_code_shows_its_name(runtime: Runtime, cases: dict[str, int]) -> None:
    """Buildings offered from the shared list are stored by code; the tables and lists print the name."""
    with runtime.db.write() as session:
        ensure_org(session, "bld_haitian", "青岛海天中心", "office", None)
    case = make_case(runtime, 8, "2026-03-03T09:00:00", facts("xzsp", "bld_haitian", "2026-03-06T23:59:59"),
                     [("ready", "2026-03-06T23:59:59", None)])
    board = dashboard(runtime.db, runtime.actor("dispatcher"), MARCH, runtime.settings.timezone)
    assert {f.key: f.label for f in board.by_building}["bld_haitian"] == "青岛海天中心"
    assert next(c for c in board.overdue if c.id == case).building == "青岛海天中心"
