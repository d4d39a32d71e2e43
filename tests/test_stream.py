"""An end user's realtime stream (docs/end-users.md, §4) on a live server, both engines: messages arrive
live, a reconnect with the last cursor gets exactly what was missed, and bad credentials, origins,
cursors and frames get their close codes."""

from __future__ import annotations

import base64
import random
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sunshine_conversations_client as sc
from websockets.exceptions import ConnectionClosed

from tests.conftest import Server
from tests.end_users import EVIL, PROTOCOL, SHOP, Visitor, frame
from tests.servers import Process
from tests.utils import post, text


@pytest.fixture
def browserless(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url) as client:
        yield client


@pytest.fixture
def web(http: httpx.Client, app_id: str) -> str:
    response = http.post(f"/v2/apps/{app_id}/integrations", json={"type": "web", "originWhitelist": [SHOP]})
    return str(response.json()["integration"]["id"])


@pytest.fixture
def visitor(browserless: httpx.Client, app_id: str, web: str) -> Visitor:
    return Visitor(browserless, app_id, web)


def texts(frames: list[dict[str, Any]]) -> list[str]:
    return [f["message"]["content"]["text"] for f in frames]


def test_a_business_reply_arrives_live(server: Server, account: sc.ApiClient, app_id: str, visitor: Visitor) -> None:
    """The stream says ready, then each message of the visitor's conversation as it commits: the visitor's
    own, and the business's reply posted through the official SDK."""
    conversation = visitor.start().json()["conversation"]["id"]
    with visitor.connect(server.base_url) as socket:
        ready = frame(socket)
        visitor.say(conversation, "Hello?")
        post(account, app_id, conversation, text("Hi! How can I help?"))
        frames = [frame(socket), frame(socket)]
    assert ("ready", PROTOCOL) == (ready["type"], socket.subprotocol)
    assert (["Hello?", "Hi! How can I help?"], [conversation] * 2) == (
        texts(frames), [f["conversationId"] for f in frames])
    assert ["user", "business"] == [f["message"]["author"]["type"] for f in frames]


def test_a_reconnect_with_the_last_cursor_gets_exactly_what_was_missed(
        server: Server, account: sc.ApiClient, app_id: str, visitor: Visitor) -> None:
    """Messages committed while the visitor was away come, once each and in order, after the cursor of the
    last frame it had; a cursor from before gets them again from there."""
    conversation = visitor.start().json()["conversation"]["id"]
    with visitor.connect(server.base_url) as socket:
        first_cursor = frame(socket)["cursor"]
        post(account, app_id, conversation, text("one"))
        had = frame(socket)
    for word in ("two", "three", "four"):
        post(account, app_id, conversation, text(word))
    with visitor.connect(server.base_url, cursor=had["cursor"]) as socket:
        ready = frame(socket)
        missed = [frame(socket) for _ in range(3)]
        post(account, app_id, conversation, text("five"))
        live = frame(socket)
    with visitor.connect(server.base_url, cursor=first_cursor) as socket:
        frame(socket)
        again = [frame(socket) for _ in range(5)]
    assert ("ready", ["two", "three", "four"], "five") == (ready["type"], texts(missed), texts([live])[0])
    assert ["one", "two", "three", "four", "five"] == texts(again)


@pytest.mark.parametrize(("case", "code"), [
    ("no credentials", 4401), ("wrong token", 4401), ("foreign origin", 4403), ("another user", 4404),
    ("bad cursor", 4400), ("no protocol", 4400),
])
def test_refusals_close_with_their_code(server: Server, browserless: httpx.Client, app_id: str, web: str,
                                        visitor: Visitor, case: str, code: int) -> None:
    other = Visitor(browserless, app_id, web)
    forged = base64.urlsafe_b64encode(f"{visitor.id}:{visitor.token}x".encode()).rstrip(b"=").decode()
    arguments: dict[str, Any] = {
        "no credentials": {"protocols": [PROTOCOL]},
        "wrong token": {"protocols": [PROTOCOL, f"auth.{forged}"]},
        "foreign origin": {"origin": EVIL},
        "another user": {"user_id": other.id},
        "bad cursor": {"cursor": "not-a-cursor"},
        "no protocol": {"protocols": [visitor.credentials()]},
    }[case]
    with visitor.connect(server.base_url, **arguments) as socket, pytest.raises(ConnectionClosed) as closed:
        socket.recv(timeout=10)
    assert code == closed.value.rcvd.code  # type: ignore[union-attr]


def test_a_malformed_frame_closes_the_stream_with_4400(server: Server, visitor: Visitor) -> None:
    visitor.start()
    with visitor.connect(server.base_url) as socket:
        frame(socket)
        socket.send("not json")
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
    assert 4400 == closed.value.rcvd.code  # type: ignore[union-attr]


