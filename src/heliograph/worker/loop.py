"""What the webhooks' dispatcher and the channel sender share: a loop that works when woken, and otherwise
sleeps until its next item falls due (at most FALLBACK_SLEEP: a safety net for changes no signal reports,
such as another process's on SQLite), so that no polling interval delays a first attempt."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine, Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.ids import Clock
from heliograph.store.db import Database

FALLBACK_SLEEP = 5.0  # seconds


class WokenLoop:
    """`once` claims and starts what is due (how much it claimed); `next_due` says when more falls due (ms);
    `working` is what to cancel when the loop ends (leases let others take it over)."""

    db: Database
    clock: Clock

    def __init__(self) -> None:
        self._wake = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Work until cancelled."""
        try:
            while True:
                self._wake.clear()
                if not await self.once():
                    await self._sleep()
        finally:
            for task in self.working():
                task.cancel()

    async def once(self) -> int:
        raise NotImplementedError

    async def next_due(self, conn: AsyncConnection) -> int | None:
        raise NotImplementedError

    def working(self) -> Iterable[asyncio.Task[None]]:
        return self._in_flight

    def start(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` as a task in flight (cancelled with the loop, waited for by `drain`)."""
        task = asyncio.create_task(work)
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def drain(self) -> None:
        """Wait for the work already started (tests and shutdown)."""
        while self._in_flight:
            await asyncio.gather(*list(self._in_flight), return_exceptions=True)

    async def _sleep(self) -> None:
        async with self.db.read() as conn:
            due = await self.next_due(conn)
        timeout = FALLBACK_SLEEP if due is None else min(FALLBACK_SLEEP, max(0.0, (due - self.clock()) / 1000))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)
