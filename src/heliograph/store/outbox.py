"""The transactional outbox: events are written by the change that causes them, in its transaction.

`emit` stores the event once and one delivery row per webhook subscribed to its type; nothing
is stored when no webhook listens. With an enabled switchboard, a `conversation:*` event skips the
webhooks of switchboard integrations in standby for that conversation whose `deliverStandbyEvents`
is false; a payload may be built from the conversation's switchboard state, read in that same statement.
A committed change therefore always has its deliveries, and a rolled-back one has none.
After the commit the dispatcher is woken: in this process at once, and in other processes through
PostgreSQL's NOTIFY (which PostgreSQL sends only on commit). A socket-mode webhook's delivery (its
target under store.deliveries.SOCKET_TARGET) is stored `held`, which the dispatcher never claims, and
wakes that webhook's app sockets instead (docs/socket-mode.md).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.ids import IdFactory, iso
from heliograph.store import tables as t
from heliograph.store.deliveries import HELD, held_by_socket, socket_notice
from heliograph.store.fast import WAKE, Fast, Step, drive, notice, rows, run, run_many
from heliograph.store.switchboards import CONTROL_FIELDS

# Each webhook of the app, with the switchboard integration its integration is in (if the app's
# switchboard is enabled), and the control of the lane's conversation (the same on every row): the
# switchboard integrations in control of it (its own row's, or the default's if it has none; none once
# released) and offered control, as `active_sbi_…` / `pending_sbi_…` columns (see conversations.py).
# One statement, on the hot path of every message.
_w, _si, _sb, _cs = t.webhooks, t.switchboard_integrations, t.switchboards, t.conversation_switchboards
_ENABLED_MEMBER = _si.join(_sb, sa.and_(_sb.c.id == _si.c.switchboard_id, _sb.c.enabled == sa.true()))
_board, _active, _pending = _sb.alias("board"), _si.alias("active_sbi"), _si.alias("pending_sbi")
_IN_CONTROL = sa.case((_cs.c.conversation_id.is_(None), _board.c.default_id), else_=_cs.c.active_id)
_LANE_CONTROL = sa.select(*[alias.c[column].label(f"{prefix}_sbi_{column}")
                            for prefix, alias in (("active", _active), ("pending", _pending))
                            for column in CONTROL_FIELDS]).select_from(
    _board.outerjoin(_cs, _cs.c.conversation_id == sa.bindparam("lane"))
    .outerjoin(_active, sa.and_(_active.c.switchboard_id == _board.c.id, _active.c.id == _IN_CONTROL))
    .outerjoin(_pending, sa.and_(_pending.c.switchboard_id == _board.c.id, _pending.c.id == _cs.c.pending_id)),
).where(_board.c.app_id == sa.bindparam("app_id"), _board.c.enabled == sa.true()).subquery("lane_control")
_SUBSCRIBERS = Fast(sa.select(
    _w.c.id, _w.c.triggers, _w.c.target, _si.c.id.label("member"), _si.c.deliver_standby_events.label("standby"),
    *_LANE_CONTROL.c,
).select_from(_w.outerjoin(_ENABLED_MEMBER, _si.c.integration_id == _w.c.integration_id)
              .outerjoin(_LANE_CONTROL, sa.true())).where(_w.c.app_id == sa.bindparam("app_id")))
_CONTROL_KEYS = tuple(column.key for column in _LANE_CONTROL.c)
_INSERT_EVENT = Fast(t.events.insert())
_INSERT_DELIVERIES = Fast(t.deliveries.insert().values(
    {c.key: sa.bindparam(c.key) for c in t.deliveries.c if c.key != "seq"}))


Payload = dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]


async def emit(conn: AsyncConnection, *, ids: IdFactory, app_id: str, type: str, payload: Payload,
               lane: str) -> str | None:
    """Record event `type` for every webhook of the app subscribed to it; its id, or None if unheard.

    `lane` orders deliveries: those of one webhook and one lane (a conversation, or a user) leave
    in the order they were emitted. `payload` may be a function, called only if a webhook listens, with
    the switchboard state of the lane's conversation as this transaction sees it: the `active_sbi_…`
    and `pending_sbi_…` columns (None when nobody is in control, or nothing is offered).
    """
    return await drive(conn, emit_plan(ids=ids, app_id=app_id, type=type, payload=payload, lane=lane))


def emit_plan(*, ids: IdFactory, app_id: str, type: str, payload: Payload,
              lane: str) -> Generator[Step, Any, str | None]:
    """`emit` as a plan (store/fast.py)."""
    subscribers = yield rows(_SUBSCRIBERS, {"app_id": app_id, "lane": lane})
    standby_applies = type.startswith("conversation:")
    hooks = {row["id"]: HELD if held_by_socket(row["target"]) else "pending" for row in subscribers
             if type in row["triggers"] and not (standby_applies and _in_standby(row))}
    if not hooks:
        return None
    event_id, now = ids.new_at()
    if callable(payload):
        payload = payload({key: subscribers[0][key] for key in _CONTROL_KEYS})
    body = {"id": event_id, "type": type, "createdAt": iso(now), "payload": payload}
    yield run(_INSERT_EVENT, {"id": event_id, "app_id": app_id, "type": type, "body": body, "created_at": now})
    yield run_many(_INSERT_DELIVERIES, [
        {"event_id": event_id, "webhook_id": hook, "app_id": app_id, "lane": lane, "status": status,
         "attempts": 0, "next_attempt_at": now, "leased_until": None, "created_at": now,
         "finished_at": None, "last_error": None} for hook, status in hooks.items()])
    for hook, status in hooks.items():
        if status == HELD:  # the app's socket reads it: wake the sockets of that webhook, not the dispatcher
            yield notice(socket_notice(hook))
    if "pending" in hooks.values():
        yield WAKE
    return event_id


def _in_standby(row: Any) -> bool:
    """Whether the webhook's integration is a switchboard integration in standby that wants no standby events."""
    return row["member"] is not None and not row["standby"] and row["member"] != row["active_sbi_id"]


async def wake_after_commit(conn: AsyncConnection) -> None:
    """Have dispatchers look at the outbox once this transaction commits (here, and via NOTIFY elsewhere)."""
    await drive(conn, _wake())


def _wake() -> Generator[Step, Any, None]:
    yield WAKE
