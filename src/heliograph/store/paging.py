"""Keyset pages over a table ordered by id (ids are time-ordered, so this is creation order)."""

from __future__ import annotations

import operator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.pagination import Page, Window


async def window(conn: AsyncConnection, query: sa.Select[Any], id_col: sa.ColumnElement[str],
                 page: Page, *, newest_first: bool = False, same: sa.ColumnElement[str] | None = None) -> Window:
    """One page of `query` by `page`; without a cursor, the oldest records (or the newest).

    `same` is a column equal to `id_col` through a join: each cursor bound is put on both, so that
    the planner can range-scan both sides of the join (PostgreSQL does not carry an inequality
    across a join's equality, and would otherwise merge-join from the first row of the other side).
    """
    limit = page.size + 1

    def bound(op: Any, cursor: str) -> sa.Select[Any]:
        return query.where(op(id_col, cursor), *(() if same is None else (op(same, cursor),)))

    if page.after is not None:
        rows = await _rows(conn, bound(operator.gt, page.after).order_by(id_col).limit(limit))
        more_before = await _exists(conn, bound(operator.le, page.after))
        return Window(rows[:page.size], more_before, len(rows) > page.size)
    if page.before is not None or newest_first:
        bounded = query if page.before is None else bound(operator.lt, page.before)
        rows = await _rows(conn, bounded.order_by(id_col.desc()).limit(limit))
        more_after = page.before is not None and await _exists(conn, bound(operator.ge, page.before))
        return Window(rows[:page.size][::-1], len(rows) > page.size, more_after)
    rows = await _rows(conn, query.order_by(id_col).limit(limit))
    return Window(rows[:page.size], False, len(rows) > page.size)


async def _rows(conn: AsyncConnection, query: sa.Select[Any]) -> list[Any]:
    return [row._mapping for row in await conn.execute(query)]


async def _exists(conn: AsyncConnection, query: sa.Select[Any]) -> bool:
    return bool(await conn.scalar(sa.select(query.limit(1).exists())))
