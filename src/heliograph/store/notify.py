"""Cross-process wake-ups on PostgreSQL: LISTEN on the outbox channel, reconnecting when cut off.

The sending half is the plans' NOTIFY (store/fast.py, `OUTBOX_CHANNEL`), which PostgreSQL delivers
only when the transaction that wrote the deliveries commits. SQLite has one process, woken directly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from heliograph.store.fast import OUTBOX_CHANNEL

log = logging.getLogger("heliograph.notify")


async def listen(database_url: str, wake: Callable[[], None]) -> None:
    """Call `wake` on every NOTIFY of the outbox channel, until cancelled."""
    import asyncpg  # PostgreSQL only: `heliograph serve` on SQLite never loads it

    url = sa.make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    while True:
        try:
            connection = await asyncpg.connect(url)
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("cannot LISTEN for outbox commits (%s); retrying", exc)
            await asyncio.sleep(1)
            continue
        try:
            await _listen_until_closed(connection, wake)
        finally:
            await connection.close()


async def _listen_until_closed(connection: Any, wake: Callable[[], None]) -> None:
    closed = asyncio.Event()
    connection.add_termination_listener(lambda *_args: closed.set())
    await connection.add_listener(OUTBOX_CHANNEL, lambda *_args: wake())
    wake()  # whatever was committed while we were not listening
    await closed.wait()
