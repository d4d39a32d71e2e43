"""An app's socket ("socket mode"): a WebSocket at /sdk/v2/apps/{appId}/stream?webhookId=… that carries a
socket-mode webhook's events instead of HTTP POSTs (docs/socket-mode.md).

The credentials come as a subprotocol beside `heliograph.v1`, as on the end users' stream:
`auth.<base64url(keyId:secret)>` or `bearer.<jwt>`, of an account key or a key of the app. The server
sends `ready`, then every held delivery of the webhook not acknowledged yet, oldest first (at most
WINDOW unacknowledged at a time), then each new one as it commits: `{"type": "event", "seq", "body"}`,
where `body` is exactly what the webhook's POST would carry. The client acknowledges with
`{"type": "ack", "seq": n | [n, …]}`, which the server confirms, once stored, with `{"type": "acked",
"seq": [n, …]}`. Close codes: 4400 malformed (protocol, webhook, frame), 4401
credentials missing or invalid, 4403 a key of another app, 4404 no such app or webhook, 4409 a newer
socket took the webhook over.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from heliograph.api.http import Services
from heliograph.api.stream import AUTH_PREFIX, accept, basic_header, close_code
from heliograph.errors import ApiError, BadRequest, Unauthorized
from heliograph.services import app_stream

ROUTE = app_stream.ROUTE
LOOK_AGAIN_SECONDS = 5.0  # a lost wake-up costs at most this much latency
WINDOW = 100  # events sent and not acknowledged yet, at most
MAX_ACK = 1000  # seqs in one ack frame, at most
REPLACED = 4409  # besides the end users' stream's codes (api/stream.CLOSE_CODES)


class Replaced(Exception):
    """A newer socket attached to the same webhook (here or in another process)."""


def app_stream_route(services: Services) -> BaseRoute:
    """The app socket's route, for these services."""
    async def endpoint(websocket: WebSocket) -> None:
        try:
            header = _credentials(await accept(websocket))
            webhook_id = await _check(services, websocket, header)
            await _serve(services, websocket, header, webhook_id)
        except ApiError as error:
            await websocket.close(code=close_code(error), reason=error.title[:120])
        except Replaced:
            await websocket.close(code=REPLACED, reason="Another socket took this webhook over")
        except WebSocketDisconnect:
            pass
    return WebSocketRoute(ROUTE, endpoint, name="AppStream")


def _credentials(offered: list[str]) -> str:
    """The Authorization header the subprotocols stand for: `auth.<base64url(keyId:secret)>` is Basic,
    `bearer.<jwt>` is Bearer."""
    for protocol in offered:
        if protocol.startswith("bearer."):
            return "Bearer " + protocol[len("bearer."):]
        if protocol.startswith(AUTH_PREFIX):
            return basic_header(protocol[len(AUTH_PREFIX):])
    raise Unauthorized("Offer the credentials as the subprotocol auth.<base64url(keyId:secret)> or bearer.<jwt>")


async def _check(services: Services, websocket: WebSocket, header: str) -> str:
    """The webhook this socket serves, if the credentials may (checked at connect and at each heartbeat)."""
    principal = await services.auth.authenticate(header)
    async with services.db.read() as conn:
        return await app_stream.check(conn, principal=principal, app_id=websocket.path_params["appId"],
                                      webhook_id=websocket.query_params.get("webhookId"))


