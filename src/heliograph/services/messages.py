"""Messages and activities (PostMessage, ListMessages, DeleteAllMessages, DeleteMessage, PostActivity).

PostMessage is the hot path: after validation it costs one conditional UPDATE (existence,
the 30,000-message limit, lastUpdatedAt and the counter in one statement, returning what the
webhook event needs), one INSERT, one UPDATE of the participants' unread counts and one emit.
An image or file message whose mediaUrl looks like an upload costs one SELECT more (and one
UPDATE when it claims an upload `for=message`), and so does each such carousel or list item. A user's
message costs one SELECT more (services/assignment.py: who is in control), and an UPDATE or INSERT when
it assigns control. The app's settings come back from the conditional UPDATE
(a subquery by primary key): card numbers are masked, before the transaction, in a copy of the content
that the plan keeps if maskCreditCardNumbers is on; a user author without a name gets an animal name if
useAnimalNames is.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import BadRequest, Conflict, Locked, NotFound, UserNotFound
from heliograph.events import payloads as events
from heliograph.ids import IdFactory, iso
from heliograph.pagination import Page, Window
from heliograph.schemas import render
from heliograph.schemas.common import UNSET, check_metadata
from heliograph.schemas.messages import RESPONSE_ONLY_SUBTYPES, ActivityPost, Author, MessagePost
from heliograph.services import attachments, cards, stream
from heliograph.services import content as content_rules
from heliograph.services.animals import animal_name
from heliograph.services.assignment import assign_plan
from heliograph.store import attachments as uploads
from heliograph.store import channel_sends, participants
from heliograph.store import messages as store
from heliograph.store.conversations import require_conversation, update_conversation
from heliograph.store.db import Database
from heliograph.store.fast import Plan, drive, notice
from heliograph.store.outbox import emit, emit_plan
from heliograph.store.users import find_user_plan

API_SOURCE = events.API_SOURCE
_SDK_TYPES = frozenset({"web", "ios", "android", "unity", "sdk"})  # reached through the streams, never sent


@dataclasses.dataclass(frozen=True)
class Through:
    """How an end user's message arrived: the SDK integration or channel (its type is the source's), the
    client's own id for it (`clientMessageId`), with which a retried send finds the message it made, and a
    channel's id for it and when the channel received it (`originalMessageId`, `originalMessageTimestamp`)."""

    integration_id: str
    integration_type: str
    client_message_id: str | None = None
    original_id: str | None = None
    original_at: int | None = None  # ms
    client: Mapping[str, Any] | None = None  # the channel's client, as the API shows it (events' source.client)

    def source(self) -> dict[str, Any]:
        source: dict[str, Any] = {"type": self.integration_type, "integrationId": self.integration_id}
        original = self.original_id or self.client_message_id
        if original is not None:
            source["originalMessageId"] = original
        if self.original_at is not None:
            source["originalMessageTimestamp"] = iso(self.original_at)
        return source


@dataclasses.dataclass(frozen=True)
class Quoted:
    """The message a new message quotes (a formResponse's form), as read before the transaction, and its content
    once quoted (a form becomes `submitted`): the plan writes that only if the stored content is still the one
    read (compare-and-set), else refuses with `conflict`, so one of two racing quotes wins."""

    row: Mapping[str, Any]
    content: dict[str, Any]
    conflict: str


async def post_message(db: Database, *, ids: IdFactory, limit: int, app_id: str, conversation_id: str,
                       body: MessagePost, caller: str | None = None, through: Through | None = None) -> dict[str, Any]:
    """Store the message and its conversation:message event in one transaction (Database.transact).

    `caller` is the integration whose credentials posted it (an integration key or OAuth token), if any:
    a user's message names it as its `source.integrationId`, and its default responder may take control.
    `through` is the SDK integration an end user's message came through (services/end_users.py): its
    source, its default responder, and its clientMessageId (a repeat answers the first message).
    """
    check_author(body.author)
    schema = None if body.schema is UNSET else body.schema
    content = content_rules.prepare(body.content, author_type=body.author.type, schema=schema)
    masked = cards.mask_content(content)  # outside the plan: SQLite runs plans on its one writer thread
    metadata = None if body.metadata is UNSET else body.metadata
    check_metadata(metadata)
    return await post_prepared_message(db, ids=ids, limit=limit, app_id=app_id, conversation_id=conversation_id,
                                       body=body, content=content, masked=masked, metadata=metadata,
                                       caller=caller, through=through)


