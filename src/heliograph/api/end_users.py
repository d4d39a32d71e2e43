"""The end users' SDK API under /sdk/v2 (docs/end-users.md): Heliograph's own, outside the spec.

Browsers call it from the host page's origin, so every route answers CORS: a preflight (OPTIONS) is
granted to an origin some SDK integration of the app lets in, and the answers (error answers
included) carry `Access-Control-Allow-Origin` for such an origin only. Each request is then held to
its own integration's originWhitelist (403).
"""

from __future__ import annotations

import msgspec

from heliograph.api.attachments import media_base, source_file
from heliograph.api.http import MULTIPART, PUBLIC, Call, Raw, Reply, Routes, exact_pattern
from heliograph.api.lists import listing
from heliograph.auth import EndUser
from heliograph.errors import Forbidden
from heliograph.pagination import parse_page
from heliograph.schemas import render
from heliograph.schemas.common import UNSET, decode
from heliograph.schemas.end_users import (
    AnonymousUserBody,
    EndUserActivityBody,
    EndUserConversationBody,
    EndUserFileFields,
    EndUserMessageBody,
    FormResponseBody,
    LoginBody,
    PostbackBody,
)
from heliograph.schemas.users import UserUpdateBody
from heliograph.services import end_users as service
from heliograph.services import form_responses, postbacks, stream

routes = Routes(exact_pattern)
CONFIG = "/sdk/v2/integrations/{integrationId}/config"
APP = "/sdk/v2/apps/{appId}"
APPUSERS = APP + "/appusers"
APPUSER = APPUSERS + "/{userId}"
CONVERSATIONS = APPUSER + "/conversations"
LOGIN = APP + "/login"
LOGOUT = APPUSER + "/logout"
MESSAGES = APP + "/conversations/{conversationId}/messages"
SYNC = APPUSER + "/sync"
ACTIVITY = APP + "/conversations/{conversationId}/activity"
FILES = APP + "/conversations/{conversationId}/files"
POSTBACK = APP + "/conversations/{conversationId}/postback"
FORM_RESPONSES = APP + "/conversations/{conversationId}/form-responses"
TICKET = APPUSER + "/ticket"
_PREFLIGHTS = {CONFIG: ("GET", "SdkConfig"), APPUSERS: ("POST", "SdkUsers"), APPUSER: ("GET, PUT", "SdkUser"),
               SYNC: ("GET", "SdkSync"), CONVERSATIONS: ("GET, POST", "SdkConversations"),
               MESSAGES: ("GET, POST", "SdkMessages"), ACTIVITY: ("POST", "SdkActivity"), FILES: ("POST", "SdkFiles"),
               POSTBACK: ("POST", "SdkPostback"), FORM_RESPONSES: ("POST", "SdkFormResponses"),
               LOGIN: ("POST", "SdkLogin"), LOGOUT: ("POST", "SdkLogout"), TICKET: ("POST", "SdkTicket")}
_PREFLIGHT_SECONDS = "600"


@routes("GET", CONFIG, "SdkConfig", PUBLIC)
async def config(call: Call) -> Reply:
    """GET /sdk/v2/integrations/{integrationId}/config: what a widget needs to start (no credentials)."""
    async with call.services.db.read() as conn:
        found = await service.config(conn, integration_id=call.params["integrationId"], origin=call.origin,
                                     base_url=media_base(call))
    _allow(call)
    return 200, found


@routes("POST", APPUSERS, "SdkCreateUser", PUBLIC)
async def create_user(call: Call) -> Reply:
    """POST /sdk/v2/apps/{appId}/appusers: an anonymous user, their sdk client and session token."""
    app_id = call.params["appId"]
    await _allow_for_app(call, app_id)
    body = call.body(AnonymousUserBody)
    async with call.services.db.write() as conn:
        created = await service.create_anonymous_user(conn, ids=call.services.ids, app_id=app_id, body=body,
                                                      origin=call.origin)
    return 201, created


@routes("POST", LOGIN, "SdkLogin", PUBLIC)
async def login(call: Call) -> Reply:
    """POST /sdk/v2/apps/{appId}/login: sign in with a user JWT (Bearer); the browser's anonymous session,
    if sent, hands its user over. A new session token, valid until the JWT expires."""
    app_id = call.params["appId"]
    await _allow_for_app(call, app_id)
    claims = await call.services.auth.user_jwt(call.authorization, app_id=app_id)
    body = call.body(LoginBody)
    async with call.services.db.write() as conn:
        signed = await service.login(conn, ids=call.services.ids, app_id=app_id, claims=claims, body=body,
                                     origin=call.origin)
    return 200, signed


