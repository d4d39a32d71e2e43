"""An end user's realtime stream (docs/end-users.md, §4): a WebSocket at
/sdk/v2/apps/{appId}/appusers/{userId}/stream, and its fallbacks at …/events for clients that cannot hold
one: Server-Sent Events (`Accept: text/event-stream`) and a JSON long-poll.

All three serve one `Tail`: the user's place in their stream (a cursor), the frames after it read from
the database, and the hub's wake-up when more commits. Each frame that has a cursor includes itself in
it, so a client that comes back with the last cursor it had gets exactly what it missed.

WebSocket: browsers cannot set its headers, so the credentials come as a subprotocol beside
`heliograph.v1`: `auth.<base64url(userId:sessionToken)>`. Close codes: 4400 malformed (protocol, cursor,
frame), 4401 credentials missing, invalid or expired (also once the session ends while connected), 4403
origin not allowed, 4404 not this user's stream, 4409 a cursor older than the events kept, 1011 the server
failed (its database: reconnect later). The fallbacks answer the same refusals as HTTP errors in the spec's
envelope (400, 401, 403, 404, 409); an EventSource, which cannot set headers either, signs in with a ticket
(`?ticket=`, POST …/ticket).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

import msgspec
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from heliograph.api.http import Services
from heliograph.auth import EndUser
from heliograph.errors import ApiError, BadRequest, Conflict, Forbidden, NotFound, Unauthorized, UserNotFound
from heliograph.services import end_users
from heliograph.services import stream as reading

log = logging.getLogger("heliograph.api")
ROUTE = "/sdk/v2/apps/{appId}/appusers/{userId}/stream"
EVENTS = "/sdk/v2/apps/{appId}/appusers/{userId}/events"
PROTOCOL = "heliograph.v1"
AUTH_PREFIX = "auth."
SERVER_ERROR = 1011  # the stream ended on the server's own failure (the database): reconnect later
CLOSE_CODES = {BadRequest: 4400, Unauthorized: 4401, Forbidden: 4403, NotFound: 4404, Conflict: 4409}
POLL_SECONDS, POLL_MAX_SECONDS = 25.0, 30.0  # a long-poll's wait: by default, and at most
POLL_LIMIT = 500  # frames with a cursor per long-poll answer
SOCKET_EXTENSION = "heliograph.socket"  # the scope extension of `heliograph serve`'s sockets (realtime/websocket.py)
RETRY_MS = 3000  # how long an EventSource waits before it reconnects (SSE `retry:`)
_PREFLIGHT = {"access-control-allow-methods": "GET", "access-control-allow-headers": "authorization, last-event-id",
              "access-control-max-age": "600"}


class Tail:
    """One client's place in the user's stream: the position in each of their conversations, those with
    more to read (`pending`), and the hub's watch that wakes it when one of them commits something."""

    def __init__(self, services: Services, end_user: EndUser, watch: Any, positions: dict[str, int], *,
                 recheck: bool) -> None:
        assert services.hub is not None
        self.services, self.end_user, self.watch, self.positions = services, end_user, watch, positions
        services.hub.follow(watch, positions)
        self.pending = set(positions)  # from the positions on: what committed while they were read is read too
        self.recheck = recheck  # whether every position is a conversation of the user's (a cursor's may not be)
        self.writer: Callable[[bytes], bool] | None = None  # writes a frame at once, if the socket can (`direct`)
        self._loop = asyncio.get_running_loop()  # kept: asking for it costs a getpid() system call each time
        self.sent_at = self._loop.time()  # when the client was last sent something
        self._rang = False
        self._timer: asyncio.TimerHandle | None = None

    @property
    def cursor(self) -> str:
        return reading.encode_cursor(self.positions)

    @property
    def heartbeat(self) -> float:
        """Seconds of quiet before a ping, and between two checks of the process's streams' sessions
        (HELIOGRAPH_STREAM_HEARTBEAT, realtime/sessions.py)."""
        return self.services.settings.stream_heartbeat

    async def read(self, limit: int = reading.BATCH) -> list[dict[str, Any]]:
        """The frames ready now: the typing heard (no cursor), the conversations no longer the user's, then what
        the pending conversations carried after their positions, in seq order within each (at most `limit` of
        these, each with the cursor that includes it); a conversation with more stays pending. 401 once the
        session the stream was opened with has ended (a logout, the user deleted, its user JWT expired)."""
        if self.watch.ended is not None:
            raise Unauthorized(self.watch.ended)
        changed, handed = self.watch.take(), self.watch.take_handed()
        frames = [typing for typing in self.watch.take_typing()
                  if typing["author"].get("userId") != self.end_user.user_id]  # a user's own typing is theirs
        if self.watch.take_left() or self.recheck or changed.keys() - self.positions.keys():
            async with self.services.db.read() as conn:
                frames += await self._members(conn, set(changed))
        changed_here = changed.keys() & self.positions.keys()
        ready = {conversation_id: batch for conversation_id in changed_here - self.pending
                 if (batch := self._handed(conversation_id, changed[conversation_id], handed)) is not None}
        self.pending |= changed_here
        return frames + await self._after(ready, limit)

    def _handed(self, conversation_id: str, latest: int | None, handed: dict[str, dict[int, Any]]
                ) -> list[tuple[int, dict[str, Any]]] | None:
        """The frames this process's commits handed (hub.Watch.change) that take a conversation the stream had
        read up to its position from there to the latest seq heard, without a gap (none if it has that seq
        already); None if they do not: the stream reads from the database, so exactness never rests on them."""
        if latest is None:
            return None
        position = self.positions[conversation_id]
        batch = sorted(((seq, frame) for seq, frame in handed.get(conversation_id, {}).items() if seq > position),
                       key=lambda item: item[0])
        return batch if [seq for seq, _ in batch] == list(range(position + 1, latest + 1)) else None

    async def _after(self, ready: dict[str, list[tuple[int, dict[str, Any]]]], limit: int) -> list[dict[str, Any]]:
        """What the pending conversations carried after their positions (at most `limit` frames): handed by
        this process's commits where `ready` has it, else read from the database."""
        frames: list[dict[str, Any]] = []
        read = 0
        async with contextlib.AsyncExitStack() as stack:
            conn: AsyncConnection | None = None
            for conversation_id in sorted(self.pending):
                wanted = min(reading.BATCH, limit - read)
                if wanted <= 0:
                    break
                batch = ready.get(conversation_id)
                whole = batch is not None and len(batch) <= wanted  # all there is, up to the latest seq heard
                if batch is None or not whole:
                    if conn is None:
                        conn = await stack.enter_async_context(self.services.db.read())
                    batch = await reading.read_after(conn, conversation_id=conversation_id,
                                                     seq=self.positions[conversation_id], limit=wanted)
                    whole = len(batch) < wanted
                for seq, frame in batch:
                    self.positions[conversation_id] = seq
                    frames.append({"type": frame["type"], "cursor": self.cursor, **frame})
                read += len(batch)
                if whole:
                    self.pending.discard(conversation_id)
        return frames

    async def _members(self, conn: AsyncConnection, changed: set[str]) -> list[dict[str, Any]]:
        """Which conversations are the user's, read again (a join or a leave was heard, or the cursor named
        conversations): one joined since is followed from its first message, and one gone is dropped with a
        `conversation:removed` frame whose cursor no longer names it."""
        self.recheck = False
        members = await reading.memberships(conn, user_id=self.end_user.user_id)
        for conversation_id in (changed - self.positions.keys()) & members:
            self.positions[conversation_id] = 0
        frames = []
        for conversation_id in sorted(self.positions.keys() - members):
            del self.positions[conversation_id]
            self.pending.discard(conversation_id)
            frames.append({"type": "conversation:removed", "cursor": self.cursor, "conversationId": conversation_id})
        return frames

    async def wait(self, until: float) -> bool:
        """Whether there is something to read: at once if a conversation is pending, else once the hub wakes
        the watch (or `wake_when` its client goes, or sends something); False once the loop's clock reaches
        `until` (what woke it then, if anything, is read next time). No task of its own: an idle stream waits
        on its watch's event and one timer. Meanwhile, with a `writer`, a message committed in this process
        that comes next in its conversation is written straight away (`direct`), without waking the stream."""
        if self.pending:
            return True
        self._rang = False
        self._timer = self._loop.call_at(until, self._ring)
        self.watch.direct = self.direct if self.writer is not None else None
        try:
            await self.watch.event.wait()
        finally:
            self.watch.direct = None
            self._timer.cancel()
        return not self._rang

    def _ring(self) -> None:
        """The wait's time has come. A stream with a `writer` (its `until` is its next heartbeat) that waits
        with nothing else to do pings from here, without waking: the ping if it has been quiet a heartbeat
        (frames written at once count), and its timer set again for the next. Otherwise the stream wakes."""
        if self.watch.direct is not None and not self.watch.event.is_set():  # waiting, with a writer
            loop = self._loop
            if loop.time() < self.sent_at + self.heartbeat or self._write({"type": "ping"}):
                self._timer = loop.call_at(self.sent_at + self.heartbeat, self._ring)
                return
        self._rang = True
        self.watch.event.set()

    def _write(self, frame: dict[str, Any]) -> bool:
        """Write a frame through the `writer` now; False if the socket cannot take it (or failed: logged)."""
        assert self.writer is not None
        try:
            written = self.writer(_encode(frame))
        except Exception:  # the commit that hands a frame must not fail for a socket: it is sent in turn
            log.exception("writing a stream's frame at once failed")
            return False
        if written:
            self.sent()
        return written

    def sent(self) -> None:
        """The client was sent something just now (a heartbeat is due one heartbeat later)."""
        self.sent_at = self._loop.time()

    def now(self) -> float:
        return self._loop.time()

    def direct(self, conversation_id: str, seq: int, frame: dict[str, Any] | None) -> bool:
        """While the stream waits with nothing else to send, take a notice of the conversation's `seq` without
        waking it (True): one it has already (this process's own, heard again through LISTEN), or the frame
        a commit of this process handed (hub.Watch.change), written at once, if it comes right after the
        stream's position in its conversation. False otherwise (also if the socket cannot take the frame
        now): the stream is woken to read it in turn."""
        position = self.positions.get(conversation_id)  # (nothing is pending: `wait` returns at once if it is)
        if position is None:
            return False
        if seq <= position:
            return True
        if frame is None or seq != position + 1:
            return False
        self.positions[conversation_id] = seq
        if not self._write({"type": frame["type"], "cursor": self.cursor, **frame}):
            self.positions[conversation_id] = seq - 1
            return False
        return True

    def wake_when(self, done: asyncio.Future[Any]) -> None:
        """Wake the wait once `done` is (the client has gone)."""
        done.add_done_callback(lambda _: self.watch.event.set())