def test_a_message_posted_to_one_process_reaches_a_stream_held_by_another(
        server: Server, tmp_path: Path, account: sc.ApiClient, app_id: str, visitor: Visitor) -> None:
    """PostgreSQL, two API processes: the commit's NOTIFY wakes the other process's hub (one LISTEN
    connection each), which reads the message from the database and sends it."""
    if server.engine != "postgresql":
        pytest.skip("one process serves a SQLite database")
    other = Process("serve", database_url=server.database_url, data_dir=tmp_path, account_key=server.account_key)
    try:
        conversation = visitor.start().json()["conversation"]["id"]
        with visitor.connect(other.base_url) as socket:
            frame(socket)
            post(account, app_id, conversation, text("from the first process"))
            arrived = frame(socket)
    finally:
        other.stop()
    assert ["from the first process"] == texts([arrived])
    assert "" == other.tracebacks()


def test_a_stream_opened_with_the_sync_cursor_repeats_nothing(server: Server, account: sc.ApiClient, app_id: str,
                                                              visitor: Visitor) -> None:
    """/sync and its cursor are one picture: what /sync returned does not come again on the stream, and
    what is posted after comes once."""
    conversation = visitor.start().json()["conversation"]["id"]
    for word in ("one", "two"):
        post(account, app_id, conversation, text(word))
    synced = visitor.call("GET", f"/appusers/{visitor.id}/sync").json()
    post(account, app_id, conversation, text("three"))
    with visitor.connect(server.base_url, cursor=synced["cursor"]) as socket:
        frame(socket)
        after = frame(socket)
    assert (["one", "two"], "three") == (
        [m["content"]["text"] for m in synced["conversations"][0]["messages"]], texts([after])[0])


def test_a_thousand_random_disconnects_lose_nothing_and_repeat_nothing(
        server: Server, account: sc.ApiClient, app_id: str, visitor: Visitor) -> None:
    """While the business posts 600 messages, the visitor's client drops its connection after 0, 1 or 2
    frames, at random, and comes back with its last cursor, 1,000 times at least: it gets every message
    once, in order."""
    conversation = visitor.start().json()["conversation"]["id"]
    total = 600
    chance = random.Random(11)
    posting = threading.Thread(target=lambda: [
        post(account, app_id, conversation, text(f"m{n}")) for n in range(total)], daemon=True)
    got: list[str] = []
    with visitor.connect(server.base_url) as socket:
        cursor = frame(socket)["cursor"]  # from now on: before the first message
    reconnects = 1
    posting.start()
    try:
        while len(got) < total or reconnects < 1000:
            with visitor.connect(server.base_url, cursor=cursor) as socket:
                frame(socket)  # ready
                for _ in range(chance.choice((0, 1, 2)) if len(got) < total else 0):
                    message = frame(socket, timeout=30)
                    got.append(message["message"]["content"]["text"])
                    cursor = message["cursor"]
            reconnects += 1
    finally:
        posting.join()
    assert [f"m{n}" for n in range(total)] == got
    assert reconnects >= 1000


def test_the_business_typing_shows_on_the_stream_once(server: Server, account: sc.ApiClient, app_id: str,
                                                      visitor: Visitor) -> None:
    """typing:start and typing:stop posted through the official SDK reach the visitor's open stream (and
    only then: nothing stores them), once each; the visitor's own typing does not come back to them."""
    conversation = visitor.start().json()["conversation"]["id"]
    with visitor.connect(server.base_url) as socket:
        frame(socket)
        visitor.call("POST", f"/conversations/{conversation}/activity", json={"type": "typing:start"})
        for kind in ("typing:start", "typing:stop"):
            sc.ActivitiesApi(account).post_activity(app_id, conversation, sc.ActivityPost(
                author=sc.Author(type="business"), type=kind))
        post(account, app_id, conversation, text("done typing"))
        frames = [frame(socket) for _ in range(3)]
    assert [("typing:start", "business"), ("typing:stop", "business"), ("message", "business")] == [
        (f["type"], (f.get("author") or f.get("message", {}).get("author", {})).get("type")) for f in frames]


def test_a_conversation_started_while_connected_streams_at_once(server: Server, account: sc.ApiClient, app_id: str,
                                                                 visitor: Visitor) -> None:
    """The stream opened before the visitor had any conversation gets the one they start, and its
    messages from the first, without reconnecting."""
    with visitor.connect(server.base_url) as socket:
        frame(socket)
        conversation = visitor.start().json()["conversation"]["id"]
        post(account, app_id, conversation, text("welcome"))
        arrived = frame(socket)
    assert (conversation, ["welcome"]) == (arrived["conversationId"], texts([arrived]))
