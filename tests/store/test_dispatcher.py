"""The delivery engine against a real database, with an injected clock and a fake transport.

Nothing here sleeps: the clock is moved by hand and `dispatch_once` / `drain` run the loop's steps.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
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


class Receiver:
    """A fake transport: records each POST and answers with the next scripted reply (default 200)."""

    def __init__(self, *replies: int | type[Exception]) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies.pop(0) if self.replies else 200
        if isinstance(reply, type):
            raise reply("scripted failure", request=request)
        return httpx.Response(reply)

    def events(self) -> list[dict[str, Any]]:
        return [event for r in self.requests for event in json.loads(r.content)["events"]]


class Harness:
    def __init__(self, db: Database, receiver: Receiver) -> None:
        self.clock = FakeClock()
        self.ids = IdFactory(clock=self.clock)
        self.db = db
        self.receiver = receiver
        self.client = httpx.AsyncClient(transport=httpx.MockTransport(receiver))
        self.dispatcher = Dispatcher(self.db, SPEC_POLICY, self.client, for_webhook, clock=self.clock)

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


def run(database_url: str, receiver: Receiver, scenario: Callable[[Harness], Awaitable[None]]) -> None:
    async def main() -> None:
        async with open_database(database_url) as db:
            harness = Harness(db, receiver)
            await harness.setup()
            try:
                await scenario(harness)
            finally:
                await harness.client.aclose()
    asyncio.run(main())


def test_first_attempt_posts_the_envelope_with_the_secret(empty_database_url: str) -> None:
    """A committed event is POSTed as {app, webhook{id, version v2}, events} with X-API-Key."""
    receiver = Receiver()

    async def scenario(h: Harness) -> None:
        event_id = await h.emit()
        assert 1 == await h.step()
        request = receiver.requests[0]
        body = json.loads(request.content)
        assert ("s3cret", "http://receiver.test/hook") == (request.headers["x-api-key"], str(request.url))
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


@pytest.mark.parametrize("failure", [httpx.ReadTimeout, httpx.ConnectError])
def test_timeouts_and_refusals_are_retried(empty_database_url: str, failure: type[Exception]) -> None:
    """No response (a timeout) or a refused connection counts as a failure and is retried."""
    receiver = Receiver(failure)

    async def scenario(h: Harness) -> None:
        await h.emit()
        await h.step()
        [attempt] = await h.attempts()
        assert (None, True) == (attempt["status_code"], bool(attempt["error"]))
        h.clock.advance(60)
        assert 1 == await h.step()
        assert ["delivered"] == [d["status"] for d in await h.deliveries()]
    run(empty_database_url, receiver, scenario)


def test_a_lane_waits_for_its_head(empty_database_url: str) -> None:
    """Deliveries of one conversation leave in commit order: a retried head holds the next ones back,
    and then they follow it in the same POST, in order."""
    receiver = Receiver(500)

    async def scenario(h: Harness) -> None:
        first = await h.emit()
        assert 1 == await h.step()  # the head fails
        second, third = await h.emit(), await h.emit()
        assert 0 == await h.step()  # the head is not due again yet, and nothing overtakes it
        h.clock.advance(60)
        assert 3 == await h.step()  # the head again, and its lane's run behind it
        assert [[first], [first, second, third]] == [
            [event["id"] for event in json.loads(r.content)["events"]] for r in receiver.requests]
        assert {"delivered"} == {d["status"] for d in await h.deliveries()}
    run(empty_database_url, receiver, scenario)


def test_heads_of_several_lanes_share_one_post(empty_database_url: str) -> None:
    """Due deliveries of different conversations for one webhook travel in one POST."""
    receiver = Receiver()

    async def scenario(h: Harness) -> None:
        ids = [await h.emit(lane=f"conversation-{n}") for n in range(3)]
        assert 3 == await h.step()
        assert (1, ids) == (len(receiver.requests), [e["id"] for e in receiver.events()])
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