@contextlib.asynccontextmanager
async def _tail(services: Services, end_user: EndUser, cursor: str | None) -> AsyncIterator[Tail]:
    """The user's tail from `cursor` (a malformed one: 400), or from now without one; closed on leaving."""
    assert services.hub is not None
    # Watched before the positions are read: a conversation the user joins meanwhile is heard (and read from
    # its start), not missed between the read and the watch.
    watch = services.hub.watch((), user_id=end_user.user_id, session_id=end_user.session_id or None,
                               expires_at=end_user.expires_at)  # ended with the session (401)
    try:
        yield Tail(services, end_user, watch, await _positions(services, end_user, cursor), recheck=cursor is not None)
    finally:
        services.hub.unwatch(watch)


async def _positions(services: Services, end_user: EndUser, cursor: str | None) -> dict[str, int]:
    """Where the tail starts: read in a coroutine of its own, so that no frame of a stream's lifetime keeps
    the connection object (with its event listeners: 3 KB a socket) once it is back in the pool."""
    async with services.db.read() as conn:
        return await reading.positions(conn, user_id=end_user.user_id, cursor=cursor)


def _ready(tail: Tail) -> dict[str, Any]:
    return {"type": "ready", "cursor": tail.cursor, "heartbeatMs": round(tail.heartbeat * 1000)}


