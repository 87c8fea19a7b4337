"""The engine's one vocabulary: the words stored in status, state and kind columns, and the side products of a step.

Each is a `StrEnum`: a member *is* its string (`InstanceStatus.RUNNING == "running"`, it serialises to JSON
and binds to SQL as "running"), so what the database holds and the API answers is unchanged, while the
engine names each word once and a typo is an AttributeError instead of a silently unmatched row.
The columns are plain strings (no CHECK constraints or database enums: migrations/versions); the lengths
they allow are checked against these words by tests/base/test_vocabulary.py.
"""

from __future__ import annotations

from enum import StrEnum


class InstanceStatus(StrEnum):
    """instances.status (String(20))."""

    RUNNING = "running"
    SUSPENDED = "suspended"
    COMPLETED = "completed"
    TERMINATED = "terminated"
    ERROR = "error"


#: the statuses a case never leaves (its `ended_at` is set)
ENDED = frozenset({InstanceStatus.COMPLETED, InstanceStatus.TERMINATED})


class HumanTaskState(StrEnum):
    """tasks.state (String(20)): a user task's row, derived from the workflow (not SpiffWorkflow's TaskState)."""

    READY = "ready"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class TimerState(StrEnum):
    """timers.state (String(20))."""

    WAITING = "waiting"
    FIRED = "fired"
    CANCELLED = "cancelled"


class TimerKind(StrEnum):
    """timers.kind (String(10)): a timer event, or a service task's next attempt."""

    TIMER = "timer"
    SERVICE = "service"


class EventKind(StrEnum):
    """events.kind (String(30)): every kind of entry a case's history holds."""

    STARTED = "started"
    TASK_READY = "task_ready"
    TASK_COMPLETED = "task_completed"
    TASK_CANCELLED = "task_cancelled"
    TIMER_FIRED = "timer_fired"
    TIMER_CANCELLED = "timer_cancelled"
    DATA_CHANGED = "data_changed"
    ERROR = "error"
    ENDED = "ended"
    SUSPENDED = "suspended"
    RESUMED = "resumed"
    TERMINATED = "terminated"
    RETRIED = "retried"
    MESSAGE_RECEIVED = "message_received"
    MESSAGE_THROWN = "message_thrown"
    SERVICE_CALLED = "service_called"
    SERVICE_RETRY_SCHEDULED = "service_retry_scheduled"
    TASK_CLAIMED = "task_claimed"
    TASK_UNCLAIMED = "task_unclaimed"
    TASK_DELEGATED = "task_delegated"
    COMMENTED = "commented"
    ATTACHED = "attached"

    @classmethod
    def timer(cls, outcome: TimerState) -> EventKind:
        """The event of a timer leaving the waiting set: timer_fired or timer_cancelled."""
        return cls(f"timer_{outcome}")


class NoticeKind(StrEnum):
    """notifications.kind (String(32)): in-app notices (engine/case/notifications.py)."""

    SLA_WARNING = "sla_warning"
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"
    ESCALATION_REPORT = "escalation_report"
    INCIDENT = "incident"
    SERVICE_NOTICE = "service_notice"


class MailState(StrEnum):
    """notifications.mail_state (String(10)): a notice's e-mail copy in the outbox (engine/background/mail.py)."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    EXPIRED = "expired"


class OrgKind(StrEnum):
    """organisations.kind (String(20)): an applying enterprise, a reviewing department, or an office."""

    ENTERPRISE = "enterprise"
    DEPARTMENT = "department"
    OFFICE = "office"


class Product(StrEnum):
    """A step's side products, written in its transaction (engine/case/products.py registers what each does).

    A process.yaml may list the ones that are not always on under `products:` (e.g. the building fund's
    `fund_ledger`).
    """

    NOTICES = "notices"
    CASE_FACTS = "case_facts"
    DOCUMENTS = "documents"
    FUND_LEDGER = "fund_ledger"
