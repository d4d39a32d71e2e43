"""Clients (CreateClient, ListClients, RemoveClient), and the SDK client that subscribeSDKClient asks for.

A client is a user's presence on one channel. CreateClient starts a channel link
(docs/channels.md#client-linking): the client is created `pending` for the integration of
`matchCriteria`, matched to the person the criteria name on the channel (client:update `matched`),
and confirmed (client:update `confirmed`: active, and attached to the target conversation) at once,
once the channel accepted the confirmation message (`immediate`), or once the person writes on the
channel (`userActivity`, `prompt`); a link that cannot be made is given up (client:remove
`linkFailed`). An `sdk` client stands for every SDK integration of the app at once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import BadRequest, Conflict, ConversationNotFound, IntegrationNotFound
from heliograph.events import clients as client_events
from heliograph.ids import IdFactory
from heliograph.pagination import Page, Window
from heliograph.schemas import clients as wire
from heliograph.schemas import messages as m
from heliograph.schemas.clients import ClientCreate, Confirmation, MailgunCriteria, MatchCriteria
from heliograph.schemas.common import UNSET, to_wire
from heliograph.services.content import prepare
from heliograph.services.messages import check_author
from heliograph.store import channel_sends, links
from heliograph.store import clients as store
from heliograph.store.conversations import require_conversation
from heliograph.store.fast import drive
from heliograph.store.integrations import find_integration
from heliograph.store.outbox import emit
from heliograph.store.users import find_user, lock_user, require_user

SDK = store.SDK
CONFIRMATION_CONTENT = (m.Text, m.Image)
UNLINKABLE = frozenset({"messagebird"})  # matchCriteria types whose channel Heliograph does not talk to yet


async def create_client(conn: AsyncConnection, *, ids: IdFactory, app_id: str, user: str, brand_id: str | None,
                        body: ClientCreate) -> dict[str, Any]:
    """Start a channel link: a `pending` client of the user for the integration of `matchCriteria`."""
    criteria = body.match_criteria
    link = {"matchCriteria": _criteria(criteria), "confirmation": _confirmation(body.confirmation),
            "target": {"conversationId": body.target.conversation_id}}
    owner = await require_user(conn, app_id=app_id, id_or_external_id=user, brand_id=brand_id)
    if type(criteria).__struct_config__.tag in UNLINKABLE:
        raise BadRequest(f"Invalid matchCriteria.type: channel linking through "
                         f"{type(criteria).__struct_config__.tag} is not supported by this server")
    await _require_integration(conn, app_id, criteria)
    found_target = await _require_target(conn, app_id, body.target.conversation_id, owner["id"])
    if found_target["type"] != "personal":
        raise BadRequest("Invalid target.conversationId: a channel link's target is a personal conversation "
                         "(the only kind whose messages go out on channels)")
    target = await require_conversation(conn, app_id=app_id, conversation_id=body.target.conversation_id,
                                        with_control=True)  # as the event shows it
    await lock_user(conn, user_id=owner["id"])  # one client per integration, even when racing
    if await store.has_client(conn, user_id=owner["id"], integration_id=criteria.integration_id):
        raise Conflict(f"The user already has a client for integration {criteria.integration_id}")
    client_id, now = ids.new_at()
    row = _row(client_id, app_id, owner["id"], now, type=type(criteria).__struct_config__.tag, status="pending",
               integration_id=criteria.integration_id, link=link)
    await store.insert_client(conn, row)
    await emit(conn, ids=ids, app_id=app_id, type="client:add", lane=owner["id"],
               payload=client_events.client_add(row, owner, target))
    await _link(conn, ids=ids, app_id=app_id, client=row, owner=owner, target=target, now=now)
    return wire.client(row)  # as it was made: pending (the spec's answer); the link's progress is in the events


async def _link(conn: AsyncConnection, *, ids: IdFactory, app_id: str, client: dict[str, Any], owner: Any,
                target: Any, now: int) -> None:
    """Match the new pending client to the person on the channel, then confirm it now, or send the confirmation
    message through the channels' outbox (the link then waits for the channel, or for the person)."""
    link, integration_id = client["link"], client["integration_id"]
    external_id = channel_id(link["matchCriteria"])
    matched = await drive(conn, links.match_plan(client_id=client["id"], integration_id=integration_id,
                                                 external_id=external_id))
    if matched is None:
        await _give_up(conn, ids=ids, app_id=app_id, client_id=client["id"], owner=owner, target=target, error={
            "code": "conflict", "message": f"Another user is {external_id} on integration {integration_id}"})
        return
    await emit(conn, ids=ids, app_id=app_id, type="client:update", lane=owner["id"],
               payload=client_events.client_update(matched, owner, target, "matched"))
    confirmation = link["confirmation"]
    if "message" in confirmation:
        await drive(conn, channel_sends.insert(row=channel_sends.new_row(
            app_id=app_id, integration_id=integration_id, conversation_id=target["id"], message_id=None,
            client_id=client["id"], recipient=external_id, now=now, content=confirmation["message"]["content"])))
    elif confirmation["type"] == "immediate":
        await confirm_link(conn, ids=ids, app_id=app_id, client_id=client["id"], owner=owner, target=target,
                           now=now)