# --- the WebSocket -----------------------------------------------------------------------------------

def stream(services: Services) -> BaseRoute:
    """The stream's route, for these services."""
    async def endpoint(websocket: WebSocket) -> None:
        try:
            offered = await accept(websocket)
            end_user = await _sign_in(services, websocket, offered)
            async with _tail(services, end_user, websocket.query_params.get("cursor")) as tail:
                await _serve(websocket, tail)
        except ApiError as error:
            await websocket.close(code=close_code(error), reason=error.title[:120])
        except WebSocketDisconnect:
            pass
        except SQLAlchemyError as error:  # a pool time-out, a connection lost: the client reconnects later
            _database_failed(error)
            await websocket.close(code=SERVER_ERROR, reason="Server error: reconnect later")
    return WebSocketRoute(ROUTE, endpoint, name="SdkStream")


async def accept(websocket: WebSocket) -> list[str]:
    """Accept the WebSocket, with PROTOCOL if it is offered; the subprotocols offered. BadRequest (close
    4400) if PROTOCOL is not one of them: accepted first, so that the close can say why."""
    offered: list[str] = websocket.scope.get("subprotocols") or []
    await websocket.accept(subprotocol=PROTOCOL if PROTOCOL in offered else None)
    if PROTOCOL not in offered:
        raise BadRequest(f"Offer the subprotocol {PROTOCOL}")
    return offered


