"""The dispatcher: claim due deliveries, POST them, record the outcome; sleep until woken or due.

Woken when this process commits outbox rows, when another process does (PostgreSQL NOTIFY,
see listen.py), and when a send finishes (its lane may now have a next delivery). Otherwise it
sleeps until the next delivery falls due, at most FALLBACK_SLEEP: no polling interval delays a
first attempt; the cap only catches changes no signal reports.
Deliveries claimed together for one webhook share one POST (the spec's envelope holds a list).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from typing import Any, Protocol

from heliograph.ids import Clock, system_clock
from heliograph.store import deliveries
from heliograph.store.db import Database
from heliograph.store.fast import Plan
from heliograph.worker.attempt import Poster, attempt
from heliograph.worker.policy import Outcome, Policy

log = logging.getLogger("heliograph.worker")
FALLBACK_SLEEP = 5.0  # seconds: a safety net for changes no signal reports (another process on SQLite)


class Render(Protocol):
    """Turns a stored event body into what one webhook receives (events.payloads.for_webhook)."""

    def __call__(self, body: dict[str, Any], *, include_full_user: bool,
                 include_full_source: bool) -> dict[str, Any]: ...


class Dispatcher:
    def __init__(self, db: Database, policy: Policy, client: Poster, render: Render, *,
                 clock: Clock = system_clock, batch: int = 250, max_in_flight: int = 64) -> None:
        self.db, self.policy, self.client, self.render, self.clock = db, policy, client, render, clock
        self.batch = batch
        self.lease_ms = int((policy.timeout + 10) * 1000)  # outlives any attempt
        self._slots = asyncio.Semaphore(max_in_flight)
        self._wake = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Deliver until cancelled."""
        try:
            while True:
                self._wake.clear()
                if not await self.dispatch_once():
                    await self._sleep()
        finally:
            for task in list(self._in_flight):
                task.cancel()  # their leases run out and the deliveries are claimed again

    async def dispatch_once(self) -> int:
        """Claim what is due and start sending it; how many deliveries were claimed."""
        now = self.clock()
        claimed = await self.db.transact(lambda: deliveries.claim_plan(
            now=now, lease_ms=self.lease_ms, limit=self.batch))
        by_webhook: dict[str, list[deliveries.Claimed]] = defaultdict(list)
        for delivery in claimed:
            by_webhook[delivery.webhook_id].append(delivery)
        for group in by_webhook.values():
            await self._slots.acquire()
            task = asyncio.create_task(self._send(group))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        return len(claimed)

    async def drain(self) -> None:
        """Wait for the sends already started (tests and shutdown)."""
        while self._in_flight:
            await asyncio.gather(*list(self._in_flight), return_exceptions=True)

    async def _send(self, group: list[deliveries.Claimed]) -> None:
        try:
            first = group[0]
            outcome = await attempt(self.client, target=first.target, secret=first.secret,
                                    payload=self._envelope(group), timeout=self.policy.timeout)
            await self._record(group, outcome)
        except Exception:  # a bug must not stop delivery: the lease will hand these out again
            log.exception("delivery to webhook %s failed unexpectedly", group[0].webhook_id)
        finally:
            self._slots.release()
            self.wake()

    def _envelope(self, group: list[deliveries.Claimed]) -> dict[str, Any]:
        first = group[0]
        return {"app": {"id": first.app_id}, "webhook": {"id": first.webhook_id, "version": "v2"},
                "events": [self.render(d.body, include_full_user=d.include_full_user,
                                       include_full_source=d.include_full_source) for d in group]}

    async def _record(self, group: list[deliveries.Claimed], outcome: Outcome) -> None:
        """One outcome for the whole POST; what follows depends on each delivery's own attempt count."""
        now = self.clock()
        by_attempts: dict[int, list[int]] = defaultdict(list)
        for delivery in group:
            by_attempts[delivery.attempts + 1].append(delivery.seq)
        def plan() -> Plan[None]:
            for attempts, seqs in by_attempts.items():
                wait = self.policy.next_attempt_in(attempts, outcome)
                yield from deliveries.record_plan(
                    seqs=seqs, attempted_at=now, status_code=outcome.status_code,
                    latency_ms=outcome.latency_ms, error=outcome.error, delivered=outcome.succeeded,
                    retry_at=None if wait is None else now + int(wait * 1000))
        await self.db.transact(plan)

    async def _sleep(self) -> None:
        async with self.db.read() as conn:
            due = await deliveries.next_due(conn)
        timeout = FALLBACK_SLEEP if due is None else min(FALLBACK_SLEEP, max(0.0, (due - self.clock()) / 1000))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)
