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


class Outcome(StrEnum):
    """instances.outcome (String(20)): what a case came to, beside whether it is still running.

    Set by the `outcome` property of the element that decides (engine/bpmn/stepping.py `outcome_of`); the
    administrator's termination sets `terminated`. Lists, filters, documents and the dashboard use it, so a
    refusal no longer looks like an approval because both ended `completed`.
    """

    APPROVED = "approved"
    REFUSED = "refused"
    NOT_ACCEPTED = "not_accepted"
    WITHDRAWN = "withdrawn"
    LAPSED = "lapsed"
    REVOKED = "revoked"
    CLOSED = "closed"
    TERMINATED = "terminated"


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
    OUTCOME_SET = "outcome_set"
    #: 撤回 (engine/runtime/withdrawal.py): the applicant withdrew, asked to, or the office refused the request
    WITHDRAWN = "withdrawn"
    WITHDRAWAL_REQUESTED = "withdrawal_requested"
    WITHDRAWAL_REFUSED = "withdrawal_refused"
    #: 退回 (engine/runtime/returns.py): the case was sent back from one user task to an earlier one
    RETURNED = "returned"
    SIGNERS_ADDED = "signers_added"  # 加签 (engine/runtime/signers.py)
    SIGNER_REMOVED = "signer_removed"  # 减签
    SIGNER_APPROVED = "signer_approved"  # a supervisor let an outside signer in
    SIGNER_REJECTED = "signer_rejected"  # … or refused it
    SIGNED = "signed"  # a co-signer's opinion: agree or disagree
    SUBMISSION_HELD = "submission_held"  # 后加签: the holder's submission waits for the added signers
    TASK_ENTRUSTED = "task_entrusted"  # 委派 (not 转办: the task comes back)
    ENTRUST_RETURNED = "entrust_returned"  # the delegate's work, back with the delegator
    CARBON_COPIED = "carbon_copied"  # 抄送: who was sent a read-only copy, by whom or by which element
    TASK_URGED = "task_urged"  # 催办: the applicant or a supervisor urged an open task
    MIGRATED = "migrated"  # 版本迁移 (engine/runtime/migration.py): the case moved to a later version

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
    CASE_WITHDRAWN = "case_withdrawn"
    WITHDRAWAL_REQUESTED = "withdrawal_requested"
    WITHDRAWAL_DECIDED = "withdrawal_decided"
    CASE_RETURNED = "case_returned"
    COSIGN_REQUESTED = "cosign_requested"  # a co-signer's turn to sign (加签)
    COSIGN_APPROVAL = "cosign_approval"  # supervisors: an outside signer waits for approval
    COSIGNED = "cosigned"  # the holder: a co-signer gave its opinion
    ENTRUSTED = "entrusted"  # 委派: the delegate got a task, or the delegator got it back
    CARBON_COPY = "carbon_copy"  # 抄送: a case was copied to the user to read
    URGED = "urged"  # 催办: a task the user holds was urged
    CASE_PROGRESS = "case_progress"  # the applicant: a step of its case that concerns it (case/applicantnotices.py)


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
    APPLICANT_NOTICES = "applicant_notices"
    CARBON_COPIES = "carbon_copies"
    FUND_LEDGER = "fund_ledger"


class SignerKind(StrEnum):
    """task_signers.kind (String(10)): how a person was added to someone else's task."""

    BEFORE = "before"  # 前加签 / 会签: must agree before the holder completes
    AFTER = "after"  # 后加签: signs after the holder submitted, in order
    DELEGATE = "delegate"  # 委派: acts for the holder and gives the task back


class SignerState(StrEnum):
    """task_signers.state (String(12))."""

    PROPOSED = "proposed"  # outside the task's lane: waits for a supervisor
    WAITING = "waiting"  # an after-signer whose turn has not come
    PENDING = "pending"  # may act now (its inbox shows the task)
    AGREED = "agreed"
    DISAGREED = "disagreed"
    RETURNED = "returned"  # a delegate gave the task back
    REMOVED = "removed"  # 减签
    REJECTED = "rejected"  # a supervisor refused the outside signer
    CANCELLED = "cancelled"  # the task stopped being open (withdrawn, terminated, returned, a timer) first

