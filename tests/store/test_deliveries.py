"""Claiming and recording deliveries (store/deliveries.py): lanes leave in order, leases expire, outcomes stick."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.ids import IdFactory
from heliograph.store import deliveries, outbox
from heliograph.store import tables as t
from heliograph.store.db import Database
from heliograph.store.fast import drive
from tests.factories import make_app, make_custom
from tests.fakes import T0, FakeClock
from tests.utils import with_database

LEASE = 30_000


class Outbox:
    """An app with one webhook hearing conversation:message, and events emitted at T0 on named lanes."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.ids = IdFactory(FakeClock())

    async def open(self, *lanes: str) -> Outbox:
        async with self.db.write() as conn:
            self.app_id = (await make_app(conn))["id"]
            await make_custom(conn, self.app_id)
            for n, lane in enumerate(lanes):
                await outbox.emit(conn, ids=self.ids, app_id=self.app_id, type="conversation:message", lane=lane,
                                  payload={"n": n})
        return self

    async def claim(self, now: int = T0, limit: int = 10) -> list[tuple[str, int]]:
        """(lane, n) of each delivery claimed at `now`, in the order they go out."""
        async with self.db.write() as conn:
            claimed = await drive(conn, deliveries.claim_plan(now=now, lease_ms=LEASE, limit=limit))
            lanes = await _lanes(conn, [c.seq for c in claimed])
        return [(lanes[c.seq], c.body["payload"]["n"]) for c in claimed]

    async def record(self, lane: str, *, at: int = T0, **outcome: Any) -> None:
        """An attempt at the lane's head delivery, with `outcome` (status_code, error, retry_at, delivered)."""
        async with self.db.write() as conn:
            [seq] = (await conn.scalars(sa.select(sa.func.min(t.deliveries.c.seq)).where(
                t.deliveries.c.lane == lane, t.deliveries.c.status == "pending"))).all()
            await drive(conn, deliveries.record_plan([deliveries.Attempt(seq=seq, at=at, latency_ms=5, **{
                "status_code": None, "error": None, "retry_at": None, "delivered": False, **outcome})]))

    async def rows(self) -> list[tuple[str, str, int, str | None]]:
        """(lane, status, attempts, last error) of each delivery, in order."""
        d = t.deliveries
        async with self.db.read() as conn:
            found = await conn.execute(sa.select(d.c.lane, d.c.status, d.c.attempts, d.c.last_error).order_by(d.c.seq))
            return [tuple(row) for row in found]  # type: ignore[misc]


async def _lanes(conn: AsyncConnection, seqs: list[int]) -> dict[int, str]:
    d = t.deliveries
    return {row.seq: row.lane for row in await conn.execute(sa.select(d.c.seq, d.c.lane).where(d.c.seq.in_(seqs)))}


def test_a_claim_takes_each_lane_in_order(empty_database_url: str) -> None:
    """A claim takes the due deliveries of every lane, each lane in the order its events were emitted."""
    async def scenario(db: Database) -> Any:
        box = await Outbox(db).open("a", "b", "a", "b", "a")
        return await box.claim()

    assert [("a", 0), ("b", 1), ("a", 2), ("b", 3), ("a", 4)] == with_database(empty_database_url, scenario)


def test_a_claim_is_a_lease(empty_database_url: str) -> None:
    """Claimed deliveries are not claimed again until their lease runs out; then they are (a crashed sender's)."""
    async def scenario(db: Database) -> Any:
        box = await Outbox(db).open("a", "a")
        return (await box.claim(), await box.claim(T0 + LEASE - 1), await box.claim(T0 + LEASE + 1),
                await box.claim(T0 + LEASE + 2))

    assert ([("a", 0), ("a", 1)], [], [("a", 0), ("a", 1)], []) == with_database(empty_database_url, scenario)


def test_a_claim_takes_no_more_than_its_limit(empty_database_url: str) -> None:
    """With a limit, a claim takes that many lane heads, oldest first; what follows a claimed head waits for it."""
    async def scenario(db: Database) -> Any:
        box = await Outbox(db).open("a", "a", "b", "c")
        return await box.claim(limit=2), await box.claim(limit=10)

    assert ([("a", 0), ("b", 2)], [("c", 3)]) == with_database(empty_database_url, scenario)


