"""An end user's realtime stream (docs/end-users.md, §4) on a live server, both engines: messages, reads and
removals arrive live, a reconnect with the last cursor gets exactly what was missed, and bad credentials,
origins, cursors and frames get their close codes."""

from __future__ import annotations

import base64
import contextlib
import random
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import sunshine_conversations_client as sc
from websockets.exceptions import ConnectionClosed

from heliograph.store import tables as t
from tests.conftest import Server
from tests.end_users import EVIL, PROTOCOL, Visitor, frame, texts
from tests.servers import Process
from tests.utils import in_database, make_conversation, post, text


def on_another_process(server: Server, tmp_path: Path, visitor: Visitor,
                       act: Callable[[str], object]) -> dict[str, Any]:
    """PostgreSQL only (skips on SQLite): the frame that reaches the visitor's stream, held by a second API
    process on the same database, when `act(conversation)` goes through the first; the second logged no error."""
    if server.engine != "postgresql":
        pytest.skip("one process serves a SQLite database")
    other = Process("serve", database_url=server.database_url, data_dir=tmp_path, account_key=server.account_key)
    try:
        conversation = visitor.start().json()["conversation"]["id"]
        with visitor.connect(other.base_url) as socket:
            frame(socket)
            act(conversation)
            arrived = frame(socket)
    finally:
        other.stop()
    assert "" == other.tracebacks()
    return arrived


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
    written = text("from the first process")
    arrived = on_another_process(server, tmp_path, visitor,
                                 lambda conversation: post(account, app_id, conversation, written))
    assert ["from the first process"] == texts([arrived])


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


def business_read(account: sc.ApiClient, app_id: str, conversation_id: str) -> None:
    sc.ActivitiesApi(account).post_activity(app_id, conversation_id, sc.ActivityPost(
        author=sc.Author(type="business"), type="conversation:read"))


def test_a_business_read_arrives_live_with_its_cursor(server: Server, http: httpx.Client, account: sc.ApiClient,
                                                      app_id: str, visitor: Visitor) -> None:
    """PostActivity conversation:read by the business reaches the visitor's open stream as a conversation:read
    frame with a cursor of its own, the business as author and the businessLastRead it set; a reconnect with
    that cursor gets what comes after it, once."""
    conversation = visitor.start().json()["conversation"]["id"]
    with visitor.connect(server.base_url) as socket:
        ready = frame(socket)
        business_read(account, app_id, conversation)
        read = frame(socket)
    stored = http.get(f"/v2/apps/{app_id}/conversations/{conversation}").json()["conversation"]["businessLastRead"]
    post(account, app_id, conversation, text("after the read"))
    with visitor.connect(server.base_url, cursor=read["cursor"]) as socket:
        frame(socket)
        after = frame(socket)
    assert {"type": "conversation:read", "conversationId": conversation, "author": {"type": "business"},
            "lastRead": stored} == {k: v for k, v in read.items() if k != "cursor"}
    assert (True, ["after the read"]) == (read["cursor"] not in (None, ready["cursor"]), texts([after]))


def test_a_reconnect_gets_the_reads_in_order_between_the_messages(
        server: Server, account: sc.ApiClient, app_id: str, visitor: Visitor) -> None:
    """Messages and reads of a conversation share one sequence: a stream resumed from a cursor before them gets
    them again in the order they committed, each with a cursor that resumes after it."""
    conversation = visitor.start().json()["conversation"]["id"]
    with visitor.connect(server.base_url) as socket:
        before = frame(socket)["cursor"]
    post(account, app_id, conversation, text("one"))
    business_read(account, app_id, conversation)
    visitor.say(conversation, "two")
    visitor.call("POST", f"/conversations/{conversation}/activity", json={"type": "conversation:read"})
    with visitor.connect(server.base_url, cursor=before) as socket:
        frame(socket)
        replayed = [frame(socket) for _ in range(4)]
    with visitor.connect(server.base_url, cursor=replayed[1]["cursor"]) as socket:
        frame(socket)
        resumed = [frame(socket) for _ in range(2)]
    kinds = [(f["type"], f.get("message", {}).get("content", {}).get("text"),
              f.get("author", {}).get("type")) for f in replayed]
    assert [("message", "one", None), ("conversation:read", None, "business"), ("message", "two", None),
            ("conversation:read", None, "user")] == kinds
    assert replayed[2:] == resumed
    assert {"type": "user", "userId": visitor.id} == replayed[3]["author"]


