"""What people write on a channel, taken in (docs/channels.md): the channel's webhook request checked on its raw
body, then, in one transaction, each of its events recorded by the channel's id for it (a request sent again
adds nothing), the person found or made (a user, and a client of the channel's type whose externalId is their
id there), their conversation found or made, and their message written with its events, as PostMessage
writes a user's; a button press becomes conversation:postback.
"""

from __future__ import annotations

import dataclasses
import io
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.channels.apis import ChannelApis
from heliograph.channels.base import (
    Adapter,
    Answer,
    ChannelError,
    FetchesMedia,
    InboundEvent,
    InboundRequest,
    Postback,
    Profile,
    Read,
    Receipt,
    Refused,
    UserMessage,
)
from heliograph.channels.registry import adapter
from heliograph.errors import (
    BadGateway,
    BadRequest,
    Forbidden,
    IntegrationNotFound,
    Locked,
    MethodNotAllowed,
    NotFound,
    Unauthorized,
)
from heliograph.events import clients as client_events
from heliograph.events import payloads as events
from heliograph.ids import IdFactory, new_webhook_secret
from heliograph.schemas.attachments import UploadTarget
from heliograph.schemas.clients import client as wire_client
from heliograph.schemas.common import decode
from heliograph.schemas.conversations import ConversationCreateBody, ParticipantSubSchema
from heliograph.schemas.integrations import IntegrationBody
from heliograph.schemas.messages import ActivityPost, Author, Content, MessagePost
from heliograph.schemas.users import Profile as UserProfile
from heliograph.schemas.users import UserCreateBody
from heliograph.services import attachments, clients, conversations, integrations, messages, postbacks
from heliograph.services.messages import Through
from heliograph.services.users import insert_new_user
from heliograph.store import channels as store
from heliograph.store import clients as client_store
from heliograph.store import integrations as integration_store
from heliograph.store.conversations import require_conversation
from heliograph.store.db import Database
from heliograph.store.fast import Plan
from heliograph.store.outbox import emit
from heliograph.store.users import find_user, lock_user

log = logging.getLogger("heliograph.channels")


# --- setting a channel up ---------------------------------------------------------------------------

async def create_integration(db: Database, apis: ChannelApis, *, ids: IdFactory, app_id: str, body: IntegrationBody,
                             public_base: str) -> dict[str, Any]:
    """CreateIntegration. For a channel Heliograph talks to, the integration is stored first, inactive, with its
    secret (Meta calls the webhook with the verify token while it is being subscribed); then the channel is set
    up, outside any transaction (its credentials checked, its webhook pointed at
    `<public_base>/api/<type>/webhooks/<appId>/<integrationId>`), and the integration made active with what the
    channel told of itself. A refusal is a 400, and the integration is deleted again: nothing stays of it; should
    that last step fail, the channel is set back too."""
    kind = integrations.type_of(body)
    channel = adapter(kind)
    config = integrations.given_config(body)
    if channel is None or not channel.configured(config):
        async with db.write() as conn:
            return await integrations.create_integration(conn, ids=ids, app_id=app_id, body=body)
    integration_id, secret = ids.new(), new_webhook_secret()
    async with db.write() as conn:  # every check of the body and the app, before the channel hears of it
        await integrations.create_integration(conn, ids=ids, app_id=app_id, body=body, channel=integrations.Channel(
            integration_id, secret, {}, pending=True))
    url = f"{public_base}/api/{kind}/webhooks/{app_id}/{integration_id}"  # (api/channels.py checks requests on it)
    try:
        learnt = await channel.provision(apis.http, apis.base_url(channel), config, webhook_url=url, secret=secret)
    except ChannelError as error:
        await _forget(db, app_id, integration_id)
        raise BadRequest(f"The {kind} integration could not be set up: {error.message}") from None
    except BaseException:
        await _forget(db, app_id, integration_id)
        raise
    try:
        async with db.write() as conn:
            return await integrations.activate_integration(conn, app_id=app_id, integration_id=integration_id,
                                                           learnt=learnt)
    except BaseException:
        await _set_back(channel, apis, {**config, **learnt}, integration_id)
        await _forget(db, app_id, integration_id)
        raise


