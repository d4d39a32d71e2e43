"""Clients (CreateClient, ListClients, RemoveClient), and the SDK client that subscribeSDKClient asks for.

A client is a user's presence on one channel. CreateClient starts a channel link: the client is
created `pending` for the integration of `matchCriteria` and stays so until the channel confirms
it. Heliograph does not talk to the channels yet, so a link never completes (see
docs/api-behaviour.md). An `sdk` client stands for every SDK integration of the app at once.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import BadRequest, ClientNotFound, Conflict, ConversationNotFound, IntegrationNotFound
from heliograph.events import clients as client_events
from heliograph.ids import IdFactory
from heliograph.pagination import Page, Window
from heliograph.schemas import clients as wire
from heliograph.schemas import messages as m
from heliograph.schemas.clients import ClientCreate, Confirmation, MailgunCriteria, MatchCriteria
from heliograph.schemas.common import UNSET, to_wire
from heliograph.services.content import prepare
from heliograph.store import tables as t
from heliograph.store.client_tables import clients as c
from heliograph.store.outbox import emit
from heliograph.store.paging import window
from heliograph.store.users import require_user

SDK = "sdk"
CONFIRMATION_CONTENT = (m.Text, m.Image)

_CLIENT = sa.select(c).where(c.c.id == sa.bindparam("client_id"), c.c.user_id == sa.bindparam("user_id"))
_SDK_CLIENT = sa.select(c).where(c.c.user_id == sa.bindparam("user_id"), c.c.type == SDK).order_by(c.c.id).limit(1)
_LOCK_USER = sa.select(t.users.c.id).where(t.users.c.id == sa.bindparam("user_id")).with_for_update()
_INTEGRATION = sa.select(t.integrations.c.id, t.integrations.c.type).where(
    t.integrations.c.id == sa.bindparam("integration_id"), t.integrations.c.app_id == sa.bindparam("app_id"))
_TARGET = sa.select(t.conversations, t.participants.c.id.label("participant_id")).outerjoin(
    t.participants, sa.and_(t.participants.c.conversation_id == t.conversations.c.id,
                            t.participants.c.user_id == sa.bindparam("user_id"))).where(
    t.conversations.c.id == sa.bindparam("conversation_id"), t.conversations.c.app_id == sa.bindparam("app_id"))
_ASSOCIATED = sa.select(t.participants.c.id, t.participants.c.client_associations).where(
    t.participants.c.user_id == sa.bindparam("user_id"))


async def create_client(conn: AsyncConnection, *, ids: IdFactory, app_id: str, user: str, brand_id: str | None,
                        body: ClientCreate) -> dict[str, Any]:
    """Start a channel link: a `pending` client of the user for the integration of `matchCriteria`."""
    criteria = body.match_criteria
    link = {"matchCriteria": _criteria(criteria), "confirmation": _confirmation(body.confirmation),
            "target": {"conversationId": body.target.conversation_id}}
    owner = await require_user(conn, app_id=app_id, id_or_external_id=user, brand_id=brand_id)
    await _require_integration(conn, app_id, criteria)
    target = await _require_target(conn, app_id, body.target.conversation_id, owner["id"])
    await conn.execute(_LOCK_USER, {"user_id": owner["id"]})  # one client per integration, even when racing
    if await conn.scalar(sa.select(c.c.id).where(c.c.user_id == owner["id"],
                                                 c.c.integration_id == criteria.integration_id)):
        raise Conflict(f"The user already has a client for integration {criteria.integration_id}")
    client_id, now = ids.new_at()
    row = _row(client_id, app_id, owner["id"], now, type=type(criteria).__struct_config__.tag, status="pending",
               integration_id=criteria.integration_id, link=link)
    await conn.execute(c.insert(), row)
    await emit(conn, ids=ids, app_id=app_id, type="client:add", lane=owner["id"],
               payload=client_events.client_add(row, owner, target))
    return wire.client(row)


async def list_clients(conn: AsyncConnection, *, app_id: str, user: str, brand_id: str | None, page: Page) -> Window:
    owner = await require_user(conn, app_id=app_id, id_or_external_id=user, brand_id=brand_id)
    return await window(conn, sa.select(c).where(c.c.user_id == owner["id"]), c.c.id, page)


async def remove_client(conn: AsyncConnection, *, ids: IdFactory, app_id: str, user: str, brand_id: str | None,
                        client_id: str) -> None:
    """Remove a client (its devices with it) and unsubscribe it from every conversation; never an sdk one."""
    owner = await require_user(conn, app_id=app_id, id_or_external_id=user, brand_id=brand_id)
    found = (await conn.execute(_CLIENT, {"client_id": client_id, "user_id": owner["id"]})).first()
    if found is None:
        raise ClientNotFound()
    if found.type == SDK:
        raise BadRequest("Cannot remove a client of type 'sdk'")
    await conn.execute(c.delete().where(c.c.id == client_id))
    await replace_association(conn, user_id=owner["id"], client_id=client_id, replacement=None)
    await emit(conn, ids=ids, app_id=app_id, type="client:remove", lane=owner["id"],
               payload=client_events.client_remove(found._mapping, owner, "api"))


async def subscribe_sdk_client(conn: AsyncConnection, *, ids: IdFactory, app_id: str, conversation_id: str,
                               user: Any) -> list[dict[str, str]]:
    """subscribeSDKClient: the user's SDK client (made if they have none) becomes the participant's
    primary client association; the participant's associations, most recent first."""
    client = await _sdk_client(conn, ids, app_id, user)
    p = t.participants
    member = p.c.conversation_id == conversation_id, p.c.user_id == user["id"]
    current = await conn.scalar(sa.select(p.c.client_associations).where(*member)) or []
    associations = [{"type": SDK, "clientId": client["id"]}] + [a for a in current if a["clientId"] != client["id"]]
    await conn.execute(p.update().where(*member).values(client_associations=associations))
    return associations


