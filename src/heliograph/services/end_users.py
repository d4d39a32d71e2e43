"""The end users' SDK API (docs/end-users.md): an SDK integration's config, anonymous users and their
sessions, and the signed-in user's own profile.

An end user reaches their own user and nothing else: another user's id is a 404, as if there were
none. A `web` integration's `originWhitelist`, when set, holds every browser request to its origins
(a request without `Origin` is no browser's cross-origin request, and passes).
"""

from __future__ import annotations

import dataclasses
import secrets
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.auth import EndUser, UserClaims, token_hash
from heliograph.errors import (
    ApiError,
    BadRequest,
    Conflict,
    ConversationNotFound,
    Forbidden,
    IntegrationNotFound,
    Unauthorized,
    UserNotFound,
)
from heliograph.events import clients as client_events
from heliograph.ids import IdFactory
from heliograph.pagination import MAX_SIZE, Page, Window
from heliograph.schemas import render
from heliograph.schemas.attachments import UploadTarget
from heliograph.schemas.clients import client as wire_client
from heliograph.schemas.common import UNSET
from heliograph.schemas.conversations import ConversationCreateBody, ParticipantSubSchema
from heliograph.schemas.end_users import (
    AnonymousUserBody,
    EndUserActivityBody,
    EndUserConversationBody,
    EndUserMessageBody,
    LoginBody,
)
from heliograph.schemas.messages import ActivityPost, Author, File, Image, MessagePost
from heliograph.schemas.users import UserCreateBody, UserUpdateBody
from heliograph.services import attachments, conversations, messages, stream, users
from heliograph.services.clients import open_sdk_client
from heliograph.services.messages import Through
from heliograph.services.stream import encode_cursor
from heliograph.services.user_sync import merge_users
from heliograph.services.users import insert_new_user, wire_user
from heliograph.store import conversations as conversation_store
from heliograph.store import integrations as integration_store
from heliograph.store import messages as message_store
from heliograph.store import participants as participant_store
from heliograph.store import sessions
from heliograph.store import users as user_store
from heliograph.store.apps import require_app
from heliograph.store.conversations import require_conversation
from heliograph.store.db import Database
from heliograph.store.outbox import emit
from heliograph.store.participants import find_member
from heliograph.store.users import find_user

SDK_TYPES = frozenset({"web", "ios", "android", "unity"})  # the spec's clientType `sdk` integrations
_DEFAULT_PORTS = {"http": 80, "https": 443}
SYNC_MESSAGES = 50  # of each conversation, in /sync


@dataclasses.dataclass(frozen=True)
class Upload:
    """A file the end user sends (POST …/files): its bytes, as the request named them, and where uploads go."""

    source: BinaryIO
    filename: str | None
    declared_type: str | None
    directory: Path
    base_url: str


def origin_allowed(integration: Any, origin: str | None) -> bool:
    """Whether a browser on `origin` may use this SDK integration: always, unless it is a `web` one
    whose originWhitelist is set and does not hold that origin (scheme, host and port, in any case)."""
    whitelist = (integration["config"].get("originWhitelist") or []) if integration["type"] == "web" else []
    return origin is None or not whitelist or _origin(origin) in {_origin(entry) for entry in whitelist}


def check_origin(integration: Any, origin: str | None) -> None:
    if not origin_allowed(integration, origin):
        raise Forbidden(f"Origin {origin} is not in the originWhitelist of integration {integration['id']}")


async def config(conn: AsyncConnection, *, integration_id: str, origin: str | None, base_url: str) -> dict[str, Any]:
    """What a widget needs to start: the app, the integration's public fields, and the API's URL."""
    integration = await integration_store.find_any_integration(conn, integration_id=integration_id)
    if integration is None or integration["type"] not in SDK_TYPES:
        raise IntegrationNotFound()
    check_origin(integration, origin)
    app = await require_app(conn, app_id=integration["app_id"])
    return {"config": {
        "app": {"id": app["id"], "settings": {"multiConvoEnabled": bool(app["settings"].get("multiConvoEnabled"))}},
        "integration": render.integration(integration),
        "urls": {"api": f"{base_url}/sdk/v2/apps/{app['id']}"},
    }}


