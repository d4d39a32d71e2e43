"""What happens at a stream's heartbeat (docs/end-users.md §4, docs/socket-mode.md §2), on a live server of
each engine started with HELIOGRAPH_STREAM_HEARTBEAT=0.3: pings come at the heartbeat, and a session that
ended while connected without a notice saying so (ended in the database, an expired user JWT) closes the
WebSocket with 4401, ends the SSE stream with
`event: closed` and answers a waiting long-poll with 401; an app socket whose webhook or key is gone closes
with its documented code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import sunshine_conversations_client as sc
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from heliograph.config import Settings
from heliograph.store.tables import sdk_sessions
from tests.apps import new_key
from tests.conftest import WAIT, Server, quick_heartbeat_server, sdk_client
from tests.end_users import (
    PROTOCOL,
    SHOP,
    SignedIn,
    Visitor,
    auth_protocol,
    basic,
    frame,
    frames_until_closed,
    log_in,
    user_jwt,
)
from tests.integrations import custom_integration
from tests.servers import free_port
from tests.spec import SpecChecker
from tests.utils import in_database, make_conversation, make_user, post, text

SOCKET = "https://socket.invalid"
TRIGGERS = ["conversation:message"]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """This module's own server of each engine (in place of the suite's): a heartbeat every 0.3 s."""
    yield from quick_heartbeat_server(request.param, tmp_path_factory.mktemp(f"heartbeat-{request.param}"))


def end_quietly(server: Server, visitor: Visitor) -> None:
    """End the visitor's sessions without the notice that would close their streams at once (as when a
    notice from another process is lost, or the app goes with its users): the heartbeat's check finds it."""
    in_database(server.database_url, sa.delete(sdk_sessions).where(sdk_sessions.c.user_id == visitor.id))


# --- the setting ---------------------------------------------------------------------------------------

def heartbeat_of(value: str | None) -> float:
    env = {"HELIOGRAPH_DATA_DIR": "/tmp/heliograph-config-test"}
    if value is not None:
        env["HELIOGRAPH_STREAM_HEARTBEAT"] = value
    return Settings.from_env(env).stream_heartbeat


def test_the_heartbeat_is_25_seconds_unless_told_otherwise() -> None:
    """HELIOGRAPH_STREAM_HEARTBEAT: seconds, fractions allowed; unset or empty, 25."""
    assert [25.0, 25.0, 0.3, 60.0] == [heartbeat_of(None), heartbeat_of(""), heartbeat_of("0.3"),
                                       heartbeat_of("60")]


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "soon"])
def test_a_heartbeat_that_is_not_a_positive_number_of_seconds_is_refused(value: str) -> None:
    """0, a negative, NaN, infinity or no number at all: refused with a message naming the setting."""
    with pytest.raises(ValueError, match="HELIOGRAPH_STREAM_HEARTBEAT must be a number of seconds more than 0"):
        heartbeat_of(value)


def test_a_server_with_a_bad_heartbeat_does_not_start_and_says_why(tmp_path: Path) -> None:
    """`heliograph serve` with HELIOGRAPH_STREAM_HEARTBEAT=0 exits at once, naming the setting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELIOGRAPH_")}
    env.update({"HELIOGRAPH_DATA_DIR": str(tmp_path), "HELIOGRAPH_STREAM_HEARTBEAT": "0"})
    done = subprocess.run([sys.executable, "-m", "heliograph.cli", "serve", "--port", str(free_port())], env=env,
                          capture_output=True, text=True, timeout=60)
    assert (True, True) == (done.returncode != 0, "HELIOGRAPH_STREAM_HEARTBEAT must be a number of seconds more "
                                                  "than 0, not '0'" in done.stderr), done.stderr


# --- an end user's WebSocket -------------------------------------------------------------------------

def test_pings_come_at_the_heartbeat_and_a_session_ended_quietly_closes_the_stream_with_4401(
        server: Server, visitor: Visitor) -> None:
    """`ready` says the heartbeat (300 ms), pings follow each quiet heartbeat; once the session has ended
    without a notice, the next heartbeat's check closes the stream with 4401 (pings before it at most)."""
    visitor.start()
    with visitor.connect(server.base_url) as socket:
        ready = frame(socket)
        pings = [frame(socket, timeout=WAIT)["type"] for _ in range(2)]
        socket.send(json.dumps({"type": "pong"}))
        end_quietly(server, visitor)
        kinds, code, reason = frames_until_closed(socket)
    assert ("ready", 300, ["ping", "ping"]) == (ready["type"], ready["heartbeatMs"], pings)
    assert (4401, "The session has ended") == (code, reason)
    assert set(kinds) <= {"ping"}


