"""Integrations and their integration keys: the rows behind CreateIntegration … DeleteIntegration and
CreateCustomIntegrationKey … DeleteCustomIntegrationKey, and the look-up of an app's integration."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import IntegrationNotFound, NotFound
from heliograph.pagination import Page, Window
from heliograph.store import tables as t
from heliograph.store.apps import require_app
from heliograph.store.fast import Fast, Plan, rows
from heliograph.store.paging import window

_i, _k = t.integrations, t.integration_keys
_INTEGRATION = sa.select(_i).where(_i.c.app_id == sa.bindparam("app_id"), _i.c.id == sa.bindparam("integration_id"))

_OF_INTEGRATION = _k.c.integration_id == sa.bindparam("integration_id")
_KEYS: sa.Select[Any] = sa.select(_k).where(_OF_INTEGRATION).order_by(_k.c.id)
_KEY: sa.Select[Any] = sa.select(_k).where(_OF_INTEGRATION, _k.c.id == sa.bindparam("key_id"))
_COUNT_KEYS = sa.select(sa.func.count()).select_from(_k).where(_OF_INTEGRATION)


_LOCKS = {  # PostgreSQL's row locks (SQLite's compiler renders none: its writers queue anyway)
    True: _INTEGRATION.with_for_update(),
    "share": _INTEGRATION.with_for_update(read=True, key_share=True),  # FOR KEY SHARE: not deleted meanwhile
    "serial": _INTEGRATION.with_for_update(key_share=True),  # FOR NO KEY UPDATE: one at a time, yet compatible
}                                                           # with the KEY SHARE of rows referring to it


_SHARED = Fast(_LOCKS["share"])


def shared_integration_plan(*, app_id: str, integration_id: str) -> Plan[Any]:
    """Plan: the app's integration, which no one deletes until the transaction ends (FOR KEY SHARE), or None."""
    found = yield rows(_SHARED, {"app_id": app_id, "integration_id": integration_id})
    return found[0] if found else None


async def find_integration(conn: AsyncConnection, *, app_id: str, integration_id: str,
                           lock: bool | str = False) -> Any:
    """The app's integration, locked until the transaction ends with `lock` (True: FOR UPDATE; "share": no one
    deletes it meanwhile; "serial": one such lock at a time, which rows of the transaction that refer to the
    integration do not deadlock with); None if there is none."""
    query = _LOCKS[lock] if lock else _INTEGRATION
    row = (await conn.execute(query, {"app_id": app_id, "integration_id": integration_id})).first()
    return None if row is None else row._mapping


async def find_any_integration(conn: AsyncConnection, *, integration_id: str) -> Any:
    """The integration with this id, whatever its app (an SDK's config names only the integration)."""
    row = (await conn.execute(sa.select(_i).where(_i.c.id == integration_id))).first()
    return None if row is None else row._mapping


async def insert_integration(conn: AsyncConnection, row: dict[str, Any]) -> None:
    await conn.execute(_i.insert(), row)


async def page_integrations(conn: AsyncConnection, *, app_id: str, page: Page, types: list[str] | None,
                            hidden_type: str) -> Window:
    """A page of the app's integrations (of these `types`), but none of `hidden_type`."""
    query = sa.select(_i).where(_i.c.app_id == app_id, _i.c.type != hidden_type)
    if types is not None:
        query = query.where(_i.c.type.in_(types))
    return await window(conn, query, _i.c.id, page)


async def list_integrations(conn: AsyncConnection, *, app_id: str, types: list[str]) -> list[Any]:
    """The app's integrations (id, type, config) of these types."""
    query = sa.select(_i.c.id, _i.c.type, _i.c.config).where(_i.c.app_id == app_id, _i.c.type.in_(types))
    return [r._mapping for r in await conn.execute(query)]


async def update_integration(conn: AsyncConnection, *, integration_id: str, display_name: str | None,
                             config: dict[str, Any], default_responder_id: str | None) -> None:
    await conn.execute(_i.update().where(_i.c.id == integration_id).values(
        display_name=display_name, config=config, default_responder_id=default_responder_id))


async def activate_integration(conn: AsyncConnection, *, integration_id: str, config: dict[str, Any]) -> None:
    """A channel's integration set up: active, with what the channel told of itself in its config."""
    await conn.execute(_i.update().where(_i.c.id == integration_id).values(status="active", config=config))


async def delete_integration(conn: AsyncConnection, *, app_id: str, integration_id: str, hidden_type: str) -> None:
    """Delete the integration unless it is of `hidden_type` (IntegrationNotFound, or AppNotFound, then);
    its webhooks and keys go with it (foreign keys cascade)."""
    result = await conn.execute(_i.delete().where(
        _i.c.app_id == app_id, _i.c.id == integration_id, _i.c.type != hidden_type))
    if result.rowcount == 0:
        await require_app(conn, app_id=app_id)
        raise IntegrationNotFound()


# --- integration keys --------------------------------------------------------------------------

async def count_keys(conn: AsyncConnection, *, integration_id: str) -> int:
    return await conn.scalar(_COUNT_KEYS, {"integration_id": integration_id}) or 0


async def insert_key(conn: AsyncConnection, row: dict[str, Any]) -> None:
    await conn.execute(_k.insert(), row)


async def list_keys(conn: AsyncConnection, *, integration_id: str) -> list[Any]:
    return [r._mapping for r in await conn.execute(_KEYS, {"integration_id": integration_id})]


async def require_key(conn: AsyncConnection, *, integration_id: str, key_id: str) -> Any:
    row = (await conn.execute(_KEY, {"integration_id": integration_id, "key_id": key_id})).first()
    if row is None:
        raise NotFound("Key not found")
    return row._mapping


async def delete_key(conn: AsyncConnection, *, integration_id: str, key_id: str) -> None:
    result = await conn.execute(_k.delete().where(_k.c.integration_id == integration_id, _k.c.id == key_id))
    if result.rowcount == 0:
        raise NotFound("Key not found")


async def has_integration(conn: AsyncConnection, *, app_id: str, integration_type: str) -> bool:
    """Whether the app has an integration of this type (DownloadMessageRef and PostConversionEvents ask)."""
    query = sa.select(_i.c.id).where(_i.c.app_id == app_id, _i.c.type == integration_type).limit(1)
    return await conn.scalar(query) is not None