async def confirm_link(conn: AsyncConnection, *, ids: IdFactory, app_id: str, client_id: str, owner: Any,
                       target: Any, now: int) -> Any:
    """A pending client's link is confirmed (client:update `confirmed`); the client, or None if not pending."""
    confirmed = await drive(conn, links.confirm_plan(client_id=client_id, now=now))
    if confirmed is not None:
        await emit(conn, ids=ids, app_id=app_id, type="client:update", lane=owner["id"],
                   payload=client_events.client_update(confirmed, owner, target, "confirmed"))
    return confirmed


async def give_up_links(conn: AsyncConnection, *, ids: IdFactory, app_id: str, conversation: Any,
                        user_ids: list[str]) -> None:
    """The conversation is being deleted: the pending links that target it fail (client:remove `linkFailed`)."""
    for client in await store.pending_links(conn, user_ids=user_ids):
        if ((client["link"] or {}).get("target") or {}).get("conversationId") != conversation["id"]:
            continue
        owner = await find_user(conn, app_id=app_id, user_id=client["user_id"])
        if owner is not None:
            await _give_up(conn, ids=ids, app_id=app_id, client_id=client["id"], owner=owner, target=conversation,
                           error={"code": "not_found", "message": "The link's target conversation was deleted"})


async def _give_up(conn: AsyncConnection, *, ids: IdFactory, app_id: str, client_id: str, owner: Any, target: Any,
                   error: dict[str, str]) -> None:
    """A pending link fails: its client is deleted (client:remove `linkFailed`, with the error)."""
    given_up = await drive(conn, links.give_up_plan(client_id=client_id))
    if given_up is not None:
        await emit(conn, ids=ids, app_id=app_id, type="client:remove", lane=owner["id"],
                   payload=client_events.client_remove(given_up, owner, "linkFailed", target=target, error=error))


def channel_id(criteria: dict[str, Any]) -> str:
    """The person's id on the channel that matchCriteria (as stored) name: a client's externalId there."""
    if criteria["type"] == "mailgun":
        return str(criteria["address"]).lower()
    if criteria["type"] == "whatsapp":
        return str(criteria["phoneNumber"]).lstrip("+")  # a wa_id: the number's digits
    return str(criteria["phoneNumber"])


async def list_clients(conn: AsyncConnection, *, app_id: str, user: str, brand_id: str | None, page: Page) -> Window:
    owner = await require_user(conn, app_id=app_id, id_or_external_id=user, brand_id=brand_id)
    return await store.page_clients(conn, user_id=owner["id"], page=page)


