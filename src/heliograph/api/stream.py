"""An end user's realtime stream: a WebSocket at /sdk/v2/apps/{appId}/appusers/{userId}/stream
(docs/end-users.md, §4).

Browsers cannot set headers on a WebSocket, so the credentials come as a subprotocol beside
`heliograph.v1`: `auth.<base64url(userId:sessionToken)>`. The server accepts `heliograph.v1`, then
sends `ready` with a cursor, every message of the user's conversations after that cursor (or, with
`?cursor=`, after the one the client had), and then each new one as it commits, each frame with the
cursor that includes it. Close codes: 4400 malformed (protocol, cursor, frame), 4401 credentials
missing, invalid or expired, 4403 origin not allowed, 4404 not this user's stream.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
from typing import Any

from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from heliograph.api.http import Services
from heliograph.auth import EndUser
from heliograph.errors import ApiError, BadRequest, Forbidden, NotFound, Unauthorized
from heliograph.services import end_users
from heliograph.services import stream as reading

ROUTE = "/sdk/v2/apps/{appId}/appusers/{userId}/stream"
PROTOCOL = "heliograph.v1"
AUTH_PREFIX = "auth."
HEARTBEAT_SECONDS = 25.0
CLOSE_CODES = {BadRequest: 4400, Unauthorized: 4401, Forbidden: 4403, NotFound: 4404}


def stream(services: Services) -> BaseRoute:
    """The stream's route, for these services."""
    async def endpoint(websocket: WebSocket) -> None:
        offered = websocket.scope.get("subprotocols") or []
        await websocket.accept(subprotocol=PROTOCOL if PROTOCOL in offered else None)
        try:
            if PROTOCOL not in offered:
                raise BadRequest(f"Offer the subprotocol {PROTOCOL}")
            end_user, credentials = await _sign_in(services, websocket, offered)
            await _serve(services, websocket, end_user, credentials)
        except ApiError as error:
            await websocket.close(code=_close_code(error), reason=error.title[:120])
        except WebSocketDisconnect:
            pass
    return WebSocketRoute(ROUTE, endpoint, name="SdkStream")


async def _sign_in(services: Services, websocket: WebSocket, offered: list[str]) -> tuple[EndUser, str]:
    """The end user of the subprotocol's credentials, and those credentials as a Basic header (checked again
    at each heartbeat)."""
    app_id, user_id = websocket.path_params["appId"], websocket.path_params["userId"]
    token = next((p[len(AUTH_PREFIX):] for p in offered if p.startswith(AUTH_PREFIX)), None)
    if token is None:
        raise Unauthorized("Offer the credentials as the subprotocol auth.<base64url(userId:sessionToken)>")
    try:
        pair = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise Unauthorized("Malformed credentials") from None
    credentials = "Basic " + base64.b64encode(pair).decode()
    end_user = await services.auth.end_user(credentials, app_id=app_id)
    async with services.db.read() as conn:
        await end_users.signed_in(conn, end_user=end_user, origin=websocket.headers.get("origin"))
    if end_user.user_id != user_id:
        raise NotFound("Not this user's stream")
    return end_user, credentials


async def _serve(services: Services, websocket: WebSocket, end_user: EndUser, credentials: str) -> None:
    assert services.hub is not None
    async with services.db.read() as conn:
        positions = await reading.positions(conn, user_id=end_user.user_id,
                                            cursor=websocket.query_params.get("cursor"))
    watch = services.hub.watch(positions, user_id=end_user.user_id)
    listening = asyncio.create_task(_listen(websocket))
    try:
        await websocket.send_json({"type": "ready", "cursor": reading.encode_cursor(positions),
                                   "heartbeatMs": int(HEARTBEAT_SECONDS * 1000)})
        pending = set(positions)
        while True:
            for conversation_id in pending:
                await _catch_up(services, websocket, positions, conversation_id, listening)
            woken = asyncio.ensure_future(watch.event.wait())
            done, _ = await asyncio.wait({listening, woken}, timeout=HEARTBEAT_SECONDS,
                                         return_when=asyncio.FIRST_COMPLETED)
            woken.cancel()
            if listening in done:
                listening.result()  # the client closed (WebSocketDisconnect) or sent something malformed
                return
            if not done:  # a quiet while: a heartbeat, and the session must still be valid
                await services.auth.end_user(credentials, app_id=end_user.app_id)
                await websocket.send_json({"type": "ping"})
            pending = watch.take()
            for conversation_id in pending - positions.keys():  # joined while connected: from its start
                positions[conversation_id] = 0
            for typing in watch.take_typing():  # ephemeral: sent once, to whoever is connected now
                if typing["author"].get("userId") != end_user.user_id:
                    await websocket.send_json(typing)
    finally:
        services.hub.unwatch(watch)
        listening.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, ApiError):
            await listening


async def _catch_up(services: Services, websocket: WebSocket, positions: dict[str, int], conversation_id: str,
                    listening: asyncio.Task[None]) -> None:
    """Send the conversation's messages after its position, in order, each with the cursor that includes it;
    stop as soon as the client has gone (its close is answered at once, not after a backlog)."""
    while not listening.done():
        async with services.db.read() as conn:
            batch = await reading.read_after(conn, conversation_id=conversation_id, seq=positions[conversation_id])
        for seq, message in batch:
            if listening.done():
                return
            positions[conversation_id] = seq
            await websocket.send_json({"type": "message", "cursor": reading.encode_cursor(positions),
                                       "conversationId": conversation_id, "message": message})
        if len(batch) < reading.BATCH:
            return


async def _listen(websocket: WebSocket) -> None:
    """Read the client's frames until it closes: `pong` (and, later, typing); anything else is a 4400."""
    while True:
        text = await websocket.receive_text()
        try:
            frame: Any = json.loads(text)
        except ValueError:
            frame = None
        if not isinstance(frame, dict) or frame.get("type") != "pong":
            raise BadRequest("Malformed frame: expected a JSON object of a known type")


def _close_code(error: ApiError) -> int:
    return next((code for kind, code in CLOSE_CODES.items() if isinstance(error, kind)), 4400)
