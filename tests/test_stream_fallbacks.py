"""The realtime stream's fallbacks (docs/end-users.md, §4, Fallbacks) on a live server, both engines: the JSON
long-poll and Server-Sent Events at …/appusers/{userId}/events, resumed exactly from a cursor (or from
`Last-Event-ID`), with tickets for an EventSource, and bad cursors, credentials and tickets refused."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import sunshine_conversations_client as sc

from heliograph.store import tables as t
from tests.conftest import Server
from tests.end_users import EVIL, SHOP, Visitor, basic, texts
from tests.utils import in_database, post, text

SSE = {"accept": "text/event-stream"}


@pytest.fixture
def browserless(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=40) as client:
        yield client


def poll(visitor: Visitor, cursor: str | None = None, timeout: float = 0, **extra: Any) -> httpx.Response:
    params = {"timeout": str(timeout), **({} if cursor is None else {"cursor": cursor}), **extra}
    return visitor.call("GET", f"/appusers/{visitor.id}/events", params=params)


def ticket(visitor: Visitor) -> str:
    response = visitor.call("POST", f"/appusers/{visitor.id}/ticket")
    assert 201 == response.status_code, response.text
    return str(response.json()["ticket"])


def events_of(response: httpx.Response) -> Iterator[dict[str, str]]:
    """The events of an SSE answer as they come: each a dict of its fields (`id`, `event`, `data`, `retry`);
    comment lines (heartbeats) are skipped."""
    fields: dict[str, str] = {}
    for line in response.iter_lines():
        if not line:
            if fields:
                yield fields
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")


def next_frame(events: Iterator[dict[str, str]]) -> tuple[str | None, dict[str, Any]]:
    """The next event that carries a frame: its `id` (None without one) and its frame; the `event:` field
    names the frame's type."""
    event = next(e for e in events if "data" in e)
    frame = json.loads(event["data"])
    assert event["event"] == frame["type"]
    return event.get("id"), frame


def test_a_long_poll_answers_at_once_with_what_came_after_the_cursor(account: sc.ApiClient, app_id: str,
                                                                     visitor: Visitor) -> None:
    """With a cursor from before them, a long-poll answers at once with the messages committed since, each with
    its cursor, and the cursor of the last; polled again with that cursor, it has nothing new."""
    conversation = visitor.start().json()["conversation"]["id"]
    start = poll(visitor).json()
    for word in ("one", "two"):
        post(account, app_id, conversation, text(word))
    answer = poll(visitor, start["cursor"], timeout=25).json()
    again = poll(visitor, answer["cursor"]).json()
    assert ([], ["one", "two"], answer["frames"][-1]["cursor"]) == (start["frames"], texts(answer["frames"]),
                                                                      answer["cursor"])
    assert {"frames": [], "cursor": answer["cursor"]} == again


def test_a_long_poll_waits_for_the_next_message(account: sc.ApiClient, app_id: str, visitor: Visitor) -> None:
    """A long-poll with nothing after its cursor answers as soon as a message commits, with that message."""
    conversation = visitor.start().json()["conversation"]["id"]
    cursor = poll(visitor).json()["cursor"]
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(poll, visitor, cursor, 25)
        post(account, app_id, conversation, text("live"))
        answer = waiting.result(timeout=30)
    assert (200, ["live"]) == (answer.status_code, texts(answer.json()["frames"]))


def test_a_long_poll_times_out_with_no_frames_and_the_same_cursor(visitor: Visitor) -> None:
    """Nothing within `timeout` seconds: 200 with an empty list and the cursor it was given."""
    visitor.start()
    cursor = poll(visitor).json()["cursor"]
    assert {"frames": [], "cursor": cursor} == poll(visitor, cursor, timeout=0.5).json()


