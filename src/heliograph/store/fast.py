"""Hot statements, run straight on the driver connection, and the plans made of them.

SQLAlchemy's execution machinery (cache key, execution context, result set-up, a greenlet hop per
statement) costs about five times what asyncpg itself spends on a prebuilt statement (see
docs/performance.md). For the statements of PostMessage and of webhook delivery, `Fast` has
SQLAlchemy compile the statement once per dialect (expanding `IN` lists at each call) and runs the
SQL on the driver itself (asyncpg, aiosqlite, or sqlite3 on the writer thread), applying the same
bind and result conversions (our `Json` columns) that SQLAlchemy would.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.compiler import compiles

WAKE_FLAG = "heliograph_wake_dispatcher"  # set on a connection whose transaction wrote deliveries
NOTICES = "heliograph_stream_notices"  # a connection's list of what its transaction streamed
OUTBOX_CHANNEL = "heliograph_outbox"  # dispatchers in other processes LISTEN here (PostgreSQL)
STREAM_CHANNEL = "heliograph_stream"  # realtime hubs in other processes LISTEN here (PostgreSQL)

Convert = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    compiled: Any  # SQLCompiler: expands `IN` lists (expanding bind parameters) at each call
    expanding: bool
    sql: str
    names: tuple[str, ...]
    binds: tuple[Convert, ...]
    literals: dict[str, Any]  # the statement's own bound values (a literal in a coalesce, say)
    keys: tuple[str, ...]
    results: tuple[Convert, ...]


class Fast:
    """A prebuilt statement; `rows`, `run` and `run_many` execute it on the caller's transaction."""

    def __init__(self, statement: sa.Executable) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, dialect: sa.Dialect) -> _Compiled:
        plan = self._compiled.get(dialect.name)
        if plan is None:
            statement = self.statement_for(dialect)
            compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
            names = tuple(compiled.positiontup or ())
            binds = tuple(compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
                          for name in names)
            literals = {name: compiled.binds[name].effective_value for name in names
                        if compiled.binds[name].value is not None}
            columns = list(getattr(statement, "exported_columns", ()))
            expanding = any(bind.expanding for bind in compiled.binds.values())
            plan = _Compiled(compiled, expanding, compiled.string, names, binds, literals,
                             tuple(c.key for c in columns),
                             tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns))
            self._compiled[dialect.name] = plan
        return plan

    def statement_for(self, dialect: sa.Dialect) -> sa.Executable:
        return self.statement

    def _args(self, plan: _Compiled, params: dict[str, Any]) -> list[Any]:
        if plan.literals:
            params = plan.literals | params
        return [value if convert is None else convert(value)
                for value, convert in zip((params[name] for name in plan.names), plan.binds, strict=True)]

    def _sql(self, plan: _Compiled, params: dict[str, Any]) -> tuple[str, list[Any]]:
        """The SQL and its positional arguments; `IN` lists expanded to as many parameters as they hold."""
        if not plan.expanding:
            return plan.sql, self._args(plan, params)
        state = plan.compiled.construct_expanded_state(plan.literals | params)
        return state.statement, [state.processors[name](state.parameters[name]) if name in state.processors
                                 else state.parameters[name] for name in state.positiontup]

    async def rows(self, conn: AsyncConnection, params: dict[str, Any]) -> list[dict[str, Any]]:
        """The statement's rows (a SELECT's, or an UPDATE's RETURNING), as dicts by column key."""
        plan = self._compile(conn.dialect)
        sql, args = self._sql(plan, params)
        raw = await _driver(conn)
        if conn.dialect.name == "postgresql":
            records: Sequence[Sequence[Any]] = await raw.fetch(sql, *args)
        else:
            records = await raw.execute_fetchall(sql, args)
        return self._decode(plan, records)

    def _decode(self, plan: _Compiled, records: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
        return [{key: value if convert is None else convert(value)
                 for key, value, convert in zip(plan.keys, record, plan.results, strict=True)}
                for record in records]

    async def run(self, conn: AsyncConnection, params: dict[str, Any]) -> None:
        sql, args = self._sql(self._compile(conn.dialect), params)
        raw = await _driver(conn)
        if conn.dialect.name == "postgresql":
            await raw.execute(sql, *args)
        else:
            await (await raw.execute(sql, args)).close()

    async def run_many(self, conn: AsyncConnection, params: list[dict[str, Any]]) -> None:
        plan = self._compile(conn.dialect)
        raw = await _driver(conn)
        rows = [self._args(plan, one) for one in params]
        if conn.dialect.name == "postgresql":
            await raw.executemany(plan.sql, rows)
        else:
            await (await raw.executemany(plan.sql, rows)).close()


class FastByDialect(Fast):
    """A prebuilt statement written once per dialect (an INSERT … ON CONFLICT, whose constructs are each
    dialect's own), run like any Fast."""

    def __init__(self, statements: dict[str, sa.Executable]) -> None:
        super().__init__(statements["sqlite"])
        self.statements = statements

    def statement_for(self, dialect: sa.Dialect) -> sa.Executable:
        return self.statements[dialect.name]


async def _driver(conn: AsyncConnection) -> Any:
    """The driver's own connection, inside the transaction `conn` holds (asyncpg begins it lazily)."""
    adapted: Any = conn.sync_connection.connection.dbapi_connection  # type: ignore[union-attr]
    if conn.dialect.name == "postgresql" and adapted._transaction is None:
        await adapted._start_transaction()  # as SQLAlchemy's own first execute would (a no-op in autocommit)
    return adapted.driver_connection


# --- plans: a transaction's logic written once, run on either engine ------------------------------
#
# A plan is a generator that yields the statements it needs (`rows`, `run`, `run_many`, `wake`)
# and receives their results; it holds no connection. `drive` runs one on an AsyncConnection
# (any transaction, on either engine). Database.transact runs a whole plan on SQLite in one hop
# to its writer thread (BEGIN, every statement, COMMIT), instead of a thread hop per statement.


@dataclass(frozen=True)
class Step:
    fast: Fast | None  # None: wake the dispatchers after the commit (or, with `notice`, the stream)
    params: Any = None
    many: bool = False
    fetch: bool = False
    notice: str | None = None  # with fast None: tell the realtime hubs once this commits
    notified: bool = False  # the notice was NOTIFYed by a statement of the plan already (PostgreSQL)


T = TypeVar("T")
Plan = Generator[Step, Any, T]  # Plan[X]: a plan whose value is an X


def rows(fast: Fast, params: dict[str, Any]) -> Step:
    return Step(fast, params, fetch=True)


def run(fast: Fast, params: dict[str, Any]) -> Step:
    return Step(fast, params)


def run_many(fast: Fast, params: list[dict[str, Any]]) -> Step:
    return Step(fast, params, many=True)


WAKE = Step(None)  # this transaction wrote deliveries: wake the dispatchers once it commits
_NOTIFY = Fast(sa.text(f"NOTIFY {OUTBOX_CHANNEL}"))
_NOTIFY_STREAM = Fast(sa.select(sa.func.pg_notify(STREAM_CHANNEL, sa.bindparam("notice"))))


class Notice(str):
    """A notice as this process's own hubs hear it (Database.on_stream_commit): the payload, and with it
    what the commit already holds rendered (`frame`: a message's stream frame), which other processes,
    hearing only the payload through NOTIFY, read from the database instead."""

    frame: Any = None

    @classmethod
    def of(cls, payload: str, frame: Any) -> Notice:
        notice = cls(payload)
        notice.frame = frame
        return notice


def notice(payload: str, *, notified: bool = False, frame: Any = None) -> Step:
    """Step: once this transaction commits, the realtime hubs hear `payload` (store/notify.py): this
    process's at once (Database.on_stream_commit), with `frame` if given (Notice), the others' through
    NOTIFY on PostgreSQL (sent by this step, or, with `notified`, by a statement of the plan: see
    store/messages.StreamNotice)."""
    return Step(None, notice=payload if frame is None else Notice.of(payload, frame), notified=notified)


class StreamNotice(sa.sql.functions.FunctionElement[Any]):
    """SQL that NOTIFYs the stream channel with a payload computed in the statement (PostgreSQL), so a
    statement that runs anyway carries the notice: `pg_notify('heliograph_stream', payload)`. On SQLite,
    which has one process, it is NULL: the hub there hears the commit directly."""

    inherit_cache = True
    type = sa.String()


@compiles(StreamNotice)
def _stream_notice_default(element: StreamNotice, compiler: Any, **kw: Any) -> str:
    return "NULL"


@compiles(StreamNotice, "postgresql")
def _stream_notice_postgresql(element: StreamNotice, compiler: Any, **kw: Any) -> str:
    return f"pg_notify('{STREAM_CHANNEL}', {compiler.process(element.clauses, **kw)})"


async def drive(conn: AsyncConnection, plan: Generator[Step, Any, T]) -> T:
    """Run `plan` on `conn`, in the transaction it holds; the plan's return value."""
    result: Any = None
    while True:
        try:
            step = plan.send(result)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        if step.notice is not None:
            if conn.dialect.name == "postgresql" and not step.notified:
                await _NOTIFY_STREAM.rows(conn, {"notice": step.notice})
            conn.info.setdefault(NOTICES, []).append(step.notice)
            result = None
        elif step.fast is None:
            if conn.dialect.name == "postgresql" and not conn.info.get(WAKE_FLAG):
                await _NOTIFY.run(conn, {})  # PostgreSQL sends it to other processes on commit only
            conn.info[WAKE_FLAG] = True
            result = None
        elif step.fetch:
            result = await step.fast.rows(conn, step.params)
        else:
            result = None
            await (step.fast.run_many if step.many else step.fast.run)(conn, step.params)


async def drive_asyncpg(conn: Any, dialect: sa.Dialect, plan: Generator[Step, Any, T], *,
                        notify: bool, notices: list[str]) -> tuple[T, bool]:
    """Run `plan` on an asyncpg connection, in the transaction it holds; its value, and whether it woke.
    Its notices are NOTIFYed (on commit) and added to `notices`.

    With `notify` false (this process delivers webhooks itself and is woken directly) a plan that
    wakes sends no NOTIFY: other processes' dispatchers need not hear of deliveries this one takes.
    """
    result: Any = None
    woke = False
    while True:
        try:
            step = plan.send(result)
        except StopIteration as done:
            return done.value, woke
        result = None
        if step.notice is not None:
            if not step.notified:
                await conn.execute("SELECT pg_notify($1, $2)", STREAM_CHANNEL, step.notice)
            notices.append(step.notice)
            continue
        if step.fast is None:
            if notify and not woke:
                await conn.execute(f"NOTIFY {OUTBOX_CHANNEL}")  # sent to other processes on commit only
            woke = True
            continue
        compiled, sql, args = _bound(step.fast, step, dialect)
        if step.many:
            await conn.executemany(sql, args)
        elif step.fetch:
            result = step.fast._decode(compiled, await conn.fetch(sql, *args))
        else:
            await conn.execute(sql, *args)


def drive_sync(conn: sqlite3.Connection, dialect: sa.Dialect, plan: Generator[Step, Any, T],
               notices: list[str]) -> tuple[T, bool]:
    """Run `plan` on a plain sqlite3 connection (in the thread that owns it); its value, and whether it woke.
    Its notices are added to `notices`."""
    result: Any = None
    woke = False
    while True:
        try:
            step = plan.send(result)
        except StopIteration as done:
            return done.value, woke
        result = None
        if step.notice is not None:
            notices.append(step.notice)
            continue
        if step.fast is None:
            woke = True
            continue
        compiled, sql, args = _bound(step.fast, step, dialect)
        if step.many:
            conn.executemany(sql, args)
            continue
        cursor = conn.execute(sql, args)
        if step.fetch:
            result = step.fast._decode(compiled, cursor.fetchall())
        cursor.close()


def _bound(fast: Fast, step: Step, dialect: sa.Dialect) -> tuple[_Compiled, str, list[Any]]:
    """The step's compiled statement, its SQL and its arguments (one list of them per row for run_many)."""
    compiled = fast._compile(dialect)
    if step.many:
        return compiled, compiled.sql, [fast._args(compiled, one) for one in step.params]
    sql, args = fast._sql(compiled, step.params)
    return compiled, sql, args
