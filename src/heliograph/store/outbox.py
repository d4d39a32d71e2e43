"""The transactional outbox: events are written by the change that causes them, in its transaction.

`emit` stores the event once and one delivery row per webhook subscribed to its type; nothing
is stored when no webhook listens. With an enabled switchboard, a `conversation:*` event skips the
webhooks of switchboard integrations in standby for that conversation whose `deliverStandbyEvents`
is false. A committed change therefore always has its deliveries, and a rolled-back one has none.
After the commit the dispatcher is woken: in this process at once, and in other processes through
PostgreSQL's NOTIFY (which PostgreSQL sends only on commit).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.ids import IdFactory, iso
from heliograph.store import tables as t
from heliograph.store.fast import WAKE, Fast, Step, drive, rows, run, run_many

# Each webhook of the app, with the switchboard integration its integration is in (if the app's
# switchboard is enabled) and the one in control of the lane's conversation: the conversation's own
# ('' once released), or else the default. One statement, on the hot path of every message.
_w, _si, _sb, _cs = t.webhooks, t.switchboard_integrations, t.switchboards, t.conversation_switchboards
_ENABLED_MEMBER = _si.join(_sb, sa.and_(_sb.c.id == _si.c.switchboard_id, _sb.c.enabled == sa.true()))
_CONTROL = sa.select(sa.func.coalesce(_cs.c.active_id, "")).where(
    _cs.c.conversation_id == sa.bindparam("lane")).scalar_subquery()
_SUBSCRIBERS = Fast(sa.select(
    _w.c.id, _w.c.triggers, _si.c.id.label("member"), _si.c.deliver_standby_events.label("standby"),
    sa.func.coalesce(_CONTROL, _sb.c.default_id).label("in_control"),
).select_from(_w.outerjoin(_ENABLED_MEMBER, _si.c.integration_id == _w.c.integration_id)).where(
    _w.c.app_id == sa.bindparam("app_id")))
_INSERT_EVENT = Fast(t.events.insert())
_INSERT_DELIVERIES = Fast(t.deliveries.insert().values(
    {c.key: sa.bindparam(c.key) for c in t.deliveries.c if c.key != "seq"}))


async def emit(conn: AsyncConnection, *, ids: IdFactory, app_id: str, type: str, payload: dict[str, Any],
               lane: str) -> str | None:
    """Record event `type` for every webhook of the app subscribed to it; its id, or None if unheard.

    `lane` orders deliveries: those of one webhook and one lane (a conversation, or a user) leave
    in the order they were emitted.
    """
    return await drive(conn, emit_plan(ids=ids, app_id=app_id, type=type, payload=payload, lane=lane))


def emit_plan(*, ids: IdFactory, app_id: str, type: str, payload: dict[str, Any] | Callable[[], dict[str, Any]],
              lane: str) -> Generator[Step, Any, str | None]:
    """`emit` as a plan (store/fast.py). `payload` may be a function, called only if a webhook listens."""
    subscribers = yield rows(_SUBSCRIBERS, {"app_id": app_id, "lane": lane})
    standby_applies = type.startswith("conversation:")
    hooks = [row["id"] for row in subscribers
             if type in row["triggers"] and not (standby_applies and _in_standby(row))]
    if not hooks:
        return None
    event_id, now = ids.new_at()
    body = {"id": event_id, "type": type, "createdAt": iso(now), "payload": payload() if callable(payload) else payload}
    yield run(_INSERT_EVENT, {"id": event_id, "app_id": app_id, "type": type, "body": body, "created_at": now})
    yield run_many(_INSERT_DELIVERIES, [
        {"event_id": event_id, "webhook_id": hook, "app_id": app_id, "lane": lane, "status": "pending",
         "attempts": 0, "next_attempt_at": now, "leased_until": None, "created_at": now,
         "finished_at": None, "last_error": None} for hook in hooks])
    yield WAKE
    return event_id


def _in_standby(row: Any) -> bool:
    """Whether the webhook's integration is a switchboard integration in standby that wants no standby events."""
    return row["member"] is not None and not row["standby"] and row["member"] != row["in_control"]


async def wake_after_commit(conn: AsyncConnection) -> None:
    """Have dispatchers look at the outbox once this transaction commits (here, and via NOTIFY elsewhere)."""
    await drive(conn, _wake())


def _wake() -> Generator[Step, Any, None]:
    yield WAKE
