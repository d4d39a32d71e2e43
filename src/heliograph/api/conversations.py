"""Conversations routes."""

from __future__ import annotations

from heliograph.api.http import INTEGRATION, Call, Reply, Routes
from heliograph.api.lists import listing, string_filter
from heliograph.pagination import parse_page
from heliograph.schemas import render
from heliograph.schemas.conversations import ConversationCreateBody, ConversationUpdateBody
from heliograph.services import conversations as service

routes = Routes()
CONVERSATION = "/v2/apps/{appId}/conversations/{conversationId}"


def conversation_ids(call: Call) -> dict[str, str]:
    return {"app_id": call.params["appId"], "conversation_id": call.params["conversationId"]}


@routes("POST", "/v2/apps/{appId}/conversations", "CreateConversation", INTEGRATION)
async def create_conversation(call: Call) -> Reply:
    """POST /v2/apps/{appId}/conversations (CreateConversation)."""
    body = call.body(ConversationCreateBody)
    services = call.services
    async with services.db.write() as conn:
        conversation = await service.create_conversation(
            conn, ids=services.ids, app_id=call.params["appId"], body=body)
    return 201, {"conversation": conversation}


@routes("GET", "/v2/apps/{appId}/conversations", "ListConversations", INTEGRATION)
async def list_conversations(call: Call) -> Reply:
    """GET /v2/apps/{appId}/conversations (ListConversations)."""
    page = parse_page(call.query)
    filter = string_filter(call, ("userId", "userExternalId"))
    async with call.services.db.read() as conn:
        window = await service.list_conversations(conn, app_id=call.params["appId"], page=page, filter=filter)
    return 200, listing(call, "conversations", window, page, render.conversation)


@routes("GET", CONVERSATION, "GetConversation", INTEGRATION)
async def get_conversation(call: Call) -> Reply:
    """GET /v2/apps/{appId}/conversations/{conversationId} (GetConversation)."""
    async with call.services.db.read() as conn:
        return 200, {"conversation": await service.get_conversation(conn, **conversation_ids(call))}


@routes("PATCH", CONVERSATION, "UpdateConversation", INTEGRATION)
async def update_conversation(call: Call) -> Reply:
    """PATCH /v2/apps/{appId}/conversations/{conversationId} (UpdateConversation)."""
    body = call.body(ConversationUpdateBody)
    async with call.services.db.write() as conn:
        return 200, {"conversation": await service.update_conversation(conn, **conversation_ids(call), body=body)}


@routes("DELETE", CONVERSATION, "DeleteConversation", INTEGRATION)
async def delete_conversation(call: Call) -> Reply:
    """DELETE /v2/apps/{appId}/conversations/{conversationId} (DeleteConversation)."""
    async with call.services.db.write() as conn:
        await service.delete_conversation(conn, ids=call.services.ids, **conversation_ids(call))
    return 200, {}
