"""Database tables (SQLAlchemy 2 typed models).

The instance row holds the serialized workflow *without* its spec; everything a query needs
(human tasks, timers, events) lives in derived, indexed rows written in the same transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
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
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # consecutive, reset on success
    locked_until: Mapped[datetime | None]  # throttles password guessing
    email: Mapped[str | None] = mapped_column(String(254))  # copies of in-app notices go here (background/mail.py)


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
        # case-number search (`q`) by any fragment, e.g. the date and sequence; pg_trgm exists only there
        Index("ix_instances_case_number_trgm", "case_number", postgresql_using="gin",
              postgresql_ops={"case_number": "gin_trgm_ops"}).ddl_if(dialect="postgresql"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_number: Mapped[str] = mapped_column(String(40), unique=True)
    process_key: Mapped[str] = mapped_column(String(100), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"))
    status: Mapped[str] = mapped_column(String(20))  # running|suspended|completed|terminated|error
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
        # the case list: which instances a (role, organisation) or an assignee has tasks in, newest first
        Index("ix_tasks_scope_instance", "role", "org_id", "instance_id"),
        Index("ix_tasks_assignee_instance", "assignee_id", "instance_id"),
        # task-name search (`q`, see engine/runtime/tasknames.py): the names a branch holds, then each name's tasks
        Index("ix_tasks_inbox_name", "role", "org_id", "name", "created_at", "id", postgresql_where=READY,
              sqlite_where=READY),
        Index("ix_tasks_ready_name", "name", "created_at", "id", postgresql_where=READY, sqlite_where=READY),
        # the SLA sweep: open tasks with a deadline whose next stage may have come
        Index("ix_tasks_sla", "sla_next_at", postgresql_where=SLA_OPEN, sqlite_where=SLA_OPEN),
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
    ended_at: Mapped[datetime | None]


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
