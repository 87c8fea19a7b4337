"""Marshmallow schemas: the API contract, and the OpenAPI document generated from it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from engine.base.paging import MAX_LIMIT
from engine.base.vocabulary import InstanceStatus
from engine.runtime.inbox import SORTS, Scope


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


class InstanceSummary(Schema):
    id = fields.Integer(required=True)
    case_number = Text(required=True)
    process_key = Text(required=True)
    version = fields.Integer(required=True)
    status = Text(required=True)
    error = Text(allow_none=True)
    error_element = Text(allow_none=True)
    open_tasks = fields.List(fields.Nested(TaskSchema))


class Diagram(Schema):
    completed = fields.List(Text())
    active = fields.List(Text())


class EventSchema(Schema):
    at = Text()
    kind = Text()
    task_id = Text(allow_none=True)
    element_id = Text(allow_none=True)
    user_id = fields.Integer(allow_none=True)
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


class InstanceDetail(InstanceSummary):
    data = fields.Dict()
    events = fields.List(fields.Nested(EventSchema))
    history = fields.List(fields.Nested(FieldChange), metadata={
        "description": "every change to the case's data, oldest first; personal data masked for departments"})
    diagram = fields.Nested(Diagram)
    documents = fields.List(fields.Nested(DocumentSummary))


class InstanceQuery(Schema):
    status = Text(validate=validate.OneOf([s.value for s in InstanceStatus]))
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
    form = Text(allow_none=True)
    schema = fields.Dict(allow_none=True)
    ui_schema = fields.Dict(allow_none=True)
    data = fields.Dict()
    instance = fields.Nested(TaskInstance)


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