def test_a_users_read_on_one_device_reaches_their_other_stream(server: Server, visitor: Visitor) -> None:
    """The visitor marks the conversation read through the SDK on one device: their stream open on another
    device gets conversation:read with them as its author and their lastRead."""
    conversation = visitor.start().json()["conversation"]["id"]
    with visitor.connect(server.base_url) as other_device:
        frame(other_device)
        assert 200 == visitor.call("POST", f"/conversations/{conversation}/activity",
                                   json={"type": "conversation:read"}).status_code
        read = frame(other_device)
    participant = visitor.sync().json()["conversations"][0]["participant"]
    assert ("conversation:read", {"type": "user", "userId": visitor.id}, participant["lastRead"]) == (
        read["type"], read["author"], read["lastRead"])


def test_nothing_of_another_conversation_reaches_the_stream(server: Server, browserless: httpx.Client,
                                                            account: sc.ApiClient, app_id: str, web: str,
                                                            visitor: Visitor) -> None:
    """Reads, messages and removals in a conversation the visitor is not in never reach their stream: the
    next frame after all of them is the message posted in their own conversation, live and on a replay."""
    mine = visitor.start().json()["conversation"]["id"]
    other = Visitor(browserless, app_id, web)
    theirs = other.start().json()["conversation"]["id"]
    with visitor.connect(server.base_url) as socket:
        ready = frame(socket)
        sent = post(account, app_id, theirs, text("not yours"))
        business_read(account, app_id, theirs)
        other.call("POST", f"/conversations/{theirs}/activity", json={"type": "conversation:read"})
        sc.MessagesApi(account).delete_message(app_id, theirs, sent.id)
        post(account, app_id, mine, text("yours"))
        live = frame(socket)
    with visitor.connect(server.base_url, cursor=ready["cursor"]) as socket:
        frame(socket)
        replayed = frame(socket)
        post(account, app_id, mine, text("yours again"))
        next_one = frame(socket)
    assert [(mine, "yours"), (mine, "yours"), (mine, "yours again")] == [
        (f["conversationId"], f["message"]["content"]["text"]) for f in (live, replayed, next_one)]


def test_removed_messages_show_on_the_stream(server: Server, account: sc.ApiClient, app_id: str,
                                             visitor: Visitor) -> None:
    """DeleteMessage reaches the stream as message:removed naming the message, DeleteAllMessages as
    conversation:cleared; a replay from before them no longer holds the deleted messages, only the removals."""
    conversation = visitor.start().json()["conversation"]["id"]
    with visitor.connect(server.base_url) as socket:
        before = frame(socket)["cursor"]
        first = post(account, app_id, conversation, text("one"))
        post(account, app_id, conversation, text("two"))
        sc.MessagesApi(account).delete_message(app_id, conversation, first.id)
        sc.MessagesApi(account).delete_all_messages(app_id, conversation)
        live = [frame(socket) for _ in range(4)]
    with visitor.connect(server.base_url, cursor=before) as socket:
        frame(socket)
        replayed = [frame(socket) for _ in range(2)]
    assert ["message", "message", "message:removed", "conversation:cleared"] == [f["type"] for f in live]
    assert (first.id, live[3]["conversationId"]) == (live[2]["messageId"], conversation)
    assert [{k: v for k, v in f.items() if k != "cursor"} for f in live[2:]] == [
        {k: v for k, v in f.items() if k != "cursor"} for f in replayed]


