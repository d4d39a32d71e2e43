"""Custom integration API keys (CreateCustomIntegrationKey … DeleteCustomIntegrationKey): `int_…` keys."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import BadRequest, NotFound
from heliograph.ids import IdFactory, new_secret
from heliograph.schemas import render
from heliograph.schemas.integrations import IntegrationApiKey
from heliograph.services.integrations import require_custom
from heliograph.store import tables as t

MAX_KEYS_PER_INTEGRATION = 10
FEATURE = "API keys"

_k = t.integration_keys
_OF_INTEGRATION = _k.c.integration_id == sa.bindparam("integration_id")
_KEYS: sa.Select[Any] = sa.select(_k).where(_OF_INTEGRATION).order_by(_k.c.id)
_KEY: sa.Select[Any] = sa.select(_k).where(_OF_INTEGRATION, _k.c.id == sa.bindparam("key_id"))
_COUNT = sa.select(sa.func.count()).select_from(_k).where(_OF_INTEGRATION)
_INTEGRATION_ROW = sa.select(t.integrations.c.id).where(t.integrations.c.id == sa.bindparam("integration_id"))


async def create_custom_integration_key(conn: AsyncConnection, *, ids: IdFactory, app_id: str,
                                        integration_id: str, body: IntegrationApiKey) -> dict[str, Any]:
    await require_custom(conn, app_id=app_id, integration_id=integration_id, feature=FEATURE)
    params = {"integration_id": integration_id}
    await conn.execute(_INTEGRATION_ROW.with_for_update(), params)  # one count-then-insert at a time
    if (await conn.scalar(_COUNT, params) or 0) >= MAX_KEYS_PER_INTEGRATION:
        raise BadRequest(f"An integration can have a maximum of {MAX_KEYS_PER_INTEGRATION} keys")
    key_id, now = ids.new_at()
    row = {"id": "int_" + key_id, "app_id": app_id, "integration_id": integration_id,
           "display_name": body.display_name, "secret": new_secret(), "created_at": now}
    await conn.execute(_k.insert(), row)
    return render.app_key(row)  # the spec's apiKey: the same shape as an app key


async def list_custom_integration_keys(conn: AsyncConnection, *, app_id: str,
                                       integration_id: str) -> list[dict[str, Any]]:
    await require_custom(conn, app_id=app_id, integration_id=integration_id, feature=FEATURE)
    return [render.app_key(r._mapping) for r in await conn.execute(_KEYS, {"integration_id": integration_id})]


async def get_custom_integration_key(conn: AsyncConnection, *, app_id: str, integration_id: str,
                                     key_id: str) -> dict[str, Any]:
    await require_custom(conn, app_id=app_id, integration_id=integration_id, feature=FEATURE)
    row = (await conn.execute(_KEY, {"integration_id": integration_id, "key_id": key_id})).first()
    if row is None:
        raise NotFound("Key not found")
    return render.app_key(row._mapping)


async def delete_custom_integration_key(conn: AsyncConnection, *, app_id: str, integration_id: str,
                                        key_id: str) -> None:
    await require_custom(conn, app_id=app_id, integration_id=integration_id, feature=FEATURE)
    result = await conn.execute(_k.delete().where(_k.c.integration_id == integration_id, _k.c.id == key_id))
    if result.rowcount == 0:
        raise NotFound("Key not found")