async def _forget(db: Database, app_id: str, integration_id: str) -> None:
    """Delete an integration whose channel could not be set up (gone already, with its app: nothing to do)."""
    try:
        async with db.write() as conn:
            await integrations.delete_integration(conn, app_id=app_id, integration_id=integration_id)
    except NotFound:
        pass


async def delete_integration(db: Database, apis: ChannelApis, *, app_id: str, integration_id: str) -> None:
    """DeleteIntegration; a channel Heliograph set up stops calling it first (a channel that refuses, say
    because its token was revoked meanwhile, is logged: the integration goes anyway)."""
    async with db.read() as conn:
        row = await integrations.require_integration(conn, app_id=app_id, integration_id=integration_id)
    channel = adapter(row["type"])
    if channel is not None and row["inbound_secret"]:
        await _set_back(channel, apis, row["config"], integration_id)
    async with db.write() as conn:
        await integrations.delete_integration(conn, app_id=app_id, integration_id=integration_id)


async def _set_back(channel: Adapter, apis: ChannelApis, config: Mapping[str, Any], integration_id: str) -> None:
    try:
        await channel.deprovision(apis.http, apis.base_url(channel), config)
    except ChannelError as error:
        log.warning("%s integration %s: could not be set back: %s", channel.type, integration_id, error.message)


SIMULATED = ("telegram", "twilio", "whatsapp", "messenger", "instagram", "mailgun")  # those the simulator fakes


async def simulated_integration(conn: AsyncConnection, *, integration_id: str) -> Any:
    """The integration (its `type` and `config`), if it is set up on a channel the simulator fakes (else 404)."""
    row = await integration_store.find_any_integration(conn, integration_id=integration_id)
    if row is None or row["type"] not in SIMULATED or not row["inbound_secret"]:
        raise IntegrationNotFound(f"Integration not found: the simulator fakes {', '.join(SIMULATED)} "
                                  "integrations that are set up")
    return row


# --- taking in what people write --------------------------------------------------------------------


async def handshake(db: Database, *, kind: str, app_id: str, integration_id: str, query: Mapping[str, str]) -> Answer:
    """The channel's GET that checks the webhook (Meta's): its answer; 404 for an integration not set up for
    `kind`, 403 for a token that is not the integration's, 405 for a channel that sends none."""
    channel = adapter(kind)
    async with db.read() as conn:
        integration = await integration_store.find_integration(conn, app_id=app_id, integration_id=integration_id)
    if channel is None or integration is None or integration["type"] != kind or not integration["inbound_secret"]:
        raise IntegrationNotFound()
    try:
        return channel.handshake(integration["inbound_secret"], query)
    except Refused as refused:
        raise {403: Forbidden, 405: MethodNotAllowed}.get(refused.status, BadRequest)(str(refused)) from None


@dataclasses.dataclass(frozen=True)
class MediaPlace:
    """Where the pictures and files people send through a channel's API are kept: fetched with `apis`, stored
    as attachments of the app in `directory`, served under `base_url`, each of at most `limit` bytes."""

    apis: ChannelApis
    directory: Path
    base_url: str
    limit: int


