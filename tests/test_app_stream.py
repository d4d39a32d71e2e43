"""Socket mode (docs/socket-mode.md) on a live server, both engines: a webhook whose target is
https://socket.invalid gets its events over the app's WebSocket, with the body its POST would carry, in
order, at least once (an unacknowledged event comes again after a reconnect, an acknowledged one never),
one socket per webhook; ordinary webhooks are unaffected; refusals get their close codes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import sqlalchemy as sa
import sunshine_conversations_client as sc
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from heliograph.realtime.sockets import Sockets
from heliograph.store import deliveries, outbox
from heliograph.store import tables as t
from heliograph.store.db import Database
from tests.apps import new_app, new_key
from tests.conftest import Server
from tests.end_users import auth_protocol
from tests.factories import IDS, make_app, make_custom
from tests.integrations import custom_integration
from tests.receiver import Receiver
from tests.servers import Process
from tests.utils import eventually, in_database, make_conversation, make_user, post, text, with_database

PROTOCOL = "heliograph.v1"
SOCKET = "https://socket.invalid"
TRIGGERS = ["conversation:message"]


def open_socket(server: Server, app_id: str, webhook_id: str | None, *,
                protocols: list[str] | None = None) -> ClientConnection:
    url = server.base_url.replace("http", "ws", 1) + f"/sdk/v2/apps/{app_id}/stream"
    if webhook_id is not None:
        url += f"?webhookId={webhook_id}"
    offered = [PROTOCOL, auth_protocol(*server.account_key)] if protocols is None else protocols
    return connect(url, subprotocols=offered, open_timeout=10, max_queue=None)  # type: ignore[arg-type]


def frame(socket: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    """The next frame but heartbeats."""
    while True:
        received = dict(json.loads(socket.recv(timeout=timeout)))
        if received["type"] != "ping":
            return received


def ready(socket: ClientConnection) -> dict[str, Any]:
    first = frame(socket)
    assert "ready" == first["type"], first
    return first


def events(socket: ClientConnection, count: int) -> list[dict[str, Any]]:
    frames = [frame(socket) for _ in range(count)]
    assert ["event"] * count == [f["type"] for f in frames], frames
    return frames


def said(frames: list[dict[str, Any]]) -> list[str]:
    return [f["body"]["events"][0]["payload"]["message"]["content"]["text"] for f in frames]


def ack(socket: ClientConnection, frames: list[dict[str, Any]]) -> None:
    """Acknowledge these events and wait until the server says it stored that."""
    seqs = sorted(f["seq"] for f in frames)
    socket.send(json.dumps({"type": "ack", "seq": seqs}))
    assert {"type": "acked", "seq": seqs} == frame(socket)


def closed_with(socket: ClientConnection) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            socket.recv(timeout=10)
    return closed.value.rcvd.code  # type: ignore[union-attr]


class Chat:
    """A user's personal conversation in the app, where the user speaks through the v2 API."""

    def __init__(self, account: sc.ApiClient, app_id: str) -> None:
        self.account, self.app_id = account, app_id
        self.user = make_user(account, app_id, external_id=f"u-{time.monotonic_ns()}")
        self.id = make_conversation(account, app_id, self.user).id

    def say(self, *words: str) -> None:
        for word in words:
            post(self.account, self.app_id, self.id, text(word), author=sc.Author(type="user", user_id=self.user.id))


@pytest.fixture
def hook(account: sc.ApiClient, app_id: str) -> str:
    """A socket-mode webhook of the app (a custom integration's), for user messages."""
    return str(custom_integration(account, app_id, SOCKET, TRIGGERS)[1].id)


@pytest.fixture
def chat(account: sc.ApiClient, app_id: str) -> Chat:
    return Chat(account, app_id)


def statuses(server: Server, webhook_id: str) -> list[tuple[str, int, bool]]:
    """(status, attempts, finished) of the webhook's deliveries, oldest first, as stored."""
    d = t.deliveries
    rows = in_database(server.database_url, sa.select(d.c.status, d.c.attempts, d.c.finished_at)
                       .where(d.c.webhook_id == webhook_id).order_by(d.c.seq))
    return [(row.status, row.attempts, row.finished_at is not None) for row in rows]