def basic_header(token: str) -> str:
    """The Basic Authorization header a subprotocol's `auth.<base64url(id:secret)>` token stands for."""
    try:
        pair = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise Unauthorized("Malformed credentials") from None
    return "Basic " + base64.b64encode(pair).decode()


def _database_failed(error: SQLAlchemyError) -> None:
    """Log, in one line, a database error that ended a stream (thousands of streams may end so together)."""
    log.error("a stream ended on a database error: %s", str(error).splitlines()[0] if str(error) else repr(error))


async def _sign_in(services: Services, websocket: WebSocket, offered: list[str]) -> EndUser:
    """The end user of the subprotocol's credentials."""
    token = next((p[len(AUTH_PREFIX):] for p in offered if p.startswith(AUTH_PREFIX)), None)
    if token is None:
        raise Unauthorized("Offer the credentials as the subprotocol auth.<base64url(userId:sessionToken)>")
    end_user = await services.auth.end_user(basic_header(token), app_id=websocket.path_params["appId"])
    return await _held(services, end_user, websocket.path_params["userId"], websocket.headers.get("origin"))


async def _held(services: Services, end_user: EndUser, user_id: str, origin: str | None) -> EndUser:
    """The end user, once their integration lets the origin in (403) and the path is their own (404)."""
    async with services.db.read() as conn:
        await end_users.signed_in(conn, end_user=end_user, origin=origin)
    if end_user.user_id != user_id:
        raise UserNotFound("Not this user's stream")
    return end_user


async def _serve(websocket: WebSocket, tail: Tail) -> None:
    """`ready`, then every frame as it is ready, a `ping` after each quiet heartbeat; until the client closes
    (or sends something malformed: 4400), or the session ends (4401, quiet or busy: realtime/sessions.py)."""
    client = _Client(websocket, tail.watch.event.set)
    try:
        await _send(websocket, tail, _ready(tail))
        tail.writer = client.write_text
        while True:
            await client.check()
            for frame in await tail.read():
                if client.arrived():  # the client's close is answered at once, not after a backlog
                    break
                await _send(websocket, tail, frame)
            if not await tail.wait(tail.sent_at + tail.heartbeat) and tail.now() >= tail.sent_at + tail.heartbeat:
                await _send(websocket, tail, {"type": "ping"})
    finally:
        tail.writer = None
        client.close()


async def _send(websocket: WebSocket, tail: Tail, frame: dict[str, Any]) -> None:
    await websocket.send_text(_encode(frame).decode())
    tail.sent()


def _encode(frame: dict[str, Any]) -> bytes:
    """A frame's JSON, compact, as UTF-8 (msgspec: a tenth of json.dumps' time for a message's frame)."""
    return msgspec.json.encode(frame)