@routes("POST", LOGOUT, "SdkLogout", PUBLIC)
async def logout(call: Call) -> Reply:
    """POST /sdk/v2/apps/{appId}/appusers/{userId}/logout: end this session."""
    end_user = await _end_user(call)
    async with call.services.db.write() as conn:
        await service.logout(conn, end_user=end_user, user_id=call.params["userId"], origin=call.origin)
    return 200, {}


@routes("GET", APPUSER, "SdkGetUser", PUBLIC)
async def get_user(call: Call) -> Reply:
    """GET /sdk/v2/apps/{appId}/appusers/{userId}: the signed-in user (Basic userId:sessionToken)."""
    end_user = await _end_user(call)
    async with call.services.db.read() as conn:
        user = await service.get_own_user(conn, end_user=end_user, user_id=call.params["userId"], origin=call.origin)
    return 200, {"user": user}


@routes("PUT", APPUSER, "SdkUpdateUser", PUBLIC)
async def update_user(call: Call) -> Reply:
    """PUT /sdk/v2/apps/{appId}/appusers/{userId}: the user's own profile and metadata, as UpdateUser checks them."""
    end_user = await _end_user(call)
    body = call.body(UserUpdateBody)
    async with call.services.db.write() as conn:
        user = await service.update_own_user(conn, end_user=end_user, user_id=call.params["userId"], body=body,
                                             origin=call.origin)
    return 200, {"user": user}


@routes("GET", SYNC, "SdkSync", PUBLIC)
async def sync(call: Call) -> Reply:
    """GET /sdk/v2/apps/{appId}/appusers/{userId}/sync: the user, their conversations and recent messages."""
    end_user = await _end_user(call)
    async with call.services.db.read() as conn:
        synced = await service.sync(conn, end_user=end_user, user_id=call.params["userId"], origin=call.origin)
    return 200, synced


@routes("GET", CONVERSATIONS, "SdkListConversations", PUBLIC)
async def list_conversations(call: Call) -> Reply:
    """GET …/appusers/{userId}/conversations: the signed-in user's conversations, paged as ListConversations."""
    end_user = await _end_user(call)
    page = parse_page(call.query)
    async with call.services.db.read() as conn:
        window = await service.list_own_conversations(conn, end_user=end_user, user_id=call.params["userId"],
                                                      origin=call.origin, page=page)
    return 200, listing(call, "conversations", window, page, render.conversation)


@routes("POST", CONVERSATIONS, "SdkCreateConversation", PUBLIC)
async def create_conversation(call: Call) -> Reply:
    """POST …/appusers/{userId}/conversations: a personal conversation the user starts."""
    end_user = await _end_user(call)
    body = call.body(EndUserConversationBody)
    async with call.services.db.write() as conn:
        created = await service.start_conversation(conn, ids=call.services.ids, end_user=end_user,
                                                   user_id=call.params["userId"], body=body, origin=call.origin)
    return 201, {"conversation": created}


@routes("GET", MESSAGES, "SdkListMessages", PUBLIC)
async def list_messages(call: Call) -> Reply:
    """GET …/conversations/{conversationId}/messages: the history of a conversation of the user's."""
    end_user = await _end_user(call)
    page = parse_page(call.query, sized=False)
    async with call.services.db.read() as conn:
        window = await service.list_own_messages(conn, end_user=end_user, conversation_id=call.params["conversationId"],
                                                 origin=call.origin, page=page)
    return 200, listing(call, "messages", window, page, render.message, newest_first=True)


@routes("POST", MESSAGES, "SdkPostMessage", PUBLIC)
async def post_message(call: Call) -> Reply:
    """POST …/conversations/{conversationId}/messages: the user's message (idempotent by clientMessageId)."""
    end_user = await _end_user(call)
    body = call.body(EndUserMessageBody)
    services = call.services
    message = await service.send_message(services.db, ids=services.ids, limit=services.settings.message_limit,
                                         end_user=end_user, conversation_id=call.params["conversationId"], body=body,
                                         origin=call.origin)
    return 201, {"messages": [message]}


@routes("POST", ACTIVITY, "SdkPostActivity", PUBLIC)
async def post_activity(call: Call) -> Reply:
    """POST …/conversations/{conversationId}/activity: typing:start, typing:stop or conversation:read."""
    end_user = await _end_user(call)
    body = call.body(EndUserActivityBody)
    async with call.services.db.write() as conn:
        await service.post_activity(conn, ids=call.services.ids, end_user=end_user,
                                    conversation_id=call.params["conversationId"], body=body, origin=call.origin)
    return 200, {}