def test_a_stream_too_busy_to_be_quiet_still_closes_with_4401_when_its_session_ends_quietly(
        server: Server, account: sc.ApiClient, app_id: str, visitor: Visitor) -> None:
    """The session is checked once a heartbeat whether or not the stream is quiet: with a business message
    arriving every few milliseconds after the session ended, the stream still closes with 4401."""
    conversation = visitor.start().json()["conversation"]["id"]
    with visitor.connect(server.base_url) as socket:
        frame(socket)
        end_quietly(server, visitor)
        deadline = time.monotonic() + WAIT
        with pytest.raises(ConnectionClosed) as closed:
            while time.monotonic() < deadline:
                post(account, app_id, conversation, text("are you there?"))
                socket.recv(timeout=WAIT)
    assert 4401 == closed.value.rcvd.code  # type: ignore[union-attr]


def test_an_identified_users_stream_closes_with_4401_when_the_jwt_expires(
        server: Server, account: sc.ApiClient, browserless: httpx.Client, app_id: str, web: str) -> None:
    """A session opened with a user JWT ends with it: the stream open when `exp` passes closes with 4401 at the
    next heartbeat."""
    expires = time.time() + 2
    token = user_jwt(new_key(account, app_id), external_id="ana", exp=expires)
    signed = log_in(browserless, app_id, token, integrationId=web).json()
    user_id, session = signed["user"]["id"], signed["sessionToken"]
    with SignedIn(browserless, app_id, user_id, session).connect(server.base_url) as socket:
        ready = frame(socket)
        kinds, code, reason = frames_until_closed(socket)
        closed_at = time.time()
    assert ("ready", 4401, "The session has expired with the user JWT it was opened with: log in again") == (
        ready["type"], code, reason)
    assert (True, True) == (closed_at >= expires, set(kinds) <= {"ping"})


# --- the fallbacks -------------------------------------------------------------------------------------

def test_sse_pings_at_the_heartbeat_and_ends_with_closed_when_its_session_ends(server: Server, app_id: str,
                                                                                 visitor: Visitor) -> None:
    """The SSE stream sends `: ping` at each quiet heartbeat; once its session has ended (quietly: the heartbeat's
    check finds it) its last event is `closed` with code 4401, and the answer ends."""
    visitor.start()
    url = f"/sdk/v2/apps/{app_id}/appusers/{visitor.id}/events"
    headers = {"accept": "text/event-stream", **basic(visitor.id, visitor.token)}
    with visitor.client.stream("GET", url, headers=headers) as response:
        lines = response.iter_lines()
        before = []
        for line in lines:  # up to the first heartbeat comment
            if line == ": ping":
                break
            before.append(line)
        end_quietly(server, visitor)
        after = [line for line in lines if line and line != ": ping"]  # to the end of the answer
    assert (200, True) == (response.status_code, "event: ready" in before)
    assert ("event: closed", 2) == (after[0], len(after))
    assert {"type": "closed", "code": 4401, "reason": "The session has ended"} == json.loads(
        after[1].removeprefix("data: "))


def test_a_long_poll_waiting_when_the_session_ends_answers_401(server: Server, visitor: Visitor) -> None:
    """A long-poll waiting for frames (timeout 25 s) when its session ends (quietly) answers at the next
    heartbeat 401 in the spec's envelope ("The session has ended"), not 200 after its timeout; a poll after that
    is a 401 too. (Should the ending overtake the first poll on its way in, that poll is refused when it signs
    in: a 401 as well, so the test holds either way.)"""
    visitor.start()
    cursor = visitor.call("GET", f"/appusers/{visitor.id}/events", params={"timeout": "0"}).json()["cursor"]
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(visitor.call, "GET", f"/appusers/{visitor.id}/events",
                              params={"cursor": cursor, "timeout": "25"}, timeout=WAIT)
        end_quietly(server, visitor)
        answer = waiting.result(timeout=WAIT)
    after = visitor.call("GET", f"/appusers/{visitor.id}/events", params={"cursor": cursor, "timeout": "0"})
    assert [(401, "unauthorized")] * 2 == [(r.status_code, r.json()["errors"][0]["code"]) for r in (answer, after)]
    assert SHOP == answer.headers["access-control-allow-origin"]


