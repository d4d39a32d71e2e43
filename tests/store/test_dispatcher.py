"""The delivery engine against a real database, with an injected clock and a fake transport.

Nothing here sleeps: the clock is moved by hand and `dispatch_once` / `drain` run the loop's steps.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from heliograph.events.payloads import for_webhook
from heliograph.ids import IdFactory
from heliograph.store import outbox
from heliograph.store import tables as t
from heliograph.store.db import Database
from heliograph.worker.dispatcher import Dispatcher
from heliograph.worker.policy import Policy
from tests.fakes import T0, FakeClock
from tests.utils import open_database

SPEC_POLICY = Policy(delays=(60.0, 120.0, 240.0, 480.0), timeout=20.0)


@dataclass(frozen=True)
class Posted:
    url: str
    headers: dict[str, str]
    body: dict[str, Any]

    def ids(self) -> list[str]:
        return [event["id"] for event in self.body["events"]]


class Receiver:
    """A fake HTTP client (the dispatcher's Poster): records each POST and answers with the next scripted reply
    (default 200); an exception in the script is raised instead."""

    def __init__(self, *replies: int | Exception) -> None:
        self.replies = list(replies)
        self.requests: list[Posted] = []
        self.gate: asyncio.Event | None = None  # when set up, every POST waits for it to open
        self.during: Callable[[], None] | None = None  # called while a POST is in flight
        self._arrived = asyncio.Event()

    async def posted(self, count: int) -> None:
        """Wait until `count` POSTs have arrived."""
        while len(self.requests) < count:
            self._arrived.clear()
            await self._arrived.wait()

    async def post(self, url: str, *, content: bytes, headers: dict[str, str], timeout: float) -> int:
        self.requests.append(Posted(url, headers, json.loads(content)))
        self._arrived.set()
        if self.during is not None:
            self.during()
        if self.gate is not None:
            await self.gate.wait()
        reply = self.replies.pop(0) if self.replies else 200
        if isinstance(reply, Exception):
            raise reply
        return reply

    def events(self) -> list[dict[str, Any]]:
        return [event for r in self.requests for event in r.body["events"]]


class Harness:
    def __init__(self, db: Database, receiver: Receiver, batch: int) -> None:
        self.clock = FakeClock()
        self.ids = IdFactory(clock=self.clock)
        self.db = db
        self.receiver = receiver
        self.dispatcher = Dispatcher(self.db, SPEC_POLICY, receiver, for_webhook, clock=self.clock, batch=batch)

    async def setup(self) -> None:
        async with self.db.write() as conn:
            self.app_id = self.ids.new()
            await conn.execute(t.apps.insert(), {"id": self.app_id, "display_name": "a", "settings": {},
                                                 "metadata": None, "created_at": T0})
            integration = self.ids.new()
            await conn.execute(t.integrations.insert(), {
                "id": integration, "app_id": self.app_id, "type": "custom", "status": "active",
                "display_name": "bot", "config": {}, "created_at": T0})
            self.webhook_id = self.ids.new()
            await conn.execute(t.webhooks.insert(), {
                "id": self.webhook_id, "app_id": self.app_id, "integration_id": integration,
                "target": "http://receiver.test/hook", "triggers": ["conversation:message"],
                "secret": "s3cret", "include_full_user": False, "include_full_source": False,
                "created_at": T0})

    async def emit(self, lane: str = "conversation-1", type: str = "conversation:message") -> str | None:
        async with self.db.write() as conn:
            return await outbox.emit(conn, ids=self.ids, app_id=self.app_id, type=type, lane=lane,
                                     payload={"conversation": {"id": lane, "type": "personal"}})

    async def step(self) -> int:
        """One turn of the loop: claim what is due, send it, wait for the sends to be recorded."""
        claimed = await self.dispatcher.dispatch_once()
        await self.dispatcher.drain()
        return claimed

    async def deliveries(self) -> list[dict[str, Any]]:
        async with self.db.read() as conn:
            rows = await conn.execute(sa.select(t.deliveries).order_by(t.deliveries.c.seq))
            return [dict(r._mapping) for r in rows]

    async def attempts(self) -> list[dict[str, Any]]:
        async with self.db.read() as conn:
            rows = await conn.execute(sa.select(t.delivery_attempts).order_by(t.delivery_attempts.c.id))
            return [dict(r._mapping) for r in rows]


def run(database_url: str, receiver: Receiver, scenario: Callable[[Harness], Awaitable[None]], *,
        batch: int = 1) -> None:
    async def main() -> None:
        async with open_database(database_url) as db:
            harness = Harness(db, receiver, batch)
            await harness.setup()
            await scenario(harness)
    asyncio.run(main())


def test_first_attempt_posts_the_envelope_with_the_secret(empty_database_url: str) -> None:
    """A committed event is POSTed as {app, webhook{id, version v2}, events} with X-API-Key."""
    receiver = Receiver()

    async def scenario(h: Harness) -> None:
        event_id = await h.emit()
        assert 1 == await h.step()
        request = receiver.requests[0]
        body = request.body
        assert ("s3cret", "application/json", "http://receiver.test/hook") == (
            request.headers["x-api-key"], request.headers["content-type"], request.url)
        assert {"id": h.app_id} == body["app"]
        assert {"id": h.webhook_id, "version": "v2"} == body["webhook"]
        assert [event_id] == [e["id"] for e in body["events"]]
        assert ["delivered"] == [d["status"] for d in await h.deliveries()]
        assert [(200, None)] == [(a["status_code"], a["error"]) for a in await h.attempts()]
    run(empty_database_url, receiver, scenario)


def test_unsubscribed_types_are_not_stored(empty_database_url: str) -> None:
    """An event no webhook subscribed to leaves nothing in the outbox."""
    async def scenario(h: Harness) -> None:
        assert None is await h.emit(type="conversation:read")
        assert ([], 0) == (await h.deliveries(), await h.step())
    run(empty_database_url, Receiver(), scenario)


class Counting:
    """Counts the transactions run through `db.transact` from now on (the dispatcher's claims and records)."""

    def __init__(self, db: Database) -> None:
        self.count = 0
        transact = db.transact

        async def counted(plan: Any) -> Any:
            self.count += 1
            return await transact(plan)
        db.transact = counted  # type: ignore[method-assign]


def test_retries_follow_the_spec_schedule_then_give_up(empty_database_url: str) -> None:
    """5 attempts over 15 minutes (1, 2, 4, 8 minutes apart) with the same event.id, then failed."""
    receiver = Receiver(500, 500, 500, 500, 500)

    async def scenario(h: Harness) -> None:
        event_id = await h.emit()
        assert 1 == await h.step()
        for wait in (60, 120, 240, 480):
            h.clock.advance(wait - 0.001)
            assert 0 == await h.step()  # not yet due
            h.clock.advance(0.001)
            assert 1 == await h.step()
        h.clock.advance(3600)
        assert 0 == await h.step()
        assert [event_id] * 5 == [e["id"] for e in receiver.events()]
        times = [a["attempted_at"] - T0 for a in await h.attempts()]
        assert [0, 60_000, 180_000, 420_000, 900_000] == times
        [delivery] = await h.deliveries()
        assert ("failed", 5, "HTTP 500") == (delivery["status"], delivery["attempts"], delivery["last_error"])
    run(empty_database_url, receiver, scenario)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 406])