class _Client:
    """What the client sends, looked at between frames: a `pong` is nothing; anything else is a 4400, and the
    close ends the stream. With `heliograph serve`'s socket (realtime/websocket.py), no task waits on it: the
    socket wakes the stream when something arrives, and writes its frames at once (`write_text`). Under
    another ASGI server, a task reads it into a list."""

    def __init__(self, websocket: WebSocket, wake: Callable[[], None]) -> None:
        self.websocket = websocket
        self.socket: Any = websocket.scope.get("extensions", {}).get(SOCKET_EXTENSION)
        self._received: list[Message] = []
        self._reading: asyncio.Task[None] | None = None
        if self.socket is not None:
            self.socket.notify(wake)
        else:
            self._reading = asyncio.create_task(self._read(wake))

    def arrived(self) -> bool:
        return bool(self._received) or (self.socket is not None and self.socket.received())

    def write_text(self, data: bytes) -> bool:
        return self.socket is not None and bool(self.socket.write_text(data))

    async def check(self) -> None:
        """Take what the client has sent: WebSocketDisconnect once it has closed, BadRequest if malformed."""
        while self.arrived():
            message = self._received.pop(0) if self._received else await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
            try:
                frame: Any = json.loads(message.get("text") or "")
            except ValueError:
                frame = None
            if not isinstance(frame, dict) or frame.get("type") != "pong":
                raise BadRequest("Malformed frame: expected a JSON object of a known type")

    async def _read(self, wake: Callable[[], None]) -> None:
        while True:
            message = await self.websocket.receive()
            self._received.append(message)
            wake()
            if message["type"] == "websocket.disconnect":
                return

    def close(self) -> None:
        if self.socket is not None:
            self.socket.notify(None)
        if self._reading is not None:
            self._reading.cancel()


def close_code(error: ApiError) -> int:
    """The WebSocket close code of a refusal (CLOSE_CODES; 4400 for any other)."""
    return next((code for kind, code in CLOSE_CODES.items() if isinstance(error, kind)), 4400)


# --- the fallbacks: SSE and long-poll ----------------------------------------------------------------

def events(services: Services) -> BaseRoute:
    """GET …/events: the stream as Server-Sent Events (`Accept: text/event-stream`) or as a long-poll; OPTIONS:
    its CORS preflight."""
    async def endpoint(request: Request) -> Response:
        origin = request.headers.get("origin")
        cors = await _cors(services, request.path_params["appId"], origin)
        try:
            if request.method == "OPTIONS":
                if origin is not None and not cors:
                    raise Forbidden(f"Origin {origin} may not use app {request.path_params['appId']}")
                return Response(b"", 200, {**cors, **_PREFLIGHT}, "text/plain")
            end_user = await _fallback_user(services, request)
            if "text/event-stream" in request.headers.get("accept", ""):
                return await _sse(services, request, end_user, cors)
            return await _long_poll(services, request, end_user, cors)
        except ApiError as error:
            challenge = {"www-authenticate": 'Basic realm="Heliograph"'} if error.status == 401 and not cors else {}
            return JSONResponse(error.envelope(), error.status, {**cors, **challenge})
        except Exception:  # a bug: reported in the envelope, as the Api does, never as a traceback
            log.exception("unhandled error on %s %s", request.method, request.url.path)
            return JSONResponse(ApiError().envelope(), 500, cors)
    return Route(EVENTS, endpoint, methods=["GET", "OPTIONS"], name="SdkEvents")


async def _cors(services: Services, app_id: str, origin: str | None) -> dict[str, str]:
    """The CORS headers for an origin that some SDK integration of the app lets in (as api/end_users.py)."""
    if origin is None:
        return {}
    async with services.db.read() as conn:
        allowed = await end_users.any_origin_allowed(conn, app_id=app_id, origin=origin)
    return {"access-control-allow-origin": origin, "vary": "Origin"} if allowed else {}


