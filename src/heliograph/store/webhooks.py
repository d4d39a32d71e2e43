"""Webhooks: the rows behind CreateWebhook … DeleteWebhook, and each custom integration's first one."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import NotFound
from heliograph.store import tables as t

_w = t.webhooks
_OF_INTEGRATION = _w.c.integration_id == sa.bindparam("integration_id")
_WEBHOOKS: sa.Select[Any] = sa.select(_w).where(_OF_INTEGRATION).order_by(_w.c.id)
_WEBHOOK: sa.Select[Any] = sa.select(_w).where(_OF_INTEGRATION, _w.c.id == sa.bindparam("webhook_id"))
_COUNT = sa.select(sa.func.count()).select_from(_w).where(_OF_INTEGRATION)
_COUNT_OF_APP = sa.select(sa.func.count()).select_from(_w).where(_w.c.app_id == sa.bindparam("app_id"))


async def count_webhooks(conn: AsyncConnection, *, integration_id: str) -> int:
    return await conn.scalar(_COUNT, {"integration_id": integration_id}) or 0


async def count_app_webhooks(conn: AsyncConnection, *, app_id: str) -> int:
    return await conn.scalar(_COUNT_OF_APP, {"app_id": app_id}) or 0


async def insert_webhook(conn: AsyncConnection, row: dict[str, Any]) -> None:
    await conn.execute(_w.insert(), row)


async def list_webhooks(conn: AsyncConnection, *, integration_id: str) -> list[Any]:
    return [r._mapping for r in await conn.execute(_WEBHOOKS, {"integration_id": integration_id})]


async def first_webhooks(conn: AsyncConnection, *, integration_ids: list[str]) -> dict[str, Any]:
    """Each of these integrations' oldest webhook, by integration id (none for one without webhooks)."""
    if not integration_ids:
        return {}
    query: sa.Select[Any] = sa.select(_w).where(_w.c.integration_id.in_(integration_ids))
    first: dict[str, Any] = {}
    for row in await conn.execute(query.order_by(_w.c.id)):
        first.setdefault(row.integration_id, row._mapping)
    return first


async def require_webhook(conn: AsyncConnection, *, integration_id: str, webhook_id: str) -> Any:
    row = (await conn.execute(_WEBHOOK, {"integration_id": integration_id, "webhook_id": webhook_id})).first()
    if row is None:
        raise NotFound("Webhook not found")
    return row._mapping


async def update_webhook(conn: AsyncConnection, *, webhook_id: str, changes: dict[str, Any]) -> None:
    """Set these columns of the webhook."""
    await conn.execute(_w.update().where(_w.c.id == webhook_id).values(**changes))


async def delete_webhook(conn: AsyncConnection, *, webhook_id: str) -> None:
    await conn.execute(_w.delete().where(_w.c.id == webhook_id))
