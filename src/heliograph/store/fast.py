"""Hot statements, run straight on the driver connection.

SQLAlchemy's execution machinery (cache key, execution context, result set-up, a greenlet hop per
statement) costs about five times what asyncpg itself spends on a prebuilt statement (see
docs/performance.md). For the few statements on PostMessage's path, `Fast` compiles the statement
once per dialect and runs the SQL on the driver's connection (asyncpg, or aiosqlite) inside the
transaction the caller's `AsyncConnection` holds, applying the same bind and result conversions
(our `Json` columns) that SQLAlchemy would. Anything with expanding parameters or server defaults
stays on the ordinary path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

Convert = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Plan:
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
        self._plans: dict[str, _Plan] = {}

    def _plan(self, dialect: sa.Dialect) -> _Plan:
        plan = self._plans.get(dialect.name)
        if plan is None:
            compiled = self.statement.compile(dialect=dialect)  # type: ignore[attr-defined]
            names = tuple(compiled.positiontup or ())
            binds = tuple(compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
                          for name in names)
            literals = {name: compiled.binds[name].effective_value for name in names
                        if compiled.binds[name].value is not None}
            columns = list(getattr(self.statement, "exported_columns", ()))
            plan = _Plan(compiled.string, names, binds, literals, tuple(c.key for c in columns),
                         tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns))
            self._plans[dialect.name] = plan
        return plan

    def _args(self, plan: _Plan, params: dict[str, Any]) -> list[Any]:
        if plan.literals:
            params = plan.literals | params
        return [value if convert is None else convert(value)
                for value, convert in zip((params[name] for name in plan.names), plan.binds, strict=True)]

    async def rows(self, conn: AsyncConnection, params: dict[str, Any]) -> list[dict[str, Any]]:
        """The statement's rows (a SELECT's, or an UPDATE's RETURNING), as dicts by column key."""
        plan = self._plan(conn.dialect)
        raw = await _driver(conn)
        if conn.dialect.name == "postgresql":
            records: Sequence[Sequence[Any]] = await raw.fetch(plan.sql, *self._args(plan, params))
        else:
            records = await raw.execute_fetchall(plan.sql, self._args(plan, params))
        return [{key: value if convert is None else convert(value)
                 for key, value, convert in zip(plan.keys, record, plan.results, strict=True)}
                for record in records]

    async def run(self, conn: AsyncConnection, params: dict[str, Any]) -> None:
        plan = self._plan(conn.dialect)
        raw = await _driver(conn)
        if conn.dialect.name == "postgresql":
            await raw.execute(plan.sql, *self._args(plan, params))
        else:
            await (await raw.execute(plan.sql, self._args(plan, params))).close()

    async def run_many(self, conn: AsyncConnection, params: list[dict[str, Any]]) -> None:
        if len(params) == 1:
            await self.run(conn, params[0])
            return
        plan = self._plan(conn.dialect)
        raw = await _driver(conn)
        rows = [self._args(plan, one) for one in params]
        if conn.dialect.name == "postgresql":
            await raw.executemany(plan.sql, rows)
        else:
            await (await raw.executemany(plan.sql, rows)).close()


async def _driver(conn: AsyncConnection) -> Any:
    """The driver's own connection, inside the transaction `conn` holds (asyncpg begins it lazily)."""
    adapted: Any = conn.sync_connection.connection.dbapi_connection  # type: ignore[union-attr]
    if conn.dialect.name == "postgresql" and adapted._transaction is None:
        await adapted._start_transaction()  # as SQLAlchemy's own first execute would (a no-op in autocommit)
    return adapted.driver_connection