async def sdk_integration(conn: AsyncConnection, *, app_id: str, integration_id: str, origin: str | None) -> Any:
    """The app's SDK integration with this id, which this origin may use (404, 403 otherwise)."""
    integration = await integration_store.find_integration(conn, app_id=app_id, integration_id=integration_id)
    if integration is None or integration["type"] not in SDK_TYPES:
        await require_app(conn, app_id=app_id)
        raise IntegrationNotFound()
    check_origin(integration, origin)
    return integration


async def any_origin_allowed(conn: AsyncConnection, *, app_id: str, origin: str | None) -> bool:
    """Whether some SDK integration of the app lets this origin in (for a CORS preflight, which carries
    no credentials; the request that follows is held to its own session's integration)."""
    found = await integration_store.list_integrations(conn, app_id=app_id, types=sorted(SDK_TYPES))
    return any(origin_allowed(integration, origin) for integration in found)


async def create_anonymous_user(conn: AsyncConnection, *, ids: IdFactory, app_id: str, body: AnonymousUserBody,
                                origin: str | None) -> dict[str, Any]:
    """A user without externalId, their `sdk` client and a session: `{user, client, sessionToken}`. The
    token is shown once; only its SHA-256 is kept."""
    integration = await sdk_integration(conn, app_id=app_id, integration_id=body.integration_id, origin=origin)
    user = await insert_new_user(conn, ids=ids, app_id=app_id, body=UserCreateBody(
        profile=body.profile, metadata=body.metadata))
    client = await open_sdk_client(conn, ids=ids, app_id=app_id, user=user, integration=integration)
    token = await _open_session(conn, ids, app_id, user["id"], client["id"], integration["id"], None)
    return {"user": render.user(user, []), "client": wire_client(client), "sessionToken": token}


async def login(conn: AsyncConnection, *, ids: IdFactory, app_id: str, claims: UserClaims, body: LoginBody,
                origin: str | None) -> dict[str, Any]:
    """Sign in the user a user JWT names: `{user, client, sessionToken}`, a new sdk client and session that
    ends when the JWT expires. The browser's anonymous session, if sent, hands its user over: it becomes
    the identified user (user:update, `authentication`) when no user has that externalId yet, else it is
    merged into that user (user:merge, `sdkLogin`); the anonymous session ends either way."""
    integration = await sdk_integration(conn, app_id=app_id, integration_id=body.integration_id, origin=origin)
    source = {"type": integration["type"], "integrationId": integration["id"]}
    anonymous = await _anonymous(conn, app_id, body)
    user = await find_user(conn, app_id=app_id, external_id=claims.external_id)
    if user is None and anonymous is not None:
        if not await user_store.set_external_id(conn, user_id=anonymous["user"]["id"], external_id=claims.external_id):
            raise Conflict("Another login made a user with this externalId meanwhile: log in again")
        user = {**anonymous["user"], "external_id": claims.external_id}
        await emit(conn, ids=ids, app_id=app_id, type="user:update", lane=user["id"],
                   payload=client_events.user_authenticated(user, source))
    elif user is None:
        user = await insert_new_user(conn, ids=ids, app_id=app_id, body=UserCreateBody(external_id=claims.external_id))
    elif anonymous is not None and anonymous["user"]["id"] != user["id"]:
        user = await merge_users(conn, ids=ids, app_id=app_id, surviving=user, discarded=anonymous["user"],
                                 reason="sdkLogin")
    if anonymous is not None:  # (merged, its user's sessions have ended already, saying so)
        handed_over = anonymous["user"]["id"] == user["id"]
        await _end_session(conn, anonymous["user"]["id"], anonymous["session"]["id"],
                           stream.LOGGED_IN if handed_over else None)
    client = await open_sdk_client(conn, ids=ids, app_id=app_id, user=user, integration=integration, reason="sdkLogin")
    token = await _open_session(conn, ids, app_id, user["id"], client["id"], integration["id"], claims.expires_at)
    return {"user": await wire_user(conn, user), "client": wire_client(client), "sessionToken": token}