async def post_prepared_message(db: Database, *, ids: IdFactory, limit: int, app_id: str, conversation_id: str,
                                body: MessagePost, content: dict[str, Any], masked: dict[str, Any],
                                metadata: dict[str, Any] | None = None, caller: str | None = None,
                                through: Through | None = None, quoted: Quoted | None = None) -> dict[str, Any]:
    """`post_message` for content checked and shaped already, with its copy with card numbers masked (kept
    if the app's maskCreditCardNumbers is on): PostMessage's, and an end user's formResponse
    (services/form_responses.py), which PostMessage refuses, quoting the form it answers (`quoted`). One
    transaction: count, control, the quoted message, events."""
    try:
        return await db.transact(lambda: _post_message(
            ids=ids, limit=limit, app_id=app_id, conversation_id=conversation_id, body=body, content=content,
            masked=masked, metadata=metadata, caller=caller, through=through, quoted=quoted))
    except _Repeated as repeated:
        async with db.read() as conn:
            row = await store.find_message(conn, conversation_id=conversation_id, message_id=repeated.message_id)
        if row is None:  # the first message was deleted since: the retry is answered as not found
            raise NotFound("Message not found") from None
        return render.message(row)
    except _Uncounted:
        async with db.read() as conn:
            await require_conversation(conn, app_id=app_id, conversation_id=conversation_id)
        raise Locked(f"Message limit of {limit} per conversation reached.") from None


async def post_in(conn: AsyncConnection, *, ids: IdFactory, limit: int, app_id: str, conversation_id: str,
                  body: MessagePost, through: Through) -> dict[str, Any]:
    """`post_message` of a user's message inside the caller's transaction, which writes more with it: a
    channel's inbound message (services/channels.py), a postback's echo. No clientMessageId here."""
    try:
        return await drive(conn, post_in_plan(ids=ids, limit=limit, app_id=app_id, conversation_id=conversation_id,
                                              body=body, through=through))
    except Locked:
        await require_conversation(conn, app_id=app_id, conversation_id=conversation_id)  # (404 if it is gone)
        raise


def post_in_plan(*, ids: IdFactory, limit: int, app_id: str, conversation_id: str, body: MessagePost,
                 through: Through) -> Plan[dict[str, Any]]:
    """`post_in` as a plan, inside the caller's: Locked when the conversation is full (or gone)."""
    assert through.client_message_id is None
    check_author(body.author)
    content = content_rules.prepare(body.content, author_type=body.author.type, schema=None)
    masked = cards.mask_content(content)
    try:
        return (yield from _post_message(ids=ids, limit=limit, app_id=app_id, conversation_id=conversation_id,
                                         body=body, content=content, masked=masked, metadata=None, caller=None,
                                         through=through))
    except _Uncounted:
        raise Locked(f"Message limit of {limit} per conversation reached.") from None


class _Uncounted(Exception):
    """The conversation was not counted: it does not exist (404), or it is full (423)."""


class _Repeated(Exception):
    """The end user sent this clientMessageId before: the transaction goes back, and the first message answers."""

    def __init__(self, message_id: str) -> None:
        self.message_id = message_id


