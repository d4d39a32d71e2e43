"""Apps and their app keys: the rows behind CreateApp … DeleteAppKey, and `require_app`, which every
app-scoped look-up falls back on to tell a missing app from a missing resource."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import AppNotFound, NotFound
from heliograph.pagination import Page, Window
from heliograph.store import tables as t
from heliograph.store.paging import window

_a, _k = t.apps, t.api_keys
_APP = sa.select(_a).where(_a.c.id == sa.bindparam("app_id"))


async def require_app(conn: AsyncConnection, *, app_id: str, lock: bool = False) -> Any:
    """The app's row (locked until the transaction ends, with `lock`); AppNotFound if there is none."""
    row = (await conn.execute(_APP.with_for_update() if lock else _APP, {"app_id": app_id})).first()
    if row is None:
        raise AppNotFound()
    return row._mapping


async def insert_app(conn: AsyncConnection, row: dict[str, Any]) -> None:
    await conn.execute(_a.insert(), row)


async def page_apps(conn: AsyncConnection, *, page: Page, none: bool = False) -> Window:
    """A page of all apps (of none, with `none`: a caller that may see no app)."""
    return await window(conn, sa.select(_a).where(sa.false()) if none else sa.select(_a), _a.c.id, page)


async def update_app(conn: AsyncConnection, *, app_id: str, display_name: str, settings: dict[str, Any],
                     metadata: dict[str, Any] | None) -> None:
    await conn.execute(_a.update().where(_a.c.id == app_id).values(
        display_name=display_name, settings=settings, metadata=metadata))


async def all_settings(conn: AsyncConnection) -> list[tuple[str, dict[str, Any]]]:
    """(id, settings) of every app, oldest first: for the background jobs that read a setting of each."""
    result = await conn.execute(sa.select(t.apps.c.id, t.apps.c.settings).order_by(t.apps.c.id))
    return [(row.id, row.settings) for row in result]


async def delete_app(conn: AsyncConnection, *, app_id: str) -> None:
    if (await conn.execute(_a.delete().where(_a.c.id == app_id))).rowcount == 0:
        raise AppNotFound()


# --- app keys -------------------------------------------------------------------------------

def _keys_of(app_id: str) -> sa.Select[Any]:
    return sa.select(_k).where(_k.c.app_id == app_id)


async def count_keys(conn: AsyncConnection, *, app_id: str) -> int:
    return await conn.scalar(sa.select(sa.func.count()).select_from(_keys_of(app_id).subquery())) or 0


async def insert_key(conn: AsyncConnection, row: dict[str, Any]) -> None:
    await conn.execute(_k.insert(), row)


async def list_keys(conn: AsyncConnection, *, app_id: str) -> list[Any]:
    return [r._mapping for r in await conn.execute(_keys_of(app_id).order_by(_k.c.id))]


async def require_key(conn: AsyncConnection, *, app_id: str, key_id: str) -> Any:
    row = (await conn.execute(_keys_of(app_id).where(_k.c.id == key_id))).first()
    if row is None:
        raise NotFound("Key not found")
    return row._mapping


async def delete_key(conn: AsyncConnection, *, app_id: str, key_id: str) -> None:
    if (await conn.execute(_k.delete().where(_k.c.app_id == app_id, _k.c.id == key_id))).rowcount == 0:
        raise NotFound("Key not found")
