"""The transactional outbox: events are written by the change that causes them, in its transaction.

`emit` stores the event once and one delivery row per webhook subscribed to its type; nothing
is stored when no webhook listens. A committed change therefore always has its deliveries, and
a rolled-back one has none. After the commit the dispatcher is woken: in this process at once,
and in other processes through PostgreSQL's NOTIFY (which PostgreSQL sends only on commit).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.ids import IdFactory, iso
from heliograph.store import tables as t
from heliograph.store.db import WAKE_FLAG

CHANNEL = "heliograph_outbox"

_SUBSCRIBERS = sa.select(t.webhooks.c.id, t.webhooks.c.triggers).where(
    t.webhooks.c.app_id == sa.bindparam("app_id"))


async def emit(conn: AsyncConnection, *, ids: IdFactory, app_id: str, type: str, payload: dict[str, Any],
               lane: str) -> str | None:
    """Record event `type` for every webhook of the app subscribed to it; its id, or None if unheard.

    `lane` orders deliveries: those of one webhook and one lane (a conversation, or a user) leave
    in the order they were emitted.
    """
    rows = (await conn.execute(_SUBSCRIBERS, {"app_id": app_id})).all()
    hooks = [row.id for row in rows if type in row.triggers]
    if not hooks:
        return None
    event_id, now = ids.new_at()
    body = {"id": event_id, "type": type, "createdAt": iso(now), "payload": payload}
    await conn.execute(t.events.insert(), {"id": event_id, "app_id": app_id, "type": type, "body": body,
                                           "created_at": now})
    await conn.execute(t.deliveries.insert(), [
        {"event_id": event_id, "webhook_id": hook, "app_id": app_id, "lane": lane, "status": "pending",
         "attempts": 0, "next_attempt_at": now, "leased_until": None, "created_at": now,
         "finished_at": None, "last_error": None} for hook in hooks])
    await wake_after_commit(conn)
    return event_id


async def wake_after_commit(conn: AsyncConnection) -> None:
    """Have dispatchers look at the outbox once this transaction commits (here, and via NOTIFY elsewhere)."""
    if conn.dialect.name == "postgresql" and not conn.info.get(WAKE_FLAG):
        await conn.exec_driver_sql(f"NOTIFY {CHANNEL}")
    conn.info[WAKE_FLAG] = True
