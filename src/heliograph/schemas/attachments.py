"""UploadAttachment's query (access, for, conversationId), and attachmentDeleteBody."""

from __future__ import annotations

import dataclasses

from heliograph.errors import BadRequest
from heliograph.schemas.common import Struct


@dataclasses.dataclass(frozen=True)
class UploadTarget:
    """Where an upload belongs: `conversation_id` is set for `for=message`, whose file goes with its message."""

    conversation_id: str | None


def upload_target(access: str | None, purpose: str | None, conversation_id: str | None) -> UploadTarget:
    if access is None:
        raise BadRequest("Missing required query parameter `access`")
    if access != "public":
        raise BadRequest(f"Invalid access: {access!r}; the only supported access level is 'public'")
    if purpose is not None and purpose != "message":
        raise BadRequest(f"Invalid for: {purpose!r}; the only supported value is 'message'")
    if purpose == "message" and not conversation_id:
        raise BadRequest("conversationId is required when for is 'message'")
    if purpose is None and conversation_id is not None:
        raise BadRequest("conversationId applies only with for=message")
    return UploadTarget(conversation_id=conversation_id)


class AttachmentDeleteBody(Struct):
    media_url: str