def test_a_user_message_arrives_with_the_body_a_webhook_gets(server: Server, account: sc.ApiClient, app_id: str,
                                                             receiver: Receiver, chat: Chat) -> None:
    """The same event reaches an ordinary webhook by POST and a socket-mode webhook over the socket, with the
    same body but the webhook's id (both with includeFullUser and includeFullSource)."""
    full = {"include_full_user": True, "include_full_source": True}
    socket_hook = custom_integration(account, app_id, SOCKET + "/bot", TRIGGERS, **full)[1].id
    http_hook = custom_integration(account, app_id, receiver.url, TRIGGERS, **full)[1].id
    with open_socket(server, app_id, socket_hook) as socket:
        opened = ready(socket)
        chat.say("Hello?")
        [arrived] = events(socket, 1)
        ack(socket, [arrived])
    [posted] = receiver.wait_for(lambda received: len(received) == 1)
    assert {"type": "ready", "webhookId": socket_hook, "window": 100, "heartbeatMs": 25000} == opened
    assert {"app": {"id": app_id}, "webhook": {"id": socket_hook, "version": "v2"}, "events": [posted]} == \
        arrived["body"]
    assert (chat.user.external_id, "Hello?") == (posted["payload"]["message"]["author"]["user"]["externalId"],
                                                 said([arrived])[0])
    assert http_hook == receiver.requests[0].body["webhook"]["id"]


def test_events_committed_while_away_arrive_in_order_on_connecting(server: Server, app_id: str, hook: str,
                                                                    chat: Chat) -> None:
    """What was committed with no socket connected waits (held, never attempted) and comes, in commit order,
    when one connects; new events follow live."""
    chat.say("one", "two", "three")
    waiting = statuses(server, hook)
    with open_socket(server, app_id, hook) as socket:
        ready(socket)
        backlog = events(socket, 3)
        chat.say("four")
        live = events(socket, 1)
        ack(socket, backlog + live)
    assert [("held", 0, False)] * 3 == waiting
    assert (["one", "two", "three"], ["four"]) == (said(backlog), said(live))
    assert [("delivered", 1, True)] * 4 == statuses(server, hook)


def test_an_unacknowledged_event_comes_again_and_an_acknowledged_one_never(server: Server, app_id: str, hook: str,
                                                                          chat: Chat) -> None:
    """At least once: after a reconnect the socket sends again what was sent and not acknowledged (with
    the same seq), and nothing that was."""
    chat.say("one", "two")
    with open_socket(server, app_id, hook) as socket:
        ready(socket)
        first = events(socket, 2)
        ack(socket, first[:1])
    chat.say("three")
    with open_socket(server, app_id, hook) as socket:
        ready(socket)
        second = events(socket, 2)
        ack(socket, second)
    with open_socket(server, app_id, hook) as socket:
        ready(socket)
        chat.say("four")
        third = events(socket, 1)
    assert (["two", "three"], first[1]["seq"]) == (said(second), second[0]["seq"])
    assert ["four"] == said(third)
    assert ["delivered", "delivered", "delivered", "held"] == [status for status, *_ in statuses(server, hook)]


def test_an_ack_frame_may_name_one_seq_and_repeating_it_changes_nothing(server: Server, app_id: str, hook: str,
                                                                         chat: Chat) -> None:
    """`seq` may be one number; acknowledging again, or a seq that is not this webhook's, is confirmed and
    changes nothing."""
    chat.say("one")
    with open_socket(server, app_id, hook) as socket:
        ready(socket)
        [one] = events(socket, 1)
        socket.send(json.dumps({"type": "ack", "seq": one["seq"]}))
        confirmed = frame(socket)
        socket.send(json.dumps({"type": "ack", "seq": [one["seq"], one["seq"] + 1000]}))
        again = frame(socket)
    assert ({"type": "acked", "seq": [one["seq"]]}, [("delivered", 1, True)]) == (confirmed, statuses(server, hook))
    assert [one["seq"], one["seq"] + 1000] == again["seq"]


def test_no_more_than_the_window_is_in_flight(server: Server, account: sc.ApiClient, app_id: str, hook: str,
                                             chat: Chat) -> None:
    """A slow client has at most 100 events unacknowledged: the 101st comes only after an ack."""
    chat.say(*[f"m{n}" for n in range(101)])
    with open_socket(server, app_id, hook) as socket:
        window = ready(socket)["window"]
        first = events(socket, 100)
        socket.send(json.dumps({"type": "ack", "seq": first[0]["seq"]}))
        after = [frame(socket), frame(socket)]
    assert (100, [f"m{n}" for n in range(100)]) == (window, said(first))
    assert (["acked", "event"], ["m100"]) == ([f["type"] for f in after], said(after[1:]))


