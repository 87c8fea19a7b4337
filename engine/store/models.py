"""Database tables (SQLAlchemy 2 typed models).

The instance row holds the serialized workflow *without* its spec; everything a query needs
(human tasks, timers, events) lives in derived, indexed rows written in the same transaction.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# BIGINT on PostgreSQL, but INTEGER on SQLite so that it is the rowid alias and autoincrements.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database: SQLite keeps no zone, so naive values read back as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: tongban stores instants, pass an aware datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar = {dict[str, Any]: JSON, datetime: UtcDateTime}


class Organisation(Base):
    """An enterprise, a department or an office; users belong to exactly one."""

    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # enterprise | department | office
    credit_code: Mapped[str | None] = mapped_column(String(18))


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    email: Mapped[str | None] = mapped_column(String(254))  # copies of in-app notices go here (background/mail.py)
    # failed_logins and locked_until (migration 0003) are left unmapped since 0016: the rate limiter throttles
    # log-ins (api/limits.py); a later migration drops them once no server of the release before runs.


class FederatedIdentity(Base):
    """A person at the district's identity platform (issuer + subject) and the tongban user they log in as.

    The link, not the username, says who someone is: an identity-platform login never becomes a local
    account just because the names match.  Each login rewrites the user's organisation and roles from the
    claims and records here what it set.
    """

    __tablename__ = "federated_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"), UniqueConstraint("issuer", "user_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]
    last_org: Mapped[str | None] = mapped_column(String(64))  # the organisation code the last login mapped to
    last_roles: Mapped[list[str] | None] = mapped_column(JSON)  # the roles it set


class UserRole(Base):
    __tablename__ = "user_roles"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(64), primary_key=True)


class ProcessVersion(Base):
    """One deployed version of a startable process: the exact files it runs, keyed by content hash."""

    __tablename__ = "process_versions"
    __table_args__ = (UniqueConstraint("process_key", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(16))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    files: Mapped[dict[str, Any]] = mapped_column(JSON)  # relative path → text
    deployed_at: Mapped[datetime]
    deployed_by: Mapped[str | None] = mapped_column(String(64))


class CaseCounter(Base):
    """Per district, process code and day: the last sequence number handed out."""

    __tablename__ = "case_counters"
    prefix: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class Instance(Base):
    __tablename__ = "instances"
    __table_args__ = (
        Index("ix_instances_enterprise_created", "enterprise_id", "id"),
        Index("ix_instances_status", "status", "id"),
        Index("ix_instances_outcome", "outcome", "id"),
        Index("ix_instances_started_by", "started_by", "id"),  # 我发起的: the cases one person started, newest first
        # case-number search (`q`) by any fragment, e.g. the date and sequence; pg_trgm exists only there
        Index("ix_instances_case_number_trgm", "case_number", postgresql_using="gin",
              postgresql_ops={"case_number": "gin_trgm_ops"}).ddl_if(dialect="postgresql"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_number: Mapped[str] = mapped_column(String(40), unique=True)
    process_key: Mapped[str] = mapped_column(String(100), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"))
    status: Mapped[str] = mapped_column(String(20))  # running|suspended|completed|terminated|error
    outcome: Mapped[str | None] = mapped_column(String(20))  # engine/base/vocabulary.py Outcome; None until decided
    started_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)  # optimistic concurrency counter
    error_message: Mapped[str | None] = mapped_column(Text)
    error_element: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[bytes] = mapped_column(LargeBinary)  # serialized workflow, spec excluded


READY = text("state = 'ready'")
HELD = text("state = 'ready' AND assignee_id IS NOT NULL")
MAIL_PENDING = text("mail_state = 'pending'")
SLA_OPEN = text("state = 'ready' AND sla_stage < 4 AND (due_at IS NOT NULL OR warn_at IS NOT NULL)")


class HumanTask(Base):
    """A ready (or finished) user task, derived from the workflow state for fast inbox queries."""

    __tablename__ = "human_tasks"
    __table_args__ = (
        Index("ix_tasks_inbox", "state", "role", "org_id", "created_at", "id"),
        Index("ix_tasks_assignee", "assignee_id", "state", "created_at", "id"),
        # the administrators' inbox: every ready task, oldest first
        Index("ix_tasks_ready_created", "created_at", "id", postgresql_where=READY, sqlite_where=READY),
        Index("ix_tasks_instance", "instance_id", "state"),
        # the inbox filtered by process, per (role, organisation) and for administrators
        Index("ix_tasks_inbox_process", "role", "org_id", "process_key", "created_at", "id",
              postgresql_where=READY, sqlite_where=READY),
        Index("ix_tasks_ready_process", "process_key", "created_at", "id", postgresql_where=READY,
              sqlite_where=READY),
        Index("ix_tasks_assignee_process", "assignee_id", "process_key", "created_at", "id", postgresql_where=HELD,
              sqlite_where=HELD),  # … and for the tasks one holds
        # the case list: which instances a (role, organisation) or an assignee has tasks in, newest first
        Index("ix_tasks_scope_instance", "role", "org_id", "instance_id"),
        Index("ix_tasks_assignee_instance", "assignee_id", "instance_id"),
        # task-name search (`q`, see engine/runtime/tasknames.py): the names a branch holds, then each name's tasks
        Index("ix_tasks_inbox_name", "role", "org_id", "name", "created_at", "id", postgresql_where=READY,
              sqlite_where=READY),
        Index("ix_tasks_ready_name", "name", "created_at", "id", postgresql_where=READY, sqlite_where=READY),
        # the SLA sweep: open tasks with a deadline whose next stage may have come
        Index("ix_tasks_sla", "sla_next_at", postgresql_where=SLA_OPEN, sqlite_where=SLA_OPEN),
        # the metrics' overdue count per process (engine/background/gauges.py): a range of the ready tasks' due times
        Index("ix_tasks_ready_due", "due_at", "process_key", postgresql_where=READY, sqlite_where=READY),
        # 已办: the tasks one person completed, most recent first (engine/runtime/worklists.py)
        Index("ix_tasks_completed_by", "completed_by", "completed_at", "id"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # SpiffWorkflow task UUID
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"))
    process_id: Mapped[str] = mapped_column(String(100))
    # the instance's process key, copied so the inbox's process filter is an index range, not a join
    process_key: Mapped[str | None] = mapped_column(String(100))
    element_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(64))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    form: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20))  # ready|completed|cancelled
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    warn_at: Mapped[datetime | None]  # the SLA warning time (`warnAt`), before due_at
    # the SLA sweep's progress (engine/background/sla.py): the last stage notified and when to look again
    sla_stage: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sla_next_at: Mapped[datetime | None]
    supervised_at: Mapped[datetime | None]  # 督办: marked when the task went overdue
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Document(Base):
    """A notice issued to the applicant (受理通知书, 决定书, 回执 …): its text frozen when issued, the PDF
    rendered from that text on download, so what the applicant got never changes with a template."""

    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_instance", "instance_id", "name", "seq"),
        UniqueConstraint("instance_id", "task_id", "name", name="uq_documents_issue"),  # one per completion
        Index("ix_documents_verification_code", "verification_code", unique=True),  # GET /verify/{code}
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"))
    task_id: Mapped[str] = mapped_column(String(36))  # the SpiffWorkflow task whose completion issued it
    element_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(100))
    seq: Mapped[int] = mapped_column(Integer)  # 1, 2, … when a loop issues the same document again
    title: Mapped[str] = mapped_column(String(200))
    office: Mapped[str] = mapped_column(String(200))
    case_number: Mapped[str] = mapped_column(String(40))
    issued_at: Mapped[datetime]
    text: Mapped[str] = mapped_column(Text)
    #: printed on the document; `GET /verify/{code}` answers with its case number, title, office and date
    verification_code: Mapped[str] = mapped_column(String(16))


class Notification(Base):
    """An in-app notice to one user (SLA warning, 督办, report to 督查室, incident), shown in their inbox.

    Addressed to a user, or to a role (in an organisation) and fanned out to its holders when raised;
    (user, kind, subject) is unique, so raising the same notice twice — a sweep run again, two
    sweepers — inserts nothing new.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("subject", "kind", "user_id", name="uq_notifications_once"),  # also finds a subject's notices
        Index("ix_notifications_user", "user_id", "id"),
        Index("ix_notifications_unread", "user_id", "id", postgresql_where=text("read_at IS NULL"),
              sqlite_where=text("read_at IS NULL")),
        Index("ix_notifications_mail", "mail_next_at", postgresql_where=MAIL_PENDING, sqlite_where=MAIL_PENDING),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    role: Mapped[str | None] = mapped_column(String(64))  # the role it was addressed to, if any
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(String(32))  # sla_warning|due_today|overdue|escalation_report|incident
    subject: Mapped[str] = mapped_column(String(80))  # what it is about: a task id, or instance:version
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instances.id"))
    task_id: Mapped[str | None] = mapped_column(String(36))
    text_zh: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
    # its e-mail copy (engine/background/mail.py): NULL (the user has no address), pending, sent, failed or expired;
    # the pending rows are the outbox
    mail_state: Mapped[str | None] = mapped_column(String(10))
    mail_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    mail_next_at: Mapped[datetime | None]  # the next attempt, or a sweeper's lease on it


