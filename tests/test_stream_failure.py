"""A stream whose database fails under it (docs/end-users.md §4): the WebSocket closes with 1011 and the SSE
stream ends with a `closed` event of that code, each logged in one line, never an exception escaping to the
server (this module's own SQLite server, whose table the stream reads it takes away)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import WAIT, Server, quick_heartbeat_server
from tests.end_users import Visitor, basic, frame

LOGGED = "a stream ended on a database error"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A SQLite server of this module's own (it fails if the server logged a traceback)."""
    yield from quick_heartbeat_server("sqlite", tmp_path_factory.mktemp("stream-failure"))


@pytest.fixture
def broken(server: Server) -> Iterator[None]:
    """While the test runs, the table of the conversations' events (which a stream reads with the messages
    after its cursor, and a message does not write) is missing; put back after."""
    path = server.database_url.removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE conversation_events RENAME TO conversation_events_away")
    yield
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE conversation_events_away RENAME TO conversation_events")


def test_a_database_error_in_a_websocket_stream_closes_it_with_1011(server: Server, visitor: Visitor,
                                                                     broken: None) -> None:
    """A message wakes the stream, whose read fails: the socket closes with 1011 ("Server error: reconnect
    later") instead of dropping, and the message itself was stored (201)."""
    conversation = visitor.start().json()["conversation"]["id"]
    with visitor.connect(server.base_url) as socket:
        frame(socket)  # ready
        posted = visitor.say(conversation, "hello")
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=WAIT)
    received = closed.value.rcvd
    assert (201, 1011, "Server error: reconnect later") == (
        posted.status_code, received and received.code, received and received.reason)


def test_a_database_error_in_an_sse_stream_ends_it_with_closed_1011(server: Server, app_id: str, visitor: Visitor,
                                                                    broken: None) -> None:
    """The SSE stream's last event is `closed` with code 1011, and the answer ends."""
    conversation = visitor.start().json()["conversation"]["id"]
    url = f"/sdk/v2/apps/{app_id}/appusers/{visitor.id}/events"
    headers = {"accept": "text/event-stream", **basic(visitor.id, visitor.token)}
    with visitor.client.stream("GET", url, headers=headers) as response:
        lines = response.iter_lines()
        for line in lines:
            if line.startswith("data:"):  # ready
                break
        visitor.say(conversation, "hello")
        after = [line for line in lines if line and line != ": ping"]
    assert ("event: closed", {"type": "closed", "code": 1011, "reason": "Server error: reconnect later"}) == (
        after[0], json.loads(after[1].removeprefix("data: ")))