async def _fallback_user(services: Services, request: Request) -> EndUser:
    """The end user of the `Authorization` header (Basic userId:sessionToken), or of `?ticket=`."""
    app_id = request.path_params["appId"]
    ticket = request.query_params.get("ticket")
    if ticket is None:
        end_user = await services.auth.end_user(request.headers.get("authorization"), app_id=app_id)
    else:
        async with services.db.read() as conn:
            end_user = await reading.ticket_user(conn, app_id=app_id, ticket=ticket, now=services.ids.clock())
    return await _held(services, end_user, request.path_params["userId"], request.headers.get("origin"))


async def _long_poll(services: Services, request: Request, end_user: EndUser, cors: dict[str, str]) -> Response:
    """At once the frames after `?cursor=` (at most POLL_LIMIT), else the first ones within `?timeout=`
    seconds: `{frames, cursor}`, with no frames and the same cursor when none came; a 401 if the session
    ends while it waits (the process's streams' sessions are checked at each heartbeat)."""
    timeout = _timeout(request.query_params.get("timeout"))
    async with _tail(services, end_user, request.query_params.get("cursor")) as tail:
        frames = await tail.read(POLL_LIMIT)
        gone = asyncio.ensure_future(_disconnected(request))
        tail.wake_when(gone)
        try:
            if not frames:
                frames = await _wait_for_frames(tail, tail.now() + timeout, gone)
        finally:
            gone.cancel()
        return JSONResponse({"frames": frames, "cursor": tail.cursor}, 200, cors)


async def _wait_for_frames(tail: Tail, deadline: float, gone: asyncio.Future[None]) -> list[dict[str, Any]]:
    """The first frames ready before `deadline` (none if it passes, or once the client is gone); 401 once the
    session has ended."""
    frames: list[dict[str, Any]] = []
    while not frames and not gone.done() and deadline > tail.now():
        if await tail.wait(deadline) and not gone.done():
            frames = await tail.read(POLL_LIMIT)
    return frames


def _timeout(value: str | None) -> float:
    if value is None:
        return POLL_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= POLL_MAX_SECONDS:
        raise BadRequest(f"timeout: a number of seconds from 0 to {POLL_MAX_SECONDS:g}")
    return seconds


async def _disconnected(request: Request) -> None:
    """Returns once the client has gone (a long-poll's answer then goes nowhere: stop waiting)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def _sse(services: Services, request: Request, end_user: EndUser, cors: dict[str, str]) -> Response:
    """The stream as Server-Sent Events, from `Last-Event-ID` (what an EventSource resends on reconnecting),
    else `?cursor=`, else now (a malformed cursor: 400, before the answer starts)."""
    cursor = request.headers.get("last-event-id") or request.query_params.get("cursor")
    if cursor is not None:
        reading.decode_cursor(cursor)  # a malformed one is a 400, before the answer starts

    async def body() -> AsyncGenerator[str, None]:
        async with _tail(services, end_user, cursor) as tail:  # inside: closed however the stream ends
            yield f"retry: {RETRY_MS}\n\n" + _event(_ready(tail))
            try:
                while True:
                    for frame in await tail.read():
                        yield _event(frame)
                    if not await tail.wait(tail.now() + tail.heartbeat):
                        yield ": ping\n\n"
            except Unauthorized as error:  # the session ended: say so, and end the stream
                yield _event({"type": "closed", "code": 4401, "reason": error.title})
            except SQLAlchemyError as error:
                _database_failed(error)
                yield _event({"type": "closed", "code": SERVER_ERROR, "reason": "Server error: reconnect later"})

    return _EventStream(body(), 200, {**cors, "cache-control": "no-cache", "x-accel-buffering": "no"},
                        "text/event-stream")


class _EventStream(StreamingResponse):
    """A StreamingResponse that closes its generator however the answer ends: Starlette stops iterating when
    the client goes, and the generator's `finally` (which unwatches the hub) should not wait for its garbage
    collection."""

    body_iterator: AsyncGenerator[str, None]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.body_iterator.aclose()


def _event(frame: dict[str, Any]) -> str:
    """One SSE event: `id:` the frame's cursor (typing has none), `event:` its type, `data:` the frame."""
    cursor = frame.get("cursor")
    head = "" if cursor is None else f"id: {cursor}\n"
    return f"{head}event: {frame['type']}\ndata: {json.dumps(frame, separators=(',', ':'))}\n\n"