def test_non_recoverable_codes_are_not_retried(empty_database_url: str, status: int) -> None:
    """400, 401, 403, 404 and 406 end the delivery after one attempt."""
    receiver = Receiver(status)

    async def scenario(h: Harness) -> None:
        await h.emit()
        await h.step()
        h.clock.advance(3600)
        assert 0 == await h.step()
        [delivery] = await h.deliveries()
        assert ("failed", 1) == (delivery["status"], delivery["attempts"])
    run(empty_database_url, receiver, scenario)


@pytest.mark.parametrize(("failure", "error"), [
    (TimeoutError(), "no response within 20 s"),
    (ConnectionRefusedError(111, "Connect call failed"), "ConnectionRefusedError: [Errno 111] Connect call failed")])
def test_timeouts_and_refusals_are_retried(empty_database_url: str, failure: Exception, error: str) -> None:
    """No response (a timeout) or a refused connection counts as a failure, described, and is retried."""
    receiver = Receiver(failure)

    async def scenario(h: Harness) -> None:
        await h.emit()
        await h.step()
        [attempt] = await h.attempts()
        assert (None, error) == (attempt["status_code"], attempt["error"])
        h.clock.advance(60)
        assert 1 == await h.step()
        assert ["delivered"] == [d["status"] for d in await h.deliveries()]
    run(empty_database_url, receiver, scenario)


