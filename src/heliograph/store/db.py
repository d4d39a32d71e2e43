"""The database handle: engines, transactions, and every SQLite/PostgreSQL difference.

The caller owns the transaction: `async with db.write() as conn` commits when the block ends
without an exception and rolls back otherwise. Services only take the connection.

SQLite allows one writer at a time; instead of letting concurrent writers collide on
SQLITE_BUSY, this process queues them on an asyncio lock (SQLite is the one-process engine).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from heliograph.config import Settings
from heliograph.store.fast import NOTICES, WAKE_FLAG, Step, drive, drive_asyncpg, drive_sync

T = TypeVar("T")
# A plan that PostgreSQL chose as a deadlock's victim is run again, from the start (its transaction was rolled
# back whole): the one it met is a delete's cascade (an app's, an integration's) whose rows it was writing, and
# the plan then finds them gone. Plans are pure but for their statements, so running one again is safe.
DEADLOCK_ATTEMPTS = 3
GROUP_COMMIT_MAX = 128  # plans per SQLite transaction: a bound on how long one batch holds the writer

DELETE_FLAG = "heliograph_deleted"  # set on a connection whose transaction ran a DELETE (when watched)


class Database:
    def __init__(self, settings: Settings) -> None:
        self.is_sqlite = settings.is_sqlite
        self.engine = _make_engine(settings)
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        self._sqlite_path = sa.make_url(settings.database_url).database if self.is_sqlite else None
        self._writer: ThreadPoolExecutor | None = None  # SQLite: the thread that runs whole plans
        self._writer_conn: sqlite3.Connection | None = None  # used on the writer thread only
        self._queued: list[tuple[Callable[[], Generator[Step, Any, Any]], asyncio.Future[Any]]] = []
        self._committer: asyncio.Task[None] | None = None
        self._after_outbox_commit: list[Callable[[], None]] = []
        self._after_stream_commit: list[Callable[[list[str]], None]] = []
        self._after_delete_commit: list[Callable[[], Awaitable[None]]] = []
        self.backend_pids: set[int] = set()  # PostgreSQL: the server pids of this process's pooled connections
        if not self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", self._note_backend)
            event.listen(self.engine.sync_engine, "close", self._forget_backend)
            event.listen(self.engine.sync_engine, "close_detached", self._forget_backend)

    def on_outbox_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` after each commit of this process that wrote to the outbox."""
        self._after_outbox_commit.append(callback)

    def _note_backend(self, dbapi_connection: Any, _record: Any) -> None:
        """Note a new pooled connection's backend pid: the NOTIFYs it sends are this process's own
        (store/notify.Listener hears them late), until the connection closes (`_forget_backend`: the pool
        opens and closes overflow connections under load, and another process's backend may get the pid)."""
        self.backend_pids.add(dbapi_connection.driver_connection.get_server_pid())

    def _forget_backend(self, dbapi_connection: Any, *_args: Any) -> None:
        self.backend_pids.discard(dbapi_connection.driver_connection.get_server_pid())

    def on_stream_commit(self, callback: Callable[[list[str]], None]) -> None:
        """Call `callback` with the notices (store/fast.notice) of each commit of this process that has some."""
        self._after_stream_commit.append(callback)

    def _announce(self, notices: list[str]) -> None:
        if notices:
            for callback in self._after_stream_commit:
                callback(notices)

    def on_delete_commit(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Await `callback` after each commit of this process whose transaction ran a DELETE.

        Cascades follow the DELETE they come from, so this sees them too (the attachments sweep
        relies on it). Statements are watched only once a callback is registered.
        """
        if not self._after_delete_commit:
            event.listen(self.engine.sync_engine, "before_cursor_execute", _note_delete)
        self._after_delete_commit.append(callback)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        async with self._write_lock or contextlib.nullcontext():
            async with self.engine.begin() as conn:
                conn.info.pop(WAKE_FLAG, None)  # connection info outlives a rolled-back transaction
                conn.info.pop(DELETE_FLAG, None)
                conn.info.pop(NOTICES, None)
                yield conn
                woken = conn.info.pop(WAKE_FLAG, False)
                deleted = conn.info.pop(DELETE_FLAG, False)
                notices = conn.info.pop(NOTICES, [])
        self._announce(notices)
        if woken:  # committed, with new deliveries
            for callback in self._after_outbox_commit:
                callback()
        if deleted:  # committed, having deleted rows
            for after_delete in self._after_delete_commit:
                await after_delete()

    async def transact(self, plan: Callable[[], Generator[Step, Any, T]]) -> T:
        """Run a plan (store/fast.py) in a write transaction of its own; its value.

        On SQLite the plan runs on a writer thread with its own sqlite3 connection, whole: one
        thread hop rather than one per statement. Plans that arrive while the writer is busy are
        committed together (group commit: one transaction and one fsync for the batch, each plan
        in a savepoint of its own, so one that raises leaves the others be); every caller still
        returns only after the commit that holds its rows. On PostgreSQL the plan runs on the
        pooled connection's asyncpg driver in an asyncpg transaction, without SQLAlchemy's execution
        machinery; it sends NOTIFY only when this process has no dispatcher of its own (one that
        does is woken directly, below). Either way this process's dispatcher is woken after the
        commit if the plan wrote deliveries.
        """
        notices: list[str] = []
        if not self.is_sqlite:  # the plan runs on asyncpg itself, in a transaction of its own
            for attempt in range(1, DEADLOCK_ATTEMPTS + 1):
                notices.clear()
                try:
                    async with self.engine.connect() as conn:
                        raw: Any = conn.sync_connection.connection.driver_connection  # type: ignore[union-attr]
                        async with raw.transaction():
                            value, woke = await drive_asyncpg(raw, self.engine.dialect, plan(),
                                                              notify=not self._after_outbox_commit, notices=notices)
                    break
                except asyncpg.exceptions.DeadlockDetectedError:
                    if attempt == DEADLOCK_ATTEMPTS:
                        raise
        elif self._sqlite_path in (None, "", ":memory:"):
            async with self.write() as conn:
                return await drive(conn, plan())
        else:
            value, woke, notices = await self._transact_sqlite(plan)
        self._announce(notices)
        if woke:
            for callback in self._after_outbox_commit:
                callback()
        return value

    async def _transact_sqlite(self, plan: Callable[[], Generator[Step, Any, T]]) -> tuple[T, bool, list[str]]:
        """Group commit: plans queue up while a batch is being written, and the next batch takes them all."""
        future: asyncio.Future[tuple[T, bool, list[str]]] = asyncio.get_running_loop().create_future()
        self._queued.append((plan, future))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_queued())
        return await future

    async def _commit_queued(self) -> None:
        loop = asyncio.get_running_loop()
        if self._writer is None:
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="heliograph-sqlite-writer")
        while self._queued:
            async with self._write_lock or contextlib.nullcontext():
                batch, self._queued = self._queued[:GROUP_COMMIT_MAX], self._queued[GROUP_COMMIT_MAX:]
                try:
                    outcomes = await loop.run_in_executor(self._writer, self._run_plans, [p for p, _ in batch])
                except BaseException as error:  # the commit itself failed: nothing of the batch is stored
                    outcomes = [error] * len(batch)
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():  # its request was cancelled; what it wrote is committed all the same
                    continue
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)

    def _run_plans(self, plans: list[Callable[[], Generator[Step, Any, Any]]]) -> list[Any]:
        """One transaction for several plans, each in a savepoint: a plan that raises leaves the others be."""
        conn = self._writer_conn
        if conn is None:
            conn = self._writer_conn = sqlite3.connect(self._sqlite_path or "", isolation_level=None)
            _sqlite_on_connect(conn, None)
        outcomes: list[Any] = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            for plan in plans:
                conn.execute("SAVEPOINT plan")
                try:
                    notices: list[str] = []
                    value, woke = drive_sync(conn, self.engine.dialect, plan(), notices)
                    outcomes.append((value, woke, notices))
                except Exception as error:
                    conn.execute("ROLLBACK TO plan")
                    outcomes.append(error)
                conn.execute("RELEASE plan")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return outcomes

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads, in autocommit: no BEGIN/ROLLBACK round trips around them.

        SQLite's driver is in autocommit already (we issue BEGIN ourselves), so there the read
        only has to skip our BEGIN; switching its isolation level would cost two thread hops.
        """
        async with self.engine.connect() as conn:
            option = {"heliograph_read": True} if self.is_sqlite else {"isolation_level": "AUTOCOMMIT"}
            yield await conn.execution_options(**option)

    async def dispose(self) -> None:
        if self._writer is not None:
            self._writer.submit(self._close_writer).result()
            self._writer.shutdown()
            self._writer = None
        await self.engine.dispose()

    def _close_writer(self) -> None:
        if self._writer_conn is not None:
            self._writer_conn.close()
            self._writer_conn = None


def _make_engine(settings: Settings) -> AsyncEngine:
    if not settings.is_sqlite:
        return create_async_engine(settings.database_url, pool_size=10, max_overflow=10)
    url = sa.make_url(settings.database_url)
    if url.database and url.database != ":memory:":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, pool_size=5, max_overflow=0)
    event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
    event.listen(engine.sync_engine, "begin", _sqlite_on_begin)
    return engine


def _note_delete(conn: sa.Connection, _cursor: Any, statement: str, *_args: Any) -> None:
    if statement.startswith("DELETE"):
        conn.info[DELETE_FLAG] = True


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (SQLAlchemy's pysqlite recipe)
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=10000"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_on_begin(conn: sa.Connection) -> None:
    # IMMEDIATE: a write transaction takes SQLite's write lock at BEGIN, waiting up to busy_timeout for it. A
    # deferred one that reads first would fail at once (SQLITE_BUSY, no wait) on its first write whenever another
    # process (the CLI beside a server, a second server) committed in between: its snapshot is stale.
    if not conn.get_execution_options().get("heliograph_read"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
