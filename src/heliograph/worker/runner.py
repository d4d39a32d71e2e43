"""Running the dispatcher beside the API (`heliograph serve`) or alone (`heliograph worker`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from heliograph.config import Settings
from heliograph.events.payloads import for_webhook
from heliograph.store import deliveries
from heliograph.store.db import Database
from heliograph.store.notify import listen
from heliograph.worker.dispatcher import Dispatcher
from heliograph.worker.policy import Policy


def policy(settings: Settings) -> Policy:
    return Policy(delays=settings.retry_delays, timeout=settings.webhook_timeout)


class LazyClient:
    """The webhooks' HTTP client, made at the first POST: importing httpx and building its TLS context
    cost about 0.1 s, a tenth of a cold start, and many servers never deliver a webhook."""

    def __init__(self) -> None:
        self._client: Any = None

    async def post(self, url: str, *, content: bytes, timeout: float, headers: dict[str, str]) -> Any:
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(follow_redirects=False, trust_env=False)
        return await self._client.post(url, content=content, timeout=timeout, headers=headers)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


@asynccontextmanager
async def delivering(settings: Settings, db: Database) -> AsyncIterator[Dispatcher]:
    """A running dispatcher, woken by this process's commits and, on PostgreSQL, by everyone's."""
    if db.is_sqlite:  # SQLite has one process: leases left by a crashed run belong to nobody now
        async with db.write() as conn:
            await deliveries.release_leases(conn)
    client = LazyClient()
    dispatcher = Dispatcher(db, policy(settings), client, for_webhook)
    db.on_outbox_commit(dispatcher.wake)
    tasks = [asyncio.create_task(dispatcher.run())]
    if not db.is_sqlite:
        tasks.append(asyncio.create_task(listen(settings.database_url, dispatcher.wake)))
    try:
        yield dispatcher
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await client.aclose()