def test_a_lane_waits_for_its_head(empty_database_url: str) -> None:
    """Deliveries of one conversation leave in commit order, one event per POST: a retried head holds the next
    ones back, and then they follow it one after the other."""
    receiver = Receiver(500)

    async def scenario(h: Harness) -> None:
        first = await h.emit()
        assert 1 == await h.step()  # the head fails
        second, third = await h.emit(), await h.emit()
        assert 0 == await h.step()  # the head is not due again yet, and nothing overtakes it
        h.clock.advance(60)
        assert 3 == await h.step()  # the head again, and its lane's run behind it
        assert [[first], [first], [second], [third]] == [r.ids() for r in receiver.requests]
        assert {"delivered"} == {d["status"] for d in await h.deliveries()}
    run(empty_database_url, receiver, scenario)


def test_a_run_stops_at_a_retry_and_the_rest_wait_unattempted(empty_database_url: str) -> None:
    """When an event of a run is to be retried, what follows it in its lane is not sent: those stay pending, never
    attempted, claimable with the head when it falls due."""
    receiver = Receiver(200, 503)

    async def scenario(h: Harness) -> None:
        ids = [await h.emit() for _ in range(4)]
        assert 4 == await h.step()
        assert [[ids[0]], [ids[1]]] == [r.ids() for r in receiver.requests]
        assert [("delivered", 1), ("pending", 1), ("pending", 0), ("pending", 0)] == [
            (d["status"], d["attempts"]) for d in await h.deliveries()]
        assert {None} == {d["leased_until"] for d in await h.deliveries()}
        h.clock.advance(60)
        assert 3 == await h.step()
        assert [[ids[0]], [ids[1]], [ids[1]], [ids[2]], [ids[3]]] == [r.ids() for r in receiver.requests]
    run(empty_database_url, receiver, scenario)


def test_a_delivery_given_up_lets_its_lane_go_on(empty_database_url: str) -> None:
    """A non-recoverable answer (404) ends that delivery; the next one of its lane is sent right after it."""
    receiver = Receiver(404)

    async def scenario(h: Harness) -> None:
        ids = [await h.emit() for _ in range(2)]
        assert 2 == await h.step()
        assert [[ids[0]], [ids[1]]] == [r.ids() for r in receiver.requests]
        assert ["failed", "delivered"] == [d["status"] for d in await h.deliveries()]
    run(empty_database_url, receiver, scenario)


def test_lanes_are_sent_in_parallel_one_event_per_post(empty_database_url: str) -> None:
    """Each conversation's head is in flight at once, each in a POST of its own; each lane's next event leaves
    only after its head's answer; their outcomes are recorded together, in one transaction."""
    receiver = Receiver()
    receiver.gate = asyncio.Event()

    async def scenario(h: Harness) -> None:
        a = [await h.emit(lane="conversation-a") for _ in range(2)]
        b = [await h.emit(lane="conversation-b") for _ in range(2)]
        assert 4 == await h.dispatcher.dispatch_once()
        await receiver.posted(2)  # both heads in flight at once
        transactions = Counting(h.db)
        assert [[a[0]], [b[0]]] == [r.ids() for r in receiver.requests]
        assert receiver.gate is not None
        receiver.gate.set()
        await h.dispatcher.drain()
        assert [[a[0]], [b[0]], [a[1]], [b[1]]] == [r.ids() for r in receiver.requests]
        assert (["delivered"] * 4, 1) == ([d["status"] for d in await h.deliveries()], transactions.count)
    run(empty_database_url, receiver, scenario)


