"""Database.transact: a plan commits whole or not at all, also when SQLite commits plans in groups."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Generator
from typing import Any

import pytest
import sqlalchemy as sa

from heliograph.store import tables as t
from heliograph.store.db import Database
from heliograph.store.fast import Fast, Step, rows, run
from tests.utils import open_database

_INSERT_APP = Fast(t.apps.insert())
_APP = Fast(sa.select(t.apps.c.id, t.apps.c.settings).where(t.apps.c.id == sa.bindparam("p_id")))


class Refused(Exception):
    pass


def create_app(app_id: str, *, refuse: bool) -> Generator[Step, Any, dict[str, Any]]:
    """Insert an app, read it back, then (if `refuse`) raise: after writing, as a failed request would."""
    yield run(_INSERT_APP, {"id": app_id, "display_name": app_id, "settings": {"n": app_id}, "metadata": None,
                            "created_at": 0})
    [row] = yield rows(_APP, {"p_id": app_id})
    if refuse:
        raise Refused(app_id)
    return row


async def app_ids(db: Database) -> set[str]:
    async with db.read() as conn:
        return set((await conn.execute(sa.select(t.apps.c.id))).scalars())


def test_concurrent_plans_each_commit_or_roll_back_alone(empty_database_url: str) -> None:
    """Sixty plans at once (on SQLite, several share a commit): each caller gets its own outcome, and
    exactly the rows of the plans that returned are stored."""
    async def scenario() -> tuple[list[Any], set[str]]:
        names = [f"{n:024x}" for n in range(60)]
        async with open_database(empty_database_url) as db:
            outcomes = await asyncio.gather(*(
                db.transact(lambda name=name, n=n: create_app(name, refuse=n % 3 == 0))  # type: ignore[misc]
                for n, name in enumerate(names)), return_exceptions=True)
            return outcomes, await app_ids(db)

    outcomes, stored = asyncio.run(scenario())
    for n, outcome in enumerate(outcomes):
        name = f"{n:024x}"
        if n % 3 == 0:
            assert isinstance(outcome, Refused) and outcome.args == (name,)
        else:
            assert {"id": name, "settings": {"n": name}} == outcome
    assert {f"{n:024x}" for n in range(60) if n % 3} == stored


def test_a_plan_that_fails_in_the_database_rolls_back_alone(empty_database_url: str) -> None:
    """A constraint violation inside one plan is that caller's error; the plans around it commit."""
    async def scenario() -> tuple[list[Any], set[str]]:
        async with open_database(empty_database_url) as db:
            await db.transact(lambda: create_app("a" * 24, refuse=False))
            outcomes = await asyncio.gather(
                db.transact(lambda: create_app("b" * 24, refuse=False)),
                db.transact(lambda: create_app("a" * 24, refuse=False)),  # the same id again
                db.transact(lambda: create_app("c" * 24, refuse=False)), return_exceptions=True)
            return outcomes, await app_ids(db)

    outcomes, stored = asyncio.run(scenario())
    assert "unique" in str(outcomes[1]).lower(), repr(outcomes[1])  # the violation is that caller's alone
    assert "b" * 24 == outcomes[0]["id"] and "c" * 24 == outcomes[2]["id"]
    assert {"a" * 24, "b" * 24, "c" * 24} == stored


def test_a_write_transaction_holds_sqlite_s_write_lock_from_its_first_statement(empty_database_url: str) -> None:
    """Database.write on SQLite begins IMMEDIATE: once it has read, another process cannot commit under it, so
    its later write never fails at once on a stale snapshot (the CLI's redeliver beside a running server did)."""
    if not empty_database_url.startswith("sqlite"):
        pytest.skip("SQLite only: PostgreSQL locks rows, not the database")
    path = empty_database_url.split("///", 1)[1]

    async def scenario() -> str:
        async with open_database(empty_database_url) as db, db.write() as conn:
            await conn.execute(sa.select(t.apps.c.id))  # a read first, as redeliver reads the webhook's target
            other = sqlite3.connect(path, timeout=0, isolation_level=None)  # another process's writer, not waiting
            try:
                other.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as refused:
                return str(refused)
            finally:
                other.close()
            return "the other writer got the lock"

    assert "database is locked" == asyncio.run(scenario())


_DEADLOCK = Fast(sa.text("DO $$ BEGIN RAISE EXCEPTION 'deadlock detected' USING ERRCODE = '40P01'; END $$"))


def test_a_deadlocks_victim_is_run_again_from_the_start(empty_database_url: str) -> None:
    """PostgreSQL rolls a deadlock's victim back whole: transact runs the plan again (a delete's cascade it met
    has committed by then), up to DEADLOCK_ATTEMPTS times in all; SQLite has one writer and no deadlocks."""
    if not empty_database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer: no deadlocks")
    runs: list[str] = []

    def plan(name: str, fail: int) -> Generator[Step, Any, dict[str, Any]]:
        runs.append(name)
        row = yield from create_app(f"{name}{len(runs):04d}".rjust(24, "0"), refuse=False)
        if runs.count(name) <= fail:
            yield run(_DEADLOCK, {})
        return row

    async def scenario() -> tuple[Any, set[str], BaseException | None]:
        async with open_database(empty_database_url) as db:
            made = await db.transact(lambda: plan("a", 2))
            try:
                await db.transact(lambda: plan("b", 3))
                failed = None
            except Exception as error:  # noqa: BLE001
                failed = error
            return made, await app_ids(db), failed

    made, stored, failed = asyncio.run(scenario())
    assert (["a"] * 3 + ["b"] * 3, {made["id"]}) == (runs, stored)  # the rolled-back attempts left nothing
    assert type(failed).__name__ == "DeadlockDetectedError"
