"""Deliveries in the outbox: claim what is due, record what an attempt came to.

A lane is one webhook's deliveries for one conversation (or user); they leave in commit order.
A claim takes the head of each lane (its oldest pending delivery) if it is due, and then the run
of due deliveries that follow it in the same lane, so that a busy conversation needs one claim and
one record per run rather than per message; the dispatcher sends a run in order, one POST after the
other (or several events per POST when batching), and stops at the first attempt to be retried. A
claim is a lease: a crashed sender's deliveries become claimable again when their lease runs out. On
PostgreSQL the heads are locked with FOR UPDATE SKIP LOCKED, so workers never claim the same lane at
once (a lane's followers are never claimable by another worker while its head is pending).
Every query here walks the pending rows only (partial indexes), however long the history grows.

Deliveries to a socket-mode webhook (its target under SOCKET_TARGET, docs/socket-mode.md) are stored
`held` rather than `pending`, so no claim ever sees them: the app's WebSocket reads them
(`held_deliveries`) and its acknowledgements make them `delivered` (`acknowledge`). That read goes by
the partial index of held rows (`ix_deliveries_held`, revision 0015), so acknowledged ones cost nothing.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.store import tables as t
from heliograph.store.fast import Fast, Plan, drive, notice, rows, run, run_many

d, w, e = t.deliveries, t.webhooks, t.events
SOCKET_TARGET = "https://socket.invalid"  # RFC 2606: never resolves, so no real webhook can be there
HELD = "held"  # a delivery that waits for the app's socket, never for the dispatcher


def held_by_socket(target: str) -> bool:
    """Whether a webhook with this target is served by the app socket (socket mode) rather than by HTTP."""
    lowered = target.lower()
    return lowered == SOCKET_TARGET or lowered.startswith(SOCKET_TARGET + "/")


def socket_notice(webhook_id: str) -> str:
    """The notice that wakes the app sockets of a webhook (realtime/sockets.py): `!<webhook id>`."""
    return f"!{webhook_id}"

_PENDING = d.c.status == "pending"
_HEADS = sa.select(sa.func.min(d.c.seq)).where(_PENDING).group_by(d.c.webhook_id, d.c.lane)
_FREE = sa.or_(d.c.leased_until.is_(None), d.c.leased_until < sa.bindparam("p_now"))
_DUE = d.c.next_attempt_at <= sa.bindparam("p_now")
# Row locks for PostgreSQL's several workers; SQLite's compiler renders no FOR UPDATE (one writer).
_CLAIMABLE_HEADS = Fast(sa.select(d.c.seq, d.c.webhook_id, d.c.lane).where(
    d.c.seq.in_(_HEADS), _DUE, _FREE).order_by(d.c.seq).limit(sa.bindparam("p_limit"))
    .with_for_update(skip_locked=True, of=d))
_FOLLOWERS = Fast(sa.select(d.c.seq, d.c.webhook_id, d.c.lane, (_DUE & _FREE).label("ready")).where(
    _PENDING, d.c.lane.in_(sa.bindparam("p_lanes", expanding=True)),
    d.c.seq > sa.bindparam("p_after")).order_by(d.c.seq).with_for_update(of=d))
_SEQS = d.c.seq.in_(sa.bindparam("p_seqs", expanding=True))
_LEASE = Fast(d.update().where(_SEQS).values(leased_until=sa.bindparam("p_until")))
_CLAIMED = Fast(sa.select(d.c.seq, d.c.event_id, d.c.webhook_id, d.c.lane, d.c.app_id, d.c.attempts, e.c.body,
                          w.c.target, w.c.secret, w.c.include_full_user, w.c.include_full_source)
                .join(w, w.c.id == d.c.webhook_id).join(e, e.c.id == d.c.event_id).where(_SEQS).order_by(d.c.seq))
_OUTCOMES: dict[str, dict[str, Any]] = {
    "delivered": {"status": "delivered", "finished_at": sa.bindparam("p_at"), "last_error": None},
    "retry": {"next_attempt_at": sa.bindparam("p_retry_at"), "last_error": sa.bindparam("p_error")},
    "failed": {"status": "failed", "finished_at": sa.bindparam("p_at"), "last_error": sa.bindparam("p_error")},
}
_RECORD = {outcome: Fast(d.update().where(_SEQS).values(attempts=d.c.attempts + 1, leased_until=None, **values)
                         .returning(d.c.seq)) for outcome, values in _OUTCOMES.items()}
_RELEASE = Fast(d.update().where(_SEQS).values(leased_until=None))
_ATTEMPT = Fast(t.delivery_attempts.insert().values(
    {c.key: sa.bindparam(c.key) for c in t.delivery_attempts.c if c.key != "id"}))
_NEXT_DUE = sa.select(sa.func.min(sa.case(  # over lane heads only: the rest wait for their head
    (d.c.leased_until > d.c.next_attempt_at, d.c.leased_until), else_=d.c.next_attempt_at,
))).where(d.c.seq.in_(_HEADS))


@dataclasses.dataclass(frozen=True)
class Claimed:
    seq: int
    event_id: str
    webhook_id: str
    lane: str
    app_id: str
    attempts: int
    body: dict[str, Any]
    target: str
    secret: str
    include_full_user: bool
    include_full_source: bool


def claim_plan(*, now: int, lease_ms: int, limit: int) -> Plan[list[Claimed]]:
    """Lease up to `limit` due deliveries until `now + lease_ms`: lane heads, oldest first, with their runs."""
    heads = yield rows(_CLAIMABLE_HEADS, {"p_now": now, "p_limit": limit})
    if not heads:
        return []
    seqs = [head["seq"] for head in heads]
    open_lanes = {(head["webhook_id"], head["lane"]) for head in heads}
    followers = yield rows(_FOLLOWERS, {
        "p_now": now, "p_lanes": sorted({head["lane"] for head in heads}), "p_after": min(seqs)})
    for row in followers:
        lane = (row["webhook_id"], row["lane"])
        if len(seqs) >= limit:
            break
        if lane not in open_lanes:
            continue
        if row["ready"]:
            seqs.append(row["seq"])
        else:  # a run stops at the first delivery that is not due (or leased): order comes first
            open_lanes.discard(lane)
    yield run(_LEASE, {"p_seqs": seqs, "p_until": now + lease_ms})
    claimed = yield rows(_CLAIMED, {"p_seqs": seqs})
    return [Claimed(**row) for row in claimed]


@dataclasses.dataclass(frozen=True)
class Attempt:
    """One attempt at a delivery as it is stored: when it ended, what it came to, and what follows."""

    seq: int
    at: int
    status_code: int | None
    latency_ms: int
    error: str | None
    delivered: bool
    retry_at: int | None  # when not delivered: the next attempt's time, or None (failed for good)

    @property
    def ending(self) -> str:
        return "delivered" if self.delivered else "retry" if self.retry_at is not None else "failed"


def record_plan(attempts: Sequence[Attempt], *, release: Sequence[int] = ()) -> Plan[None]:
    """Store attempts and what follows each (delivered, a retry, or failed); lift the lease of `release`.

    Attempts that end alike share one UPDATE, so the outcomes of many POSTs cost a few statements: their
    `finished_at` is the latest of their times (those of one record are usually milliseconds apart), while
    the attempt log keeps each attempt's own.
    """
    alike: dict[tuple[str, int | None, str | None], list[Attempt]] = defaultdict(list)
    for one in attempts:
        alike[one.ending, one.retry_at, one.error].append(one)
    still_there: set[int] = set()
    for (ending, retry_at, error), group in alike.items():
        found = yield rows(_RECORD[ending], {  # a webhook deleted meanwhile took its deliveries along
            "p_seqs": [one.seq for one in group], "p_at": max(one.at for one in group), "p_retry_at": retry_at,
            "p_error": error})
        still_there.update(row["seq"] for row in found)
    if still_there:
        yield run_many(_ATTEMPT, [
            {"delivery_seq": one.seq, "attempted_at": one.at, "status_code": one.status_code,
             "latency_ms": one.latency_ms, "error": one.error} for one in attempts if one.seq in still_there])
    if release:
        yield run(_RELEASE, {"p_seqs": list(release)})


async def next_due(conn: AsyncConnection) -> int | None:
    """When the next lane head falls due (or its lease runs out), in ms; None if nothing is pending."""
    value = await conn.scalar(_NEXT_DUE)
    return None if value is None else int(value)


async def release_leases(conn: AsyncConnection) -> None:
    """Make every leased delivery claimable now (only safe when no other process is sending)."""
    await conn.execute(d.update().where(d.c.status == "pending", d.c.leased_until.is_not(None))
                       .values(leased_until=None))


_LISTED = (sa.select(d.c.seq, d.c.event_id, d.c.webhook_id, d.c.status, d.c.attempts, d.c.next_attempt_at,
                     d.c.created_at, d.c.finished_at, d.c.last_error, e.c.type)
           .join(e, e.c.id == d.c.event_id))


async def has_webhook(conn: AsyncConnection, *, webhook_id: str) -> bool:
    return await conn.scalar(sa.select(w.c.id).where(w.c.id == webhook_id)) is not None


async def list_deliveries(conn: AsyncConnection, *, webhook_id: str, status: str | None, before: int | None,
                          limit: int) -> list[dict[str, Any]]:
    """A webhook's deliveries, newest first, optionally only those with `status`."""
    query = _LISTED.where(d.c.webhook_id == webhook_id)
    if status is not None:
        query = query.where(d.c.status == status)
    if before is not None:
        query = query.where(d.c.seq < before)
    rows = await conn.execute(query.order_by(d.c.seq.desc()).limit(limit))
    return [dict(row._mapping) for row in rows]


