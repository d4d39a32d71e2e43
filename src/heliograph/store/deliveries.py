"""Deliveries in the outbox: claim what is due, record what an attempt came to.

A lane is one webhook's deliveries for one conversation (or user); they leave in commit order.
A claim takes the head of each lane (its oldest pending delivery) if it is due, and then the run
of due deliveries that follow it in the same lane: all of them go out in one POST, in order, so
a busy conversation needs one round trip per batch rather than per message. A claim is a lease:
a crashed sender's deliveries become claimable again when their lease runs out. On PostgreSQL the
heads are locked with FOR UPDATE SKIP LOCKED, so workers never claim the same lane at once (a
lane's followers are never claimable by another worker while its head is pending).
Every query here walks the pending rows only (partial indexes), however long the history grows.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.store import tables as t

d, w, e = t.deliveries, t.webhooks, t.events
_PENDING = d.c.status == "pending"
_HEADS = sa.select(sa.func.min(d.c.seq)).where(_PENDING).group_by(d.c.webhook_id, d.c.lane)
_FREE = sa.or_(d.c.leased_until.is_(None), d.c.leased_until < sa.bindparam("p_now"))
_DUE = d.c.next_attempt_at <= sa.bindparam("p_now")
_CLAIMABLE_HEADS = sa.select(d.c.seq, d.c.webhook_id, d.c.lane).where(
    d.c.seq.in_(_HEADS), _DUE, _FREE).order_by(d.c.seq).limit(sa.bindparam("p_limit"))
_FOLLOWERS = sa.select(d.c.seq, d.c.webhook_id, d.c.lane, (_DUE & _FREE).label("ready")).where(
    _PENDING, d.c.lane.in_(sa.bindparam("p_lanes", expanding=True)),
    d.c.seq > sa.bindparam("p_after")).order_by(d.c.seq)
_LEASE = d.update().where(d.c.seq.in_(sa.bindparam("p_seqs", expanding=True))).values(
    leased_until=sa.bindparam("p_until"))
_CLAIMED = (sa.select(d.c.seq, d.c.event_id, d.c.webhook_id, d.c.app_id, d.c.attempts, e.c.body,
                      w.c.target, w.c.secret, w.c.include_full_user, w.c.include_full_source)
            .join(w, w.c.id == d.c.webhook_id).join(e, e.c.id == d.c.event_id)
            .where(d.c.seq.in_(sa.bindparam("p_seqs", expanding=True))).order_by(d.c.seq))
_NEXT_DUE = sa.select(sa.func.min(sa.case(  # over lane heads only: the rest wait for their head
    (d.c.leased_until > d.c.next_attempt_at, d.c.leased_until), else_=d.c.next_attempt_at,
))).where(d.c.seq.in_(_HEADS))


@dataclasses.dataclass(frozen=True)
class Claimed:
    seq: int
    event_id: str
    webhook_id: str
    app_id: str
    attempts: int
    body: dict[str, Any]
    target: str
    secret: str
    include_full_user: bool
    include_full_source: bool


async def claim(conn: AsyncConnection, *, now: int, lease_ms: int, limit: int,
                skip_locked: bool) -> list[Claimed]:
    """Lease up to `limit` due deliveries until `now + lease_ms`: lane heads, oldest first, with their runs."""
    query = _CLAIMABLE_HEADS.with_for_update(skip_locked=True, of=d) if skip_locked else _CLAIMABLE_HEADS
    heads = (await conn.execute(query, {"p_now": now, "p_limit": limit})).all()
    if not heads:
        return []
    seqs = [head.seq for head in heads]
    open_lanes = {(head.webhook_id, head.lane) for head in heads}
    followers = _FOLLOWERS.with_for_update(of=d) if skip_locked else _FOLLOWERS
    for row in await conn.execute(followers, {
            "p_now": now, "p_lanes": sorted({head.lane for head in heads}), "p_after": min(seqs)}):
        lane = (row.webhook_id, row.lane)
        if len(seqs) >= limit:
            break
        if lane not in open_lanes:
            continue
        if row.ready:
            seqs.append(row.seq)
        else:  # a run stops at the first delivery that is not due (or leased): order comes first
            open_lanes.discard(lane)
    await conn.execute(_LEASE, {"p_seqs": seqs, "p_until": now + lease_ms})
    rows = await conn.execute(_CLAIMED, {"p_seqs": seqs})
    return [Claimed(**row._mapping) for row in rows]


async def record(conn: AsyncConnection, *, seqs: list[int], attempted_at: int, status_code: int | None,
                 latency_ms: int, error: str | None, retry_at: int | None, delivered: bool) -> None:
    """Store one attempt of these deliveries and what follows: delivered, a retry at `retry_at`, or failed."""
    if delivered:
        values: dict[str, Any] = {"status": "delivered", "finished_at": attempted_at, "last_error": None}
    elif retry_at is not None:
        values = {"next_attempt_at": retry_at, "last_error": error}
    else:
        values = {"status": "failed", "finished_at": attempted_at, "last_error": error}
    still_there = list((await conn.execute(
        d.update().where(d.c.seq.in_(seqs)).values(attempts=d.c.attempts + 1, leased_until=None, **values)
        .returning(d.c.seq))).scalars())  # a webhook deleted meanwhile took its deliveries along
    if still_there:
        await conn.execute(t.delivery_attempts.insert(), [
            {"delivery_seq": seq, "attempted_at": attempted_at, "status_code": status_code,
             "latency_ms": latency_ms, "error": error} for seq in still_there])


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


async def listed(conn: AsyncConnection, *, webhook_id: str, status: str | None, before: int | None,
                 limit: int) -> list[dict[str, Any]]:
    """A webhook's deliveries, newest first, optionally only those with `status`."""
    query = _LISTED.where(d.c.webhook_id == webhook_id)
    if status is not None:
        query = query.where(d.c.status == status)
    if before is not None:
        query = query.where(d.c.seq < before)
    rows = await conn.execute(query.order_by(d.c.seq.desc()).limit(limit))
    return [dict(row._mapping) for row in rows]


async def one(conn: AsyncConnection, seq: int) -> dict[str, Any] | None:
    """A delivery with its event body and every attempt, or None."""
    row = (await conn.execute(_LISTED.add_columns(e.c.body).where(d.c.seq == seq))).first()
    if row is None:
        return None
    a = t.delivery_attempts
    attempts = await conn.execute(sa.select(a.c.attempted_at, a.c.status_code, a.c.latency_ms, a.c.error)
                                  .where(a.c.delivery_seq == seq).order_by(a.c.id))
    return {**row._mapping, "attempt_log": [dict(r._mapping) for r in attempts]}


async def redeliver(conn: AsyncConnection, *, seq: int, now: int) -> bool:
    """Make a finished delivery pending again, due now, with its attempt count reset; False if unknown."""
    result = await conn.execute(d.update().where(d.c.seq == seq).values(
        status="pending", attempts=0, next_attempt_at=now, leased_until=None, finished_at=None))
    return bool(result.rowcount)