def test_sse_events_carry_their_cursor_as_id_and_last_event_id_resumes(
        server: Server, account: sc.ApiClient, app_id: str, browserless: httpx.Client, visitor: Visitor) -> None:
    """An EventSource's request (a ticket, no credentials header) gets `retry:`, `ready`, then each message as an
    event whose `id` is its cursor, typing without one; reconnecting with the last `Last-Event-ID` gets exactly
    what was committed meanwhile."""
    conversation = visitor.start().json()["conversation"]["id"]
    url = f"/sdk/v2/apps/{app_id}/appusers/{visitor.id}/events"
    opened = ticket(visitor)
    with browserless.stream("GET", url, params={"ticket": opened}, headers={**SSE, "origin": SHOP}) as response:
        events = events_of(response)
        first = next(events)
        ready_id, ready = next_frame(events)
        post(account, app_id, conversation, text("one"))
        sc.ActivitiesApi(account).post_activity(app_id, conversation, sc.ActivityPost(
            author=sc.Author(type="business"), type="typing:start"))
        live = [next_frame(events) for _ in range(2)]
    for word in ("two", "three"):
        post(account, app_id, conversation, text(word))
    headers = {**SSE, "origin": SHOP, "last-event-id": str(live[0][0])}
    with browserless.stream("GET", url, params={"ticket": opened}, headers=headers) as response:
        events = events_of(response)
        next_frame(events)
        missed = [next_frame(events) for _ in range(2)]
        post(account, app_id, conversation, text("four"))
        after = next_frame(events)
    assert ("text/event-stream", SHOP) == (response.headers["content-type"].split(";")[0],
                                           response.headers["access-control-allow-origin"])
    assert ({"retry": "3000"}, "ready", ready["cursor"]) == (first, ready["type"], ready_id)
    assert [("message", "one"), ("typing:start", None)] == [
        (f["type"], f.get("message", {}).get("content", {}).get("text")) for _, f in live]
    assert (live[0][1]["cursor"], None) == (live[0][0], live[1][0])
    assert (["two", "three", "four"], [f["cursor"] for _, f in [*missed, after]]) == (
        texts([f for _, f in [*missed, after]]), [i for i, _ in [*missed, after]])


def test_sse_with_the_authorization_header(server: Server, account: sc.ApiClient, app_id: str,
                                           visitor: Visitor) -> None:
    """A client that can set headers opens the SSE stream with its Basic credentials, from `?cursor=`."""
    conversation = visitor.start().json()["conversation"]["id"]
    cursor = poll(visitor).json()["cursor"]
    post(account, app_id, conversation, text("waiting for you"))
    url = f"/sdk/v2/apps/{app_id}/appusers/{visitor.id}/events"
    with visitor.client.stream("GET", url, params={"cursor": cursor},
                               headers={**SSE, **basic(visitor.id, visitor.token)}) as response:
        events = events_of(response)
        next_frame(events)
        _, message = next_frame(events)
    assert ["waiting for you"] == texts([message])


def test_a_ticket_is_refused_after_logout_and_for_another_user(browserless: httpx.Client, app_id: str, web: str,
                                                                visitor: Visitor) -> None:
    """A ticket opens its own user's stream only (another user's: 404), and no longer once its session ended
    (logout: 401); asking for another user's ticket is a 404."""
    other = Visitor(browserless, app_id, web)
    opened = ticket(visitor)
    foreign = visitor.call("GET", f"/appusers/{other.id}/events", params={"ticket": opened, "timeout": "0"})
    others_ticket = visitor.call("POST", f"/appusers/{other.id}/ticket")
    before = visitor.client.get(f"/sdk/v2/apps/{app_id}/appusers/{visitor.id}/events",
                                params={"ticket": opened, "timeout": "0"})
    visitor.call("POST", f"/appusers/{visitor.id}/logout")
    after = visitor.client.get(f"/sdk/v2/apps/{app_id}/appusers/{visitor.id}/events",
                               params={"ticket": opened, "timeout": "0"})
    assert [404, 404, 200, 401] == [r.status_code for r in (foreign, others_ticket, before, after)]
    assert "user_not_found" == others_ticket.json()["errors"][0]["code"]