async def find_delivery(conn: AsyncConnection, *, seq: int) -> dict[str, Any] | None:
    """A delivery with its event body and every attempt, or None."""
    row = (await conn.execute(_LISTED.add_columns(e.c.body).where(d.c.seq == seq))).first()
    if row is None:
        return None
    a = t.delivery_attempts
    attempts = await conn.execute(sa.select(a.c.attempted_at, a.c.status_code, a.c.latency_ms, a.c.error)
                                  .where(a.c.delivery_seq == seq).order_by(a.c.id))
    return {**row._mapping, "attempt_log": [dict(r._mapping) for r in attempts]}


async def redeliver(conn: AsyncConnection, *, seq: int, now: int) -> bool:
    """Make a finished delivery pending again, due now, with its attempt count reset; False if unknown.
    A socket-mode webhook's is held again instead, and its sockets are woken once this commits."""
    found = (await conn.execute(sa.select(w.c.id, w.c.target).join(d, d.c.webhook_id == w.c.id)
                                .where(d.c.seq == seq))).first()
    if found is None:
        return False
    held = held_by_socket(found.target)
    await conn.execute(d.update().where(d.c.seq == seq).values(
        status=HELD if held else "pending", attempts=0, next_attempt_at=now, leased_until=None, finished_at=None))
    if held:
        await wake_sockets(conn, webhook_id=found.id)
    return True