def test_a_conversation_left_is_removed_from_the_stream(server: Server, account: sc.ApiClient, app_id: str,
                                                        visitor: Visitor) -> None:
    """LeaveConversation: the visitor's open stream gets conversation:removed, and nothing of the group after it;
    a reconnect with a cursor from before the leave gets the removal first."""
    mine = visitor.start().json()["conversation"]["id"]
    group = make_conversation(account, app_id, sc.UsersApi(account).get_user(app_id, visitor.id).user,
                              kind="sdkGroup").id
    with visitor.connect(server.base_url) as socket:
        frame(socket)
        post(account, app_id, group, text("before"))
        before = frame(socket)
        sc.ParticipantsApi(account).leave_conversation(app_id, group, sc.ParticipantLeaveBody(
            sc.ParticipantLeaveBodyUserId(user_id=visitor.id)))
        removed = frame(socket)
        post(account, app_id, group, text("after leaving"))
        post(account, app_id, mine, text("marker"))
        marker = frame(socket)
    with visitor.connect(server.base_url, cursor=before["cursor"]) as socket:
        frame(socket)
        again = frame(socket)
    assert (["before"], ["marker"]) == (texts([before]), texts([marker]))
    assert ("conversation:removed", group) == (removed["type"], removed["conversationId"])
    assert {k: v for k, v in removed.items() if k != "cursor"} == {k: v for k, v in again.items() if k != "cursor"}


def test_a_deleted_conversation_is_removed_from_the_stream(server: Server, account: sc.ApiClient, app_id: str,
                                                           visitor: Visitor) -> None:
    """DeleteConversation: the open streams of its participants get conversation:removed."""
    visitor.start()
    conversation = make_conversation(account, app_id, sc.UsersApi(account).get_user(app_id, visitor.id).user).id
    with visitor.connect(server.base_url) as socket:
        frame(socket)
        sc.ConversationsApi(account).delete_conversation(app_id, conversation)
        removed = frame(socket)
    assert ("conversation:removed", conversation) == (removed["type"], removed["conversationId"])


def test_a_read_committed_in_one_process_reaches_a_stream_held_by_another(
        server: Server, tmp_path: Path, account: sc.ApiClient, app_id: str, visitor: Visitor) -> None:
    """PostgreSQL, two API processes: the read's statement NOTIFYs `<conversation>:<seq>` as a message's does."""
    arrived = on_another_process(server, tmp_path, visitor,
                                 lambda conversation: business_read(account, app_id, conversation))
    assert ("conversation:read", {"type": "business"}) == (arrived["type"], arrived["author"])


def test_a_cursor_older_than_the_events_kept_is_refused_with_4409(server: Server, account: sc.ApiClient,
                                                                   app_id: str, visitor: Visitor) -> None:
    """A conversation's events are kept 7 days, pruned as it records another: a cursor from before a pruned
    event closes the stream with 4409 (and is a 409 on the long-poll); one from after it resumes as ever."""
    conversation = visitor.start().json()["conversation"]["id"]
    with visitor.connect(server.base_url) as socket:
        old_cursor = frame(socket)["cursor"]
        business_read(account, app_id, conversation)
        kept_cursor = frame(socket)["cursor"]
    events = t.conversation_events
    in_database(server.database_url, events.update().where(events.c.conversation_id == conversation)
                .values(created_at=sa.literal(0)))  # recorded long ago
    business_read(account, app_id, conversation)  # prunes the first read
    with visitor.connect(server.base_url, cursor=old_cursor) as socket, pytest.raises(ConnectionClosed) as closed:
        socket.recv(timeout=10)
    polled = visitor.call("GET", f"/appusers/{visitor.id}/events", params={"cursor": old_cursor, "timeout": "0"})
    with visitor.connect(server.base_url, cursor=kept_cursor) as socket:
        frame(socket)
        resumed = frame(socket)
    assert 4409 == closed.value.rcvd.code  # type: ignore[union-attr]
    assert (409, "conflict") == (polled.status_code, polled.json()["errors"][0]["code"])
    assert ("conversation:read", 1) == (resumed["type"], len(in_database(
        server.database_url, sa.select(events.c.seq).where(events.c.conversation_id == conversation))))