def test_a_second_socket_replaces_the_first(server: Server, app_id: str, hook: str, chat: Chat) -> None:
    """One socket per webhook: a new connection closes the older one with 4409, and events go to the new."""
    with open_socket(server, app_id, hook) as older:
        ready(older)
        with open_socket(server, app_id, hook) as newer:
            ready(newer)
            code = closed_with(older)
            chat.say("to the newer")
            arrived = events(newer, 1)
    assert (4409, ["to the newer"]) == (code, said(arrived))


def test_the_dispatcher_never_posts_to_the_reserved_target(server: Server, http: httpx.Client, account: sc.ApiClient,
                                                           app_id: str, hook: str, receiver: Receiver,
                                                           chat: Chat) -> None:
    """An ordinary webhook of the same app gets its POSTs as before; the socket-mode webhook's deliveries stay
    held, never attempted, and the admin listing shows them as such (and filters on `held`)."""
    custom_integration(account, app_id, receiver.url, TRIGGERS)
    chat.say("one", "two")
    receiver.wait_for(lambda received: len(received) == 2)
    listed = http.get(f"/admin/webhooks/{hook}/deliveries", params={"status": "held"}).json()["deliveries"]
    attempts = in_database(server.database_url, sa.select(sa.func.count()).select_from(
        t.delivery_attempts.join(t.deliveries)).where(t.deliveries.c.webhook_id == hook))[0][0]
    assert (["held", "held"], 0) == ([d["status"] for d in listed], attempts)
    assert [("held", 0, False)] * 2 == statuses(server, hook)


def test_a_redelivered_event_comes_to_the_socket_again(server: Server, http: httpx.Client, app_id: str, hook: str,
                                                        chat: Chat) -> None:
    """Redelivering an acknowledged delivery of a socket-mode webhook holds it again for the socket (the
    dispatcher does not take it) and wakes the connected socket."""
    chat.say("one")
    with open_socket(server, app_id, hook) as socket:
        ready(socket)
        [one] = events(socket, 1)
        ack(socket, [one])
        redelivered = http.post(f"/admin/deliveries/{one['seq']}/redeliver").json()["delivery"]
        [again] = events(socket, 1)
    assert ("held", one["seq"], one["body"]) == (redelivered["status"], again["seq"], again["body"])


def test_an_app_key_and_a_jwt_open_the_socket(server: Server, account: sc.ApiClient, app_id: str, hook: str,
                                              chat: Chat) -> None:
    """An app key of the app, as Basic (`auth.`) or as the `kid` of an app-scoped JWT (`bearer.`)."""
    key = new_key(account, app_id)
    token = jwt.encode({"scope": "app"}, key.secret, algorithm="HS256", headers={"kid": key.id})
    chat.say("one")
    seen = []
    for credentials in (auth_protocol(key.id, key.secret), f"bearer.{token}"):
        with open_socket(server, app_id, hook, protocols=[PROTOCOL, credentials]) as socket:
            ready(socket)
            seen += said(events(socket, 1))
    assert ["one", "one"] == seen


@pytest.mark.parametrize(("case", "code"), [
    ("no credentials", 4401), ("wrong secret", 4401), ("malformed credentials", 4401),
    ("another app's key", 4403), ("an integration key", 4403), ("unknown webhook", 4404),
    ("another app's webhook", 4404),
    ("an ordinary webhook", 4400), ("no webhook named", 4400), ("no protocol", 4400),
])
def test_refusals_close_with_their_code(server: Server, account: sc.ApiClient, app_id: str, hook: str,
                                        case: str, code: int) -> None:
    """Each refusal closes the socket with its documented code (an integration key is refused too: socket mode
    is the app's), before anything is sent."""
    other_app = new_app(account).id
    other_key = new_key(account, other_app)
    key_id, secret = server.account_key
    integration_id, ordinary_hook = custom_integration(account, app_id, "https://example.com/hook", TRIGGERS)
    ordinary = ordinary_hook.id
    integration_key = sc.CustomIntegrationApiKeysApi(account).create_custom_integration_key(
        app_id, integration_id, sc.IntegrationApiKey(display_name="Bot key")).key
    foreign_hook = custom_integration(account, other_app, SOCKET, TRIGGERS)[1].id
    arguments: dict[str, Any] = {
        "no credentials": {"protocols": [PROTOCOL]},
        "wrong secret": {"protocols": [PROTOCOL, auth_protocol(key_id, secret + "x")]},
        "malformed credentials": {"protocols": [PROTOCOL, "auth.%%%"]},
        "another app's key": {"protocols": [PROTOCOL, auth_protocol(other_key.id, other_key.secret)]},
        "an integration key": {"protocols": [PROTOCOL, auth_protocol(integration_key.id, integration_key.secret)]},
        "unknown webhook": {"webhook_id": "5f0000000000000000000000"},
        "another app's webhook": {"webhook_id": foreign_hook},
        "an ordinary webhook": {"webhook_id": ordinary},
        "no webhook named": {"webhook_id": None},
        "no protocol": {"protocols": [auth_protocol(key_id, secret)]},
    }[case]
    webhook_id = arguments.pop("webhook_id", hook)
    with open_socket(server, app_id, webhook_id, **arguments) as socket:
        assert code == closed_with(socket)