async def logout(conn: AsyncConnection, *, end_user: EndUser, user_id: str, origin: str | None) -> None:
    """End the session these credentials belong to (its token stops working at once)."""
    await signed_in(conn, end_user=end_user, origin=origin)
    _own(end_user, user_id)
    await _end_session(conn, end_user.user_id, end_user.session_id, stream.LOGGED_OUT)


async def _end_session(conn: AsyncConnection, user_id: str, session_id: str, reason: str | None) -> None:
    """Delete the session; with a `reason`, its streams close at once, saying it."""
    await sessions.delete_session(conn, session_id=session_id)
    if reason is not None:
        await stream.sessions_ended(conn, user_id=user_id, session_id=session_id, reason=reason)


async def _anonymous(conn: AsyncConnection, app_id: str, body: LoginBody) -> dict[str, Any] | None:
    """The anonymous user of the session the body names, and that session; None if it names none. A
    session that is not valid, or whose user is identified already, is a 401."""
    if body.user_id is UNSET and body.session_token is UNSET:
        return None
    if body.user_id is UNSET or body.session_token is UNSET:
        raise BadRequest("userId and sessionToken come together: the browser's anonymous session")
    session = await sessions.find_session(conn, token_hash=token_hash(body.session_token))
    if session is None or session["user_id"] != body.user_id or session["app_id"] != app_id:
        raise Unauthorized("Invalid anonymous session")
    user = await find_user(conn, app_id=app_id, user_id=body.user_id)
    if user is None or user["external_id"] is not None:
        raise Unauthorized("The session is not an anonymous user's")
    return {"user": user, "session": session}


async def _open_session(conn: AsyncConnection, ids: IdFactory, app_id: str, user_id: str, client_id: str,
                        integration_id: str, expires_at: int | None) -> str:
    """A new session of the user's client; its token (only its SHA-256 is kept)."""
    token = secrets.token_urlsafe(32)
    session_id, now = ids.new_at()
    await sessions.insert_session(conn, {
        "id": session_id, "app_id": app_id, "user_id": user_id, "client_id": client_id,
        "integration_id": integration_id, "token_hash": token_hash(token), "expires_at": expires_at,
        "created_at": now})
    return token


async def get_own_user(conn: AsyncConnection, *, end_user: EndUser, user_id: str,
                       origin: str | None) -> dict[str, Any]:
    """The signed-in user, as GetUser shows users; any other user is not found."""
    await sdk_integration(conn, app_id=end_user.app_id, integration_id=end_user.integration_id, origin=origin)
    row = None if user_id != end_user.user_id else await find_user(conn, app_id=end_user.app_id, user_id=user_id)
    if row is None:
        raise UserNotFound()
    return await wire_user(conn, row)


async def signed_in(conn: AsyncConnection, *, end_user: EndUser, origin: str | None) -> Any:
    """The SDK integration the end user signed in through, which must let this origin in (403)."""
    return await sdk_integration(conn, app_id=end_user.app_id, integration_id=end_user.integration_id, origin=origin)


def _own(end_user: EndUser, user_id: str) -> None:
    if user_id != end_user.user_id:
        raise UserNotFound()


async def list_own_conversations(conn: AsyncConnection, *, end_user: EndUser, user_id: str, origin: str | None,
                                 page: Page) -> Window:
    """A page of the signed-in user's conversations, as ListConversations shows them."""
    await signed_in(conn, end_user=end_user, origin=origin)
    _own(end_user, user_id)
    return await conversation_store.page_of_user(conn, user_id=end_user.user_id, page=page)