class Event(Base):
    """Append-only history of an instance: never updated, never deleted."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_instance", "instance_id", "id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(30))  # started|task_ready|task_completed|ended|error|...
    task_id: Mapped[str | None] = mapped_column(String(36))
    element_id: Mapped[str | None] = mapped_column(String(100))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    data_hash: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class CalendarYear(Base):
    """An administrator-loaded working-day table for one year; it overrides the library's for that year."""

    __tablename__ = "calendar_years"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holidays: Mapped[list[str]] = mapped_column(JSON)  # ISO dates of weekdays off
    workdays: Mapped[list[str]] = mapped_column(JSON)  # ISO dates of make-up weekend workdays (调休)
    loaded_at: Mapped[datetime]
    loaded_by: Mapped[str] = mapped_column(String(64))


class AuditEntry(Base):
    """Who did what to which account, when and from where: appended in the transaction of the change itself,
    never updated or deleted (database triggers refuse both; engine/people/audit.py writes it)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at", "id"), Index("ix_audit_log_action", "action", "at"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(Integer)  # no foreign key: the log outlives what it names
    actor: Mapped[str | None] = mapped_column(String(64), index=True)  # username then, "system", None: anonymous
    subject: Mapped[str | None] = mapped_column(String(200), index=True)  # the account, organisation or token
    ip: Mapped[str | None] = mapped_column(String(45))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ApiToken(Base):
    """A bearer token; only its hash is stored, so a database leak yields no usable token."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_instance", "instance_id", "id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"))
    task_id: Mapped[str | None] = mapped_column(String(36))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class Attachment(Base):
    """An uploaded file of a case; the bytes live content-addressed in the blob store, never by name."""

    __tablename__ = "attachments"
    __table_args__ = (
        Index("ix_attachments_instance", "instance_id", "id"),
        Index("ix_attachments_drafts", "uploaded_by", "id", postgresql_where=text("instance_id IS NULL"),
              sqlite_where=text("instance_id IS NULL")),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: None while a draft: uploaded with a start form, bound to the case when it is started
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instances.id"))
    task_id: Mapped[str | None] = mapped_column(String(36))
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class Timer(Base):
    """A timer event, or a service task's next attempt, an instance waits on (derived from its state): what the
    sweep claims and fires."""

    __tablename__ = "timers"
    __table_args__ = (Index("ix_timers_due", "state", "due_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36), unique=True)
    element_id: Mapped[str] = mapped_column(String(100))
    #: timer: a timer event; service: a service task's next attempt (its own job, `run_service`)
    kind: Mapped[str] = mapped_column(String(10), default="timer", server_default="timer")
    due_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(20))  # waiting|fired|cancelled
    claimed_until: Mapped[datetime | None]  # a sweeper's lease: others leave it alone until then
    created_at: Mapped[datetime | None]  # when the case began to wait (the heat map); null for rows before 0026
    ended_at: Mapped[datetime | None]


class MessageWait(Base):
    """A message catch event a case waits at (derived from its state, like timers): what delivering a message by
    name and correlation key looks up (engine/runtime/correlation.py). `key` is the value of the element's
    `correlationKey` expression over the case data when it began to wait; None when it has none."""

    __tablename__ = "message_waits"
    __table_args__ = (Index("ix_message_waits_message_key", "message", "key", "instance_id"),)
    task_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    message: Mapped[str] = mapped_column(String(200), primary_key=True)  # an event-based gateway waits for several
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"), index=True)
    element_id: Mapped[str] = mapped_column(String(100))
    key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    #: message: a message catch event (reached by name and key); signal: a signal catch event (every case waiting)
    kind: Mapped[str] = mapped_column(String(10), default="message", server_default="message")


class ThrownEvent(Base):
    """A message or signal a case threw that nobody in the case caught: for other cases (engine/runtime/routing.py).

    Written in the throwing step's transaction, routed right after its commit, removed once routed.  Leased like
    the outbox: a row whose lease ran out (the process died between the commit and the routing) is routed again
    by the sweep — at least once, never lost.
    """

    __tablename__ = "thrown_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # message | signal
    name: Mapped[str] = mapped_column(String(200))
    key: Mapped[str | None] = mapped_column(String(200))  # the throw's correlationKey over the thrower's data
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    element_id: Mapped[str | None] = mapped_column(String(100))
    thrown_at: Mapped[datetime]
    claimed_until: Mapped[datetime] = mapped_column(index=True)


class OutboxEntry(Base):
    """A case whose automatic steps a step left to a worker (scale-out mode): written in that step's transaction,
    removed by the transaction that runs them (engine/background/outbox.py).

    One row per instance: `version` is the instance version of the step that wrote it, so an `advance` that
    found nothing to do removes it only if no later step wrote it again.  It is leased like a timer: the
    step's own `advance` job holds it until `claimed_until`, then the sweep claims it and enqueues it again.
    Not in `timers`: that table is derived from the workflow and keeps its history (supervision reads fired
    timers); this one holds only what is pending, so the sweep's index range stays tiny.
    """

    __tablename__ = "outbox"
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int]
    written_at: Mapped[datetime]
    claimed_until: Mapped[datetime] = mapped_column(index=True)  # until then its job (or a re-drive) owns it
    redriven: Mapped[int] = mapped_column(default=0, server_default="0")  # times the sweep re-enqueued it


class CaseFact(Base):
    """The current value of one data key a process reports on (process.yaml `report:`), kept per case.

    Written in each step's transaction, so dashboards group and filter cases in SQL instead of
    deserializing workflows.  `value` is the value as text for grouping (strings as they are,
    true/false, numbers); `moment` the value read as an ISO datetime when it is one (due dates).
    """

    __tablename__ = "case_facts"
    __table_args__ = (Index("ix_case_facts_name_value", "name", "value", "instance_id"),)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str | None] = mapped_column(String(200))
    moment: Mapped[datetime | None]
    raw: Mapped[Any] = mapped_column(JSON, nullable=False)  # the value exactly (lists and objects too)


