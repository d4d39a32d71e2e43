"""The LISTEN connection (store/notify.py) on PostgreSQL: a NOTIFY from one of this process's own pooled
connections (Database.backend_pids) is heard late, since the process heard it at its commit already;
another process's is heard at once."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa

from heliograph.store.db import Database
from heliograph.store.notify import Listener
from tests.utils import with_database

CHANNEL = "heliograph_test_echo"
NOTIFY = sa.text(f"SELECT pg_notify('{CHANNEL}', :payload)")


def test_this_process_s_own_notify_is_heard_after_another_process_s(empty_database_url: str) -> None:
    """`own` is NOTIFYed through the Database's pool (whose backend pid it noted), then `theirs` from a
    connection of its own: `theirs` is heard first, `own` a second (echo_seconds) later, both once."""
    if empty_database_url.startswith("sqlite"):
        pytest.skip("SQLite has one process and no LISTEN")

    async def scenario(db: Database) -> Any:
        heard: list[str] = []
        both = asyncio.Event()
        listener = Listener(empty_database_url, own=db.backend_pids, echo_seconds=1.0)
        connected = asyncio.Event()

        def hear(payload: str) -> None:
            heard.append(payload)
            if len(heard) == 2:
                both.set()

        listener.on(CHANNEL, hear, on_connect=connected.set)
        running = asyncio.ensure_future(listener.run())
        try:
            await asyncio.wait_for(connected.wait(), 10)
            async with db.read() as conn:
                pid = await conn.scalar(sa.text("SELECT pg_backend_pid()"))
                await conn.execute(NOTIFY, {"payload": "own"})
            other = await asyncpg.connect(sa.make_url(empty_database_url).set(drivername="postgresql")
                                          .render_as_string(hide_password=False))
            try:
                await other.execute(f"NOTIFY {CHANNEL}, 'theirs'")
            finally:
                await other.close()
            await asyncio.wait_for(both.wait(), 10)
        finally:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
        return pid in db.backend_pids, heard

    assert (True, ["theirs", "own"]) == with_database(empty_database_url, scenario)


def test_a_closed_connection_s_pid_is_no_longer_this_process_s(empty_database_url: str) -> None:
    """Twenty connections at once from a pool of ten: the ten overflow ones close when returned, and their
    backends' pids leave `backend_pids` (another process's backend may get one of them later)."""
    if empty_database_url.startswith("sqlite"):
        pytest.skip("SQLite has no backends")

    async def scenario(db: Database) -> tuple[int, int, int]:
        pids: set[int] = set()

        async def one() -> None:
            async with db.engine.connect() as conn:
                pids.add(int(await conn.scalar(sa.text("SELECT pg_backend_pid() FROM pg_sleep(0.05)"))))

        await asyncio.gather(*(one() for _ in range(20)))
        return len(pids), len(db.backend_pids), len(db.backend_pids - pids)

    assert (20, 10, 0) == with_database(empty_database_url, scenario)
