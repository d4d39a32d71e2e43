"""Prebuilt statements and plans (store/fast.py): SQLAlchemy's rows, one plan on either path, wakes on commit."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
import sqlalchemy as sa

from heliograph.store import tables as t
from heliograph.store.db import Database
from heliograph.store.fast import WAKE, Fast, Step, drive, rows, run_many
from tests.utils import with_database

_INSERT = Fast(t.apps.insert())
_BY_IDS = Fast(sa.select(t.apps.c.id, t.apps.c.settings, t.apps.c.metadata)
               .where(t.apps.c.id.in_(sa.bindparam("p_ids", expanding=True))).order_by(t.apps.c.id))


class Refused(Exception):
    pass


def app(n: int) -> dict[str, Any]:
    return {"id": f"{n:024x}", "display_name": f"a{n}", "settings": {"n": n, "nested": {"list": [n]}},
            "metadata": None if n % 2 else {"even": True}, "created_at": n}


def store(numbers: list[int], *, wake: bool = False, refuse: bool = False) -> Generator[Step, Any, Any]:
    """Insert the apps in one step and read them back by id; wake the dispatchers (or raise) if told."""
    yield run_many(_INSERT, [app(n) for n in numbers])
    found = yield rows(_BY_IDS, {"p_ids": [app(n)["id"] for n in numbers]})
    if wake:
        yield WAKE
    if refuse:
        raise Refused()
    return found


def test_rows_come_back_as_sqlalchemy_reads_them(empty_database_url: str) -> None:
    """A Fast SELECT returns dicts by column key with JSON decoded, as SQLAlchemy's own execution does,
    whatever the length of an IN list."""
    async def scenario(db: Database) -> Any:
        async with db.write() as conn:
            await drive(conn, store([1, 2, 3]))
            fast = [await _BY_IDS.rows(conn, {"p_ids": [app(n)["id"] for n in numbers]})
                    for numbers in ([2], [1, 2, 3], [])]
            plain = [[dict(row._mapping) for row in await conn.execute(_BY_IDS.statement, {"p_ids": ids})]
                     for ids in ([app(2)["id"]], [app(n)["id"] for n in (1, 2, 3)], [])]
        return fast, plain

    read = {n: {k: app(n)[k] for k in ("id", "settings", "metadata")} for n in (1, 2, 3)}
    expected = [[read[2]], [read[1], read[2], read[3]], []]
    assert (expected, expected) == with_database(empty_database_url, scenario)


def test_a_plan_is_the_same_driven_or_transacted(empty_database_url: str) -> None:
    """A plan driven on a connection and one run whole by Database.transact give the same value."""
    async def scenario(db: Database) -> Any:
        async with db.write() as conn:
            driven = await drive(conn, store([1, 2]))
        transacted = await db.transact(lambda: store([3, 4]))
        return [sorted(r["settings"]["n"] for r in value) for value in (driven, transacted)]

    assert [[1, 2], [3, 4]] == with_database(empty_database_url, scenario)


@pytest.mark.parametrize("path", ["drive", "transact"])
def test_only_a_committed_plan_that_wrote_deliveries_wakes_the_dispatcher(empty_database_url: str, path: str) -> None:
    """The outbox-commit callback runs after a plan that yields WAKE commits, not for one without it, nor for a
    plan that raises (rolled back)."""
    async def scenario(db: Database) -> Any:
        woken: list[int] = []
        db.on_outbox_commit(lambda: woken.append(len(woken)))
        results = []
        for n, (wake, refuse) in enumerate([(False, False), (True, True), (True, False)]):
            try:
                await perform(db, path, lambda n=n, wake=wake, refuse=refuse: store([n], wake=wake, refuse=refuse))
            except Refused:
                results.append(("refused", len(woken)))
            else:
                results.append(("committed", len(woken)))
        return results

    assert [("committed", 0), ("refused", 0), ("committed", 1)] == with_database(empty_database_url, scenario)


async def perform(db: Database, path: str, plan: Any) -> Any:
    if path == "transact":
        return await db.transact(plan)
    async with db.write() as conn:
        return await drive(conn, plan())
