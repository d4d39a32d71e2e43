"""Conversations (CreateConversation, ListConversations, GetConversation, UpdateConversation,
DeleteConversation)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import BadRequest, ConversationNotFound, UserNotFound
from heliograph.events import payloads as events
from heliograph.ids import IdFactory
from heliograph.pagination import Page, Window
from heliograph.schemas import render
from heliograph.schemas.common import UNSET, check_metadata
from heliograph.schemas.conversations import ConversationCreateBody, ConversationUpdateBody, ParticipantSubSchema
from heliograph.services.apps import require_app
from heliograph.services.clients import subscribe_sdk_clients
from heliograph.services.switchboards import initial_control, select_conversations
from heliograph.services.users import find_user
from heliograph.store import tables as t
from heliograph.store.outbox import emit
from heliograph.store.paging import window

MAX_GROUP_PARTICIPANTS = 10


_OF_APP = (t.conversations.c.id == sa.bindparam("conversation_id"),
           t.conversations.c.app_id == sa.bindparam("app_id"))
_CONVERSATION = sa.select(t.conversations).where(*_OF_APP)
_WITH_CONTROL = select_conversations().where(*_OF_APP)  # with its switchboard control, to render it


async def require_conversation(conn: AsyncConnection, *, app_id: str, conversation_id: str,
                               with_control: bool = False) -> Any:
    query = _WITH_CONTROL if with_control else _CONVERSATION
    row = (await conn.execute(query, {"conversation_id": conversation_id, "app_id": app_id})).first()
    if row is None:
        await require_app(conn, app_id)
        raise ConversationNotFound()
    return row._mapping


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
                              body: ConversationCreateBody) -> dict[str, Any]:
    await require_app(conn, app_id)
    entries = [] if body.participants is UNSET else body.participants
    _check_participant_count(body.type, entries)
    users = [await resolve_participant_user(conn, app_id=app_id, ref=e, field=f"participants[{n}]")
             for n, e in enumerate(entries)]
    if len({u["id"] for u in users}) != len(users):
        raise BadRequest("participants: the same user is listed twice")
    check_metadata(None if body.metadata is UNSET else body.metadata)
    conversation_id, now = ids.new_at()
    is_default = body.type == "personal" and not await _has_default(conn, users[0]["id"])
    row = {
        "id": conversation_id, "app_id": app_id, "type": body.type, "is_default": is_default,
        "display_name": _set(body.display_name), "description": _set(body.description),
        "icon_url": _set(body.icon_url), "metadata": _set(body.metadata), "business_last_read": None,
        "last_updated_at": now, "created_at": now, "message_count": 0,
    }
    await conn.execute(t.conversations.insert(), row)
    for user in users:
        await add_participant(conn, ids=ids, conversation_id=conversation_id, user_id=user["id"])
    await subscribe_sdk_clients(conn, ids=ids, app_id=app_id, conversation_id=conversation_id,
                                users=users, entries=entries)
    control = await initial_control(conn, app_id=app_id, conversation_id=conversation_id)
    owner = users[0] if body.type == "personal" else None  # sdkGroup members: no conversation:join (see docs)
    await emit(conn, ids=ids, app_id=app_id, type="conversation:create", lane=conversation_id,
               payload=events.conversation_create(row, owner))
    return render.conversation({**row, **control})


def _check_participant_count(kind: str, entries: list[ParticipantSubSchema]) -> None:
    if kind == "personal" and len(entries) != 1:
        raise BadRequest("participants: a personal conversation must have exactly 1 participant")
    if kind == "sdkGroup":
        for n, entry in enumerate(entries):
            if entry.subscribe_sdk_client is UNSET:
                raise BadRequest(f"participants[{n}].subscribeSDKClient is required for sdkGroup conversations")


async def _has_default(conn: AsyncConnection, user_id: str) -> bool:
    """Whether the user already has their default conversation (the user row is locked meanwhile)."""
    await conn.execute(sa.select(t.users.c.id).where(t.users.c.id == user_id).with_for_update())
    c, p = t.conversations, t.participants
    query = (sa.select(c.c.id).join(p, p.c.conversation_id == c.c.id)
             .where(p.c.user_id == user_id, c.c.is_default.is_(True)).limit(1))
    return (await conn.scalar(query)) is not None


async def add_participant(conn: AsyncConnection, *, ids: IdFactory, conversation_id: str,
                          user_id: str) -> dict[str, Any]:
    row = {"id": ids.new(), "conversation_id": conversation_id, "user_id": user_id,
           "unread_count": 0, "last_read": None, "client_associations": []}
    await conn.execute(t.participants.insert(), row)
    return row


async def list_conversations(conn: AsyncConnection, *, app_id: str, page: Page,
                             filter: dict[str, Any]) -> Window:
    await require_app(conn, app_id)
    user_id, external_id = filter.get("userId"), filter.get("userExternalId")
    if (user_id is None) == (external_id is None):
        raise BadRequest("One of filter[userId] or filter[userExternalId] is required, but not both")
    user = await find_user(conn, app_id=app_id, user_id=user_id, external_id=external_id)
    if user is None:
        raise UserNotFound()
    c, p = t.conversations, t.participants
    query = select_conversations().join(p, p.c.conversation_id == c.c.id).where(p.c.user_id == user["id"])
    # Paged by the participant's conversation_id (= the conversation's id): the page comes straight off
    # ix_participants_user_conversation, without sorting all of the user's conversations (SQLite does
    # not carry an ORDER BY across the join's equality).
    return await window(conn, query, p.c.conversation_id, page, same=c.c.id)


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
        await conn.execute(t.conversations.update().where(t.conversations.c.id == conversation_id).values(changes))
    return render.conversation({**row, **changes})


async def delete_conversation(conn: AsyncConnection, *, ids: IdFactory, app_id: str, conversation_id: str) -> None:
    row = await require_conversation(conn, app_id=app_id, conversation_id=conversation_id)
    if row["is_default"]:
        raise BadRequest(f"Conversation {conversation_id} cannot be deleted because it is the default.")
    await conn.execute(t.conversations.delete().where(t.conversations.c.id == conversation_id))
    await emit(conn, ids=ids, app_id=app_id, type="conversation:remove", lane=conversation_id,
               payload=events.conversation_remove(row))


def _set(value: Any) -> Any:
    return None if value is UNSET else value