async def subscribe_sdk_clients(conn: AsyncConnection, *, ids: IdFactory, app_id: str, conversation_id: str,
                                users: list[Any], entries: list[Any]) -> None:
    """subscribe_sdk_client for every participant entry of a new conversation that asks for it."""
    for user, entry in zip(users, entries, strict=True):
        if entry.subscribe_sdk_client is True:
            await subscribe_sdk_client(conn, ids=ids, app_id=app_id, conversation_id=conversation_id, user=user)


async def replace_association(conn: AsyncConnection, *, user_id: str, client_id: str,
                              replacement: dict[str, str] | None) -> None:
    """Where the user's participants are associated with `client_id`: `replacement` instead, or nothing."""
    p = t.participants
    for member in await conn.execute(_ASSOCIATED, {"user_id": user_id}):
        if not any(a["clientId"] == client_id for a in member.client_associations):
            continue
        kept: list[dict[str, str]] = []
        for association in member.client_associations:
            new = (replacement if association["clientId"] == client_id else association)
            if new is not None and new not in kept:
                kept.append(new)
        await conn.execute(p.update().where(p.c.id == member.id).values(client_associations=kept))


async def _sdk_client(conn: AsyncConnection, ids: IdFactory, app_id: str, user: Any) -> Any:
    await conn.execute(_LOCK_USER, {"user_id": user["id"]})  # one SDK client per user, even when racing
    found = (await conn.execute(_SDK_CLIENT, {"user_id": user["id"]})).first()
    if found is not None:
        return found._mapping
    client_id, now = ids.new_at()
    row = _row(client_id, app_id, user["id"], now, type=SDK, status="active", integration_id=None, link=None)
    row["linked_at"] = now
    await conn.execute(c.insert(), row)
    await emit(conn, ids=ids, app_id=app_id, type="client:add", lane=user["id"],
               payload=client_events.client_add(row, user, None))
    return row


def _row(client_id: str, app_id: str, user_id: str, now: int, **fields: Any) -> dict[str, Any]:
    return {"id": client_id, "app_id": app_id, "user_id": user_id, "external_id": None, "display_name": None,
            "avatar_url": None, "info": None, "raw": None, "last_seen": None, "linked_at": None,
            "created_at": now, **fields}


def _criteria(criteria: MatchCriteria) -> dict[str, Any]:
    """The criteria as stored: phone numbers in E.164."""
    stored: dict[str, Any] = to_wire(criteria)
    stored["primary"] = criteria.primary
    if not isinstance(criteria, MailgunCriteria):
        stored["phoneNumber"] = wire.phone_number(criteria.phone_number)
    return stored


def _confirmation(confirmation: Confirmation) -> dict[str, Any]:
    """The spec's rules for a confirmation message: text or image content, and link actions only."""
    stored: dict[str, Any] = {"type": confirmation.type}
    if confirmation.message is UNSET:
        return stored
    message = confirmation.message
    content = message.content
    if not isinstance(content, CONFIRMATION_CONTENT):
        raise BadRequest("Invalid confirmation.message.content.type: a confirmation message is text or image")
    actions = [] if content.actions is UNSET else content.actions
    for n, action in enumerate(actions):
        if not isinstance(action, m.Link):
            raise BadRequest(f"Invalid confirmation.message.content.actions[{n}].type: only link actions are allowed")
    stored["message"] = {**to_wire(message), "content": prepare(content, author_type=message.author.type,
                                                                 schema=None)}
    return stored


async def _require_integration(conn: AsyncConnection, app_id: str, criteria: MatchCriteria) -> None:
    kind = type(criteria).__struct_config__.tag
    found = (await conn.execute(_INTEGRATION, {"integration_id": criteria.integration_id, "app_id": app_id})).first()
    if found is None:
        raise IntegrationNotFound()
    if found.type != kind:
        raise BadRequest(f"Invalid matchCriteria.integrationId: integration {criteria.integration_id} "
                         f"is of type {found.type}, not {kind}")


async def _require_target(conn: AsyncConnection, app_id: str, conversation_id: str, user_id: str) -> Any:
    params = {"conversation_id": conversation_id, "app_id": app_id, "user_id": user_id}
    found = (await conn.execute(_TARGET, params)).first()
    if found is None:
        raise ConversationNotFound()
    if found.participant_id is None:
        raise BadRequest("Invalid target.conversationId: the user is not a participant of that conversation")
    return found._mapping
