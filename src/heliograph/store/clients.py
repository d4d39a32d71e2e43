"""Clients, their devices and the participants' client associations: the rows behind CreateClient …
RemoveClient, ListDevices, GetDevice, subscribeSDKClient, and the clients' part of SyncUser's merge."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import ClientNotFound, DeviceNotFound
from heliograph.pagination import Page, Window
from heliograph.store import tables as t
from heliograph.store.paging import window
from heliograph.store.tables import clients as c
from heliograph.store.tables import devices as d

SDK = "sdk"  # the type of the client that stands for every SDK integration of the app
_p = t.participants
_CLIENT = sa.select(c).where(c.c.id == sa.bindparam("client_id"), c.c.user_id == sa.bindparam("user_id"))
_SDK_CLIENT = sa.select(c).where(c.c.user_id == sa.bindparam("user_id"), c.c.type == SDK).order_by(c.c.id).limit(1)
_TARGET = sa.select(t.conversations, _p.c.id.label("participant_id")).outerjoin(
    _p, sa.and_(_p.c.conversation_id == t.conversations.c.id, _p.c.user_id == sa.bindparam("user_id"))).where(
    t.conversations.c.id == sa.bindparam("conversation_id"), t.conversations.c.app_id == sa.bindparam("app_id"))
_ASSOCIATED = sa.select(_p.c.id, _p.c.client_associations).where(_p.c.user_id == sa.bindparam("user_id"))
_DEVICES = sa.select(d).where(d.c.user_id == sa.bindparam("user_id")).order_by(d.c.last_seen.desc(), d.c.id.desc())
_DEVICE = sa.select(d).where(d.c.user_id == sa.bindparam("user_id"), d.c.id == sa.bindparam("device_id"))


async def find_target(conn: AsyncConnection, *, app_id: str, conversation_id: str, user_id: str) -> Any:
    """The app's conversation with the user's `participant_id` (None if not a participant); None if there is none."""
    params = {"conversation_id": conversation_id, "app_id": app_id, "user_id": user_id}
    row = (await conn.execute(_TARGET, params)).first()
    return None if row is None else row._mapping


async def has_client(conn: AsyncConnection, *, user_id: str, integration_id: str) -> bool:
    """Whether the user has a client for this integration already."""
    return bool(await conn.scalar(sa.select(c.c.id).where(c.c.user_id == user_id,
                                                          c.c.integration_id == integration_id)))


async def pending_links(conn: AsyncConnection, *, user_ids: list[str]) -> list[Any]:
    """The users' clients whose channel link is pending, with their `link`."""
    if not user_ids:
        return []
    found = await conn.execute(sa.select(c).where(c.c.user_id.in_(user_ids), c.c.status == "pending"))
    return [r._mapping for r in found]


async def insert_client(conn: AsyncConnection, row: dict[str, Any]) -> None:
    await conn.execute(c.insert(), row)


async def page_clients(conn: AsyncConnection, *, user_id: str, page: Page) -> Window:
    return await window(conn, sa.select(c).where(c.c.user_id == user_id), c.c.id, page)


async def list_clients(conn: AsyncConnection, *, user_id: str) -> list[Any]:
    """All of the user's clients, oldest first."""
    return [r._mapping for r in await conn.execute(sa.select(c).where(c.c.user_id == user_id).order_by(c.c.id))]


async def require_client(conn: AsyncConnection, *, user_id: str, client_id: str) -> Any:
    row = (await conn.execute(_CLIENT, {"client_id": client_id, "user_id": user_id})).first()
    if row is None:
        raise ClientNotFound()
    return row._mapping


async def find_sdk_client(conn: AsyncConnection, *, user_id: str) -> Any:
    """The user's first `sdk` client; None if they have none."""
    row = (await conn.execute(_SDK_CLIENT, {"user_id": user_id})).first()
    return None if row is None else row._mapping


async def delete_client(conn: AsyncConnection, *, client_id: str) -> None:
    """Delete the client, and by cascade its devices."""
    await conn.execute(c.delete().where(c.c.id == client_id))


async def move_client(conn: AsyncConnection, *, client_id: str, user_id: str) -> None:
    """Give the client, with its devices, to another user."""
    await conn.execute(c.update().where(c.c.id == client_id).values(user_id=user_id))
    await conn.execute(d.update().where(d.c.client_id == client_id).values(user_id=user_id))


async def move_devices(conn: AsyncConnection, *, from_client_id: str, to_client_id: str, user_id: str) -> None:
    """Give one client's devices to another client, of this user."""
    await conn.execute(d.update().where(d.c.client_id == from_client_id).values(user_id=user_id,
                                                                                client_id=to_client_id))


# --- participants' client associations -----------------------------------------------------------

def _member(conversation_id: str, user_id: str) -> tuple[sa.ColumnElement[bool], ...]:
    return _p.c.conversation_id == conversation_id, _p.c.user_id == user_id


async def associations(conn: AsyncConnection, *, conversation_id: str, user_id: str) -> list[Any]:
    """The client associations of the user's participant in the conversation ([] if none)."""
    return await conn.scalar(sa.select(_p.c.client_associations).where(*_member(conversation_id, user_id))) or []


async def update_associations(conn: AsyncConnection, *, conversation_id: str, user_id: str,
                              client_associations: list[dict[str, str]]) -> None:
    await conn.execute(_p.update().where(*_member(conversation_id, user_id)).values(
        client_associations=client_associations))


async def associated_participants(conn: AsyncConnection, *, user_id: str) -> list[Any]:
    """The user's participants: their `id` and `client_associations`."""
    return [r._mapping for r in await conn.execute(_ASSOCIATED, {"user_id": user_id})]


async def update_participant_associations(conn: AsyncConnection, *, participant_id: str,
                                          client_associations: list[dict[str, str]]) -> None:
    await conn.execute(_p.update().where(_p.c.id == participant_id).values(client_associations=client_associations))


# --- devices -------------------------------------------------------------------------------------

async def list_devices(conn: AsyncConnection, *, user_id: str) -> list[Any]:
    """The user's devices, most recently seen first."""
    return [r._mapping for r in await conn.execute(_DEVICES, {"user_id": user_id})]


async def require_device(conn: AsyncConnection, *, user_id: str, device_id: str) -> Any:
    row = (await conn.execute(_DEVICE, {"user_id": user_id, "device_id": device_id})).first()
    if row is None:
        raise DeviceNotFound()
    return row._mapping
