"""Attachments routes (UploadAttachment, DeleteAttachment), and the public route serving the uploaded files."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from heliograph.api.http import INTEGRATION, MULTIPART, Call, Reply, Routes, Services
from heliograph.errors import BadRequest, NotFound
from heliograph.schemas.attachments import AttachmentDeleteBody, upload_target
from heliograph.services import attachments as service

routes = Routes()
ATTACHMENTS = "/v2/apps/{appId}/attachments"
MEDIA_ROUTE = service.MEDIA_PATH + "{token}/{filename}"
# Uploaded bytes are served as sent: never sniffed into another type, never run as a page of this origin.
_MEDIA_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"}


def media_base(call: Call) -> str:
    """HELIOGRAPH_PUBLIC_URL, else the scheme and host this request came to."""
    if call.services.settings.public_url:
        return call.services.settings.public_url
    url = urlsplit(call.base_url)
    return f"{url.scheme}://{url.netloc}"


def source_file(form: FormData | None) -> UploadFile:
    """The form's `source` part, which must be a file."""
    source = None if form is None else form.get("source")
    if source is None:
        raise BadRequest("Missing required field `source`")
    if not isinstance(source, UploadFile):
        raise BadRequest("Invalid source: expected a file part")
    return source


@routes("POST", ATTACHMENTS, "UploadAttachment", INTEGRATION, MULTIPART)
async def upload_attachment(call: Call) -> Reply:
    """POST /v2/apps/{appId}/attachments (UploadAttachment): the file in the multipart field `source`."""
    target = upload_target(call.query_value("access"), call.query_value("for"), call.query_value("conversationId"))
    upload = source_file(call.form)
    services = call.services
    attachment = await service.upload_attachment(
        services.db, ids=services.ids, directory=services.settings.attachments_path, app_id=call.params["appId"],
        target=target, source=upload.file, filename=upload.filename, declared_type=upload.content_type,
        base_url=media_base(call))
    return 201, {"attachment": attachment}


@routes("POST", ATTACHMENTS + "/remove", "DeleteAttachment", INTEGRATION)
async def delete_attachment(call: Call) -> Reply:
    """POST /v2/apps/{appId}/attachments/remove (DeleteAttachment): the file goes once the row has."""
    body = call.body(AttachmentDeleteBody)
    async with call.services.db.write() as conn:
        await service.delete_attachment(conn, app_id=call.params["appId"], media_url=body.media_url,
                                        base_url=media_base(call))
    return 200, {}


def media_endpoint(services: Services) -> Callable[[Request], Awaitable[Response]]:
    """GET /attachments/v2/{token}/{filename}: an uploaded file, with its type, to whoever has the URL."""
    directory = services.settings.attachments_path

    async def serve(request: Request) -> Response:
        token = request.path_params["token"]
        async with services.db.read() as conn:
            row = await service.find_media(conn, token=token)
        path = directory / token
        if row is None or row["filename"] != request.path_params["filename"] or not path.is_file():
            return JSONResponse(NotFound("Attachment not found").envelope(), 404)
        return FileResponse(path, media_type=row["media_type"], headers=_MEDIA_HEADERS,
                            filename=row["filename"], content_disposition_type="inline")
    return serve