async def start_conversation(conn: AsyncConnection, *, ids: IdFactory, end_user: EndUser, user_id: str,
                             body: EndUserConversationBody, origin: str | None) -> dict[str, Any]:
    """A new personal conversation of the user, made by them: the first one always; another only if the app
    has multiConvoEnabled and the integration does not set canUserCreateMoreConversations to false."""
    integration = await signed_in(conn, end_user=end_user, origin=origin)
    _own(end_user, user_id)
    app = await require_app(conn, app_id=end_user.app_id)
    if await conversation_store.has_default(conn, user_id=end_user.user_id):
        if not app["settings"].get("multiConvoEnabled"):
            raise BadRequest("The user has a conversation already, and the app's multiConvoEnabled is off")
        if integration["config"].get("canUserCreateMoreConversations") is False:
            raise BadRequest(f"Integration {integration['id']} does not let users create more conversations")
    create = ConversationCreateBody(
        type="personal", participants=[ParticipantSubSchema(user_id=end_user.user_id, subscribe_sdk_client=True)],
        display_name=body.display_name, description=body.description, icon_url=body.icon_url,
        metadata=body.metadata)
    return await conversations.create_conversation(
        conn, ids=ids, app_id=end_user.app_id, body=create, reason="startConversation",
        source={"type": integration["type"], "integrationId": integration["id"]}, integration_id=integration["id"])


async def own_conversation(conn: AsyncConnection, *, end_user: EndUser, conversation_id: str,
                           origin: str | None) -> Any:
    """The SDK integration, once the conversation is one the signed-in user takes part in (else 404)."""
    integration = await signed_in(conn, end_user=end_user, origin=origin)
    await require_conversation(conn, app_id=end_user.app_id, conversation_id=conversation_id)
    if await find_member(conn, conversation_id=conversation_id, user_id=end_user.user_id) is None:
        raise ConversationNotFound()
    return integration


async def list_own_messages(conn: AsyncConnection, *, end_user: EndUser, conversation_id: str, origin: str | None,
                            page: Page) -> Window:
    await own_conversation(conn, end_user=end_user, conversation_id=conversation_id, origin=origin)
    return await message_store.page_messages(conn, conversation_id=conversation_id, page=page)


async def send_message(db: Database, *, ids: IdFactory, limit: int, end_user: EndUser, conversation_id: str,
                       body: EndUserMessageBody, origin: str | None) -> dict[str, Any]:
    """PostMessage as the signed-in user, through their SDK integration (its source, its default responder);
    a clientMessageId sent before answers the message it made."""
    async with db.read() as conn:
        integration = await own_conversation(conn, end_user=end_user, conversation_id=conversation_id, origin=origin)
    post = MessagePost(author=Author(type="user", user_id=end_user.user_id), content=body.content,
                       metadata=body.metadata)
    through = Through(integration["id"], integration["type"],
                      None if body.client_message_id is UNSET else body.client_message_id)
    return await messages.post_message(db, ids=ids, limit=limit, app_id=end_user.app_id,
                                       conversation_id=conversation_id, body=post, through=through)


async def post_activity(conn: AsyncConnection, *, ids: IdFactory, end_user: EndUser, conversation_id: str,
                        body: EndUserActivityBody, origin: str | None) -> None:
    """The user types, or has read the conversation (their lastRead moves): conversation:typing and :read."""
    integration = await own_conversation(conn, end_user=end_user, conversation_id=conversation_id, origin=origin)
    activity = ActivityPost(author=Author(type="user", user_id=end_user.user_id), type=body.type)
    await messages.post_activity(conn, ids=ids, app_id=end_user.app_id, conversation_id=conversation_id,
                                 body=activity, through=Through(integration["id"], integration["type"]))


def _origin(value: str) -> str:
    """An origin compared as RFC 6454 does: scheme and host in lower case, the default port made explicit."""
    url = urlsplit(value.strip())
    scheme = url.scheme.lower()
    try:
        port = url.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        return value
    return f"{scheme}://{(url.hostname or '').lower()}:{port}"



async def update_own_user(conn: AsyncConnection, *, end_user: EndUser, user_id: str, body: UserUpdateBody,
                          origin: str | None) -> dict[str, Any]:
    """The user changes their own profile and metadata, checked as UpdateUser checks them. signedUpAt and
    toBeRetained are the business's to set: a 400. No event (user:update is for identification only)."""
    await signed_in(conn, end_user=end_user, origin=origin)
    _own(end_user, user_id)
    for name, value in (("signedUpAt", body.signed_up_at), ("toBeRetained", body.to_be_retained)):
        if value is not UNSET:
            raise BadRequest(f"{name} cannot be set by the user: only through the v2 API")
    if await find_user(conn, app_id=end_user.app_id, user_id=user_id) is None:
        raise UserNotFound()
    return await users.update_user(conn, app_id=end_user.app_id, user=user_id, brand_id=None, body=body)


