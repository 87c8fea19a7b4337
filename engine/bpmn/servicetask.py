"""The `serviceTask` spec tongban runs: an asynchronous continuation, like Camunda's `asyncBefore`.

Reaching a service task does not call anything: the task waits (state STARTED) for its first attempt,
due at once, and the step that reached it commits.  The attempt is a row in the timers table, so the
sweep runs it — the embedded server's timer thread, or a `run_service` job on a worker — exactly once,
outside the request of whoever completed the task before it: a slow or hanging system never holds up
(or loses) someone's submitted form.  A transient failure makes the next attempt due after a backoff.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_OID, uuid5

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.spiff.specs.defaults import ServiceTask as SpiffServiceTask
from SpiffWorkflow.task import Task, TaskState

from engine.base.clock import now
from engine.base.vocabulary import EventKind
from engine.bpmn import services
from engine.bpmn.scripting import as_moment

RETRY = "service_attempt"  # internal data of a task waiting for its next attempt: {attempt (done so far), at, error}


class ServiceTask(SpiffServiceTask):
    def _execute(self, task: Task) -> bool | None:
        calls = services.current()
        if RETRY not in task.internal_data:  # reached: the first attempt is due now, after this step commits
            task.internal_data[RETRY] = {"attempt": 0, "at": now().isoformat()}
            return None
        attempt = task.internal_data.pop(RETRY)["attempt"] + 1
        params = {name: param["value"] for name, param in self.evaluate_params(task).items()}
        detail: dict[str, Any] = {"operator": self.operation_name, "attempt": attempt}
        try:
            result = calls.call(self.operation_name, params, str(task.id))
        except services.ServiceUnavailable as exc:
            retries = self.retries if self.retries is not None else calls.settings.service_retries
            if attempt > retries:
                raise WorkflowTaskException(f"{exc}（已重试 {retries} 次 after {retries} retries）", task=task,
                                            exception=exc) from None
            at = now() + calls.backoff(attempt, self.retry_backoff_base)
            task.internal_data[RETRY] = {"attempt": attempt, "at": at.isoformat(), "error": str(exc)}
            calls.events.append({"kind": EventKind.SERVICE_RETRY_SCHEDULED, "task_id": str(task.id),
                                 "element_id": self.bpmn_id,
                                 "detail": {**detail, "retry_at": at.isoformat(), "error": str(exc)}})
            return None
        except services.ServiceError as exc:
            raise WorkflowTaskException(str(exc), task=task, exception=exc) from None
        except Exception as exc:  # a plug-in's own bug: an incident on this case, never a crashed worker
            failed = services.ServiceError(f"服务 {self.operation_name} 出错 (operator failed): {exc!r}")
            raise WorkflowTaskException(str(failed), task=task, exception=failed) from exc
        task.data[self.result_variable] = json.loads(json.dumps(result, ensure_ascii=False, default=str))
        calls.events.append({"kind": EventKind.SERVICE_CALLED, "task_id": str(task.id), "element_id": self.bpmn_id,
                             "detail": detail})
        return True


def waiting(task: Task) -> tuple[str, datetime] | None:
    """(row key, time) of a service task waiting for its next attempt: each attempt has its own timers row
    (a retry after an incident starts counting again, at another time)."""
    retry = task.internal_data.get(RETRY)
    if retry is None:
        return None
    return str(uuid5(NAMESPACE_OID, f"{task.id}/{retry['attempt']}/{retry['at']}")), as_moment(retry["at"])


def due(tasks: Iterator[Task] | list[Task]) -> list[Task]:
    """The STARTED service tasks whose next attempt has come."""
    at = now()
    return [t for t in tasks if t.state == TaskState.STARTED and (w := waiting(t)) is not None and w[1] <= at]
