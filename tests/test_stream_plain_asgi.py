"""The end users' stream under a plain ASGI server: uvicorn with its own WebSocket protocol, without the one
`heliograph serve` gives it (realtime/websocket.py, and its `heliograph.socket` extension). The stream then
reads the client's frames with a task of its own and sends every frame through ASGI; what the client sees
is the same: frames live and in order, a pong taken, a malformed frame closed with 4400, a close answered."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sunshine_conversations_client as sc
import uvicorn
from websockets.exceptions import ConnectionClosed

from heliograph.app import create_app
from heliograph.config import Settings
from tests.conftest import ACCOUNT_KEY, Server
from tests.end_users import Visitor, frame, texts
from tests.servers import free_port
from tests.utils import post, text


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Heliograph's app served by uvicorn in a thread of this process, on SQLite, with uvicorn's own
    websockets-sansio protocol (this module's `server`, for the fixtures built on it)."""
    directory = tmp_path_factory.mktemp("plain")
    database_url = f"sqlite+aiosqlite:///{directory / 'plain.sqlite3'}"
    started = threading.Event()

    class Started(uvicorn.Server):
        async def startup(self, sockets: list | None = None) -> None:  # type: ignore[type-arg]
            await super().startup(sockets)
            started.set()

    app = create_app(Settings(database_url=database_url, data_dir=Path(directory), account_key_id=ACCOUNT_KEY[0],
                              account_key_secret=ACCOUNT_KEY[1]))
    port = free_port()
    plain = Started(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
                                   ws="websockets-sansio"))
    thread = threading.Thread(target=plain.run, daemon=True)
    thread.start()
    assert started.wait(timeout=30), "uvicorn did not start"
    try:
        yield Server("sqlite", f"http://127.0.0.1:{port}", database_url, ACCOUNT_KEY)
    finally:
        plain.should_exit = True
        thread.join(timeout=15)


def test_frames_arrive_in_order_and_a_pong_is_taken(server: Server, account: sc.ApiClient, app_id: str,
                                                     visitor: Visitor) -> None:
    conversation = visitor.start().json()["conversation"]["id"]
    with visitor.connect(server.base_url) as socket:
        assert "ready" == frame(socket)["type"]
        socket.send('{"type": "pong"}')
        visitor.say(conversation, "Hello?")
        for word in ("one", "two", "three"):
            post(account, app_id, conversation, text(word))
        frames = [frame(socket) for _ in range(4)]
    assert ["Hello?", "one", "two", "three"] == texts(frames)
    assert len({f["cursor"] for f in frames}) == 4


def test_a_malformed_frame_closes_with_4400_and_a_close_is_answered(server: Server, visitor: Visitor) -> None:
    visitor.start()
    with visitor.connect(server.base_url) as socket:
        frame(socket)
        socket.send(b"\x00binary")
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
    assert 4400 == closed.value.rcvd.code  # type: ignore[union-attr]
    with visitor.connect(server.base_url) as socket:
        frame(socket)
        socket.close()
    assert 1000 == socket.close_code