def _post_message(*, ids: IdFactory, limit: int, app_id: str, conversation_id: str, body: MessagePost,
                  content: dict[str, Any], masked: dict[str, Any],
                  metadata: dict[str, Any] | None, caller: str | None,
                  through: Through | None, quoted: Quoted | None = None) -> Plan[dict[str, Any]]:
    message_id, now = ids.new_at()
    counted = yield store.count_message(author_type=body.author.type, app_id=app_id,
                                        conversation_id=conversation_id, limit=limit, now=now)
    if not counted:
        raise _Uncounted()
    conversation = counted[0]
    settings = conversation["app_settings"]
    if settings.get("maskCreditCardNumbers", True):
        content = masked
    _check_destination(body, conversation["type"])
    author, user = yield from _author(app_id, conversation_id, body.author,
                                      animal_names=settings.get("useAnimalNames", False))
    claims: list[str] = []
    if "mediaUrl" in content and attachments.is_ours(content["mediaUrl"]):  # image and file messages only
        upload = yield from attachments.describe_media(app_id=app_id, conversation_id=conversation_id,
                                                       content=content)
        claims = [] if upload is None else [upload]
    elif "items" in content:  # carousel and list
        claims = yield from attachments.describe_items(app_id=app_id, conversation_id=conversation_id,
                                                       content=content)
    source = API_SOURCE
    if user is not None:
        if through is not None:
            source, caller = through.source(), through.integration_id
            if through.client_message_id is not None:
                repeated = yield store.find_client_message(user_id=user["id"],
                                                           client_message_id=through.client_message_id)
                if repeated:
                    raise _Repeated(repeated[0]["message_id"])
        elif caller is not None:
            source = {**API_SOURCE, "integrationId": caller}
        yield from assign_plan(app_id=app_id, conversation_id=conversation_id, integration_id=caller)
        if through is not None and through.integration_type in _SDK_TYPES:  # the SDK is the channel used last
            yield from participants.used_first(conversation_id=conversation_id, user_id=user["id"], client_type="sdk")
    shown = None if quoted is None else (yield from _quote(conversation_id, quoted))
    row = {"id": message_id, "conversation_id": conversation_id, "received": now, "author": author,
           "content": content, "source": source, "metadata": metadata, "seq": conversation["stream_seq"],
           "quoted_message_id": None if shown is None else shown["id"]}
    yield store.insert_message(row)
    if through is not None and through.client_message_id is not None and user is not None:
        yield store.insert_client_message(user_id=user["id"], client_message_id=through.client_message_id,
                                          message_id=message_id)
    for token in claims:
        yield uploads.claim(token=token, message_id=message_id)
    yield participants.mark_unread(conversation_id=conversation_id, author_id=author.get("userId"), now=now)
    yield from _channel_sends(app_id=app_id, conversation=conversation, message_id=message_id, body=body, now=now)
    message = render.message({**row, "quoted": shown})
    yield notice(f"{conversation_id}:{row['seq']}", notified=True,  # the count statement NOTIFYed it (PostgreSQL)
                 frame=stream.message_frame(conversation_id, message))  # this process's streams send it unread
    heard = message  # the event's message: its source names the channel's client (includeFullSource shows it)
    if through is not None and through.client is not None:
        heard = {**message, "source": {**message["source"], "client": dict(through.client)}}
    yield from emit_plan(ids=ids, app_id=app_id, type="conversation:message", lane=conversation_id,
                         payload=lambda control: events.conversation_message({**conversation, **control},
                                                                             heard, user))
    return message


def _quote(conversation_id: str, quoted: Quoted) -> Plan[Mapping[str, Any]]:
    """The quoted message as it is once quoted: its content replaced if the stored one is still what was read
    (Conflict otherwise: another transaction changed it first)."""
    if quoted.content == quoted.row["content"]:  # as quoting leaves it: another quote came first
        raise Conflict(quoted.conflict)
    replaced = yield store.replace_content(conversation_id=conversation_id, message_id=quoted.row["id"],
                                           before=quoted.row["content"], after=quoted.content)
    if not replaced:
        raise Conflict(quoted.conflict)
    return {**quoted.row, "content": quoted.content}


def _check_destination(body: MessagePost, conversation_type: str) -> None:
    if body.destination is UNSET:
        return
    if body.author.type != "business" or conversation_type != "personal":
        raise BadRequest("destination applies only to business messages in personal conversations")
    integration_id, integration_type = body.destination.integration_id, body.destination.integration_type
    if (integration_id is UNSET) == (integration_type is UNSET):
        raise BadRequest("destination: one of integrationId or integrationType is required, but not both")