@pytest.mark.parametrize("sent", [
    "not json", json.dumps(["ack", 1]), json.dumps({"type": "hello"}), json.dumps({"type": "ack", "seq": "1"}),
    json.dumps({"type": "ack", "seq": []}), json.dumps({"type": "ack", "seq": [True]}),
    json.dumps({"type": "ack", "seq": [-1]}),
])
def test_a_malformed_frame_closes_with_4400_and_acknowledges_nothing(server: Server, app_id: str, hook: str,
                                                                    chat: Chat, sent: str) -> None:
    """Not JSON, not an object, an unknown type, or an ack without 1 to 1000 positive integer seqs: 4400, and the
    event sent stays held."""
    chat.say("one")
    with open_socket(server, app_id, hook) as socket:
        ready(socket)
        events(socket, 1)
        socket.send(sent)
        code = closed_with(socket)
    assert (4400, [("held", 0, False)]) == (code, statuses(server, hook))


@pytest.fixture
def second_process(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """PostgreSQL: another API process on the same database; its base URL."""
    if server.engine != "postgresql":
        pytest.skip("one process serves a SQLite database")
    other = Process("serve", database_url=server.database_url, data_dir=tmp_path_factory.mktemp("other"),
                    account_key=server.account_key)
    try:
        yield other.base_url
    finally:
        other.stop()
        assert "" == other.tracebacks()


def test_across_processes_a_commit_wakes_the_socket_and_a_newer_socket_replaces_the_older(
        server: Server, second_process: str, app_id: str, hook: str, chat: Chat) -> None:
    """PostgreSQL, two API processes: a message posted to one reaches a socket held by the other (NOTIFY on
    the one LISTEN connection), and a socket opened on one closes the older one held by the other."""
    elsewhere = Server(server.engine, second_process, server.database_url, server.account_key)
    with open_socket(elsewhere, app_id, hook) as older:
        ready(older)
        chat.say("across")
        arrived = events(older, 1)
        with open_socket(server, app_id, hook) as newer:
            ready(newer)
            code = closed_with(older)
            again = events(newer, 1)
    assert (["across"], 4409, arrived[0]["seq"]) == (said(arrived), code, again[0]["seq"])


BOT = Path(__file__).resolve().parent.parent / "examples" / "socket_bot.py"


def run_bot(server: Server, app_id: str) -> subprocess.Popen[str]:
    """examples/socket_bot.py with the account key, once it says it is connected."""
    key_id, secret = server.account_key
    process = subprocess.Popen([sys.executable, str(BOT), "--url", server.base_url, "--app", app_id,
                                "--key-id", key_id, f"--secret={secret}"], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    assert process.stdout.readline().startswith("Socket bot connected: webhook ")
    return process


def stop_bot(process: subprocess.Popen[str]) -> int:
    process.terminate()
    code = process.wait(timeout=20)
    if process.stdout is not None:
        process.stdout.close()
    return code


def texts_of(http: httpx.Client, app_id: str, conversation_id: str) -> list[tuple[str, str]]:
    found = http.get(f"/v2/apps/{app_id}/conversations/{conversation_id}/messages").json()["messages"]
    return [(m["author"]["type"], m["content"].get("text", "")) for m in found]


def test_the_socket_bot_example_answers_and_catches_up_after_a_restart(
        server: Server, http: httpx.Client, app_id: str, chat: Chat) -> None:
    """examples/socket_bot.py, run as a user would: it answers a user's message through the official SDK, and
    a message written while it was stopped is answered when it comes back (its webhook held the event)."""
    bot = run_bot(server, app_id)
    try:
        chat.say("Is anyone there?")
        answered = eventually(lambda: ("business", "You said: Is anyone there?") in texts_of(http, app_id, chat.id),
                              attempts=3000)
    finally:
        stopped = stop_bot(bot)
    chat.say("Back yet?")
    bot = run_bot(server, app_id)
    try:
        eventually(lambda: ("business", "You said: Back yet?") in texts_of(http, app_id, chat.id), attempts=3000)
    finally:
        stop_bot(bot)
    assert (True, 0) == (answered, stopped)
    assert [("user", "Is anyone there?"), ("business", "You said: Is anyone there?"), ("user", "Back yet?"),
            ("business", "You said: Back yet?")] == texts_of(http, app_id, chat.id)


# --- without a server: the outbox's choice and the registry -------------------------------------------------

def test_emit_holds_a_socket_webhooks_delivery_and_wakes_its_sockets_not_the_dispatcher(
        empty_database_url: str) -> None:
    """The outbox stores a socket-mode webhook's delivery `held` (the dispatcher claims pending rows only) and,
    once committed, tells the webhook's sockets (`!<webhook id>`); the dispatcher is woken only by a commit
    that has pending deliveries too."""
    async def scenario(db: Database) -> Any:
        woken: list[str] = []
        heard: list[list[str]] = []
        db.on_outbox_commit(lambda: woken.append("dispatcher"))
        db.on_stream_commit(heard.append)
        async with db.write() as conn:
            app_id = (await make_app(conn))["id"]
            held = (await make_custom(conn, app_id, "held", target=SOCKET, triggers=TRIGGERS))["webhooks"][0]["id"]
        async with db.write() as conn:
            await outbox.emit(conn, ids=IDS, app_id=app_id, type=TRIGGERS[0], lane="c1", payload={"n": 1})
        only_held = (list(woken), list(heard))
        async with db.write() as conn:
            await make_custom(conn, app_id, "posted", target="https://example.com/hook", triggers=TRIGGERS)
        async with db.write() as conn:
            await outbox.emit(conn, ids=IDS, app_id=app_id, type=TRIGGERS[0], lane="c1", payload={"n": 2})
        d, w = t.deliveries, t.webhooks
        async with db.read() as conn:
            rows = await conn.execute(sa.select(w.c.target, d.c.status).join(w).order_by(d.c.seq))
            claimed = await db.transact(lambda: deliveries.claim_plan(now=IDS.clock() + 1, lease_ms=1000, limit=10))
            return held, only_held, (woken, heard), [tuple(row) for row in rows], [c.target for c in claimed]

    held, only_held, both, statuses_, claimed = with_database(empty_database_url, scenario)
    assert ([], [[f"!{held}"]]) == only_held
    assert (["dispatcher"], [[f"!{held}"], [f"!{held}"]]) == both
    assert [(SOCKET, "held"), (SOCKET, "held"), ("https://example.com/hook", "pending")] == statuses_
    assert ["https://example.com/hook"] == claimed


@pytest.mark.parametrize(("target", "held"), [
    ("https://socket.invalid", True), ("https://socket.invalid/bot-1", True), ("HTTPS://Socket.Invalid/x", True),
    ("https://socket.invalid.example.com/", False), ("https://socket.invalidx", False),
    ("http://socket.invalid", False), ("https://example.com/https://socket.invalid", False),
])
def test_the_reserved_target_is_socket_invalid_and_paths_under_it(target: str, held: bool) -> None:
    """https://socket.invalid and any path under it (any case) are socket mode; no other host or scheme is."""
    assert held == deliveries.held_by_socket(target)


def test_a_newer_socket_replaces_an_older_one_whichever_notice_comes_first() -> None:
    """Of two sockets of a webhook, the one with the later token wins: hearing an older token (or a plain
    wake-up, or the end users' notices) replaces nobody; every socket of the webhook is woken."""
    sockets = Sockets()
    older, newer = sockets.attach("w1", "0001"), sockets.attach("w1", "0002")
    other = sockets.attach("w2", "0003")
    sockets.heard(["!w1:0001", "!w1", "c1:5", "@u1:c1"])
    before = (older.replaced, newer.replaced, older.event.is_set(), other.event.is_set())
    sockets.heard_one("!w1:0002")
    sockets.detach(older)
    sockets.detach(older)  # twice changes nothing
    assert ((False, False, True, False), (True, False), 2) == (before, (older.replaced, newer.replaced), len(sockets))
