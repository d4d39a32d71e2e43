"""Conversations (CreateConversation, ListConversations, GetConversation, UpdateConversation,
DeleteConversation)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import BadRequest, UserNotFound
from heliograph.events import payloads as events
from heliograph.ids import IdFactory
from heliograph.pagination import Page, Window
from heliograph.schemas import render
from heliograph.schemas.common import UNSET, check_metadata
from heliograph.schemas.conversations import ConversationCreateBody, ConversationUpdateBody, ParticipantSubSchema
from heliograph.services import stream
from heliograph.services.clients import give_up_links, subscribe_sdk_clients
from heliograph.store import conversations as store
from heliograph.store.apps import require_app
from heliograph.store.conversations import require_conversation
from heliograph.store.outbox import emit
from heliograph.store.participants import add_participant, list_member_ids
from heliograph.store.switchboards import initial_control
from heliograph.store.users import find_user

MAX_GROUP_PARTICIPANTS = 10


async def resolve_participant_user(conn: AsyncConnection, *, app_id: str, ref: ParticipantSubSchema | Any,
                                   field: str) -> Any:
    """The user a participant entry names by userId or userExternalId (exactly one of them)."""
    user_id = None if ref.user_id is UNSET else ref.user_id
    external_id = None if ref.user_external_id is UNSET else ref.user_external_id
    if (user_id is None) == (external_id is None):
        raise BadRequest(f"{field}: one of userId or userExternalId is required, but not both")
    user = await find_user(conn, app_id=app_id, user_id=user_id, external_id=external_id)
    if user is None:
        raise UserNotFound(f"User not found: {user_id or external_id}")
    return user


async def create_conversation(conn: AsyncConnection, *, ids: IdFactory, app_id: str,
                              body: ConversationCreateBody, reason: str = "none",
                              source: dict[str, Any] = events.API_SOURCE,
                              integration_id: str | None = None) -> dict[str, Any]:
    """CreateConversation; an end user's (services/end_users.py) gives its own creationReason and source,
    and the SDK integration whose default responder may take control of it."""
    await require_app(conn, app_id=app_id)
    entries = [] if body.participants is UNSET else body.participants
    _check_participant_count(body.type, entries)
    users = [await resolve_participant_user(conn, app_id=app_id, ref=e, field=f"participants[{n}]")
             for n, e in enumerate(entries)]
    if len({u["id"] for u in users}) != len(users):
        raise BadRequest("participants: the same user is listed twice")
    check_metadata(None if body.metadata is UNSET else body.metadata)
    conversation_id, now = ids.new_at()
    is_default = body.type == "personal" and not await store.has_default(conn, user_id=users[0]["id"])
    row = {
        "id": conversation_id, "app_id": app_id, "type": body.type, "is_default": is_default,
        "display_name": _set(body.display_name), "description": _set(body.description),
        "icon_url": _set(body.icon_url), "metadata": _set(body.metadata), "business_last_read": None,
        "last_updated_at": now, "created_at": now, "message_count": 0,
    }
    await store.insert_conversation(conn, row)
    for user in users:
        await add_participant(conn, ids=ids, conversation_id=conversation_id, user_id=user["id"])
    await subscribe_sdk_clients(conn, ids=ids, app_id=app_id, conversation_id=conversation_id,
                                users=users, entries=entries)
    control = await initial_control(conn, app_id=app_id, conversation_id=conversation_id,
                                    integration_id=integration_id)
    await stream.joined(conn, user_ids=[user["id"] for user in users], conversation_id=conversation_id)
    owner = users[0] if body.type == "personal" else None  # sdkGroup members: no conversation:join (see docs)
    await emit(conn, ids=ids, app_id=app_id, type="conversation:create", lane=conversation_id,
               payload=lambda control: events.conversation_create({**row, **control}, owner, reason=reason,
                                                                  source=source))
    return render.conversation({**row, **control})


def _check_participant_count(kind: str, entries: list[ParticipantSubSchema]) -> None:
    if kind == "personal" and len(entries) != 1:
        raise BadRequest("participants: a personal conversation must have exactly 1 participant")
    if kind == "sdkGroup":
        for n, entry in enumerate(entries):
            if entry.subscribe_sdk_client is UNSET:
                raise BadRequest(f"participants[{n}].subscribeSDKClient is required for sdkGroup conversations")


async def list_conversations(conn: AsyncConnection, *, app_id: str, page: Page,
                             filter: dict[str, Any]) -> Window:
    await require_app(conn, app_id=app_id)
    user_id, external_id = filter.get("userId"), filter.get("userExternalId")
    if (user_id is None) == (external_id is None):
        raise BadRequest("One of filter[userId] or filter[userExternalId] is required, but not both")
    user = await find_user(conn, app_id=app_id, user_id=user_id, external_id=external_id)
    if user is None:
        raise UserNotFound()
    return await store.page_of_user(conn, user_id=user["id"], page=page)


async def get_conversation(conn: AsyncConnection, *, app_id: str, conversation_id: str) -> dict[str, Any]:
    return render.conversation(await require_conversation(conn, app_id=app_id, conversation_id=conversation_id,
                                                          with_control=True))


async def update_conversation(conn: AsyncConnection, *, app_id: str, conversation_id: str,
                              body: ConversationUpdateBody) -> dict[str, Any]:
    row = dict(await require_conversation(conn, app_id=app_id, conversation_id=conversation_id, with_control=True))
    changes = {column: value for column, value in (
        ("display_name", body.display_name), ("description", body.description),
        ("icon_url", body.icon_url), ("metadata", body.metadata)) if value is not UNSET}
    if body.metadata is not UNSET:
        check_metadata(body.metadata)
    if changes:
        await store.update_conversation(conn, conversation_id=conversation_id, changes=changes)
    return render.conversation({**row, **changes})


async def delete_conversation(conn: AsyncConnection, *, ids: IdFactory, app_id: str, conversation_id: str) -> None:
    row = await require_conversation(conn, app_id=app_id, conversation_id=conversation_id)
    if row["is_default"]:
        raise BadRequest(f"Conversation {conversation_id} cannot be deleted because it is the default.")
    await emit(conn, ids=ids, app_id=app_id, type="conversation:remove", lane=conversation_id,
               payload=lambda control: events.conversation_remove({**row, **control}))  # emitted before it goes
    members = await list_member_ids(conn, conversation_id=conversation_id)
    await give_up_links(conn, ids=ids, app_id=app_id, conversation=row, user_ids=members)
    await stream.left(conn, user_ids=members, conversation_id=conversation_id)
    await store.delete_conversation(conn, conversation_id=conversation_id)


def _set(value: Any) -> Any:
    return None if value is UNSET else value
