"""`heliograph serve`'s WebSocket protocol (realtime/websocket.py), driven on a recording transport: it offers
the app the `heliograph.socket` extension, lets go of the handshake once it is done (its parser started
again past it, and still parsing what comes), calls back when the client sends something (which `receive()`
then answers at once), and writes a frame at once only while the socket is open and its transport takes it."""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.server import ServerState
from websockets.frames import Frame, Opcode

from heliograph.realtime.websocket import EXTENSION, Socket

HANDSHAKE = (b"GET /stream HTTP/1.1\r\nHost: example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")


class Transport(asyncio.Transport):
    """Keeps what is written; closing on demand."""

    def __init__(self) -> None:
        super().__init__()
        self.written = b""
        self.closing = False

    def write(self, data: Any) -> None:
        self.written += bytes(data)

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def client_frame(text: str) -> bytes:
    """A masked text frame, as a client sends it."""
    frame = Frame(Opcode.TEXT, text.encode())
    return frame.serialize(mask=True, extensions=[])  # type: ignore[no-any-return]


def test_the_extension_the_handshake_let_go_the_callback_and_the_writes() -> None:
    async def scenario() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        accepted, finish, done = asyncio.Event(), asyncio.Event(), asyncio.Event()

        async def app(scope: Any, receive: Any, send: Any) -> None:
            assert "websocket.connect" == (await receive())["type"]
            await send({"type": "websocket.accept"})
            seen["socket"] = scope["extensions"][EXTENSION]
            accepted.set()
            await finish.wait()
            seen["message"] = await receive()
            done.set()

        config = uvicorn.Config(app, ws=Socket, ws_per_message_deflate=False, ws_ping_interval=None, lifespan="off")
        config.load()
        protocol = Socket(config=config, server_state=ServerState(), app_state={}, _loop=asyncio.get_running_loop())
        transport = Transport()
        protocol.connection_made(transport)
        protocol.data_received(HANDSHAKE)
        await accepted.wait()
        socket = seen["socket"]
        calls: list[str] = []
        socket.notify(lambda: calls.append("woken"))
        seen["is the protocol"] = socket is protocol
        seen["handshake kept"] = (protocol.request, protocol.response,
                                  "request" in protocol.conn.parser.gi_frame.f_locals)  # websockets' parser's
        seen["nothing received"] = socket.received()
        protocol.data_received(client_frame('{"type":"pong"}'))
        seen["woken, received"] = (calls, socket.received())
        before = len(transport.written)
        seen["written"] = socket.write_text(b'{"type":"ping"}')
        seen["frame"] = transport.written[before:]
        transport.closing = True
        seen["written while closing"] = socket.write_text(b'{"type":"ping"}')
        finish.set()
        await done.wait()  # receive() answers with the frame queued
        return seen

    seen = asyncio.run(scenario())
    assert seen["is the protocol"]
    assert (None, None, False) == seen["handshake kept"]
    assert not seen["nothing received"]
    assert (["woken"], True) == seen["woken, received"]
    assert (True, b'\x81\x0f{"type":"ping"}') == (seen["written"], seen["frame"])
    assert not seen["written while closing"]
    assert {"type": "websocket.receive", "text": '{"type":"pong"}'} == seen["message"]