def test_a_lane_waits_for_its_head_to_be_retried(empty_database_url: str) -> None:
    """While a lane's head waits for its retry, nothing behind it leaves; other lanes go on."""
    async def scenario(db: Database) -> Any:
        box = await Outbox(db).open("a", "a", "b")
        await box.record("a", status_code=503, error="HTTP 503", retry_at=T0 + 10_000)
        return await box.claim(T0 + 1), await box.claim(T0 + 10_000), await box.rows()

    assert ([("b", 2)], [("a", 0), ("a", 1)], [("a", "pending", 1, "HTTP 503"), ("a", "pending", 0, None),
                                               ("b", "pending", 0, None)]) == \
        with_database(empty_database_url, scenario)


def test_outcomes_are_recorded_with_each_attempt(empty_database_url: str) -> None:
    """A delivered or failed attempt finishes its delivery; each attempt is logged with its status code."""
    async def scenario(db: Database) -> Any:
        box = await Outbox(db).open("a", "b")
        await box.record("a", at=T0 + 7, status_code=200, delivered=True)
        await box.record("b", at=T0 + 8, status_code=404, error="HTTP 404")
        async with db.read() as conn:
            a = t.delivery_attempts
            log = [tuple(row) for row in await conn.execute(
                sa.select(a.c.attempted_at, a.c.status_code, a.c.error).order_by(a.c.id))]
            finished = list(await conn.scalars(sa.select(t.deliveries.c.finished_at).order_by(t.deliveries.c.seq)))
        return await box.rows(), log, finished

    assert ([("a", "delivered", 1, None), ("b", "failed", 1, "HTTP 404")],
            [(T0 + 7, 200, None), (T0 + 8, 404, "HTTP 404")], [T0 + 7, T0 + 8]) == \
        with_database(empty_database_url, scenario)


def test_next_due_and_redelivery(empty_database_url: str) -> None:
    """next_due is when the earliest lane head falls due (None if nothing is pending); a redelivered failure is
    pending again, due at once, with its attempts reset."""
    async def scenario(db: Database) -> Any:
        box = await Outbox(db).open("a")
        async with db.read() as conn:
            due = [await deliveries.next_due(conn)]
        await box.record("a", status_code=404, error="HTTP 404")
        async with db.write() as conn:
            due.append(await deliveries.next_due(conn))
            [seq] = await conn.scalars(sa.select(t.deliveries.c.seq))
            again = await deliveries.redeliver(conn, seq=seq, now=T0 + 100)
            unknown = await deliveries.redeliver(conn, seq=seq + 1000, now=T0 + 100)
            due.append(await deliveries.next_due(conn))
        return due, (again, unknown), await box.rows()

    assert ([T0, None, T0 + 100], (True, False), [("a", "pending", 0, "HTTP 404")]) == \
        with_database(empty_database_url, scenario)


def test_outcomes_of_many_attempts_are_recorded_in_one_plan(empty_database_url: str) -> None:
    """One record holds the attempts of several POSTs, each with its own outcome and log entry, and lifts the lease
    of deliveries claimed but not sent, so that they are claimable again at once."""
    async def scenario(db: Database) -> Any:
        box = await Outbox(db).open("a", "b", "c", "c")
        claimed = await box.claim()
        async with db.read() as conn:
            seqs = list(await conn.scalars(sa.select(t.deliveries.c.seq).order_by(t.deliveries.c.seq)))
        attempt = dict(at=T0 + 5, latency_ms=3)
        async with db.write() as conn:
            await drive(conn, deliveries.record_plan([
                deliveries.Attempt(seq=seqs[0], status_code=200, error=None, delivered=True, retry_at=None, **attempt),
                deliveries.Attempt(seq=seqs[1], status_code=500, error="HTTP 500", delivered=False,
                                   retry_at=T0 + 60_000, **attempt),
                deliveries.Attempt(seq=seqs[2], status_code=None, error="no response within 20 s", delivered=False,
                                   retry_at=None, **attempt),
            ], release=[seqs[3]]))
        async with db.read() as conn:
            a = t.delivery_attempts
            logged = [tuple(row) for row in await conn.execute(
                sa.select(a.c.delivery_seq, a.c.status_code).order_by(a.c.id))]
        return claimed, await box.rows(), logged, await box.claim(T0 + 6)

    claimed, rows, logged, again = with_database(empty_database_url, scenario)
    assert [("a", 0), ("b", 1), ("c", 2), ("c", 3)] == claimed
    assert [("a", "delivered", 1, None), ("b", "pending", 1, "HTTP 500"), ("c", "failed", 1, "no response within 20 s"),
            ("c", "pending", 0, None)] == rows
    assert [200, 500, None] == [status for _, status in logged]
    assert [("c", 3)] == again  # released: claimable at once; b's head waits for its retry
