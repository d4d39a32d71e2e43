"""Participants (JoinConversation, ListParticipants, LeaveConversation): sdkGroup conversations only."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import BadRequest, Conflict, NotFound
from heliograph.events import payloads as events
from heliograph.ids import IdFactory
from heliograph.pagination import Page, Window
from heliograph.schemas import render
from heliograph.schemas.common import UNSET
from heliograph.schemas.conversations import ParticipantLeaveBody, ParticipantSubSchema
from heliograph.services.clients import subscribe_sdk_client
from heliograph.services.conversations import MAX_GROUP_PARTICIPANTS, resolve_participant_user
from heliograph.store import tables as t
from heliograph.store.conversations import require_conversation
from heliograph.store.outbox import emit
from heliograph.store.paging import window
from heliograph.store.participants import add_participant


def participants_query() -> sa.Select[Any]:
    p, u = t.participants, t.users
    return sa.select(p, u.c.external_id).join(u, u.c.id == p.c.user_id)


_MEMBER_USER = sa.select(t.participants.c.id.label("participant_id"), t.users).join(
    t.users, t.users.c.id == t.participants.c.user_id)  # a participant's user, as the leave event names them


async def _require_group(conn: AsyncConnection, app_id: str, conversation_id: str) -> Any:
    row = await require_conversation(conn, app_id=app_id, conversation_id=conversation_id)
    if row["type"] != "sdkGroup":
        raise BadRequest("Participants can only be added to or removed from sdkGroup conversations")
    return row


async def join_conversation(conn: AsyncConnection, *, ids: IdFactory, app_id: str, conversation_id: str,
                            body: ParticipantSubSchema) -> dict[str, Any]:
    conversation = await _require_group(conn, app_id, conversation_id)
    if body.subscribe_sdk_client is UNSET:
        raise BadRequest("subscribeSDKClient is required for sdkGroup conversations")
    user = await resolve_participant_user(conn, app_id=app_id, ref=body, field="body")
    p = t.participants
    members = (await conn.execute(sa.select(p.c.user_id).where(p.c.conversation_id == conversation_id))).scalars().all()
    if user["id"] in members:
        raise Conflict("User is already a participant of the conversation")
    if len(members) >= MAX_GROUP_PARTICIPANTS:
        raise BadRequest(f"An sdkGroup conversation can have at most {MAX_GROUP_PARTICIPANTS} participants")
    row = await add_participant(conn, ids=ids, conversation_id=conversation_id, user_id=user["id"])
    if body.subscribe_sdk_client is True:
        row["client_associations"] = await subscribe_sdk_client(conn, ids=ids, app_id=app_id,
                                                                conversation_id=conversation_id, user=user)
    await emit(conn, ids=ids, app_id=app_id, type="conversation:join", lane=conversation_id,
               payload=events.conversation_participant(conversation, user))
    return render.participant({**row, "external_id": user["external_id"]})


async def list_participants(conn: AsyncConnection, *, app_id: str, conversation_id: str, page: Page) -> Window:
    await require_conversation(conn, app_id=app_id, conversation_id=conversation_id)
    query = participants_query().where(t.participants.c.conversation_id == conversation_id)
    return await window(conn, query, t.participants.c.id, page)


async def leave_conversation(conn: AsyncConnection, *, ids: IdFactory, app_id: str, conversation_id: str,
                             body: ParticipantLeaveBody) -> None:
    conversation = await _require_group(conn, app_id, conversation_id)
    given = {k: v for k, v in (("userId", body.user_id), ("userExternalId", body.user_external_id),
                               ("participantId", body.participant_id)) if v is not UNSET}
    if len(given) != 1:
        raise BadRequest("Exactly one of userId, userExternalId or participantId is required")
    p, u = t.participants, t.users
    column = {"userId": p.c.user_id, "userExternalId": u.c.external_id, "participantId": p.c.id}
    field, value = next(iter(given.items()))
    member = (await conn.execute(_MEMBER_USER.where(
        p.c.conversation_id == conversation_id, column[field] == value))).first()
    if member is None:
        raise NotFound("User is not a member of the conversation")
    await conn.execute(p.delete().where(p.c.id == member.participant_id))
    await emit(conn, ids=ids, app_id=app_id, type="conversation:leave", lane=conversation_id,
               payload=events.conversation_participant(conversation, member._mapping))
