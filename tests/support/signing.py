"""加签 tests' pieces: the approval a co-signed task is completed with, and a user's inbox by element."""

from __future__ import annotations

from engine.definitions.catalogue import RoleCatalogue
from engine.people.accounts import add_user
from engine.runtime.inbox import Scope, TaskFilter, list_tasks
from engine.runtime.runtime import Runtime
from tests.support.http import PASSWORD
from tests.support.repo import ROLES
from tests.support.shipped import SUBMIT

APPROVE = {"decision": "approved", "comment": "材料齐全，同意"}


def _inbox(runtime: Runtime, username: str) -> list[str]:
    return [t.id for t in list_tasks(runtime.db, runtime.actor(username), TaskFilter(scope=Scope.ASSIGNED))[0]]



def approval_task(runtime: Runtime) -> str:
    """The sample's 审批 task, open to the window clerks of xzsp, with two more clerks there (window2, window3; they
    log in with the tests' password)."""
    with runtime.db.write() as session:
        catalogue = RoleCatalogue.from_yaml(ROLES)
        add_user(session, catalogue, "window2", "xzsp", ["window_clerk"], "李窗口", PASSWORD)
        add_user(session, catalogue, "window3", "xzsp", ["window_clerk"], "王窗口", PASSWORD)
    haiyun = runtime.actor("haiyun")
    view = runtime.start("sample_approval", {"title": "加签测试", "amount": 50_000}, haiyun)
    runtime.complete(view.open_tasks[0].id, SUBMIT, haiyun)
    [task] = runtime.instance(view.id, runtime.actor("admin")).open_tasks
    return task.id