@routes("POST", FILES, "SdkPostFile", PUBLIC, MULTIPART)
async def post_file(call: Call) -> Reply:
    """POST …/conversations/{conversationId}/files: the file in part `source`, sent as the user's image or file
    message (`clientMessageId` an optional text part)."""
    end_user = await _end_user(call)
    upload = source_file(call.form)
    fields = _file_fields(call)
    services = call.services
    message = await service.send_file(
        services.db, ids=services.ids, limit=services.settings.message_limit, end_user=end_user,
        conversation_id=call.params["conversationId"], origin=call.origin,
        upload=service.Upload(upload.file, upload.filename, upload.content_type, services.settings.attachments_path,
                              media_base(call)),
        client_message_id=None if fields.client_message_id is UNSET else fields.client_message_id)
    return 201, {"messages": [message]}


@routes("POST", POSTBACK, "SdkPostback", PUBLIC)
async def post_postback(call: Call) -> Reply:
    """POST …/conversations/{conversationId}/postback: the user clicked a postback button (`{actionId}`)."""
    end_user = await _end_user(call)
    body = call.body(PostbackBody)
    services = call.services
    await postbacks.postback(services.db, ids=services.ids, limit=services.settings.message_limit,
                             end_user=end_user, conversation_id=call.params["conversationId"], body=body,
                             origin=call.origin)
    return 200, {}


@routes("POST", FORM_RESPONSES, "SdkPostFormResponse", PUBLIC)
async def post_form_response(call: Call) -> Reply:
    """POST …/conversations/{conversationId}/form-responses: the user's formResponse to a form message."""
    end_user = await _end_user(call)
    body = call.body(FormResponseBody)
    services = call.services
    message = await form_responses.respond(services.db, ids=services.ids, limit=services.settings.message_limit,
                                           end_user=end_user, conversation_id=call.params["conversationId"],
                                           body=body, origin=call.origin)
    return 201, {"messages": [message]}


@routes("POST", TICKET, "SdkCreateTicket", PUBLIC)
async def create_ticket(call: Call) -> Reply:
    """POST /sdk/v2/apps/{appId}/appusers/{userId}/ticket: a 5-minute ticket that opens the user's stream as an
    EventSource (`…/events?ticket=`), which cannot send the Authorization header (docs/end-users.md, §4)."""
    end_user = await _end_user(call)
    async with call.services.db.write() as conn:
        await service.signed_in(conn, end_user=end_user, origin=call.origin)
        ticket = await stream.issue_ticket(conn, end_user=end_user, user_id=call.params["userId"],
                                           now=call.services.ids.clock())
    return 201, ticket


def _file_fields(call: Call) -> EndUserFileFields:
    """The upload's text parts, checked as a JSON body's fields would be."""
    parts = {} if call.form is None else {k: v for k, v in call.form.multi_items() if isinstance(v, str)}
    return decode(msgspec.json.encode(parts), EndUserFileFields)


async def _end_user(call: Call) -> EndUser:
    """The signed-in end user of the path's app (401 otherwise); CORS allowed first, so a browser reads a 401."""
    app_id = call.params["appId"]
    await _allow_for_app(call, app_id)
    return await call.services.auth.end_user(call.authorization, app_id=app_id)


def _allow(call: Call) -> None:
    """Let the browser read this answer (the caller checked that the origin may use the app)."""
    if call.origin is not None:
        call.response_headers[:] = [("access-control-allow-origin", call.origin), ("vary", "Origin")]


async def _allow_for_app(call: Call, app_id: str) -> None:
    if call.origin is None:
        return
    async with call.services.db.read() as conn:
        allowed = await service.any_origin_allowed(conn, app_id=app_id, origin=call.origin)
    if allowed:
        _allow(call)


def _preflight(template: str, methods: str, name: str) -> None:
    async def preflight(call: Call) -> Reply:
        """A CORS preflight: granted (200, empty) to an origin the app's SDK integrations let in, else 403."""
        app_id = call.params.get("appId")
        if app_id is None:
            async with call.services.db.read() as conn:
                await service.config(conn, integration_id=call.params["integrationId"], origin=call.origin,
                                     base_url="")
        else:
            await _allow_for_app(call, app_id)
            if call.origin is not None and not call.response_headers:
                raise Forbidden(f"Origin {call.origin} may not use app {app_id}")
        _allow(call)
        call.response_headers += [("access-control-allow-methods", methods),
                                  ("access-control-allow-headers", "authorization, content-type"),
                                  ("access-control-max-age", _PREFLIGHT_SECONDS)]
        return 200, Raw(b"", "text/plain; charset=utf-8")
    routes("OPTIONS", template, f"{name}Preflight", PUBLIC)(preflight)


for _template, (_methods, _name) in _PREFLIGHTS.items():
    _preflight(_template, _methods, _name)
