"""Custom integration API keys (CreateCustomIntegrationKey … DeleteCustomIntegrationKey): `int_…` keys."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import BadRequest
from heliograph.ids import IdFactory, new_secret
from heliograph.schemas import render
from heliograph.schemas.integrations import IntegrationApiKey
from heliograph.services.integrations import require_custom
from heliograph.store import integrations as store

MAX_KEYS_PER_INTEGRATION = 10
FEATURE = "API keys"


async def create_custom_integration_key(conn: AsyncConnection, *, ids: IdFactory, app_id: str,
                                        integration_id: str, body: IntegrationApiKey) -> dict[str, Any]:
    # the integration's row stays locked: one count-then-insert at a time
    await require_custom(conn, app_id=app_id, integration_id=integration_id, feature=FEATURE, lock=True)
    if await store.count_keys(conn, integration_id=integration_id) >= MAX_KEYS_PER_INTEGRATION:
        raise BadRequest(f"An integration can have a maximum of {MAX_KEYS_PER_INTEGRATION} keys")
    key_id, now = ids.new_at()
    row = {"id": "int_" + key_id, "app_id": app_id, "integration_id": integration_id,
           "display_name": body.display_name, "secret": new_secret(), "created_at": now}
    await store.insert_key(conn, row)
    return render.app_key(row)  # the spec's apiKey: the same shape as an app key


async def list_custom_integration_keys(conn: AsyncConnection, *, app_id: str,
                                       integration_id: str) -> list[dict[str, Any]]:
    await require_custom(conn, app_id=app_id, integration_id=integration_id, feature=FEATURE)
    return [render.app_key(row) for row in await store.list_keys(conn, integration_id=integration_id)]


async def get_custom_integration_key(conn: AsyncConnection, *, app_id: str, integration_id: str,
                                     key_id: str) -> dict[str, Any]:
    await require_custom(conn, app_id=app_id, integration_id=integration_id, feature=FEATURE)
    return render.app_key(await store.require_key(conn, integration_id=integration_id, key_id=key_id))


async def delete_custom_integration_key(conn: AsyncConnection, *, app_id: str, integration_id: str,
                                        key_id: str) -> None:
    await require_custom(conn, app_id=app_id, integration_id=integration_id, feature=FEATURE)
    await store.delete_key(conn, integration_id=integration_id, key_id=key_id)
