"""SIGKILL under load: `heliograph serve` (SQLite, PostgreSQL) or a `heliograph worker` (PostgreSQL)
dies mid-delivery while posters keep posting. After a restart, every message that got a 201 is
listed, and every stored message's event reaches the receiver: repeats only with the same
event.id, first arrivals in the order of the conversation's messages.

tests/test_delivery_crash.py kills a server with deliveries pending and no load; these kill it
with requests and a delivery in flight.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sunshine_conversations_client as sc

from tests.delivery import KEY, QUICK_RETRIES, client, message_ids, stored_event_ids
from tests.integrations import custom_integration
from tests.receiver import Receiver
from tests.servers import Process, free_port
from tests.utils import TEXT, all_message_ids, make_conversation, make_user, messages_url

POSTERS = 4
BATCH = 100  # messages acknowledged before a crash, and again after it


class Posters:
    """One thread per conversation, posting text messages into it until stopped. A request that
    gets no reply (the server died) parks its poster until `up` is set; only a 201 counts."""

    def __init__(self, base_url: str, app_id: str, conversations: list[str]) -> None:
        self.up, self._stopping, self._changed = threading.Event(), threading.Event(), threading.Condition()
        self.up.set()
        self.acknowledged: dict[str, list[str]] = {c: [] for c in conversations}
        self.unanswered = 0
        self.wrong: list[str] = []  # any answer but a 201 or none at all
        self._threads = [threading.Thread(target=self._post, args=(base_url, app_id, c)) for c in conversations]
        for thread in self._threads:
            thread.start()

    def _post(self, base_url: str, app_id: str, conversation_id: str) -> None:
        with httpx.Client(base_url=base_url, auth=KEY, timeout=30) as http:
            while not self._stopping.is_set():
                try:
                    response = http.post(messages_url(app_id, conversation_id), json=TEXT)
                except httpx.TransportError:
                    with self._changed:
                        self.unanswered += 1
                    self.up.wait(60)
                    continue
                with self._changed:
                    if response.status_code == 201:
                        self.acknowledged[conversation_id].append(response.json()["messages"][0]["id"])
                    else:
                        self.wrong.append(f"{response.status_code} {response.text}")
                    self._changed.notify_all()

    @property
    def count(self) -> int:
        return sum(len(ids) for ids in self.acknowledged.values())

    def wait_for(self, more: int) -> None:
        """Until `more` further messages have been acknowledged."""
        with self._changed:
            target = self.count + more
            assert self._changed.wait_for(lambda: self.count >= target or self.wrong, 60), self.count
        assert [] == self.wrong

    def stop(self) -> None:
        self._stopping.set()
        self.up.set()
        for thread in self._threads:
            thread.join(60)


@dataclasses.dataclass
class Rig:
    """A receiver, and the processes of one test on one database (stopped, and checked, at the end)."""

    database_url: str
    data_dir: Path
    receiver: Receiver
    port: int  # the API's, kept across restarts so the posters carry on
    processes: list[Process]

    def start(self, command: str, **env: str) -> Process:
        process = Process(command, database_url=self.database_url, data_dir=self.data_dir, account_key=KEY,
                          env={**QUICK_RETRIES, **env}, port=self.port)
        self.processes.append(process)
        return process

    def prepare(self, api: Process) -> tuple[str, list[str]]:
        """An app whose custom integration sends conversation:message to the receiver; its conversations."""
        sdk = client(api)
        app_id = sc.AppsApi(sdk).create_app(sc.AppCreateBody(display_name="crash")).app.id
        custom_integration(sdk, app_id, self.receiver.url, ["conversation:message"])
        return app_id, [make_conversation(sdk, app_id, make_user(sdk, app_id, external_id=f"u{n}")).id
                        for n in range(POSTERS)]

    def mid_delivery(self) -> None:
        """Hold the receiver's replies until a delivery arrives: a crash now interrupts it."""
        self.receiver.hold.clear()
        so_far = len(self.receiver.events())
        self.receiver.wait_for(lambda got: len(got) > so_far)


@pytest.fixture
def rig(database_url: str, tmp_path: Path) -> Iterator[Rig]:
    rig = Rig(database_url, tmp_path, Receiver(), free_port(), [])
    try:
        yield rig
    finally:
        for process in rig.processes:
            process.stop()
        rig.receiver.stop()
    assert "" == "".join(process.tracebacks() for process in rig.processes)


def test_serve_sigkilled_under_load_loses_no_message_and_no_event(rig: Rig) -> None:
    """`heliograph serve` (API and dispatcher) is SIGKILLed mid-load and mid-delivery, then started
    again on the same database and port: no acknowledged message and no event is lost."""
    first = rig.start("serve")
    app_id, conversations = rig.prepare(first)
    load = Posters(first.base_url, app_id, conversations)
    try:
        load.wait_for(BATCH)
        rig.mid_delivery()
        load.up.clear()
        first.kill()
        rig.receiver.hold.set()
        rig.start("serve")
        load.up.set()
        load.wait_for(BATCH)
    finally:
        load.stop()
    report("serve", rig, first.base_url, app_id, load)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # workers need PostgreSQL
def test_worker_sigkilled_under_load_loses_no_event(rig: Rig) -> None:
    """With HELIOGRAPH_DISPATCHER=off on the API, the only `heliograph worker` is SIGKILLed
    mid-delivery; messages keep coming while none runs; a new worker delivers every event."""
    server = rig.start("serve", HELIOGRAPH_DISPATCHER="off")
    first = rig.start("worker")
    app_id, conversations = rig.prepare(server)
    load = Posters(server.base_url, app_id, conversations)
    try:
        load.wait_for(BATCH)
        rig.mid_delivery()
        first.kill()
        rig.receiver.hold.set()
        load.wait_for(BATCH)
        rig.start("worker")
        load.wait_for(BATCH)
    finally:
        load.stop()
    report("worker", rig, server.base_url, app_id, load)


def report(killed: str, rig: Rig, base_url: str, app_id: str, load: Posters) -> None:
    """Check every message and event against what the posters were told; print the counts."""
    with httpx.Client(base_url=base_url, auth=KEY, timeout=30) as http:
        listed = {c: all_message_ids(http, app_id, c) for c in load.acknowledged}
    for conversation_id, acknowledged in load.acknowledged.items():
        kept = set(acknowledged)
        assert acknowledged == [m for m in listed[conversation_id] if m in kept]
    stored = {m for ids in listed.values() for m in ids}
    events = rig.receiver.wait_for(lambda got: stored <= {e["payload"]["message"]["id"] for e in got}, 60)
    for conversation_id, ids in listed.items():
        assert ids == message_ids([e for e in events if e["payload"]["conversation"]["id"] == conversation_id])
    event_ids = {(e["payload"]["message"]["id"], e["id"]) for e in events}
    assert len(stored) == len(event_ids)  # one event.id per message, however often it arrived
    assert sorted(stored_event_ids(rig.database_url)) == sorted(e for _, e in event_ids)
    engine = "sqlite" if rig.database_url.startswith("sqlite") else "postgresql"
    print(f"\ncrash[{killed} on {engine}]: posted {load.count + load.unanswered}, 201s {load.count}, "
          f"no reply {load.unanswered}, stored {len(stored)}, events received {len(events)}, "
          f"duplicates {len(events) - len(event_ids)}")