# --- an app's socket -------------------------------------------------------------------------------------

def open_socket(server: Server, app_id: str, webhook_id: str, credentials: tuple[str, str]) -> ClientConnection:
    url = server.base_url.replace("http", "ws", 1) + f"/sdk/v2/apps/{app_id}/stream?webhookId={webhook_id}"
    return connect(url, subprotocols=[PROTOCOL, auth_protocol(*credentials)], open_timeout=WAIT)  # type: ignore[list-item]


@pytest.mark.parametrize(("change", "code"), [
    ("delete the webhook", 4404), ("delete the key", 4401), ("give the webhook a URL", 4400)])
def test_an_app_socket_closes_at_the_heartbeat_once_its_webhook_or_key_is_gone(
        server: Server, checker: SpecChecker, account: sc.ApiClient, app_id: str, change: str, code: int) -> None:
    """The socket's credentials and webhook are checked again at each heartbeat: a webhook deleted (4404), the
    app key it signed in with deleted (4401), or its webhook's target made a real URL (4400) closes it."""
    key = new_key(account, app_id)
    webhooks = sc.WebhooksApi(sdk_client(server, checker, key.id, key.secret))  # webhooks take an app key
    integration_id, _ = custom_integration(account, app_id, SOCKET, TRIGGERS)  # its first webhook, kept
    hook = webhooks.create_webhook(app_id, integration_id,
                                   sc.WebhookCreateBody(target=SOCKET, triggers=TRIGGERS)).webhook
    with open_socket(server, app_id, hook.id, (key.id, key.secret)) as socket:
        ready = json.loads(socket.recv(timeout=WAIT))
        ping = json.loads(socket.recv(timeout=WAIT))
        act: dict[str, Any] = {
            "delete the webhook": lambda: webhooks.delete_webhook(app_id, integration_id, hook.id),
            "delete the key": lambda: sc.AppKeysApi(account).delete_app_key(app_id, key.id),
            "give the webhook a URL": lambda: webhooks.update_webhook(
                app_id, integration_id, hook.id, sc.WebhookBody(target="https://example.com/hook")),
        }
        act[change]()
        kinds, closed, _ = frames_until_closed(socket)
    assert (300, "ping", code) == (ready["heartbeatMs"], ping["type"], closed)
    assert set(kinds) <= {"ping"}


def test_an_app_socket_too_busy_to_be_quiet_is_checked_at_the_heartbeat_too(
        server: Server, account: sc.ApiClient, app_id: str) -> None:
    """With an event (acknowledged at once) every few milliseconds the socket is never quiet, and still the key
    it signed in with is checked once a heartbeat: deleted, the socket closes with 4401."""
    key = new_key(account, app_id)
    _, hook = custom_integration(account, app_id, SOCKET, TRIGGERS)
    user = make_user(account, app_id, external_id="busy")
    conversation = make_conversation(account, app_id, user).id
    with open_socket(server, app_id, hook.id, (key.id, key.secret)) as socket:
        json.loads(socket.recv(timeout=WAIT))  # ready
        sc.AppKeysApi(account).delete_app_key(app_id, key.id)
        deadline = time.monotonic() + WAIT
        with pytest.raises(ConnectionClosed) as closed:
            while time.monotonic() < deadline:
                post(account, app_id, conversation, text("busy"), author=sc.Author(type="user", user_id=user.id))
                while (sent := json.loads(socket.recv(timeout=WAIT)))["type"] != "event":
                    pass
                socket.send(json.dumps({"type": "ack", "seq": sent["seq"]}))
    assert 4401 == closed.value.rcvd.code  # type: ignore[union-attr]