class FundAccount(Base):
    """The running balance of one money source in one fund: the row a debit locks, so that two
    payments racing cannot both spend the same money (the entries stay the record)."""

    __tablename__ = "fund_accounts"
    fund_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(20), primary_key=True)
    balance: Mapped[Decimal] = mapped_column(Numeric(14, 2))


class LedgerEntry(Base):
    """One append-only posting to a fund's ledger, written in the step that completed its element."""

    __tablename__ = "ledger_entries"
    __table_args__ = (Index("ix_ledger_entries_fund", "fund_code", "source", "id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fund_code: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(20))  # pledge|enterprise|in_kind|fiscal|party_fee
    cash: Mapped[bool] = mapped_column(Boolean)
    direction: Mapped[str] = mapped_column(String(6))  # credit|debit
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    purpose: Mapped[str | None] = mapped_column(String(40))  # the ring-fence the money carries
    category: Mapped[str | None] = mapped_column(String(40))  # what a debit pays for
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36), unique=True)  # an element's completion posts once
    element_id: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class TaskSigner(Base):
    """A person added to someone else's open task: a co-signer (加签, before or after the holder) or a delegate
    who acts and gives it back (委派).  Rows are kept when done — they are the task's signing record — and only
    their state moves on (engine/runtime/signers.py)."""

    __tablename__ = "task_signers"
    __table_args__ = (
        Index("ix_task_signers_task", "task_id", "id"),
        Index("ix_task_signers_user", "user_id", "state", "task_id"),  # a signer's inbox and what it may see
        Index("ix_task_signers_proposed", "state", "id", postgresql_where=text("state = 'proposed'"),
              sqlite_where=text("state = 'proposed'")),  # what waits for a supervisor
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("human_tasks.id"))
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"))
    kind: Mapped[str] = mapped_column(String(10))  # engine/base/vocabulary.py SignerKind
    seq: Mapped[int] = mapped_column(Integer)  # the after-signers' order; 0 for the others
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    added_by: Mapped[int] = mapped_column(ForeignKey("users.id"))  # the task's holder
    state: Mapped[str] = mapped_column(String(12))  # SignerState
    reason: Mapped[str | None] = mapped_column(Text)  # why the holder asked
    opinion: Mapped[str | None] = mapped_column(Text)  # the signer's, or the delegate's note
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # what a delegate filled in
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # the supervisor, for an outside signer
    created_at: Mapped[datetime]
    acted_at: Mapped[datetime | None]


