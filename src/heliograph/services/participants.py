"""Participants (JoinConversation, ListParticipants, LeaveConversation): sdkGroup conversations only. A join
or a leave is on the conversation's stream (`participant:added`, `participant:removed`: docs/end-users.md §4),
for the participants' open widgets."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import BadRequest, Conflict, NotFound
from heliograph.events import payloads as events
from heliograph.ids import IdFactory
from heliograph.pagination import Page, Window
from heliograph.schemas import render
from heliograph.schemas.common import UNSET
from heliograph.schemas.conversations import ParticipantLeaveBody, ParticipantSubSchema
from heliograph.services import stream
from heliograph.services.clients import subscribe_sdk_client
from heliograph.services.conversations import MAX_GROUP_PARTICIPANTS, resolve_participant_user
from heliograph.store import participants as store
from heliograph.store.conversations import require_conversation
from heliograph.store.outbox import emit


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
    members = await store.list_member_ids(conn, conversation_id=conversation_id)
    if user["id"] in members:
        raise Conflict("User is already a participant of the conversation")
    if len(members) >= MAX_GROUP_PARTICIPANTS:
        raise BadRequest(f"An sdkGroup conversation can have at most {MAX_GROUP_PARTICIPANTS} participants")
    await stream.record(conn, conversation_id=conversation_id, type="participant:added",  # first: its row lock
                        body={"userId": user["id"]}, now=ids.clock())
    row = await store.add_participant(conn, ids=ids, conversation_id=conversation_id, user_id=user["id"])
    await stream.joined(conn, user_ids=[user["id"]], conversation_id=conversation_id)
    if body.subscribe_sdk_client is True:
        row["client_associations"] = await subscribe_sdk_client(conn, ids=ids, app_id=app_id,
                                                                conversation_id=conversation_id, user=user)
    await emit(conn, ids=ids, app_id=app_id, type="conversation:join", lane=conversation_id,
               payload=lambda control: events.conversation_participant({**conversation, **control}, user))
    return render.participant({**row, "external_id": user["external_id"]})


async def list_participants(conn: AsyncConnection, *, app_id: str, conversation_id: str, page: Page) -> Window:
    await require_conversation(conn, app_id=app_id, conversation_id=conversation_id)
    return await store.page_participants(conn, conversation_id=conversation_id, page=page)


async def leave_conversation(conn: AsyncConnection, *, ids: IdFactory, app_id: str, conversation_id: str,
                             body: ParticipantLeaveBody) -> None:
    conversation = await _require_group(conn, app_id, conversation_id)
    given = {k: v for k, v in (("user_id", body.user_id), ("external_id", body.user_external_id),
                               ("participant_id", body.participant_id)) if v is not UNSET}
    if len(given) != 1:
        raise BadRequest("Exactly one of userId, userExternalId or participantId is required")
    member = await store.find_member(conn, conversation_id=conversation_id, **given)
    if member is None:
        raise NotFound("User is not a member of the conversation")
    await stream.record(conn, conversation_id=conversation_id, type="participant:removed",  # first: its row lock
                        body={"userId": member["id"]}, now=ids.clock())
    await store.delete_participant(conn, participant_id=member["participant_id"])
    await stream.left(conn, user_ids=[member["id"]], conversation_id=conversation_id)
    await emit(conn, ids=ids, app_id=app_id, type="conversation:leave", lane=conversation_id,
               payload=lambda control: events.conversation_participant({**conversation, **control}, member))