async def wake_sockets(conn: AsyncConnection, *, webhook_id: str, token: str | None = None) -> None:
    """Once this transaction commits, the webhook's app sockets look again, in every process; with `token`,
    those with an older token know a newer socket took the webhook over (realtime/sockets.py)."""
    await drive(conn, _announce(socket_notice(webhook_id) + ("" if token is None else f":{token}")))


def _announce(payload: str) -> Plan[None]:
    yield notice(payload)


# Socket mode: the webhook a socket serves, what waits for it, and what it acknowledged.
_SOCKET_WEBHOOK = sa.select(w.c.id, w.c.app_id, w.c.target).where(
    w.c.id == sa.bindparam("webhook_id"), w.c.app_id == sa.bindparam("app_id"))
_HELD_ROWS = (sa.select(d.c.seq, d.c.app_id, d.c.webhook_id, e.c.body, w.c.include_full_user, w.c.include_full_source)
              .join(e, e.c.id == d.c.event_id).join(w, w.c.id == d.c.webhook_id)
              .where(d.c.webhook_id == sa.bindparam("webhook_id"), d.c.status == sa.literal_column(f"'{HELD}'"))
              .order_by(d.c.seq).limit(sa.bindparam("p_limit")))
_ACKNOWLEDGE = (d.update().where(d.c.webhook_id == sa.bindparam("p_webhook"), d.c.status == HELD,
                                 d.c.seq.in_(sa.bindparam("p_seqs", expanding=True)))
                .values(status="delivered", finished_at=sa.bindparam("p_at"), attempts=d.c.attempts + 1))


async def find_socket_webhook(conn: AsyncConnection, *, app_id: str, webhook_id: str) -> dict[str, Any] | None:
    """The app's webhook `webhook_id` (`id`, `app_id`, `target`), or None if the app has none of that id."""
    row = (await conn.execute(_SOCKET_WEBHOOK, {"webhook_id": webhook_id, "app_id": app_id})).first()
    return None if row is None else dict(row._mapping)


async def held_deliveries(conn: AsyncConnection, *, webhook_id: str, limit: int) -> list[dict[str, Any]]:
    """The webhook's first `limit` held deliveries in seq order (per lane, the order the dispatcher would
    send them), each with its event body and the webhook's includeFullUser / includeFullSource."""
    found = await conn.execute(_HELD_ROWS, {"webhook_id": webhook_id, "p_limit": limit})
    return [dict(row._mapping) for row in found]


async def acknowledge(conn: AsyncConnection, *, webhook_id: str, seqs: Sequence[int], at: int) -> None:
    """Mark these held deliveries of the webhook delivered at `at` (a seq not held for it: nothing)."""
    if seqs:
        await conn.execute(_ACKNOWLEDGE, {"p_webhook": webhook_id, "p_seqs": list(seqs), "p_at": at})
