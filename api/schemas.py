"""Marshmallow schemas: the API contract, and the OpenAPI document generated from it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from engine.base.paging import MAX_LIMIT
from engine.base.vocabulary import InstanceStatus, Outcome
from engine.runtime.inbox import SORTS, Scope
from engine.runtime.migration import MAX_VERSION


class Text(fields.String):
    """A string that PostgreSQL can store: NUL characters are refused up front, not at the database."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ValidationError("不允许包含 NUL 字符 (NUL characters are not allowed)")
        return text


class Instant(fields.AwareDateTime):
    """A time with its UTC offset, taken as UTC: the columns hold instants, and 9999-12-31T23:59:59-14:00 is
    past the last datetime Python has in UTC (converting it in the query was an OverflowError, a 500)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise ValidationError("时间换算为 UTC 后超出范围 (time out of range once converted to UTC)") from None


Limit = fields.Integer(load_default=50, validate=validate.Range(1, MAX_LIMIT))


class ErrorSchema(Schema):
    error = Text(required=True)
    message = Text(required=True)
    fields_ = fields.Dict(data_key="fields", keys=Text(), values=fields.List(Text()))


class TokenRequest(Schema):
    username = Text(required=True, validate=validate.Length(1, 64))
    password = Text(required=True, validate=validate.Length(1, 200), load_only=True)


class TokenResponse(Schema):
    token = Text(required=True)
    expires_at = fields.DateTime(required=True)


class Names(Schema):
    zh = Text()
    en = Text()


class ProcessSchema(Schema):
    key = Text(required=True)
    code = Text(required=True)
    name = fields.Nested(Names)
    version = fields.Integer(required=True)
    start_form = fields.Dict(allow_none=True)
    start_ui_schema = fields.Dict(allow_none=True)


class DataRequest(Schema):
    data = fields.Dict(keys=Text(), load_default=dict)


class TaskSchema(Schema):
    id = Text(required=True)
    instance_id = fields.Integer(required=True)
    case_number = Text(required=True)
    process_key = Text(required=True)
    element_id = Text(required=True)
    name = Text(required=True)
    role = Text(allow_none=True)
    org = Text(allow_none=True)
    form = Text(allow_none=True)
    state = Text(required=True)
    created_at = fields.DateTime(required=True)
    overdue = fields.Boolean()  # past its deadline
    due_soon = fields.Boolean()  # past its SLA warning time, not yet overdue
    supervised = fields.Boolean()  # 督办: marked by the SLA sweep when it went overdue
    urges = fields.Integer(metadata={"description": "催办: how many times the applicant or a supervisor urged it"})
    assignee = Text(allow_none=True, metadata={"description": "who holds it (display name); null: nobody yet"})
    entrusted_by = Text(allow_none=True, metadata={"description": "委派: who entrusted it to its assignee, while open"})
    claimable = fields.Boolean(metadata={"description": "the caller may claim it"})


class InstanceSummary(Schema):
    id = fields.Integer(required=True)
    case_number = Text(required=True)
    process_key = Text(required=True)
    version = fields.Integer(required=True)
    status = Text(required=True)
    outcome = Text(allow_none=True, validate=validate.OneOf([o.value for o in Outcome]), metadata={
        "description": "what the case came to (approved, refused, not_accepted, …); null until an element decides it"})
    error = Text(allow_none=True)
    error_element = Text(allow_none=True)
    open_tasks = fields.List(fields.Nested(TaskSchema))


class Diagram(Schema):
    completed = fields.List(Text())
    active = fields.List(Text())
    returned_from = fields.List(Text(), metadata={"description": "steps a case was sent back from (退回)"})
    returned_to = fields.List(Text(), metadata={"description": "steps a case was sent back to (退回)"})


class EventSchema(Schema):
    at = Text()
    kind = Text()
    task_id = Text(allow_none=True)
    element_id = Text(allow_none=True)
    user_id = fields.Integer(allow_none=True)
    user = Text(allow_none=True, metadata={"description": "the username of who acted (null: the process itself)"})
    detail = fields.Dict(allow_none=True)


class DocumentSummary(Schema):
    name = Text(required=True)
    seq = fields.Integer(required=True, metadata={"description": "1, 2, … when the case issued it again"})
    title = Text(required=True)
    issued_at = fields.DateTime(required=True)


class DocumentQuery(Schema):
    seq = fields.Integer(validate=validate.Range(1, 10_000), metadata={"description": "which issue (default: latest)"})


class FieldChange(Schema):
    at = Text(required=True)
    path = Text(required=True, metadata={"description": "JSON pointer of the field, e.g. /address/room"})
    field = Text(required=True, metadata={"description": "the field's title in the forms (the path without one)"})
    old = fields.Raw(metadata={"description": "absent when the field did not exist before"})
    new = fields.Raw(metadata={"description": "absent when the step removed the field"})
    user = Text(allow_none=True, metadata={"description": "who sent it; null when a step of the process did"})
    element_id = Text(allow_none=True)
    element = Text(allow_none=True, metadata={"description": "the name of the step that made the change"})


class OpinionSchema(Schema):
    """One line of the 审批流水 (engine/case/opinions.py)."""

    at = fields.DateTime(required=True)
    kind = Text(required=True, metadata={"description": "the event it was recorded with: task_completed, …"})
    element_id = Text(allow_none=True)
    step = Text(allow_none=True, metadata={"description": "the step's name, as the process names it"})
    user = Text(allow_none=True, metadata={"description": "who (display name)"})
    office = Text(allow_none=True, metadata={"description": "the organisation they act for"})
    decision = Text(allow_none=True, metadata={"description": "what was decided, as people read it"})
    opinion = Text(required=True)
    internal = fields.Boolean(required=True, metadata={
        "description": "an internal review note: shown to staff only, never to the enterprise"})


class InstanceDetail(InstanceSummary):
    data = fields.Dict()
    events = fields.List(fields.Nested(EventSchema))
    history = fields.List(fields.Nested(FieldChange), metadata={
        "description": "every change to the case's data, oldest first; personal data masked for departments"})
    diagram = fields.Nested(Diagram)
    documents = fields.List(fields.Nested(DocumentSummary))
    withdrawal = fields.Nested("WithdrawalStateSchema", metadata={
        "description": "撤回: what the caller may do about withdrawing the case, and the pending request"})
    opinions = fields.List(fields.Nested(OpinionSchema), metadata={
        "description": "the 审批流水: every decision's opinion the caller may read, oldest first"})


class InstanceQuery(Schema):
    status = Text(validate=validate.OneOf([s.value for s in InstanceStatus]))
    outcome = Text(validate=validate.OneOf([o.value for o in Outcome]),
                   metadata={"description": "only cases with this outcome (approved, refused, …)"})
    process = Text(validate=validate.Length(1, 100))
    case_number = Text(validate=validate.Length(1, 40))
    mine = fields.Boolean(load_default=False)
    started_from = Instant()
    started_to = Instant()
    cursor = Text(validate=validate.Length(1, 500))
    limit = Limit


class InstancePage(Schema):
    items = fields.List(fields.Nested(InstanceSummary), required=True)
    next_cursor = Text(allow_none=True)


class TaskQuery(Schema):
    scope = Text(load_default=Scope.ALL.value, validate=validate.OneOf([s.value for s in Scope]))
    process = Text(validate=validate.Length(1, 100))
    overdue = fields.Boolean(load_default=False)
    due_before = Instant()
    q = Text(validate=validate.Length(1, 100))
    sort = Text(load_default="created", validate=validate.OneOf(SORTS))
    cursor = Text(validate=validate.Length(1, 500))
    limit = Limit


class NotificationQuery(Schema):
    unread = fields.Boolean(load_default=False)
    cursor = Text(validate=validate.Length(1, 500))
    limit = Limit


class NotificationSchema(Schema):
    id = fields.Integer(required=True)
    kind = Text(required=True)  # sla_warning | due_today | overdue | escalation_report | incident
    instance_id = fields.Integer(allow_none=True)
    task_id = Text(allow_none=True)
    role = Text(allow_none=True)  # the role it was addressed to
    text = fields.Dict(keys=Text(), values=Text())  # {"zh": …, "en": …}
    created_at = fields.DateTime(required=True)
    read_at = fields.DateTime(allow_none=True)


class NotificationPage(Schema):
    items = fields.List(fields.Nested(NotificationSchema))
    next_cursor = Text(allow_none=True)


class TaskPage(Schema):
    items = fields.List(fields.Nested(TaskSchema), required=True)
    next_cursor = Text(allow_none=True)


class TaskInstance(Schema):
    id = fields.Integer()
    case_number = Text()
    process_key = Text()
    version = fields.Integer()
    status = Text()


class TaskDetail(Schema):
    id = Text(required=True)
    element_id = Text()
    name = Text()
    state = Text()
    role = Text(allow_none=True)
    org = Text(allow_none=True)
    assignee_id = fields.Integer(allow_none=True)
    due_at = fields.DateTime(allow_none=True, metadata={"description": "the task's deadline (dueDate)"})
    warn_at = fields.DateTime(allow_none=True, metadata={"description": "its SLA warning time (warnAt)"})
    completed_at = fields.DateTime(allow_none=True, metadata={"description": "when it was completed (null: open)"})
    form = Text(allow_none=True)
    schema = fields.Dict(allow_none=True)
    ui_schema = fields.Dict(allow_none=True)
    opinion_field = Text(allow_none=True, metadata={
        "description": "JSON pointer of the form's opinion field: completing this task is a decision that must "
                       "carry an opinion there (422 without); null when it decides nothing"})
    data = fields.Dict()
    instance = fields.Nested(TaskInstance)
    return_targets = fields.List(fields.Nested("ReturnTargetSchema"), metadata={
        "description": "退回: the earlier steps the caller may send the case back to (empty: none, or not theirs)"})


class DelegateRequest(Schema):
    user = Text(required=True, validate=validate.Length(1, 64))


class CommentRequest(Schema):
    body = Text(required=True, validate=validate.Length(1, 2000))


class ColleagueSchema(Schema):
    username = Text(required=True)
    display_name = Text()


class CommentSchema(Schema):
    id = fields.Integer()
    instance_id = fields.Integer()
    task_id = Text(allow_none=True)
    author = Text()
    body = Text()
    created_at = fields.DateTime()


class MessageRequest(Schema):
    name = Text(required=True, validate=validate.Length(1, 200))
    payload = fields.Raw(load_default=None)


class CorrelatedMessageRequest(MessageRequest):
    key = Text(load_default=None, allow_none=True, validate=validate.Length(1, 200), metadata={
        "description": "the correlation key: the value a waiting catch event's `correlationKey` gave; none for "
                       "the waits without a key (and for a message start event)"})


class CorrelatedSchema(Schema):
    message = Text(required=True)
    key = Text(allow_none=True)
    delivered = fields.List(fields.Nested(InstanceSummary), required=True, metadata={
        "description": "the cases that were waiting for it with this key"})
    started = fields.List(fields.Nested(InstanceSummary), required=True, metadata={
        "description": "the cases its message start events started (only when no case was waiting)"})
    skipped = fields.Dict(keys=Text(), values=Text(), required=True, metadata={
        "description": "case id → why a waiting case could not take it (suspended, or stepped past it)"})


class AttachmentSchema(Schema):
    id = fields.Integer()
    instance_id = fields.Integer(allow_none=True)  # None: an upload not yet bound to a case
    task_id = Text(allow_none=True)
    filename = Text()
    content_type = Text()
    size = fields.Integer()
    sha256 = Text()
    uploaded_by = Text()
    created_at = fields.DateTime()


class UploadSchema(Schema):
    file = fields.Raw(metadata={"type": "string", "format": "binary"}, required=True)
    task_id = Text()


class FundSourceBalance(Schema):
    source = Text()
    name = fields.Nested(Names)
    cash = fields.Boolean()
    purpose = Text(allow_none=True, metadata={"description": "ring-fence: party_building, government, or none"})
    balance = Text(metadata={"description": "CNY, two decimals, as text (exact)"})
    entries = fields.Integer()


class FundBalances(Schema):
    fund_code = Text()
    balances = fields.List(fields.Nested(FundSourceBalance))


# -- 撤回 withdraw and 退回 return (api/routes/withdrawals.py) ---------------------------------------------------
class ReasonRequest(Schema):
    reason = Text(required=True, validate=validate.Length(max=500), metadata={
        "description": "why: 1 to 500 characters once trimmed (a blank one is refused, naming /reason); recorded "
                       "in the case history with who and when"})


class WithdrawalDecisionRequest(Schema):
    grant = fields.Boolean(required=True, metadata={"description": "true: the case is withdrawn; false: it goes on"})
    reason = Text(load_default="", validate=validate.Length(max=500), metadata={
        "description": "the office's opinion; required when refusing"})


class PendingWithdrawal(Schema):
    reason = Text(allow_none=True)
    by = Text(allow_none=True)
    at = Text()


class WithdrawalStateSchema(Schema):
    mode = Text(allow_none=True, validate=validate.OneOf(["withdraw", "request"]), metadata={
        "description": "what the caller may do: withdraw outright (not accepted yet), request (accepted), or null"})
    pending = fields.Nested(PendingWithdrawal, allow_none=True)
    may_decide = fields.Boolean(metadata={"description": "the caller holds the case and decides the pending request"})


class WithdrawResult(Schema):
    withdrawn = fields.Boolean(required=True, metadata={
        "description": "true: the case ended withdrawn; false: a request now awaits the office's decision"})
    instance = fields.Nested(InstanceSummary, required=True)


class ReturnRequest(ReasonRequest):
    target = Text(required=True, validate=validate.Length(1, 200), metadata={
        "description": "the element id of an earlier user task, one of GET /tasks/{task_id}/return-targets"})


class ReturnTargetSchema(Schema):
    element_id = Text(required=True)
    name = Text(required=True)
    role = Text(allow_none=True)


# -- 抄送, 催办 and the work lists (engine/case/carboncopy.py, engine/runtime/urging.py, engine/runtime/worklists.py)

Name = Text(validate=validate.Length(1, 64))


class CarbonCopyRequest(Schema):
    users = fields.List(Name, load_default=list, validate=validate.Length(max=50),
                        metadata={"description": "usernames: staff, or people of the case's own enterprise"})
    roles = fields.List(Name, load_default=list, validate=validate.Length(max=20),
                        metadata={"description": "role codes: copied to their holders who may read the case"})
    reason = Text(load_default=None, allow_none=True, validate=validate.Length(max=500))


class CarbonCopyResult(Schema):
    copied = fields.List(Text(), required=True, metadata={"description": "the usernames the case was copied to"})


class CarbonCopySchema(Schema):
    user = Text(required=True)
    display_name = Text()
    role = Text(allow_none=True, metadata={"description": "the role it was addressed to, if any"})
    by = Text(allow_none=True, metadata={"description": "who copied it; null when the process's `cc` did"})
    element_id = Text(allow_none=True)
    reason = Text(allow_none=True)
    at = fields.DateTime(required=True)
    read_at = fields.DateTime(allow_none=True, metadata={"description": "已阅: when the recipient read it"})


class ReadReceipt(Schema):
    read_at = fields.DateTime(required=True)


class UrgeRequest(ReasonRequest):
    """催办 says why: the holders are told it."""


class UrgeResult(Schema):
    task_id = Text(required=True)
    urges = fields.Integer(required=True, metadata={"description": "the task's urges so far, this one included"})
    workday = fields.Date(required=True, metadata={"description": "the working day this urge counts for"})
    next_possible = fields.DateTime(required=True, metadata={"description": "when the task may be urged again"})
    notified = fields.Integer(required=True, metadata={"description": "how many holders were sent a notice"})


class UrgeableStep(Schema):
    task_id = Text(required=True)
    name = Text(required=True)
    created_at = fields.DateTime(required=True)
    due_at = fields.DateTime(allow_none=True)
    urges = fields.Integer(required=True)
    urged_today = fields.Boolean(required=True, metadata={"description": "already urged this working day"})


class WorkListQuery(Schema):
    process = Text(validate=validate.Length(1, 100))
    status = Text(validate=validate.OneOf([s.value for s in InstanceStatus]),
                  metadata={"description": "the case's status now"})
    since = Instant(metadata={"description": "period start: when the task was done, the case started, the copy made"})
    until = Instant(metadata={"description": "period end (exclusive)"})
    q = Text(validate=validate.Length(1, 100), metadata={"description": "a case-number fragment (已办: or step name)"})
    unread = fields.Boolean(load_default=False, metadata={"description": "抄送我的: only copies not read yet"})
    cursor = Text(validate=validate.Length(1, 500))
    limit = Limit


class CaseStateSchema(Schema):
    instance_id = fields.Integer(required=True)
    case_number = Text(required=True)
    process_key = Text(required=True)
    status = Text(required=True)
    outcome = Text(allow_none=True)
    current_steps = fields.List(Text(), metadata={"description": "the names of the steps open in the case now"})


class WorkItemSchema(Schema):
    case = fields.Nested(CaseStateSchema, required=True)
    at = fields.DateTime(required=True)
    task_id = Text(allow_none=True)
    task_name = Text(allow_none=True)
    by = Text(allow_none=True)
    reason = Text(allow_none=True)
    read_at = fields.DateTime(allow_none=True)


class WorkListPage(Schema):
    items = fields.List(fields.Nested(WorkItemSchema), required=True)
    next_cursor = Text(allow_none=True)


class WorkListCounts(Schema):
    inbox = fields.Integer(required=True)
    done = fields.Integer(required=True)
    started = fields.Integer(required=True)
    copied = fields.Integer(required=True)
    copied_unread = fields.Integer(required=True)


# -- 版本迁移 migrating running cases to a later version (engine/runtime/migration.py) -------------------------------

class MigrationRequest(Schema):
    from_version = fields.Integer(required=True, strict=True, validate=validate.Range(1, MAX_VERSION), metadata={
        "description": "the version the cases are on"})
    to_version = fields.Integer(load_default=None, allow_none=True, strict=True,
                                validate=validate.Range(1, MAX_VERSION),
                                metadata={"description": "a later deployed version; the newest when left out"})
    mapping = fields.Dict(keys=Text(validate=validate.Length(1, 200)), values=Text(validate=validate.Length(1, 200)),
                          load_default=dict, metadata={
                              "description": "old element id → new element id, for elements the new version "
                                             "renamed or dropped; every other element maps to the same id"})
    cases = fields.List(Text(validate=validate.Length(1, 40)), load_default=None, allow_none=True,
                        validate=validate.Length(1, 1000), metadata={
                            "description": "case numbers to move; all running and suspended cases on "
                                           "from_version when left out"})
    dry_run = fields.Boolean(load_default=False, metadata={"description": "check and list, move nothing"})


class MoveSchema(Schema):
    element = Text(required=True, metadata={"description": "the element the case waits at in from_version"})
    to = Text(required=True, metadata={"description": "the element it waits at in to_version"})
    kind = Text(required=True)
    state = Text(required=True, metadata={"description": "ready, waiting or started"})


class CaseMigrationSchema(Schema):
    id = fields.Integer(required=True)
    case_number = Text(required=True)
    outcome = Text(required=True, validate=validate.OneOf(["would_move", "moved", "refused", "conflict"]))
    moves = fields.List(fields.Nested(MoveSchema), required=True)
    problems = fields.List(Text(), required=True, metadata={"description": "why the case cannot move"})


class MigrationSchema(Schema):
    process_key = Text(required=True)
    from_version = fields.Integer(required=True)
    to_version = fields.Integer(required=True)
    mapping = fields.Dict(keys=Text(), values=Text(), required=True)
    dry_run = fields.Boolean(required=True)
    cases = fields.List(fields.Nested(CaseMigrationSchema), required=True)