async def receive(db: Database, *, ids: IdFactory, limit: int, kind: str, app_id: str, integration_id: str,
                  method: str, url: str, headers: Mapping[str, str], query: Mapping[str, str],
                  body: bytes, media: MediaPlace | None = None) -> Answer:
    """Take in one webhook request of the channel `kind` for the app's integration: 404 unless the integration
    is of that kind and set up for it; 401 or 400 if the request is not the channel's (nothing is written);
    then its pictures and files fetched (`media`), its events in one transaction, and the answer the channel
    expects."""
    channel = adapter(kind)
    async with db.read() as conn:
        integration = await integration_store.find_integration(conn, app_id=app_id, integration_id=integration_id)
    if channel is None or integration is None or integration["type"] != kind or not integration["inbound_secret"]:
        raise IntegrationNotFound()
    request = InboundRequest(method, url, headers, query, body, received_at=ids.clock())
    try:
        channel.verify(integration["config"], integration["inbound_secret"], request)
        own = channel.address(integration["config"])
        events = [event for event in channel.parse(request) if own is None or event.addressee in (None, own)]
        nonce = channel.nonce(request)
    except Refused as refused:
        raise (Unauthorized if refused.status == 401 else BadRequest)(str(refused)) from None
    events = [found for event in events
              if (found := await _with_media(db, ids=ids, channel=channel, integration=integration, event=event,
                                             place=media)) is not None]
    if nonce is None and len(events) == 1 and isinstance(events[0], UserMessage) and await _known_person(
            db, ids=ids, limit=limit, integration=integration, event=events[0]):
        return channel.acknowledge(events)
    if events or nonce is not None:
        async with db.write() as conn:  # the integration, again: not deleted until this commits (or gone: 404)
            if await integration_store.find_integration(conn, app_id=app_id, integration_id=integration_id,
                                                        lock="share") is None:
                raise IntegrationNotFound()
            if nonce is not None and not await store.take_in(conn, integration_id=integration_id,
                                                             external_id=f"nonce:{nonce}", now=ids.clock()):
                return channel.acknowledge([])  # the same signed request again: a replay, whatever its body
            for event in events:
                await _take_in(conn, ids=ids, limit=limit, integration=integration, event=event)
    return channel.acknowledge(events)


async def _with_media(db: Database, *, ids: IdFactory, channel: Adapter, integration: Any, event: InboundEvent,
                      place: MediaPlace | None) -> InboundEvent | None:
    """The event, its picture or file fetched through the channel's API and kept as an attachment of the app
    (docs/channels.md, inbound media). Not for a message taken in already (a replay adds nothing). A refusal the
    channel may get past later is a 502, which the channel answers by sending the request again; any other
    leaves the message its text, if it has one (else it is dropped, with a warning)."""
    if not isinstance(event, UserMessage) or event.media is None:
        return event
    async with db.read() as conn:
        if await store.taken_in(conn, integration_id=integration["id"], external_id=event.external_id):
            return event
    try:
        if place is None or not isinstance(channel, FetchesMedia):
            raise ChannelError("uncategorized_error", "this server does not fetch media")
        fetched = await channel.fetch(place.apis.http, place.apis.base_url(channel), integration["config"],
                                      event.media, limit=place.limit)
    except ChannelError as error:
        if error.retryable:
            raise BadGateway(f"The {channel.type} file could not be fetched: {error.message}") from None
        log.warning("%s integration %s: %s without its file: %s", integration["type"], integration["id"],
                    event.external_id, error.message)
        text = event.content.get("text")
        return dataclasses.replace(event, content={"type": "text", "text": text}, media=None) if text else None
    kept = await attachments.upload_attachment(
        db, ids=ids, directory=place.directory, app_id=integration["app_id"], target=UploadTarget(None),
        source=io.BytesIO(fetched.body), filename=event.media.filename,
        declared_type=fetched.media_type or event.media.media_type, base_url=place.base_url)
    kind = "image" if kept["mediaType"].startswith("image/") else "file"
    return dataclasses.replace(event, media=None, content={**event.content, "type": kind, **kept})


async def _known_person(db: Database, *, ids: IdFactory, limit: int, integration: Any, event: UserMessage) -> bool:
    """The common case in one plan through the group commit (docs/performance.md): a person the integration knows
    writes to the conversation they wrote to last. Whether it was taken in so (or was a replay); False, with
    nothing written, for anything else (a first message, another conversation, content refused, a conversation
    gone or full), which `_take_in` then does, or drops, in a transaction of its own."""
    try:
        content: Any = decode(msgspec.json.encode(event.content), Content)  # type: ignore[arg-type]
        return await db.transact(lambda: _known_person_plan(ids=ids, limit=limit, integration=integration,
                                                            event=event, content=content))
    except (BadRequest, NotFound, Locked):
        return False