async def _serve(services: Services, websocket: WebSocket, header: str, webhook_id: str) -> None:
    assert services.sockets is not None
    socket = services.sockets.attach(webhook_id, services.ids.new())
    heartbeat = services.settings.stream_heartbeat  # a ping after this long without a frame, and a re-check
    acks: list[int] = []
    listening = asyncio.create_task(_listen(websocket, acks, socket.event))
    try:
        async with services.db.write() as conn:  # older sockets of the webhook, in any process, close
            await app_stream.attached(conn, webhook_id=webhook_id, token=socket.token)
        await websocket.send_json({"type": "ready", "webhookId": webhook_id, "window": WINDOW,
                                   "heartbeatMs": round(heartbeat * 1000)})
        in_flight: set[int] = set()
        last_frame = last_check = time.monotonic()
        while True:
            socket.event.clear()  # what wakes it from here on is looked at in the next round
            if socket.replaced:
                raise Replaced()
            if time.monotonic() - last_check >= heartbeat:  # quiet or busy, the key and webhook must still allow it
                await _check(services, websocket, header)
                last_check = time.monotonic()
            acknowledged = await _acknowledge(services, webhook_id, acks, in_flight)
            if acknowledged:  # stored: the client may forget them
                await websocket.send_json({"type": "acked", "seq": acknowledged})
            if await _send_waiting(services, websocket, webhook_id, in_flight, listening):
                last_frame = time.monotonic()
            if time.monotonic() - last_frame >= heartbeat:
                await websocket.send_json({"type": "ping"})
                last_frame = time.monotonic()
            woken = asyncio.ensure_future(socket.event.wait())
            timeout = min(LOOK_AGAIN_SECONDS, heartbeat - (time.monotonic() - min(last_frame, last_check)))
            done, _ = await asyncio.wait({listening, woken}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            woken.cancel()
            if listening in done:  # what it acknowledged before it went is kept
                await _acknowledge(services, webhook_id, acks, in_flight)
                listening.result()  # the client closed (WebSocketDisconnect) or sent something malformed
                return
    finally:
        services.sockets.detach(socket)
        listening.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, ApiError):
            await listening


async def _acknowledge(services: Services, webhook_id: str, acks: list[int], in_flight: set[int]) -> list[int]:
    """Store the acknowledgements received since the last round (one transaction for all of them); their seqs."""
    if not acks:
        return []
    seqs = sorted(set(acks))
    del acks[:]
    async with services.db.write() as conn:
        await app_stream.acknowledge(conn, webhook_id=webhook_id, seqs=seqs, now=services.ids.clock())
    in_flight.difference_update(seqs)
    return seqs


async def _send_waiting(services: Services, websocket: WebSocket, webhook_id: str, in_flight: set[int],
                        listening: asyncio.Task[None]) -> bool:
    """Send what waits for the webhook and was not sent yet, while the window has room; whether any was."""
    room = WINDOW - len(in_flight)
    if room <= 0:
        return False
    async with services.db.read() as conn:
        waiting = await app_stream.waiting(conn, webhook_id=webhook_id, skip=in_flight, limit=room)
    for seq, body in waiting:
        if listening.done():  # the client has gone: its close is answered at once, not after a backlog
            break
        in_flight.add(seq)
        await websocket.send_json({"type": "event", "seq": seq, "body": body})
    return bool(waiting)


async def _listen(websocket: WebSocket, acks: list[int], wake: asyncio.Event) -> None:
    """Read the client's frames until it closes: `ack` (its seqs are queued and the socket woken) and
    `pong`; anything else is a 4400."""
    while True:
        text = await websocket.receive_text()
        try:
            frame: Any = json.loads(text)
        except ValueError:
            frame = None
        if isinstance(frame, dict) and frame.get("type") == "pong":
            continue
        acks.extend(_acked(frame))
        wake.set()


def _acked(frame: Any) -> list[int]:
    """The seqs of an ack frame; BadRequest for any other frame."""
    if not isinstance(frame, dict) or frame.get("type") != "ack":
        raise BadRequest("Malformed frame: expected a JSON object of type ack or pong")
    seqs = frame.get("seq")
    seqs = [seqs] if not isinstance(seqs, list) else seqs
    if not 1 <= len(seqs) <= MAX_ACK or not all(
            isinstance(seq, int) and not isinstance(seq, bool) and seq > 0 for seq in seqs):
        raise BadRequest(f"Malformed ack: seq is a delivery's seq, or a list of 1 to {MAX_ACK} of them")
    return seqs
