"""Devices (ListDevices, GetDevice): the SDK installs through which a user's SDK client is reached.

Devices are made by the SDKs (web, iOS, Android) when they connect; the API only reads them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.schemas.clients import device
from heliograph.store import clients as store
from heliograph.store.users import require_user


async def list_devices(conn: AsyncConnection, *, app_id: str, user: str, brand_id: str | None) -> list[dict[str, Any]]:
    """The user's devices, most recently seen first."""
    owner = await require_user(conn, app_id=app_id, id_or_external_id=user, brand_id=brand_id)
    return [device(row) for row in await store.list_devices(conn, user_id=owner["id"])]


async def get_device(conn: AsyncConnection, *, app_id: str, user: str, brand_id: str | None,
                     device_id: str) -> dict[str, Any]:
    owner = await require_user(conn, app_id=app_id, id_or_external_id=user, brand_id=brand_id)
    return device(await store.require_device(conn, user_id=owner["id"], device_id=device_id))