@pytest.mark.parametrize(("batch", "sizes"), [(1, [1, 1, 1, 1, 1]), (2, [2, 2, 1]), (250, [5])])
def test_batching_puts_up_to_n_events_in_a_post(empty_database_url: str, batch: int, sizes: list[int]) -> None:
    """With HELIOGRAPH_WEBHOOK_BATCH=N, a webhook's claim goes out N events per POST, heads of several
    conversations and their runs together, in commit order; by default (1) each event has a POST of its own, each
    conversation's in its order."""
    receiver = Receiver()
    lanes = ("conversation-1", "conversation-2", "conversation-1", "conversation-3", "conversation-2")

    async def scenario(h: Harness) -> None:
        ids = [await h.emit(lane=lane) for lane in lanes]
        assert 5 == await h.step()
        arrived = [e["id"] for e in receiver.events()]
        assert sizes == [len(r.ids()) for r in receiver.requests]
        assert ids == (sorted(arrived, key=ids.index) if batch == 1 else arrived)  # batched: commit order overall
        for lane in set(lanes):
            assert [i for i, at in zip(ids, lanes, strict=True) if at == lane] == [
                e["id"] for e in receiver.events() if e["payload"]["conversation"]["id"] == lane]
        assert ["delivered"] * 5 == [d["status"] for d in await h.deliveries()]
    run(empty_database_url, receiver, scenario, batch=batch)


def test_a_batch_to_be_retried_holds_back_what_follows(empty_database_url: str) -> None:
    """Batching: after a POST to be retried, the rest of the claim waits (pending, unattempted) for the next round."""
    receiver = Receiver(500)

    async def scenario(h: Harness) -> None:
        ids = [await h.emit() for _ in range(3)]
        assert 3 == await h.step()
        assert ([[ids[0], ids[1]]], [1, 1, 0]) == (
            [r.ids() for r in receiver.requests], [d["attempts"] for d in await h.deliveries()])
        h.clock.advance(60)
        assert 3 == await h.step()
        assert [[ids[0], ids[1]], [ids[0], ids[1]], [ids[2]]] == [r.ids() for r in receiver.requests]
    run(empty_database_url, receiver, scenario, batch=2)


def test_a_run_stops_before_its_lease_could_run_out(empty_database_url: str) -> None:
    """A delivery is only sent while its lease outlives the attempt: after a slow POST, the rest of the run is
    released at once (claimable again), so no other sender can take it over mid-attempt."""
    receiver = Receiver()

    async def scenario(h: Harness) -> None:
        ids = [await h.emit() for _ in range(3)]
        receiver.during = lambda: h.clock.advance(SPEC_POLICY.timeout - 1)  # each POST takes 19 s
        assert 3 == await h.step()  # 19 s of a 30 s lease gone: a second attempt might outlast it
        assert [[ids[0]]] == [r.ids() for r in receiver.requests]
        receiver.during = None
        assert 2 == await h.step()
        assert [[ids[0]], [ids[1]], [ids[2]]] == [r.ids() for r in receiver.requests]
    run(empty_database_url, receiver, scenario)


def test_a_lost_lease_is_claimed_again(empty_database_url: str) -> None:
    """A delivery claimed by a sender that died is claimable again once its lease runs out."""
    receiver = Receiver()

    async def scenario(h: Harness) -> None:
        event_id = await h.emit()
        from heliograph.store import deliveries
        await h.db.transact(lambda: deliveries.claim_plan(  # a claim whose sender never reports back
            now=h.clock(), lease_ms=h.dispatcher.lease_ms, limit=10))
        assert 0 == await h.step()
        h.clock.advance(h.dispatcher.lease_ms / 1000 + 0.001)
        assert 1 == await h.step()
        assert [event_id] == [e["id"] for e in receiver.events()]
    run(empty_database_url, receiver, scenario)


def test_deleting_the_webhook_mid_flight_is_harmless(empty_database_url: str) -> None:
    """A webhook deleted while its delivery is in flight takes the delivery along; nothing fails."""
    async def scenario(h: Harness) -> None:
        await h.emit()
        claimed = await h.dispatcher.dispatch_once()
        async with h.db.write() as conn:
            await conn.execute(t.webhooks.delete().where(t.webhooks.c.id == h.webhook_id))
        await h.dispatcher.drain()
        assert (1, [], []) == (claimed, await h.deliveries(), await h.attempts())
    run(empty_database_url, Receiver(), scenario)