async def remove_client(conn: AsyncConnection, *, ids: IdFactory, app_id: str, user: str, brand_id: str | None,
                        client_id: str) -> None:
    """Remove a client (its devices with it) and unsubscribe it from every conversation; never an sdk one."""
    owner = await require_user(conn, app_id=app_id, id_or_external_id=user, brand_id=brand_id)
    found = await store.require_client(conn, user_id=owner["id"], client_id=client_id)
    if found["type"] == SDK:
        raise BadRequest("Cannot remove a client of type 'sdk'")
    await store.delete_client(conn, client_id=client_id)
    await replace_association(conn, user_id=owner["id"], client_id=client_id, replacement=None)
    await emit(conn, ids=ids, app_id=app_id, type="client:remove", lane=owner["id"],
               payload=client_events.client_remove(found, owner, "api"))


async def subscribe_sdk_client(conn: AsyncConnection, *, ids: IdFactory, app_id: str, conversation_id: str,
                               user: Any) -> list[dict[str, str]]:
    """subscribeSDKClient: the user's SDK client (made if they have none) becomes the participant's
    primary client association; the participant's associations, most recent first."""
    client = await _sdk_client(conn, ids, app_id, user)
    current = await store.associations(conn, conversation_id=conversation_id, user_id=user["id"])
    associations = [{"type": SDK, "clientId": client["id"]}] + [a for a in current if a["clientId"] != client["id"]]
    await store.update_associations(conn, conversation_id=conversation_id, user_id=user["id"],
                                    client_associations=associations)
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
    for member in await store.associated_participants(conn, user_id=user_id):
        if not any(a["clientId"] == client_id for a in member["client_associations"]):
            continue
        kept: list[dict[str, str]] = []
        for association in member["client_associations"]:
            new = (replacement if association["clientId"] == client_id else association)
            if new is not None and new not in kept:
                kept.append(new)
        await store.update_participant_associations(conn, participant_id=member["id"], client_associations=kept)


async def open_sdk_client(conn: AsyncConnection, *, ids: IdFactory, app_id: str, user: Any,
                          integration: Any, reason: str | None = None) -> dict[str, Any]:
    """A new `sdk` client of the user: a device that signed in through this SDK integration. Emits
    client:add with the integration as its source (`{type: web, integrationId}`)."""
    client_id, now = ids.new_at()
    row = _row(client_id, app_id, user["id"], now, type=SDK, status="active", integration_id=None, link=None)
    row["linked_at"] = row["last_seen"] = now
    await store.insert_client(conn, row)
    source = {"type": integration["type"], "integrationId": integration["id"]}
    await emit(conn, ids=ids, app_id=app_id, type="client:add", lane=user["id"],
               payload=client_events.client_add(row, user, None, source=source, reason=reason))
    return row


async def _sdk_client(conn: AsyncConnection, ids: IdFactory, app_id: str, user: Any) -> Any:
    await lock_user(conn, user_id=user["id"])  # one SDK client per user, even when racing
    found = await store.find_sdk_client(conn, user_id=user["id"])
    if found is not None:
        return found
    client_id, now = ids.new_at()
    row = _row(client_id, app_id, user["id"], now, type=SDK, status="active", integration_id=None, link=None)
    row["linked_at"] = now
    await store.insert_client(conn, row)
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
    check_author(message.author, field="confirmation.message.author")
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
    """The integration, locked as a person's first message locks it: a link and a first message of the same
    person make one client between them."""
    kind = type(criteria).__struct_config__.tag
    found = await find_integration(conn, app_id=app_id, integration_id=criteria.integration_id, lock="serial")
    if found is None:
        raise IntegrationNotFound()
    if found["type"] != kind:
        raise BadRequest(f"Invalid matchCriteria.integrationId: integration {criteria.integration_id} "
                         f"is of type {found['type']}, not {kind}")


async def _require_target(conn: AsyncConnection, app_id: str, conversation_id: str, user_id: str) -> Any:
    found = await store.find_target(conn, app_id=app_id, conversation_id=conversation_id, user_id=user_id)
    if found is None:
        raise ConversationNotFound()
    if found["participant_id"] is None:
        raise BadRequest("Invalid target.conversationId: the user is not a participant of that conversation")
    return found