def _known_person_plan(*, ids: IdFactory, limit: int, integration: Any, event: UserMessage,
                       content: Any) -> Plan[bool]:
    if (yield from integration_store.shared_integration_plan(app_id=integration["app_id"],
                                                            integration_id=integration["id"])) is None:
        raise IntegrationNotFound()  # deleted meanwhile (the slow path answers 404)
    client = yield from store.person_plan(integration_id=integration["id"], external_id=event.user)
    if client is None:
        return False
    if client["status"] != "active":
        return False  # a pending link, which this message makes (the slow path)
    chosen = _latest(client, (yield from store.personal_plan(user_id=client["user_id"])))
    if chosen is None or not chosen["client_associations"] or chosen["client_associations"][0]["clientId"] != \
            client["id"]:
        return False
    now = ids.clock()
    if not (yield from store.take_in_plan(integration_id=integration["id"], external_id=event.external_id, now=now)):
        return True  # the channel sent it again
    through = Through(integration["id"], integration["type"], original_id=event.original_id,
                      original_at=event.sent_at, client=wire_client(client))
    message = yield from messages.post_in_plan(
        ids=ids, limit=limit, app_id=integration["app_id"], conversation_id=chosen["id"], through=through,
        body=MessagePost(author=Author(type="user", user_id=client["user_id"]), content=content))
    yield from store.set_message_plan(integration_id=integration["id"], external_id=event.external_id,
                                      message_id=message["id"])
    yield from store.seen_plan(client_id=client["id"], now=now)
    return True


async def _take_in(conn: AsyncConnection, *, ids: IdFactory, limit: int, integration: Any,
                   event: InboundEvent) -> None:
    """One event of the request, unless the integration took it in before."""
    now = ids.clock()
    if isinstance(event, Receipt):
        await _receipt(conn, ids=ids, integration=integration, receipt=event, now=now)
        return
    if not await store.take_in(conn, integration_id=integration["id"], external_id=event.external_id, now=now):
        return  # the channel sent it again
    if isinstance(event, Read):
        await _read(conn, ids=ids, integration=integration, person=event.user)
        return
    client, user = await _person(conn, ids=ids, integration=integration, event=event)
    if client["status"] == "pending":  # a channel link waiting for the person: they wrote, so it is made
        confirmed = await _confirm_link(conn, ids=ids, integration=integration, client=client, user=user, now=now)
        if confirmed is None:  # the link was removed or given up meanwhile: the person is new after all
            client, user = await _person(conn, ids=ids, integration=integration, event=event)
        else:
            client = confirmed
    conversation_id = await _conversation(conn, ids=ids, integration=integration, user=user, client=client)
    author = Author(type="user", user_id=user["id"])
    try:
        if isinstance(event, UserMessage):
            through = Through(integration["id"], integration["type"], original_id=event.original_id,
                              original_at=event.sent_at, client=wire_client(client))
            content: Any = decode(msgspec.json.encode(event.content), Content)  # type: ignore[arg-type]
            message = await messages.post_in(conn, ids=ids, limit=limit, app_id=integration["app_id"],
                                             conversation_id=conversation_id,
                                             body=MessagePost(author=author, content=content), through=through)
            await store.set_message(conn, integration_id=integration["id"], external_id=event.external_id,
                                    message_id=message["id"])
        else:
            await postbacks.press(conn, ids=ids, limit=limit, app_id=integration["app_id"],
                                  conversation_id=conversation_id, user=user, action_id=event.action_id,
                                  through=Through(integration["id"], integration["type"]), replies=True)
    except (BadRequest, NotFound, Locked) as refused:  # a press of a button that is gone, content we cannot keep,
        # a conversation full: the channel would only send it again: answered, and dropped
        log.warning("%s integration %s: dropped %s: %s", integration["type"], integration["id"],
                    event.external_id, refused.title)
    await store.seen(conn, client_id=client["id"], now=now)


