"""Files of a case: upload (size and type checked by content), list, download — always through the case."""

from __future__ import annotations

from typing import Any

from flask import request, send_file

from engine.base.errors import FormInvalid
from engine.case.attachments import PREVIEWABLE, add_attachment, add_draft, list_attachments, open_attachment
from engine.store.blobs import with_extension

from ..openapi import STORAGE_DOWN, UPLOAD_TOO_LARGE, UPLOAD_TYPE, Blueprint
from ..schemas import AttachmentSchema, UploadSchema
from ..security import REQUIRED, actor, runtime

blp = Blueprint("attachments", __name__, description="附件 (attachments)")


@blp.route("/instances/<id:instance_id>/attachments", methods=["POST"])
@blp.doc(security=REQUIRED, operationId="uploadAttachment", summary="add a file to a case",
         requestBody={"content": {"multipart/form-data": {"schema": UploadSchema}}})
@blp.response(201, AttachmentSchema)
@blp.alt_response(409, description="办件已办结，不能再添加附件 (the case has ended: no more files)")
@blp.alt_response(413, description=UPLOAD_TOO_LARGE)
@blp.alt_response(415, description=UPLOAD_TYPE)
@blp.alt_response(503, description=STORAGE_DOWN)
def upload(instance_id: int) -> Any:
    upload = request.files.get("file")
    if upload is None:
        raise FormInvalid("请选择要上传的文件 (send the file as multipart field `file`)", {"/file": ["required"]})
    return add_attachment(runtime().db, runtime().blobs, instance_id, upload.stream, upload.filename or "",
                          upload.mimetype, actor(), task_id=request.form.get("task_id") or None)


@blp.route("/uploads", methods=["POST"])
@blp.doc(security=REQUIRED, operationId="uploadDraft", summary="upload a file for a start form, before the case exists",
         description="The returned id goes into the start form's file field; starting the case binds the file to "
                     "it. Until then only the uploader can use it.",
         requestBody={"content": {"multipart/form-data": {"schema": UploadSchema}}})
@blp.response(201, AttachmentSchema)
@blp.alt_response(413, description=UPLOAD_TOO_LARGE)
@blp.alt_response(415, description=UPLOAD_TYPE)
@blp.alt_response(503, description=STORAGE_DOWN)
def upload_draft() -> Any:
    upload = request.files.get("file")
    if upload is None:
        raise FormInvalid("请选择要上传的文件 (send the file as multipart field `file`)", {"/file": ["required"]})
    return add_draft(runtime().db, runtime().blobs, upload.stream, upload.filename or "", upload.mimetype, actor())


@blp.route("/instances/<id:instance_id>/attachments", methods=["GET"])
@blp.doc(security=REQUIRED, operationId="listAttachments", summary="a case's files")
@blp.response(200, AttachmentSchema(many=True))
def index(instance_id: int) -> Any:
    return list_attachments(runtime().db, instance_id, actor())


@blp.route("/instances/<id:instance_id>/attachments/<id:attachment_id>", methods=["GET"])
@blp.doc(security=REQUIRED, operationId="downloadAttachment", summary="one of a case's files, as uploaded")
@blp.response(200, {"type": "string", "format": "binary"}, content_type="*/*",
              description="the file, as an attachment, with the type judged from its content when it was stored")
@blp.alt_response(503, description=STORAGE_DOWN)
def download(instance_id: int, attachment_id: int) -> Any:
    view, stream = open_attachment(runtime().db, runtime().blobs, instance_id, attachment_id, actor())
    # streamed in pieces from the backend (a file, or the S3 response itself); the row knows the length
    # ?inline=1 previews a PDF or an image in the browser; anything else always downloads
    inline = request.args.get("inline") == "1" and view.content_type in PREVIEWABLE
    response = send_file(stream, mimetype=view.content_type, as_attachment=not inline,
                         download_name=with_extension(view.filename, view.content_type))
    response.content_length = view.size
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