def _channel_sends(*, app_id: str, conversation: Mapping[str, Any], message_id: str, body: MessagePost,
                   now: int) -> Plan[None]:
    """A business message in a personal conversation goes out on the user's channel (docs/channels.md): the
    one `destination` names, else the one they used last (the first of their client associations), if that is
    a channel; a channel send is written for it, in this transaction. A destination the user has no client
    attached for is a 400; `integrationType: none` is a silent message, and an SDK type reaches the user's
    SDK clients through their streams, with nothing to send."""
    if body.author.type != "business" or conversation["type"] != "personal":
        return
    destination = body.destination
    if destination is not UNSET and destination.integration_type == "none":
        return
    found = yield channel_sends.routes(conversation_id=conversation["id"])
    channels = {row["client_id"]: row for row in found}
    attached = found[0]["client_associations"] if found else []  # (a personal conversation has one participant)
    chosen = None
    if destination is UNSET:
        first = attached[0]["clientId"] if attached else None
        chosen = channels.get(first) if first is not None else None
    else:
        listed = [channels[a["clientId"]] for a in attached if a["clientId"] in channels]
        if destination.integration_id is not UNSET:
            chosen = next((row for row in listed if row["integration_id"] == destination.integration_id), None)
            if chosen is None:
                raise BadRequest(f"destination.integrationId: integration {destination.integration_id} not found, "
                                 "or the user has no client of it attached to the conversation")
        else:
            chosen = next((row for row in listed if row["type"] == destination.integration_type), None)
            if chosen is None and destination.integration_type not in _SDK_TYPES:
                raise BadRequest(f"destination.integrationType: the user has no {destination.integration_type} "
                                 "client attached to the conversation")
    if chosen is not None:
        yield from channel_sends.insert(row=channel_sends.new_row(
            app_id=app_id, integration_id=chosen["integration_id"], conversation_id=conversation["id"],
            message_id=message_id, client_id=chosen["client_id"], recipient=chosen["external_id"], now=now))


def check_author(author: Author, *, field: str = "author") -> None:
    """What the author's type cannot say: the subtypes `agent` and `bot` are "available in responses only"."""
    for n, subtype in enumerate([] if author.subtypes is UNSET else author.subtypes):
        if subtype in RESPONSE_ONLY_SUBTYPES:
            raise BadRequest(f"Invalid {field}.subtypes[{n}]: '{subtype}' is available in responses only")


def _author(app_id: str, conversation_id: str, author: Author, *,
            animal_names: bool) -> Plan[tuple[dict[str, Any], Any]]:
    """The stored author (write-only fields dropped) and, for a user author, the participant's user row.

    A user author's displayName: the body's, else the profile's givenName and surname, else (with
    `animal_names`) the user's animal name."""
    wire: dict[str, Any] = {"type": author.type}
    user = None
    if author.subtypes is not UNSET:
        wire["subtypes"] = author.subtypes
    if author.type == "user":
        user = yield from participant_user(app_id, conversation_id, author)
        profile = user["profile"]
        name = " ".join(v for v in (profile.get("givenName"), profile.get("surname")) if v)
        wire["userId"] = user["id"]
        wire["displayName"] = name or (animal_name(user["id"]) if animal_names else None)
        wire["avatarUrl"] = profile.get("avatarUrl")
    for field, value in (("displayName", author.display_name), ("avatarUrl", author.avatar_url)):
        if value is not UNSET:
            wire[field] = value
    return {k: v for k, v in wire.items() if v is not None}, user


def participant_user(app_id: str, conversation_id: str, author: Author) -> Plan[Any]:
    """The participant's user row that a user author names (400 unless it names one participant)."""
    if (author.user_id is UNSET) == (author.user_external_id is UNSET):
        raise BadRequest("author: a user author needs one of userId or userExternalId, but not both")
    user = yield from find_user_plan(
        app_id=app_id,
        user_id=None if author.user_id is UNSET else author.user_id,
        external_id=None if author.user_external_id is UNSET else author.user_external_id,
        brand_id=None if author.brand_id is UNSET else author.brand_id)
    if user is None:
        raise UserNotFound()
    member = yield participants.is_member(conversation_id=conversation_id, user_id=user["id"])
    if not member:
        raise BadRequest(f"author: user {user['id']} is not a participant of the conversation")
    return user