async def _confirm_link(conn: AsyncConnection, *, ids: IdFactory, integration: Any, client: Any, user: Any,
                        now: int) -> Any:
    """The person a pending link waits for wrote (docs/channels.md#client-linking): the client is confirmed, and
    attached to the link's target conversation, where this message then goes; None if the link is gone."""
    target_id = ((client["link"] or {}).get("target") or {}).get("conversationId")
    try:
        target = None if target_id is None else await require_conversation(
            conn, app_id=integration["app_id"], conversation_id=target_id)
    except NotFound:
        target = None  # deleted since: the client is confirmed all the same
    return await clients.confirm_link(conn, ids=ids, app_id=integration["app_id"], client_id=client["id"],
                                      owner=user, target=target, now=now)


async def _read(conn: AsyncConnection, *, ids: IdFactory, integration: Any, person: str) -> None:
    """The person read their conversation on the channel (the one their client is in): conversation:read. A person
    or conversation Heliograph does not know of has nothing to read: dropped."""
    client = await store.find_person(conn, integration_id=integration["id"], external_id=person)
    if client is None or client["status"] != "active":
        return
    chosen = _latest(client, await store.personal_conversations(conn, user_id=client["user_id"]))
    if chosen is not None:
        await _user_read(conn, ids=ids, integration=integration, user_id=client["user_id"],
                         conversation_id=chosen["id"])


async def _user_read(conn: AsyncConnection, *, ids: IdFactory, integration: Any, user_id: str,
                     conversation_id: str) -> None:
    """conversation:read of the user, with the channel as its source (nothing if they are gone from it)."""
    try:
        await messages.post_activity(conn, ids=ids, app_id=integration["app_id"], conversation_id=conversation_id,
                                     body=ActivityPost(author=Author(type="user", user_id=user_id),
                                                       type="conversation:read"),
                                     through=Through(integration["id"], integration["type"]))
    except NotFound:  # the conversation went, or they left it
        pass


async def _receipt(conn: AsyncConnection, *, ids: IdFactory, integration: Any, receipt: Receipt, now: int) -> None:
    """The channel reports on a message sent through it: conversation:message:delivery:user (delivered, read), or
    :failure with the channel's error (a message the channel accepted, then could not deliver); one of each per
    message, whichever of its parts (a long SMS is several) is reported first. A receipt of a message Heliograph
    did not send (or deleted since) is dropped, and not remembered: it may come before the send is recorded."""
    sent = await store.sent_message(conn, integration_id=integration["id"], external_id=receipt.message)
    if sent is None:
        log.info("%s integration %s: a receipt of %s, which is not a message of ours", integration["type"],
                 integration["id"], receipt.message)
        return
    if not await store.take_in(conn, integration_id=integration["id"], now=now,
                               external_id=f"receipt:{sent['message_id']}:{receipt.status}"):
        return  # reported already (the channel sent it again, or another part's)
    channel = adapter(integration["type"])
    final = receipt.status != "delivered" or channel is None or not channel.reads
    conversation = await require_conversation(conn, app_id=integration["app_id"],
                                              conversation_id=sent["conversation_id"])
    user = await find_user(conn, app_id=integration["app_id"], user_id=sent["user_id"])
    failed = receipt.status == "failed"
    error = None if receipt.error is None else {"code": receipt.error[0], "message": receipt.error[1]}
    await emit(conn, ids=ids, app_id=integration["app_id"], lane=sent["conversation_id"],
               type="conversation:message:delivery:failure" if failed else "conversation:message:delivery:user",
               payload=lambda control: events.message_delivery(
                   {**conversation, **control}, user, message_id=sent["message_id"],
                   destination={"type": integration["type"], "integrationId": integration["id"]},
                   external_ids=[receipt.message], error=error, final=final))
    if receipt.status == "read":  # read on the channel: read in the conversation
        await _user_read(conn, ids=ids, integration=integration, user_id=sent["user_id"],
                         conversation_id=sent["conversation_id"])