class HeldSubmission(Base):
    """后加签: the holder's submission, checked against its form and kept until the added signers have signed;
    then it is completed in the workflow as the holder's."""

    __tablename__ = "held_submissions"
    task_id: Mapped[str] = mapped_column(ForeignKey("human_tasks.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    held_at: Mapped[datetime]


class SavedPhrase(Base):
    """常用意见: a user's own saved opinion phrases, offered on the task page (engine/people/phrases.py)."""

    __tablename__ = "saved_phrases"
    __table_args__ = (UniqueConstraint("user_id", "text", name="uq_saved_phrases_user_text"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class SavedFilter(Base):
    """A user's own named inbox filter (its query string), offered above the inbox (engine/people/savedfilters.py)."""

    __tablename__ = "saved_filters"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_saved_filters_user_name"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    query: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime]


class CarbonCopy(Base):
    """抄送: a case copied to one person to read (never to act on), and whether that person has read it (已阅).

    One row per (recipient, case): a role is resolved to the users holding it when the copy is made, as notices
    are, so each recipient keeps a read status of their own and someone given the role later is not copied.
    A second copy of the same case to the same person moves the row (new time, sender, reason) and makes it
    unread again; each copy stays in the case history as an event.
    """

    __tablename__ = "carbon_copies"
    __table_args__ = (
        # the scope branch "cases copied to me" (engine/people/access.py) and the one-row-per-case rule
        UniqueConstraint("user_id", "instance_id", name="uq_carbon_copies_user_instance"),
        Index("ix_carbon_copies_user", "user_id", "id"),  # 抄送我的, newest first
        Index("ix_carbon_copies_instance", "instance_id", "id"),  # a case's recipients, on its page
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    role: Mapped[str | None] = mapped_column(String(64))  # the role it was addressed to, if any
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the process's own `cc`
    element_id: Mapped[str | None] = mapped_column(String(100))  # the element whose `cc` (or whose task) copied
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]
    read_at: Mapped[datetime | None]


class Urge(Base):
    """催办: one urging of an open task. At most one per task and working day: the unique key enforces it against
    two requests racing, the runtime's check before it gives the message."""

    __tablename__ = "urges"
    __table_args__ = (
        UniqueConstraint("task_id", "workday", name="uq_urges_task_workday"),  # also the per-task count
        Index("ix_urges_at", "at"),  # the supervision dashboard's period
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"), index=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("human_tasks.id"))
    by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    workday: Mapped[date] = mapped_column(Date)  # the working day the urge counts for (the district's calendar)
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]
