"""The dispatcher: claim due deliveries, POST them, record the outcome; sleep until woken or due.

Woken when this process commits outbox rows, when another process does (PostgreSQL NOTIFY,
see listen.py), and when a send finishes (its lane may now have a next delivery). Otherwise it
sleeps until the next delivery falls due, at most worker.loop.FALLBACK_SLEEP: no polling interval delays a
first attempt; the cap only catches changes no signal reports.

Each POST carries one event, as the hosted service sends them. A claim hands each lane's run of due
deliveries to one sender, which POSTs them one after the other and stops at the first that is to be
retried (the rest wait behind it, their lease lifted); lanes are sent in parallel. With `batch` > 1
(HELIOGRAPH_WEBHOOK_BATCH) a sender takes a webhook's whole claim and POSTs up to `batch` events at
a time. Outcomes that finish while others are being recorded are recorded together, in one transaction.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.config import MAX_WEBHOOK_BATCH
from heliograph.ids import Clock, system_clock
from heliograph.store import deliveries
from heliograph.store.db import Database
from heliograph.worker.attempt import Poster, attempt
from heliograph.worker.loop import WokenLoop
from heliograph.worker.policy import Outcome, Policy

log = logging.getLogger("heliograph.worker")
_Record = tuple[list[deliveries.Attempt], list[int], "asyncio.Future[None]"]  # attempts, unsent, when stored


class Render(Protocol):
    """Turns a stored event body into what one webhook receives (events.payloads.for_webhook)."""

    def __call__(self, body: dict[str, Any], *, include_full_user: bool,
                 include_full_source: bool) -> dict[str, Any]: ...


class Dispatcher(WokenLoop):
    def __init__(self, db: Database, policy: Policy, client: Poster, render: Render, *,
                 clock: Clock = system_clock, batch: int = 1, claim_limit: int = MAX_WEBHOOK_BATCH,
                 max_in_flight: int = 64) -> None:
        super().__init__()
        self.db, self.policy, self.client, self.render, self.clock = db, policy, client, render, clock
        self.batch = batch  # events per POST
        self.claim_limit = claim_limit  # deliveries per claim
        self.lease_ms = int((policy.timeout + 10) * 1000)  # outlives any attempt
        self._slots = asyncio.Semaphore(max_in_flight)
        self._to_record: list[_Record] = []
        self._recording: asyncio.Task[None] | None = None

    async def once(self) -> int:
        return await self.dispatch_once()

    async def next_due(self, conn: AsyncConnection) -> int | None:
        return await deliveries.next_due(conn)

    def working(self) -> list[asyncio.Task[None]]:
        """The sends and the record in flight: cancelled, their leases run out and others claim them again."""
        return [*self._in_flight, *([self._recording] if self._recording else [])]

    async def dispatch_once(self) -> int:
        """Claim what is due and start sending it; how many deliveries were claimed."""
        now = self.clock()
        claimed = await self.db.transact(lambda: deliveries.claim_plan(
            now=now, lease_ms=self.lease_ms, limit=self.claim_limit))
        for group in self._senders(claimed):
            await self._slots.acquire()
            self.start(self._send(group, leased_until=now + self.lease_ms))
        return len(claimed)

    def _senders(self, claimed: list[deliveries.Claimed]) -> Iterable[list[deliveries.Claimed]]:
        """What each sender takes, in order: a lane's run, or with batching a webhook's whole claim."""
        key: Callable[[deliveries.Claimed], Hashable] = (
            (lambda d: d.webhook_id) if self.batch > 1 else (lambda d: (d.webhook_id, d.lane)))
        groups: dict[Hashable, list[deliveries.Claimed]] = defaultdict(list)
        for delivery in claimed:
            groups[key(delivery)].append(delivery)
        return groups.values()

    async def _send(self, group: list[deliveries.Claimed], *, leased_until: int) -> None:
        """POST the group's events in order, `batch` at a time, until one is to be retried; record it all."""
        done: list[deliveries.Attempt] = []
        sent = 0
        try:
            while sent < len(group) and self._lease_holds(leased_until):
                posted = group[sent:sent + self.batch]
                first = posted[0]
                outcome = await attempt(self.client, target=first.target, secret=first.secret,
                                        payload=self._envelope(posted), timeout=self.policy.timeout)
                sent += len(posted)
                done += self._attempts(posted, outcome)
                if any(one.retry_at is not None for one in done[-len(posted):]):
                    break  # order first: what follows in its lane waits for the retry
            await self._record(done, [d.seq for d in group[sent:]])
        except Exception:  # a bug must not stop delivery: the lease will hand these out again
            log.exception("delivery to webhook %s failed unexpectedly", group[0].webhook_id)
        finally:
            self._slots.release()
            self.wake()

    def _lease_holds(self, leased_until: int) -> bool:
        """Whether an attempt started now ends before the lease does (else another sender may take over)."""
        return self.clock() + self.policy.timeout * 1000 < leased_until

    def _envelope(self, posted: list[deliveries.Claimed]) -> dict[str, Any]:
        first = posted[0]
        return {"app": {"id": first.app_id}, "webhook": {"id": first.webhook_id, "version": "v2"},
                "events": [self.render(d.body, include_full_user=d.include_full_user,
                                       include_full_source=d.include_full_source) for d in posted]}

    def _attempts(self, posted: list[deliveries.Claimed], outcome: Outcome) -> list[deliveries.Attempt]:
        """One outcome for the whole POST; what follows depends on each delivery's own attempt count."""
        now = self.clock()
        waits = [self.policy.next_attempt_in(d.attempts + 1, outcome) for d in posted]
        return [deliveries.Attempt(
            seq=d.seq, at=now, status_code=outcome.status_code, latency_ms=outcome.latency_ms,
            error=outcome.error, delivered=outcome.succeeded, retry_at=None if wait is None else now + int(wait * 1000),
        ) for d, wait in zip(posted, waits, strict=True)]

    async def _record(self, done: list[deliveries.Attempt], unsent: list[int]) -> None:
        """Store the attempts and lift the lease of the unsent; returns once committed (with others' outcomes)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._to_record.append((done, unsent, future))
        if self._recording is None:
            self._recording = asyncio.create_task(self._write_records())
        await future

    async def _write_records(self) -> None:
        """Record everything queued in one transaction, then what queued meanwhile, until nothing is left."""
        try:
            while self._to_record:
                queued, self._to_record = self._to_record, []
                attempts = [one for done, _, _ in queued for one in done]
                unsent = [seq for _, seqs, _ in queued for seq in seqs]
                try:
                    await self.db.transact(functools.partial(deliveries.record_plan, attempts, release=unsent))
                except Exception as exc:  # nothing of it stored: the leases run out, the deliveries go again
                    _settle(queued, exc)
                else:
                    _settle(queued, None)
        finally:
            self._recording = None


def _settle(queued: list[_Record], error: Exception | None) -> None:
    for _, _, future in queued:
        if not future.done():  # its sender may have been cancelled meanwhile
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)
