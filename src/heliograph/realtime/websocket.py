"""The WebSocket protocol `heliograph serve` gives uvicorn (its `ws` setting): uvicorn's websockets-sansio
protocol, with what a process holding thousands of mostly idle end users' streams needs
(docs/performance.md, "The end users' stream with sockets connected"). Apps see plain ASGI; an app that
knows the scope's extension `heliograph.socket` (api/stream.py) can also:

- hold the socket with no task waiting on `receive()`: `Socket.notify(callback)` has the callback called
  whenever something is queued for `receive()` (a frame from the client, the close), and `Socket.received()`
  says whether something is, so that `receive()` answers at once;
- write a text frame at once from plain code, without a coroutine (`Socket.write_text`): a message that
  commits in this process reaches the sockets waiting for it from the committing request itself
  (realtime/hub.Watch.direct).

And for every socket, whether its app knows the extension or not: the handshake's request and response
(websockets' objects, with every header) are let go once the handshake is done, where uvicorn and
websockets' parser keep them for the socket's life, and what is queued for `receive()` waits in a deque
rather than an asyncio.Queue (with its three deques and an Event).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

EXTENSION = "heliograph.socket"


class _Inbox:
    """What uvicorn queues for the app's `receive()`: the little of asyncio.Queue it uses (put_nowait, get,
    empty), and a callback on every put."""

    __slots__ = ("_items", "_getter", "on_put")

    def __init__(self) -> None:
        self._items: deque[Any] = deque()
        self._getter: asyncio.Future[None] | None = None
        self.on_put: Callable[[], None] | None = None

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        if self._getter is not None and not self._getter.done():
            self._getter.set_result(None)
        if self.on_put is not None:
            self.on_put()

    def empty(self) -> bool:
        return not self._items

    async def get(self) -> Any:
        while not self._items:
            self._getter = asyncio.get_running_loop().create_future()
            try:
                await self._getter
            finally:
                self._getter = None
        return self._items.popleft()


class Socket(WebSocketsSansIOProtocol):
    """uvicorn's protocol, with the handshake let go once done and the `heliograph.socket` extension."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = _Inbox()  # type: ignore[assignment]

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        if self.handshake_initiated and not self.handshake_complete:  # the app has the scope: offer it the extension
            self.scope["extensions"][EXTENSION] = self  # type: ignore[assignment]

    async def send(self, message: Any) -> None:
        await super().send(message)
        if self.handshake_complete and self.response is not None:
            self.request = self.response = None  # type: ignore[assignment]
            self._restart_parser()

    def _restart_parser(self) -> None:
        """websockets' parser keeps the handshake's request (with every header, the credentials' subprotocol
        too) as a local of its generator for the connection's life: start a new one past the handshake, as
        websockets itself swaps its parser, while the old one waits for a first frame with nothing read (a
        client sends none before the handshake's answer: RFC 6455 §4.1; if one did, the old one stays)."""
        conn = self.conn
        if conn.state is State.OPEN and not conn.reader.buffer and not conn.reader.eof and conn.parser_exc is None:
            conn.parser = conn.parse()
            next(conn.parser)

    def notify(self, callback: Callable[[], None] | None) -> None:
        """Call `callback` whenever something is queued for `receive()` (None: stop)."""
        self.queue.on_put = callback  # type: ignore[attr-defined]

    def received(self) -> bool:
        """Whether `receive()` has something to answer at once."""
        return not self.queue.empty()

    def write_text(self, data: bytes) -> bool:
        """Write a text frame of these UTF-8 bytes now if the socket is open and its transport takes it without
        waiting; False, writing nothing, if not (closing, closed, or its buffer full: send it through ASGI)."""
        if (self.close_sent or self.disconnected or not self.handshake_complete or self.initial_response is not None
                or self.conn.state is not State.OPEN or not self.writable.is_set() or self.transport.is_closing()):
            return False
        self.conn.send_text(data)
        self.transport.write(b"".join(self.conn.data_to_send()))
        return True