async def send_file(db: Database, *, ids: IdFactory, limit: int, end_user: EndUser, conversation_id: str,
                    upload: Upload, client_message_id: str | None, origin: str | None) -> dict[str, Any]:
    """Upload the file `for=message` in the conversation, then send it as the user's image message (an
    image/* type) or file message; the message claims the upload, which then goes with it. If no message of
    this upload is stored (refused, or a clientMessageId sent before), the upload is removed again."""
    async with db.read() as conn:
        await own_conversation(conn, end_user=end_user, conversation_id=conversation_id, origin=origin)
    stored = await attachments.upload_attachment(
        db, ids=ids, directory=upload.directory, app_id=end_user.app_id,
        target=UploadTarget(conversation_id=conversation_id), source=upload.source, filename=upload.filename,
        declared_type=upload.declared_type, base_url=upload.base_url)
    url = stored["mediaUrl"]
    content = (Image if stored["mediaType"].startswith("image/") else File)(media_url=url)
    body = EndUserMessageBody(content=content, client_message_id=UNSET if client_message_id is None
                              else client_message_id)
    try:
        message = await send_message(db, ids=ids, limit=limit, end_user=end_user, conversation_id=conversation_id,
                                     body=body, origin=origin)
    except ApiError:
        await _discard(db, end_user.app_id, url, upload.base_url)
        raise
    if message["content"].get("mediaUrl") != url:  # the clientMessageId's first message answered
        await _discard(db, end_user.app_id, url, upload.base_url)
    return message


async def _discard(db: Database, app_id: str, media_url: str, base_url: str) -> None:
    """Remove an upload no message took (its file goes after the commit)."""
    async with db.write() as conn:
        await attachments.delete_attachment(conn, app_id=app_id, media_url=media_url, base_url=base_url)


async def sync(conn: AsyncConnection, *, end_user: EndUser, user_id: str, origin: str | None) -> dict[str, Any]:
    """What a widget needs to (re)start, read on one connection: the user; each of their conversations (as
    ListConversations shows it) with the user's participant (unreadCount, lastRead) and its last messages
    (oldest first; `hasMore` if there are earlier ones, which ListMessages pages); and the stream's cursor
    that follows exactly what this answer holds (per conversation, the seq of the newest message returned,
    or where its stream stood when read): a stream opened with it repeats nothing and misses nothing."""
    user = await get_own_user(conn, end_user=end_user, user_id=user_id, origin=origin)
    entries, positions, page = [], {}, Page(size=MAX_SIZE)
    while True:
        window = await conversation_store.page_of_user(conn, user_id=end_user.user_id, page=page)
        for row in window.records:
            synced = await _synced(conn, end_user.user_id, row)
            if synced is not None:
                entry, positions[row["id"]] = synced
                entries.append(entry)
        if not window.more_after or not window.records:
            break
        page = Page(after=window.records[-1]["id"], size=MAX_SIZE)
    return {"user": user, "conversations": entries, "cursor": encode_cursor(positions)}


async def _synced(conn: AsyncConnection, user_id: str, conversation: Any) -> tuple[dict[str, Any], int] | None:
    """The conversation, the user's participant and its last messages, and the stream position after them;
    None if the user left it meanwhile. Within a conversation seq order is commit order, so the newest
    message read has the highest seq of all that were committed when it was read."""
    members = await participant_store.page_participants(conn, conversation_id=conversation["id"],
                                                        page=Page(size=MAX_SIZE))  # (groups have 10 at most)
    own = next((member for member in members.records if member["user_id"] == user_id), None)
    if own is None:
        return None
    recent = await message_store.page_messages(conn, conversation_id=conversation["id"],
                                               page=Page(size=SYNC_MESSAGES))
    seqs = [row["seq"] for row in recent.records if row["seq"] is not None]
    position = max(seqs) if seqs else conversation["stream_seq"]
    return {"conversation": render.conversation(conversation), "participant": render.participant(own),
            "messages": [render.message(row) for row in recent.records], "hasMore": recent.more_before}, position