MESSAGES = [  # PostMessage bodies of several kinds, each shown on the stream as the API shows it
    {"author": {"type": "business"}, "content": {"type": "text", "text": "plain"}},
    {"author": {"type": "business"}, "metadata": {"lang": "en", "n": 2},
     "content": {"type": "text", "text": "with actions",
                 "actions": [{"type": "link", "text": "Go", "uri": "https://example.com/go"}]}},
    {"author": {"type": "business"}, "content": {"type": "image", "mediaUrl": "https://example.com/cat.png",
                                                 "altText": "a cat"}},
    {"author": {"type": "business"}, "content": {"type": "text", "text": "card 4111 1111 1111 1111"}},
]


def test_a_stream_sent_the_committed_frame_and_one_that_read_it_see_the_same(
        server: Server, tmp_path: Path, http: httpx.Client, account: sc.ApiClient, app_id: str,
        visitor: Visitor) -> None:
    """A stream connected while messages commit in its process (which may be sent the frames the commits hand
    over: tests/unit/test_tail_direct.py), a stream resumed later from the cursor before them, and (PostgreSQL)
    a stream held by another process, woken by NOTIFY, all see the same frames with the same cursors, a read
    between them (handed over by nothing) and the user's own message included."""
    conversation = visitor.start().json()["conversation"]["id"]
    other = Process("serve", database_url=server.database_url, data_dir=tmp_path, account_key=server.account_key) \
        if server.engine == "postgresql" else None
    try:
        with contextlib.ExitStack() as stack:
            live = stack.enter_context(visitor.connect(server.base_url))
            before = frame(live)["cursor"]
            far = None if other is None else stack.enter_context(visitor.connect(other.base_url))
            if far is not None:
                frame(far)
            seen, seen_far = [], []
            for n, body in enumerate([*MESSAGES, None, "mine"]):
                if body is None:
                    business_read(account, app_id, conversation)
                elif body == "mine":
                    visitor.say(conversation, "from the user")
                else:
                    response = http.post(f"/v2/apps/{app_id}/conversations/{conversation}/messages", json=body)
                    assert 201 == response.status_code, (n, response.text)
                seen.append(frame(live))
                if far is not None:
                    seen_far.append(frame(far))
        with visitor.connect(server.base_url, cursor=before) as socket:
            frame(socket)
            replayed = [frame(socket) for _ in seen]
    finally:
        if other is not None:
            other.stop()
    assert replayed == seen
    assert ([] if other is None else seen) == seen_far
    assert (["message"] * 4 + ["conversation:read", "message"], "card **** **** **** 1111") == (
        [f["type"] for f in seen], seen[3]["message"]["content"]["text"])


def test_another_participant_joining_and_leaving_shows_on_the_stream(
        server: Server, account: sc.ApiClient, app_id: str, visitor: Visitor) -> None:
    """JoinConversation and LeaveConversation of another user in the visitor's group: participant:added and
    participant:removed, live with their cursors, in order with the messages, and again from a cursor before."""
    visitor.start()
    users = sc.UsersApi(account)
    group = make_conversation(account, app_id, users.get_user(app_id, visitor.id).user, kind="sdkGroup").id
    other = users.create_user(app_id, sc.UserCreateBody(external_id="joiner-" + visitor.id)).user.id
    with visitor.connect(server.base_url) as socket:
        first = frame(socket)["cursor"]
        sc.ParticipantsApi(account).join_conversation(app_id, group, sc.ParticipantJoinBody(
            user_id=other, subscribe_sdk_client=False))
        post(account, app_id, group, text("welcome"))
        sc.ParticipantsApi(account).leave_conversation(app_id, group, sc.ParticipantLeaveBody(
            sc.ParticipantLeaveBodyUserId(user_id=other)))
        live = [frame(socket) for _ in range(3)]
    with visitor.connect(server.base_url, cursor=first) as socket:
        frame(socket)
        again = [frame(socket) for _ in range(3)]
    assert ["participant:added", "message", "participant:removed"] == [f["type"] for f in live]
    assert [{"conversationId": group, "userId": other}] * 2 == [
        {k: f[k] for k in ("conversationId", "userId")} for f in (live[0], live[2])]
    assert live == again
