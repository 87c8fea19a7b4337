"""The SLA sweep and in-app notifications: warning, due day, overdue → 督办 (handler and dispatchers),
5 working days later → 督查室; incidents to administrators; each notice once; only its owner sees it."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from engine.background import sla
from engine.background.timers import TimerThread
from engine.base import clock
from engine.base.errors import NotFound
from engine.base.notice import Notice
from engine.base.vocabulary import MailState, NoticeKind
from engine.case.notifications import list_notifications, mark_read, raise_role_notice
from engine.runtime.runtime import Runtime
from engine.store.models import HumanTask, Notification, User
from tests.support.deadlines import MONDAY, SHANGHAI, deploy_failing, deploy_review
from tests.support.http import PASSWORD
from tests.support.steps import begin


def kinds(runtime: Runtime, username: str) -> list[str]:
    items, _ = list_notifications(runtime.db, runtime.actor(username), limit=200)
    return sorted(n["kind"] for n in items)


def at(day: int, hour: int = 9) -> None:
    """Move the clock to 2026-03-<day> <hour>:00 in Shanghai."""
    clock.travel(datetime(2026, 3, day, hour, tzinfo=SHANGHAI) - clock.now())


@pytest.fixture
def timed(runtime: Runtime) -> int:
    """A review accepted Mon 2026-03-02: warning at the end of Wed 03-04, due at the end of Thu 03-05."""
    deploy_review(runtime, "t_sla", dueDate="workdays_after(accepted_at, 3)", warnAt="workdays_after(accepted_at, 2)")
    clock.travel(MONDAY - clock.now())
    return begin(runtime, "t_sla", {"accepted_at": MONDAY.isoformat()}).id


def task_row(runtime: Runtime, instance_id: int) -> HumanTask:
    with runtime.db.read() as session:
        return session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)).one()


def test_each_stage_notifies_its_people_once(runtime: Runtime, timed: int) -> None:
    assert sla.sweep(runtime) == 0 and kinds(runtime, "window") == []
    at(5, 1)  # Thu 01:00: past the warning (end of Wed), the due day has begun
    assert sla.sweep(runtime) == 2
    assert kinds(runtime, "window") == ["due_today", "sla_warning"]
    assert sla.sweep(runtime) == 0  # a second sweep raises nothing new
    at(6)  # Fri: overdue
    assert sla.sweep(runtime) == 2
    assert kinds(runtime, "window") == ["due_today", "overdue", "sla_warning"]
    assert kinds(runtime, "dispatcher") == ["overdue"]  # 督办 copied to the supervising side
    assert kinds(runtime, "inspector") == []
    assert task_row(runtime, timed).supervised_at is not None
    at(12, 23)  # Thu 03-12: only 4 working days after the deadline (06, 09, 10, 11, 12 ends tonight)
    assert sla.sweep(runtime) == 0
    at(13)
    assert sla.sweep(runtime) == 1 and kinds(runtime, "inspector") == ["escalation_report"]
    assert sla.sweep(runtime) == 0
    with runtime.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == 5


def test_a_task_first_seen_late_skips_the_warnings(runtime: Runtime, timed: int) -> None:
    at(6)
    sla.sweep(runtime)
    assert kinds(runtime, "window") == ["overdue"]


def test_a_completed_task_is_not_chased(runtime: Runtime, timed: int) -> None:
    [task] = [t for t in runtime.tasks(runtime.actor("window")) if t.instance_id == timed]
    runtime.complete(task.id, {}, runtime.actor("window"))
    at(20)
    assert sla.sweep(runtime) == 0


def test_the_inbox_flags_due_soon_overdue_and_supervised(runtime: Runtime, timed: int) -> None:
    def flags() -> tuple[bool, bool, bool]:
        [task] = [t for t in runtime.tasks(runtime.actor("window")) if t.instance_id == timed]
        return task.due_soon, task.overdue, task.supervised

    assert flags() == (False, False, False)
    at(5)
    assert flags() == (True, False, False)
    at(6)
    assert flags() == (False, True, False)
    sla.sweep(runtime)
    assert flags() == (False, True, True)


def test_an_incident_is_reported_to_administrators_once(runtime: Runtime) -> None:
    deploy_failing(runtime)
    view = begin(runtime, "t_incident", {"accepted_at": "2099-03-02T09:00:00+08:00"})
    assert sla.sweep(runtime) == 1 and sla.sweep(runtime) == 0
    [notice], _ = list_notifications(runtime.db, runtime.actor("admin"))
    assert notice["kind"] == "incident" and notice["instance_id"] == view.id and "deadline" in notice["text"]["zh"]


def test_one_user_cannot_see_or_mark_anothers_notifications(runtime: Runtime, timed: int) -> None:
    at(6)
    sla.sweep(runtime)
    [mine], _ = list_notifications(runtime.db, runtime.actor("dispatcher"))
    with pytest.raises(NotFound):
        mark_read(runtime.db, mine["id"], runtime.actor("window"))
    with pytest.raises(NotFound):
        mark_read(runtime.db, mine["id"], runtime.actor("admin"))
    assert mark_read(runtime.db, mine["id"], runtime.actor("dispatcher"))["read_at"] is not None


def test_notifications_over_the_api(client: FlaskClient, runtime: Runtime, timed: int) -> None:
    def call(method: str, path: str, username: str, **query: str) -> tuple[int, dict]:
        token = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD}).json["token"]
        reply = client.open(path, method=method, headers={"Authorization": f"Bearer {token}"}, query_string=query)
        return reply.status_code, reply.json

    for day, hour in ((5, 1), (6, 9)):
        at(day, hour)
        sla.sweep(runtime)
    status, page = call("GET", "/api/v1/notifications", "window", limit="1")
    assert status == 200 and len(page["items"]) == 1 and page["next_cursor"]
    first = page["items"][0]
    assert first["kind"] == "overdue" and "已超期" in first["text"]["zh"] and first["read_at"] is None
    assert call("POST", f"/api/v1/notifications/{first['id']}/read", "dispatcher")[0] == 404
    status, done = call("POST", f"/api/v1/notifications/{first['id']}/read", "window")
    assert status == 200 and done["read_at"]
    unread = call("GET", "/api/v1/notifications", "window", unread="true")[1]["items"]
    assert sorted(n["kind"] for n in unread) == ["due_today", "sla_warning"]
    second = call("GET", "/api/v1/notifications", "window", limit="1", cursor=page["next_cursor"])[1]
    assert [n["id"] for n in second["items"]] == [first["id"] - 1]
    assert [n["kind"] for n in call("GET", "/api/v1/notifications", "inspector")[1]["items"]] == []
    status, tasks = call("GET", "/api/v1/tasks", "window", overdue="true")
    [item] = [t for t in tasks["items"] if t["instance_id"] == timed]
    assert (item["overdue"], item["due_soon"], item["supervised"]) == (True, False, True)


def test_the_timer_thread_runs_the_sla_sweep(runtime: Runtime, timed: int) -> None:
    at(6)
    thread = TimerThread(runtime, interval=0.05)
    thread.start()
    try:
        for _ in range(100):
            if kinds(runtime, "dispatcher"):
                break
            time.sleep(0.05)
    finally:
        thread.stop()
        thread.join(5)
    assert kinds(runtime, "dispatcher") == ["overdue"]



def test_a_role_notice_reaches_each_active_holder_once_with_its_mail_copy(runtime: Runtime) -> None:
    """One INSERT … SELECT finds the holders: a disabled one gets nothing, one with an address gets the mail copy
    queued, raising it again adds only whoever holds the role now; in an organisation only its holders."""
    db = runtime.db
    with db.write() as session:
        session.execute(update(User).where(User.username == "street").values(email="street@example.cn"))
        session.execute(update(User).where(User.username == "street_xgzl").values(disabled=True))
        xgzl = session.scalar(select(User.org_id).where(User.username == "street_xgzl"))
    everywhere, in_org = (Notice(NoticeKind.URGED, subject, "请办理", "Please act")
                          for subject in ("role-notice", "role-notice-in-org"))

    def rows(subject: str) -> set[tuple[str, str | None, str | None, int | None]]:
        with db.read() as session:
            return set(session.execute(select(User.username, Notification.mail_state, Notification.role,
                                              Notification.org_id).join(User, User.id == Notification.user_id)
                                       .where(Notification.subject == subject)).all())

    with db.writing() as conn:
        assert raise_role_notice(conn, everywhere, "street_staff") == 1
    assert rows("role-notice") == {("street", MailState.PENDING, "street_staff", None)}
    with db.write() as session:
        session.execute(update(User).where(User.username == "street_xgzl").values(disabled=False))
    with db.writing() as conn:
        assert raise_role_notice(conn, everywhere, "street_staff") == 1  # only the holder who had it not
        assert raise_role_notice(conn, in_org, "street_staff", xgzl) == 1
    assert rows("role-notice") == {("street", MailState.PENDING, "street_staff", None),
                                   ("street_xgzl", None, "street_staff", None)}
    assert rows("role-notice-in-org") == {("street_xgzl", None, "street_staff", xgzl)}
