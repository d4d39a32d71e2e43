"""A receiver outage: down for part of the retry window, every event still arrives, in order;
down for longer than the window, the deliveries fail, are listed as failed and, once the receiver
is back, redelivered with the same event.id.

Each test runs its own server with a short retry window (HELIOGRAPH_WEBHOOK_RETRY_DELAYS: 6 s, then 0.2 s)
and waits on the receiver or re-reads the admin endpoints: it never sleeps.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import sunshine_conversations_client as sc

from tests.delivery import KEY, cli, client, message_ids, stored_event_ids
from tests.integrations import custom_integration
from tests.receiver import Receiver
from tests.servers import Process, free_port
from tests.utils import eventually, make_conversation, make_user, post, text

T = TypeVar("T")
CONVERSATIONS, MESSAGES = 3, 4  # messages per conversation


def serving(database_url: str, data_dir: Path, delays: list[float]) -> Iterator[Process]:
    process = Process("serve", database_url=database_url, data_dir=data_dir, account_key=KEY, env={
        "HELIOGRAPH_WEBHOOK_RETRY_DELAYS": ",".join(map(str, delays)), "HELIOGRAPH_WEBHOOK_TIMEOUT": "2"})
    try:
        yield process
    finally:
        process.stop()
    assert "" == process.tracebacks()


@pytest.fixture
def patient(database_url: str, tmp_path: Path) -> Iterator[Process]:
    """A server that retries for 6 seconds: 31 attempts, 0.2 s apart."""
    yield from serving(database_url, tmp_path, [0.2] * 30)


@pytest.fixture
def hasty(database_url: str, tmp_path: Path) -> Iterator[Process]:
    """A server that gives up after 3 attempts, 0.1 s apart."""
    yield from serving(database_url, tmp_path, [0.1] * 2)


def until(read: Callable[[], T], done: Callable[[T], bool]) -> T:
    """Re-read until `done` holds (each read is an HTTP round trip); the last value read."""
    found: list[T] = eventually(lambda: [value] if done(value := read()) else None, attempts=3000)
    return found[0]


def send(process: Process, target: str) -> tuple[str, dict[str, list[str]]]:
    """An app whose webhook sends conversation:message to `target`, and messages posted into
    several conversations: the webhook's id and the message ids by conversation."""
    api = client(process)
    app_id = sc.AppsApi(api).create_app(sc.AppCreateBody(display_name="outage")).app.id
    _, webhook = custom_integration(api, app_id, target, ["conversation:message"])
    sent: dict[str, list[str]] = {}
    for n in range(CONVERSATIONS):
        conversation_id = make_conversation(api, app_id, make_user(api, app_id, external_id=f"u{n}")).id
        sent[conversation_id] = [post(api, app_id, conversation_id, text(f"m{m}")).id for m in range(MESSAGES)]
    return webhook.id, sent


def in_order(sent: dict[str, list[str]], events: list[dict[str, Any]]) -> None:
    """Each conversation's events first arrived in the order its messages were posted."""
    for conversation_id, ids in sent.items():
        assert ids == message_ids([e for e in events if e["payload"]["conversation"]["id"] == conversation_id])


def admin(process: Process) -> httpx.Client:
    return httpx.Client(base_url=process.base_url, auth=KEY, timeout=30)


def listed(http: httpx.Client, webhook_id: str, status: str | None = None) -> list[dict[str, Any]]:
    params = {"limit": "500", **({"status": status} if status else {})}
    response = http.get(f"/admin/webhooks/{webhook_id}/deliveries", params=params)
    assert 200 == response.status_code, response.text
    return list(response.json()["deliveries"])


def attempts(http: httpx.Client, delivery: dict[str, Any]) -> list[int | None]:
    """The status code of each attempt of a delivery (None: no response)."""
    shown = http.get(f"/admin/deliveries/{delivery['id']}").json()["delivery"]
    return [attempt.get("statusCode") for attempt in shown["attemptLog"]]


def test_a_receiver_down_for_part_of_the_window_gets_every_event_in_order(
        patient: Process, database_url: str) -> None:
    """While the receiver's port refuses connections, each conversation's first delivery is retried at
    least twice (the others wait behind it, or go with it); once the port listens, every event
    arrives, in order, and every delivery is delivered after its refused attempts."""
    port = free_port()  # nothing listens here until the receiver starts
    webhook_id, sent = send(patient, f"http://127.0.0.1:{port}/hooks")
    total = CONVERSATIONS * MESSAGES
    with admin(patient) as http:
        # by id, the deliveries are each conversation's MESSAGES in turn, as `send` posted them
        until(lambda: sorted(listed(http, webhook_id, "pending"), key=lambda d: d["id"]),
              lambda pending: total == len(pending) and all(d["attempts"] >= 2 for d in pending[::MESSAGES]))
        receiver = Receiver(port=port)
        try:
            events = receiver.wait_for(lambda got: total == len({e["id"] for e in got}))
        finally:
            receiver.stop()
        in_order(sent, events)
        assert sorted(stored_event_ids(database_url)) == sorted({e["id"] for e in events})
        delivered = until(lambda: sorted(listed(http, webhook_id, "delivered"), key=lambda d: d["id"]),
                          lambda got: total == len(got))
        logs = [attempts(http, d) for d in delivered]
    assert ({200}, {None}) == ({log[-1] for log in logs}, {code for log in logs for code in log[:-1]})
    assert all(len(log) >= 3 for log in logs[::MESSAGES])  # each conversation's first: 2+ refusals, then 200


def test_deliveries_failed_after_the_window_are_listed_and_redelivered(
        hasty: Process, database_url: str) -> None:
    """A receiver answering 503 through the whole window gets each event 3 times; the deliveries then
    show as failed (CLI and admin API); once it answers 200, a redelivery of each, oldest first,
    brings every event again with the same event.id, in order."""
    receiver = Receiver(status=503)
    try:
        webhook_id, sent = send(hasty, receiver.url)
        total = CONVERSATIONS * MESSAGES
        refused = receiver.wait_for(lambda got: total * 3 == len(got))  # 3 attempts each
        with admin(hasty) as http:
            failed = until(lambda: listed(http, webhook_id, "failed"), lambda got: total == len(got))
            printed = cli(database_url, "list", webhook_id, "--status", "failed")
            shown = [json.loads(line) for line in printed.splitlines()]
            assert [(d["id"], d["eventId"], 3, "HTTP 503") for d in failed] == [
                (d["id"], d["eventId"], d["attempts"], d["lastError"]) for d in shown]
            assert {e: 3 for e in stored_event_ids(database_url)} == Counter(e["id"] for e in refused)
            receiver.status = 200
            for delivery in reversed(failed):  # oldest first
                assert 200 == http.post(f"/admin/deliveries/{delivery['id']}/redeliver").status_code
            events = receiver.wait_for(lambda got: len(got) >= total * 4)[total * 3:]
            in_order(sent, events)
            assert sorted(d["eventId"] for d in failed) == sorted(e["id"] for e in events)
            until(lambda: listed(http, webhook_id, "delivered"), lambda got: total == len(got))
            assert [[503, 503, 503, 200]] * total == [attempts(http, d) for d in failed]
    finally:
        receiver.stop()
