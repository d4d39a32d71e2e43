"""Checking the sessions of a process's end users' streams, all of them together once a heartbeat.

A stream holds on only while the session it was opened with does: a logout (or deleting the user, which
deletes their sessions) ends it, and so does the expiry of the user JWT it was opened with. Rather than each
stream reading its own session at each heartbeat (at 10,000 sockets, 400 queries a second queuing for the
pool: docs/performance.md), one task asks which of the open streams' sessions still exist, a thousand ids
per statement, once a heartbeat; sessions past their known expiry end without a query. The hub then wakes
the streams of the sessions that ended, and they close (4401; the fallbacks' `closed` event and 401).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from heliograph.ids import Clock
from heliograph.realtime.hub import Hub
from heliograph.store import stream as store
from heliograph.store.db import Database

log = logging.getLogger("heliograph.realtime")
ENDED = "The session has ended"
EXPIRED = "The session has expired with the user JWT it was opened with: log in again"


async def check(hub: Hub, db: Database, now: int) -> None:
    """End the streams whose session has expired by `now` or no longer exists."""
    expired: list[str] = []
    alive: list[str] = []
    for session_id, expires_at in hub.sessions().items():
        (expired if expires_at is not None and expires_at <= now else alive).append(session_id)
    hub.end_sessions(expired, EXPIRED)
    if not alive:
        return
    async with db.read() as conn:
        existing = await store.existing_sessions(conn, session_ids=alive)
    hub.end_sessions((session_id for session_id in alive if session_id not in existing), ENDED)


async def checking(hub: Hub, db: Database, clock: Clock, period: float,
                   wait: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
    """`check` every `period` seconds (`wait` sleeps between them), until cancelled; a check that fails (the
    database unreachable) is logged and the next one tries again, the streams kept meanwhile."""
    while True:
        await wait(period)
        try:
            await check(hub, db, clock())
        except Exception:
            log.exception("checking the streams' sessions failed")