async def _person(conn: AsyncConnection, *, ids: IdFactory, integration: Any,
                  event: UserMessage | Postback) -> tuple[Any, Any]:
    """The client of the integration for the person who wrote, with its user; both made on their first message
    (client:add, with the channel as its source). Concurrent first messages of one person make one user: the
    integration's row is locked while none is found."""
    found = await store.find_person(conn, integration_id=integration["id"], external_id=event.user)
    if found is None:
        await integration_store.find_integration(conn, app_id=integration["app_id"], integration_id=integration["id"],
                                                 lock="serial")
        found = await store.find_person(conn, integration_id=integration["id"], external_id=event.user)
    if found is not None:
        user = await find_user(conn, app_id=integration["app_id"], user_id=found["user_id"])
        return found, user
    profile = _user_profile(event.profile)
    user = await insert_new_user(conn, ids=ids, app_id=integration["app_id"], body=UserCreateBody(profile=profile))
    client_id, now = ids.new_at()
    client = {"id": client_id, "app_id": integration["app_id"], "user_id": user["id"], "type": integration["type"],
              "status": "active", "integration_id": integration["id"], "external_id": event.user,
              "display_name": event.profile.display_name, "avatar_url": event.profile.avatar_url, "info": None,
              "raw": None if event.profile.raw is None else dict(event.profile.raw), "last_seen": now,
              "linked_at": now, "link": None, "created_at": now}
    await client_store.insert_client(conn, client)
    source = {"type": integration["type"], "integrationId": integration["id"]}
    await emit(conn, ids=ids, app_id=integration["app_id"], type="client:add", lane=user["id"],
               payload=client_events.client_add(client, user, None, source=source))
    return client, user


def _user_profile(profile: Profile) -> UserProfile:
    return UserProfile(**{name: value for name, value in (("given_name", profile.given_name),
                                                          ("surname", profile.surname),
                                                          ("avatar_url", profile.avatar_url)) if value})


async def _conversation(conn: AsyncConnection, *, ids: IdFactory, integration: Any, user: Any, client: Any) -> str:
    """Where the person's messages on this channel go: the personal conversation their client is associated with
    (the latest active), else their default one, else a new one (conversation:create, reason `message`). The
    client becomes the participant's first client association there: the one used last, which business
    messages go to (the spec's clientAssociations)."""
    chosen = await _chosen(conn, user, client)
    if chosen is None:  # one new conversation, however many of the person's messages come at once
        await lock_user(conn, user_id=user["id"])
        chosen = await _chosen(conn, user, client)
    if chosen is not None:
        associations = chosen["client_associations"]
        if not associations or associations[0]["clientId"] != client["id"]:
            await _associate(conn, conversation_id=chosen["id"], user_id=user["id"], client=client,
                             current=associations)
        return str(chosen["id"])
    body = ConversationCreateBody(type="personal", participants=[ParticipantSubSchema(user_id=user["id"])])
    made = await conversations.create_conversation(
        conn, ids=ids, app_id=integration["app_id"], body=body, reason="message",
        source={"type": integration["type"], "integrationId": integration["id"]}, integration_id=integration["id"])
    await _associate(conn, conversation_id=made["id"], user_id=user["id"], client=client, current=[])
    return str(made["id"])


async def _chosen(conn: AsyncConnection, user: Any, client: Any) -> Any:
    return _latest(client, await store.personal_conversations(conn, user_id=user["id"]))


def _latest(client: Any, mine: list[Any]) -> Any:
    """Of the user's personal conversations, the latest active one the client is associated with, else the
    default one, else None."""
    linked = [row for row in mine if any(a["clientId"] == client["id"] for a in row["client_associations"])]
    return max(linked, key=lambda row: row["last_updated_at"], default=None) or next(
        (row for row in mine if row["is_default"]), None)


async def _associate(conn: AsyncConnection, *, conversation_id: str, user_id: str, client: Any,
                     current: list[dict[str, str]]) -> None:
    """The client becomes the participant's first client association (the channel they used last)."""
    associations = [{"type": client["type"], "clientId": client["id"]},
                    *(a for a in current if a["clientId"] != client["id"])]
    await client_store.update_associations(conn, conversation_id=conversation_id, user_id=user_id,
                                           client_associations=associations)

