"""Devices (ListDevices, GetDevice): the SDK installs through which a user's SDK client is reached.

Devices are made by the SDKs (web, iOS, Android) when they connect; the API only reads them.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import DeviceNotFound
from heliograph.schemas.clients import device
from heliograph.store.client_tables import devices as d
from heliograph.store.users import require_user

_DEVICES = sa.select(d).where(d.c.user_id == sa.bindparam("user_id")).order_by(d.c.last_seen.desc(), d.c.id.desc())
_DEVICE = sa.select(d).where(d.c.user_id == sa.bindparam("user_id"), d.c.id == sa.bindparam("device_id"))


async def list_devices(conn: AsyncConnection, *, app_id: str, user: str, brand_id: str | None) -> list[dict[str, Any]]:
    """The user's devices, most recently seen first."""
    owner = await require_user(conn, app_id=app_id, id_or_external_id=user, brand_id=brand_id)
    return [device(row._mapping) for row in await conn.execute(_DEVICES, {"user_id": owner["id"]})]


async def get_device(conn: AsyncConnection, *, app_id: str, user: str, brand_id: str | None,
                     device_id: str) -> dict[str, Any]:
    owner = await require_user(conn, app_id=app_id, id_or_external_id=user, brand_id=brand_id)
    row = (await conn.execute(_DEVICE, {"user_id": owner["id"], "device_id": device_id})).first()
    if row is None:
        raise DeviceNotFound()
    return device(row._mapping)
