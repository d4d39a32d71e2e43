"""Messages and Activities routes."""

from __future__ import annotations

from heliograph.api.conversations import CONVERSATION, conversation_ids
from heliograph.api.http import INTEGRATION, Call, Reply, Routes
from heliograph.api.lists import listing
from heliograph.pagination import parse_page
from heliograph.schemas import render
from heliograph.schemas.messages import ActivityPost, MessagePost
from heliograph.services import messages as service

routes = Routes()
MESSAGES = CONVERSATION + "/messages"


@routes("POST", MESSAGES, "PostMessage", INTEGRATION)
async def post_message(call: Call) -> Reply:
    """POST /v2/apps/{appId}/conversations/{conversationId}/messages (PostMessage)."""
    body = call.body(MessagePost)
    services = call.services
    message = await service.post_message(
        services.db, ids=services.ids, limit=services.settings.message_limit, app_id=call.params["appId"],
        conversation_id=call.params["conversationId"], body=body, caller=call.principal.integration_id)
    return 201, {"messages": [message]}


@routes("GET", MESSAGES, "ListMessages", INTEGRATION)
async def list_messages(call: Call) -> Reply:
    """GET /v2/apps/{appId}/conversations/{conversationId}/messages (ListMessages): newest 100 first."""
    page = parse_page(call.query, sized=False)
    async with call.services.db.read() as conn:
        window = await service.list_messages(conn, **conversation_ids(call), page=page)
    return 200, listing(call, "messages", window, page, render.message, newest_first=True)


@routes("DELETE", MESSAGES, "DeleteAllMessages", INTEGRATION)
async def delete_all_messages(call: Call) -> Reply:
    """DELETE /v2/apps/{appId}/conversations/{conversationId}/messages (DeleteAllMessages)."""
    async with call.services.db.write() as conn:
        await service.delete_all_messages(conn, ids=call.services.ids, **conversation_ids(call))
    return 200, {}


@routes("DELETE", MESSAGES + "/{messageId}", "DeleteMessage", INTEGRATION)
async def delete_message(call: Call) -> Reply:
    """DELETE /v2/apps/{appId}/conversations/{conversationId}/messages/{messageId} (DeleteMessage)."""
    async with call.services.db.write() as conn:
        await service.delete_message(conn, ids=call.services.ids, **conversation_ids(call),
                                     message_id=call.params["messageId"])
    return 200, {}


@routes("POST", CONVERSATION + "/activity", "PostActivity", INTEGRATION)
async def post_activity(call: Call) -> Reply:
    """POST /v2/apps/{appId}/conversations/{conversationId}/activity (PostActivity)."""
    body = call.body(ActivityPost)
    async with call.services.db.write() as conn:
        await service.post_activity(conn, ids=call.services.ids, app_id=call.params["appId"],
                                    conversation_id=call.params["conversationId"], body=body)
    return 200, {}
