"""Files attached to a case: metadata rows here, bytes content-addressed in the blob store.

Access is checked through the case (`visible_instance`) before anything is stored or read;
a content hash alone never opens a file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, BinaryIO

from sqlalchemy import Connection, select, update

from engine.base.clock import now
from engine.base.errors import Conflict, Forbidden, FormInvalid, NotFound
from engine.base.paging import MAX_ID
from engine.base.vocabulary import EventKind, HumanTaskState, InstanceStatus
from engine.case.comments import task_of, visible_instance
from engine.definitions.forms import Form
from engine.people.access import Actor, may_do_task
from engine.store.blobs import BlobStore
from engine.store.db import Database
from engine.store.models import Attachment, Event, HumanTask, User

#: the types a browser may show in a tab of its own (a preview): never HTML or SVG, which could run script
PREVIEWABLE = frozenset({"application/pdf", "image/png", "image/jpeg"})


@dataclass
class AttachmentView:
    id: int
    instance_id: int | None
    task_id: str | None
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "created_at": self.created_at.isoformat()}


def _store(db: Database, blobs: BlobStore, stream: BinaryIO, filename: str, content_type: str | None, actor: Actor,
           instance_id: int | None, task_id: str | None) -> AttachmentView:
    """Bytes into the blob store first, then a row (and, for a case, an `attached` event) in one transaction: a
    failed put writes no row, and a failed transaction leaves bytes no row names (the retention job's)."""
    with blobs.storing(stream, filename, content_type) as stored:
        at = now()
        with db.write() as session:
            row = Attachment(instance_id=instance_id, task_id=task_id, sha256=stored.sha256,
                             filename=stored.filename, content_type=stored.content_type, size=stored.size,
                             uploaded_by=actor.id, created_at=at)
            session.add(row)
            session.flush()
            if instance_id is not None:
                session.add(Event(instance_id=instance_id, at=at, kind=EventKind.ATTACHED, task_id=task_id,
                                  user_id=actor.id, data_hash=stored.sha256,
                                  detail={"attachment_id": row.id, "filename": stored.filename}))
    return AttachmentView(row.id, instance_id, task_id, row.filename, row.content_type, row.size, row.sha256,
                          actor.username, at)


def add_attachment(db: Database, blobs: BlobStore, instance_id: int, stream: BinaryIO, filename: str,
                   content_type: str | None, actor: Actor, task_id: str | None = None) -> AttachmentView:
    """Check access first (nothing is stored for a case the caller cannot see), then store by content."""
    with db.read() as session:
        instance = visible_instance(session, instance_id, actor)
        if instance.status != InstanceStatus.RUNNING:
            raise Conflict(f"办件已{instance.status}，不能再添加附件 (the case is {instance.status}: no more files)")
        task = task_of(session, instance_id, task_id)
        if task is not None:
            row = session.get(HumanTask, task)
            if row.state != HumanTaskState.READY or not may_do_task(actor, row.role, row.org_id, row.assignee_id):
                raise Forbidden("只能为自己办理中的环节上传附件 (files go with a step only its holder is working on)",
                                {"task_id": ["not a step you are working on"]})
    return _store(db, blobs, stream, filename, content_type, actor, instance_id, task_id)


def list_attachments(db: Database, instance_id: int, actor: Actor) -> list[AttachmentView]:
    with db.read() as session:
        visible_instance(session, instance_id, actor)
        rows = session.execute(select(Attachment, User.username).join(User, User.id == Attachment.uploaded_by)
                               .where(Attachment.instance_id == instance_id).order_by(Attachment.id)).all()
    return [AttachmentView(a.id, a.instance_id, a.task_id, a.filename, a.content_type, a.size, a.sha256, name,
                           a.created_at) for a, name in rows]


def open_attachment(db: Database, blobs: BlobStore, instance_id: int, attachment_id: int,
                    actor: Actor) -> tuple[AttachmentView, BinaryIO]:
    """The file, only through its case: the content hash alone never opens anything."""
    for view in list_attachments(db, instance_id, actor):
        if view.id == attachment_id:
            return view, blobs.open(view.sha256)
    raise NotFound(f"附件不存在 (no attachment {attachment_id} in this case)")


def add_draft(db: Database, blobs: BlobStore, stream: BinaryIO, filename: str, content_type: str | None,
              actor: Actor) -> AttachmentView:
    """A file uploaded with a start form, before its case exists: only its uploader sees it until the start."""
    return _store(db, blobs, stream, filename, content_type, actor, None, None)


def file_fields(form: Form | None) -> list[str]:
    """Top-level fields whose UI widget is `files`: their values are attachment ids."""
    ui = (form.ui_schema or {}) if form else {}
    return [name for name, hints in ui.items() if isinstance(hints, dict) and hints.get("ui:widget") == "files"]


def referenced_ids(form: Form | None, data: dict[str, Any]) -> dict[str, list[int]]:
    """Attachment ids per file field of the submitted data (a single id or a list)."""
    out: dict[str, list[int]] = {}
    for name in file_fields(form):
        value = data.get(name)
        values = value if isinstance(value, list) else [] if value in (None, "") else [value]
        out[name] = [_attachment_id(v) for v in values]
    return out


def _attachment_id(value: Any) -> int:
    """An attachment id as sent (a number or its digits); 0, which no attachment has, for anything else —
    typed text such as "floor_plan.pdf", "²" or a number past the id column is then refused as unknown."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        value = int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID else 0


def bind_drafts(conn: Connection, instance_id: int, form: Form | None, data: dict[str, Any], actor: Actor) -> None:
    """In the start's own transaction: the drafts the start form names become the new case's files.

    A field naming a file that is not the caller's own unbound draft fails the whole start, per field.
    """
    fields: dict[str, list[str]] = {}
    for name, ids in referenced_ids(form, data).items():
        if not ids:
            continue
        if 0 in ids:
            fields[f"/{name}"] = ["不是有效的附件编号，请上传文件 (not an attachment id: upload the file)"]
            continue
        bound = conn.execute(update(Attachment).where(Attachment.id.in_(ids), Attachment.instance_id.is_(None),
                                                      Attachment.uploaded_by == actor.id)
                             .values(instance_id=instance_id)).rowcount
        if bound != len(set(ids)):
            fields[f"/{name}"] = ["附件不存在或已被使用，请重新上传 (unknown or already used upload; upload again)"]
    if fields:
        raise FormInvalid("附件无效 (attachments invalid)", fields)


def check_case_files(db: Database, instance_id: int, form: Form | None, data: dict[str, Any]) -> None:
    """A task's file fields may name only files already attached to this case (typed text, another case's
    file or someone's unbound draft is refused per field); a step that names no file reads nothing."""
    named = {name: ids for name, ids in referenced_ids(form, data).items() if ids}
    if not named:
        return
    with db.reading() as conn:
        known = set(conn.scalars(select(Attachment.id).where(
            Attachment.id.in_({i for ids in named.values() for i in ids}), Attachment.instance_id == instance_id)))
    fields = {f"/{name}": ["附件不属于本办件，请重新上传 (not a file of this case: upload it again)"]
              for name, ids in named.items() if not set(ids) <= known}
    if fields:
        raise FormInvalid("附件无效 (attachments invalid)", fields)