async def list_messages(conn: AsyncConnection, *, app_id: str, conversation_id: str, page: Page) -> Window:
    await require_conversation(conn, app_id=app_id, conversation_id=conversation_id)
    return await store.page_messages(conn, conversation_id=conversation_id, page=page)


async def delete_all_messages(conn: AsyncConnection, *, ids: IdFactory, app_id: str, conversation_id: str) -> None:
    """Delete the conversation's messages; its participants' streams show `conversation:cleared`."""
    await require_conversation(conn, app_id=app_id, conversation_id=conversation_id)
    await clear_messages(conn, conversation_id=conversation_id, now=ids.clock())


async def clear_messages(conn: AsyncConnection, *, conversation_id: str, now: int) -> None:
    """Delete the conversation's messages, recorded first as `conversation:cleared` on its streams
    (DeleteAllMessages, and retention emptying an inactive conversation)."""
    await stream.record(conn, conversation_id=conversation_id, type="conversation:cleared", body={}, now=now)
    await store.delete_messages(conn, conversation_id=conversation_id)


async def delete_message(conn: AsyncConnection, *, ids: IdFactory, app_id: str, conversation_id: str,
                         message_id: str) -> None:
    """Delete the message; its conversation's participants' streams show `message:removed`."""
    await require_conversation(conn, app_id=app_id, conversation_id=conversation_id)
    await stream.record(conn, conversation_id=conversation_id, type="message:removed", body={"messageId": message_id},
                        now=ids.clock())
    await store.delete_message(conn, conversation_id=conversation_id, message_id=message_id)


async def post_activity(conn: AsyncConnection, *, ids: IdFactory, app_id: str, conversation_id: str,
                        body: ActivityPost, through: Through | None = None) -> None:
    """conversation:read moves businessLastRead or the participant's lastRead; typing changes no state.

    A user's read and every typing activity emit their webhook event; the business's own read does not.
    Through the v2 API a user may only read (the spec); through an SDK integration (`through`), the end user
    types too, and the activity's source is that integration.
    """
    check_author(body.author)
    conversation = await require_conversation(conn, app_id=app_id, conversation_id=conversation_id)
    now = ids.clock()
    user = None
    if body.author.type == "user":
        if body.type != "conversation:read" and through is None:
            raise BadRequest("type: a user author supports only conversation:read")
        user = await drive(conn, participant_user(app_id, conversation_id, body.author))
        if body.type == "conversation:read":  # on the stream first: it locks the conversation, as PostMessage does
            await stream.record(conn, conversation_id=conversation_id, type="conversation:read",
                                body=stream.read_event(author_type="user", user_id=user["id"], now=now), now=now)
            await participants.update_last_read(conn, conversation_id=conversation_id, user_id=user["id"], now=now)
    elif body.type == "conversation:read":
        await stream.record(conn, conversation_id=conversation_id, type="conversation:read",
                            body=stream.read_event(author_type="business", user_id=None, now=now), now=now)
        await update_conversation(conn, conversation_id=conversation_id, changes={"business_last_read": now})
        return
    if body.type.startswith("typing:"):  # shown live on the participants' streams; nothing is stored
        await drive(conn, _typing_notice(conversation_id, body.type, body.author.type,
                                         None if user is None else user["id"]))
    await emit(conn, ids=ids, app_id=app_id, type=events.activity_trigger(body.type), lane=conversation_id,
               payload=lambda control: events.conversation_activity(
                   {**conversation, **control}, body.type, body.author.type, user,
                   API_SOURCE if through is None else through.source()))


def _typing_notice(conversation_id: str, kind: str, author_type: str, user_id: str | None) -> Plan[None]:
    """The stream's notice of a typing activity: `<conversation>:typing:start|stop:<author type>:<user id>:<nonce>`
    (the nonce tells a hub that hears it twice, from this process and through NOTIFY, that it is one)."""
    yield notice(f"{conversation_id}:{kind}:{author_type}:{user_id or ''}:{secrets.token_hex(6)}")
