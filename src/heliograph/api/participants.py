"""Participants routes."""

from __future__ import annotations

from heliograph.api.conversations import CONVERSATION, conversation_ids
from heliograph.api.http import INTEGRATION, Call, Reply, Routes
from heliograph.api.lists import listing
from heliograph.pagination import parse_page
from heliograph.schemas import render
from heliograph.schemas.conversations import ParticipantLeaveBody, ParticipantSubSchema
from heliograph.services import participants as service

routes = Routes()


@routes("POST", CONVERSATION + "/join", "JoinConversation", INTEGRATION)
async def join_conversation(call: Call) -> Reply:
    """POST /v2/apps/{appId}/conversations/{conversationId}/join (JoinConversation)."""
    body = call.body(ParticipantSubSchema)
    async with call.services.db.write() as conn:
        participant = await service.join_conversation(conn, ids=call.services.ids, **conversation_ids(call), body=body)
    return 201, {"participant": participant}


@routes("GET", CONVERSATION + "/participants", "ListParticipants", INTEGRATION)
async def list_participants(call: Call) -> Reply:
    """GET /v2/apps/{appId}/conversations/{conversationId}/participants (ListParticipants)."""
    page = parse_page(call.query)
    async with call.services.db.read() as conn:
        window = await service.list_participants(conn, **conversation_ids(call), page=page)
    return 200, listing(call, "participants", window, page, render.participant)


@routes("POST", CONVERSATION + "/leave", "LeaveConversation", INTEGRATION)
async def leave_conversation(call: Call) -> Reply:
    """POST /v2/apps/{appId}/conversations/{conversationId}/leave (LeaveConversation)."""
    body = call.body(ParticipantLeaveBody)
    async with call.services.db.write() as conn:
        await service.leave_conversation(conn, ids=call.services.ids, **conversation_ids(call), body=body)
    return 200, {}
