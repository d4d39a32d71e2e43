"""Running the dispatcher beside the API (`heliograph serve`) or alone (`heliograph worker`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from heliograph.channels.apis import ChannelApis
from heliograph.config import Settings
from heliograph.events.payloads import for_webhook
from heliograph.ids import IdFactory
from heliograph.store import channel_sends, deliveries
from heliograph.store.db import Database
from heliograph.store.fast import OUTBOX_CHANNEL
from heliograph.store.notify import Listener
from heliograph.worker.channels import ChannelSender
from heliograph.worker.dispatcher import Dispatcher
from heliograph.worker.http import Client
from heliograph.worker.policy import Policy


def policy(settings: Settings) -> Policy:
    return Policy(delays=settings.retry_delays, timeout=settings.webhook_timeout)


@asynccontextmanager
async def delivering(settings: Settings, db: Database, listener: Listener | None = None,
                     ids: IdFactory | None = None, apis: ChannelApis | None = None) -> AsyncIterator[Dispatcher]:
    """A running dispatcher and channel sender, woken by this process's commits and, on PostgreSQL, by
    everyone's: through `listener`, the process's LISTEN connection that the caller runs, or one of its own.
    The sender calls the channels through `apis` (the caller's, which it closes), or a client of its own."""
    if db.is_sqlite:  # SQLite has one process: leases left by a crashed run belong to nobody now
        async with db.write() as conn:
            await deliveries.release_leases(conn)
            await channel_sends.release_leases(conn)
    client = Client()  # its TLS context is made at the first https:// POST: a cold start need not pay for it
    dispatcher = Dispatcher(db, policy(settings), client, for_webhook, batch=settings.webhook_batch)
    own_apis = apis is None
    apis = apis or ChannelApis(settings.channel_base_urls)
    sender = ChannelSender(db, apis, policy(settings), ids or IdFactory())

    def wake() -> None:  # a commit wrote deliveries, channel sends, or both
        dispatcher.wake()
        sender.wake()

    db.on_outbox_commit(wake)
    tasks = [asyncio.create_task(dispatcher.run()), asyncio.create_task(sender.run())]
    if not db.is_sqlite:
        own = listener is None
        listener = listener or Listener(settings.database_url)
        listener.on(OUTBOX_CHANNEL, lambda _payload: wake(), on_connect=wake)
        if own:
            tasks.append(asyncio.create_task(listener.run()))
    try:
        yield dispatcher
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await client.aclose()
        if own_apis:
            await apis.aclose()
