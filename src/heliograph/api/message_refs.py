"""DownloadMessageRef and PostConversionEvents routes: validated, then refused with 502 (services.message_refs)."""

from __future__ import annotations

from heliograph.api.conversations import CONVERSATION, conversation_ids
from heliograph.api.http import INTEGRATION, Call, Reply, Routes
from heliograph.schemas.message_refs import ConversionEventsBody, DownloadMessageRefBody
from heliograph.services import message_refs as service

routes = Routes()


@routes("POST", CONVERSATION + "/download", "DownloadMessageRef", INTEGRATION)
async def download_message_ref(call: Call) -> Reply:
    """POST /v2/apps/{appId}/conversations/{conversationId}/download (DownloadMessageRef)."""
    body = call.body(DownloadMessageRefBody)
    async with call.services.db.read() as conn:
        await service.download_message_ref(conn, **conversation_ids(call), body=body)


@routes("POST", CONVERSATION + "/conversionEvents", "PostConversionEvents", INTEGRATION)
async def post_conversion_events(call: Call) -> Reply:
    """POST /v2/apps/{appId}/conversations/{conversationId}/conversionEvents (PostConversionEvents)."""
    body = call.body(ConversionEventsBody)
    async with call.services.db.read() as conn:
        await service.post_conversion_events(conn, **conversation_ids(call), body=body)