@pytest.mark.parametrize(("case", "status", "code"), [
    ("malformed cursor", 400, "bad_request"), ("malformed cursor, SSE", 400, "bad_request"),
    ("timeout too long", 400, "bad_request"), ("no credentials", 401, "unauthorized"),
    ("wrong token", 401, "unauthorized"), ("forged ticket", 401, "unauthorized"),
    ("another user", 404, "user_not_found"), ("foreign origin", 403, "forbidden"),
])
def test_refusals_answer_in_the_error_envelope(browserless: httpx.Client, app_id: str, web: str, visitor: Visitor,
                                               case: str, status: int, code: str) -> None:
    """Each refusal is an HTTP error in the spec's envelope, for the long-poll and the SSE stream alike."""
    other = Visitor(browserless, app_id, web)
    url = f"/sdk/v2/apps/{app_id}/appusers/{visitor.id}/events"
    mine = {**basic(visitor.id, visitor.token), "origin": SHOP}
    request: dict[str, Any] = {
        "malformed cursor": {"params": {"cursor": "not-a-cursor"}, "headers": mine},
        "malformed cursor, SSE": {"params": {"cursor": "bm90IGpzb24"}, "headers": {**mine, **SSE}},
        "timeout too long": {"params": {"timeout": "31"}, "headers": mine},
        "no credentials": {"headers": {**SSE, "origin": SHOP}},
        "wrong token": {"headers": basic(visitor.id, visitor.token + "x")},
        "forged ticket": {"params": {"ticket": base64.urlsafe_b64encode(b"x" * 32).decode()}, "headers": SSE},
        "another user": {"params": {"timeout": "0"}, "headers": {**basic(other.id, other.token), "origin": SHOP}},
        "foreign origin": {"params": {"timeout": "0"}, "headers": {**mine, "origin": EVIL}},
    }[case]
    response = browserless.get(url, **request)
    assert (status, code) == (response.status_code, response.json()["errors"][0]["code"])


def test_cors_preflight_and_answers(browserless: httpx.Client, app_id: str, visitor: Visitor) -> None:
    """A preflight from an origin the app's web integration lets in is granted (GET, with the Last-Event-ID
    header); a foreign origin's is a 403; an answer to an allowed origin carries its CORS headers."""
    url = f"/sdk/v2/apps/{app_id}/appusers/{visitor.id}/events"
    granted = browserless.options(url, headers={"origin": SHOP, "access-control-request-method": "GET"})
    refused = browserless.options(url, headers={"origin": EVIL, "access-control-request-method": "GET"})
    answered = poll(visitor)
    assert (200, SHOP, "GET") == (granted.status_code, granted.headers["access-control-allow-origin"],
                                  granted.headers["access-control-allow-methods"])
    assert "last-event-id" in granted.headers["access-control-allow-headers"]
    assert (403, "forbidden") == (refused.status_code, refused.json()["errors"][0]["code"])
    assert (200, SHOP) == (answered.status_code, answered.headers["access-control-allow-origin"])


def test_an_expired_ticket_is_refused(server: Server, visitor: Visitor) -> None:
    """A ticket is good for 5 minutes (`expiresAt`): past that, opening the stream with it is a 401."""
    opened = visitor.call("POST", f"/appusers/{visitor.id}/ticket").json()
    left = datetime.fromisoformat(opened["expiresAt"].replace("Z", "+00:00")) - datetime.now(UTC)
    tickets = t.stream_tickets
    in_database(server.database_url, tickets.update().where(  # five minutes later
        tickets.c.token_hash == hashlib.sha256(opened["ticket"].encode()).hexdigest()).values(expires_at=sa.literal(0)))
    refused = visitor.client.get(f"/sdk/v2/apps/{visitor.app_id}/appusers/{visitor.id}/events",
                                 params={"ticket": opened["ticket"], "timeout": "0"})
    assert (True, 401, "unauthorized") == (timedelta(minutes=4) < left <= timedelta(minutes=5), refused.status_code,
                                           refused.json()["errors"][0]["code"])
