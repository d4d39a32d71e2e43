"""A session that ends closes its streams at once, in every process (docs/end-users.md §4): a logout from
another tab, a login that hands the anonymous user over or merges it into the identified one, DeleteUser.
The suite's servers have the 25-second heartbeat, whose check would close them only later: each of these
closes within WAIT (10 s), with 4401 and a reason that says what happened. A merge also hands the anonymous
user's conversation to the identified user's streams that are open elsewhere."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import sunshine_conversations_client as sc

from heliograph.services.stream import DELETED, LOGGED_IN, LOGGED_OUT, MERGED
from tests.apps import new_key
from tests.conftest import WAIT, Server
from tests.end_users import SignedIn, Visitor, basic, frame, frames_until_closed, log_in, texts, user_jwt
from tests.servers import Process


def log_out(visitor: Visitor) -> None:
    response = visitor.call("POST", f"/appusers/{visitor.id}/logout")
    assert 200 == response.status_code, response.text


@pytest.fixture
def app_key(account: sc.ApiClient, app_id: str) -> sc.AppKey:
    return new_key(account, app_id)


def test_a_logout_from_another_tab_closes_the_stream_at_once(server: Server, visitor: Visitor) -> None:
    visitor.start()
    with visitor.connect(server.base_url) as socket:
        frame(socket)
        log_out(visitor)
        kinds, code, reason = frames_until_closed(socket, WAIT)
    assert ([], 4401, LOGGED_OUT) == (kinds, code, reason)


def test_a_logout_ends_the_sse_stream_at_once(app_id: str, visitor: Visitor) -> None:
    """The SSE fallback's last event is `closed` with 4401 and the reason, and the answer ends."""
    visitor.start()
    headers = {"accept": "text/event-stream", **basic(visitor.id, visitor.token)}
    with visitor.client.stream("GET", f"/sdk/v2/apps/{app_id}/appusers/{visitor.id}/events", headers=headers,
                               timeout=WAIT) as response:
        lines = (line for line in response.iter_lines() if line)
        for line in lines:  # up to the ready event's data
            if line.startswith("data: "):
                break
        log_out(visitor)
        after = list(lines)  # to the end of the answer
    assert ["event: closed", {"type": "closed", "code": 4401, "reason": LOGGED_OUT}] == [
        after[0], json.loads(after[1].removeprefix("data: "))]


def test_one_sessions_logout_leaves_the_users_other_sessions_streaming(
        server: Server, account: sc.ApiClient, browserless: httpx.Client, app_id: str, web: str,
        app_key: sc.AppKey) -> None:
    """An identified user signed in on two devices logs out on one: that device's stream closes, the other's
    goes on and gets the next message."""
    token = user_jwt(app_key, external_id="ana")
    phone, laptop = (log_in(browserless, app_id, token, integrationId=web).json() for _ in range(2))
    user_id = phone["user"]["id"]
    devices = [SignedIn(browserless, app_id, user_id, signed["sessionToken"]) for signed in (phone, laptop)]
    conversation = devices[0].start().json()["conversation"]["id"]
    with devices[0].connect(server.base_url) as on_phone, devices[1].connect(server.base_url) as on_laptop:
        frame(on_phone), frame(on_laptop)
        log_out(devices[0])
        _, code, reason = frames_until_closed(on_phone, WAIT)
        devices[1].say(conversation, "still here")
        arrived = frame(on_laptop)
    assert ((4401, LOGGED_OUT), ["still here"]) == ((code, reason), texts([arrived]))


def test_logging_in_closes_the_anonymous_sessions_stream(server: Server, browserless: httpx.Client, app_id: str,
                                                         web: str, visitor: Visitor, app_key: sc.AppKey) -> None:
    """The anonymous user becomes the identified one (no user had that externalId): the stream another tab
    holds with the anonymous session closes, saying so; the tab that logged in goes on with its new session."""
    visitor.start()
    with visitor.connect(server.base_url) as socket:
        frame(socket)
        signed = log_in(browserless, app_id, user_jwt(app_key, external_id="new-ana"), integrationId=web,
                        userId=visitor.id, sessionToken=visitor.token)
        _, code, reason = frames_until_closed(socket, WAIT)
    assert ((200, visitor.id), 4401, LOGGED_IN) == ((signed.status_code, signed.json()["user"]["id"]), code, reason)
    with SignedIn(browserless, app_id, visitor.id, signed.json()["sessionToken"]).connect(server.base_url) as socket:
        assert "ready" == frame(socket)["type"]


def test_a_login_merge_closes_the_anonymous_stream_and_hands_its_conversation_to_the_identified_users_streams(
        server: Server, browserless: httpx.Client, app_id: str, web: str, visitor: Visitor,
        app_key: sc.AppKey) -> None:
    """Bob, identified, has a stream open on his laptop. On his phone he chatted anonymously; logging in there
    merges the anonymous user into him: the phone's anonymous stream closes (4401, merged), and the laptop's
    stream follows the conversation that became Bob's, from its first message."""
    token = user_jwt(app_key, external_id="bob")
    laptop = log_in(browserless, app_id, token, integrationId=web).json()
    bob = SignedIn(browserless, app_id, laptop["user"]["id"], laptop["sessionToken"])
    conversation = visitor.start().json()["conversation"]["id"]
    visitor.say(conversation, "asked before logging in")
    with visitor.connect(server.base_url) as on_phone, bob.connect(server.base_url) as on_laptop:
        frame(on_phone), frame(on_laptop)
        merged = log_in(browserless, app_id, token, integrationId=web, userId=visitor.id,
                        sessionToken=visitor.token)
        _, code, reason = frames_until_closed(on_phone, WAIT)
        arrived = frame(on_laptop)
    assert ((200, bob.id), 4401, MERGED) == ((merged.status_code, merged.json()["user"]["id"]), code, reason)
    assert (conversation, ["asked before logging in"]) == (arrived["conversationId"], texts([arrived]))


def test_deleting_the_user_closes_their_stream_at_once(server: Server, account: sc.ApiClient, app_id: str,
                                                       visitor: Visitor) -> None:
    visitor.start()
    with visitor.connect(server.base_url) as socket:
        frame(socket)
        sc.UsersApi(account).delete_user(app_id, visitor.id)
        kinds, code, reason = frames_until_closed(socket, WAIT)
    assert (4401, DELETED) == (code, reason)
    assert set(kinds) <= {"conversation:removed"}


def test_a_logout_through_one_process_closes_the_stream_another_holds(server: Server, tmp_path: Path,
                                                                     visitor: Visitor) -> None:
    """PostgreSQL, two API processes: the notice reaches the other process through NOTIFY."""
    if server.engine != "postgresql":
        pytest.skip("one process serves a SQLite database")
    other = Process("serve", database_url=server.database_url, data_dir=tmp_path, account_key=server.account_key)
    try:
        visitor.start()
        with visitor.connect(other.base_url) as socket:
            frame(socket)
            log_out(visitor)
            _, code, reason = frames_until_closed(socket, WAIT)
    finally:
        other.stop()
    assert ("", 4401, LOGGED_OUT) == (other.tracebacks(), code, reason)
