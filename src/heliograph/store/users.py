"""Users and their identities: the look-ups every user-scoped operation starts from, and the rows
behind CreateUser … DeleteUserPersonalInformation."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import UserNotFound
from heliograph.ids import is_id
from heliograph.store import tables as t
from heliograph.store.apps import require_app
from heliograph.store.client_tables import clients
from heliograph.store.fast import Fast, Plan, drive, rows

_u, _i, _c, _p = t.users, t.identities, t.conversations, t.participants
_USER_BY_ID = Fast(sa.select(_u).where(_u.c.app_id == sa.bindparam("app_id"), _u.c.id == sa.bindparam("user_id")))
_USER_BY_EXTERNAL_ID = Fast(sa.select(_u).where(
    _u.c.app_id == sa.bindparam("app_id"), _u.c.external_id == sa.bindparam("external_id"),
    _u.c.brand_key == sa.bindparam("brand_key")))
_CLEAR_CLIENTS = clients.update().where(clients.c.user_id == sa.bindparam("p_user_id")).values(
    display_name=None, avatar_url=None, info=None, raw=None)  # the personal part of every client of a user


async def find_user(conn: AsyncConnection, *, app_id: str, user_id: str | None = None,
                    external_id: str | None = None, brand_id: str | None = None) -> Any:
    """The user with this id, or with this externalId (within `brand_id`); None when there is none."""
    return await drive(conn, find_user_plan(app_id=app_id, user_id=user_id, external_id=external_id,
                                            brand_id=brand_id))


def find_user_plan(*, app_id: str, user_id: str | None = None, external_id: str | None = None,
                   brand_id: str | None = None) -> Plan[Any]:
    """`find_user` as a plan (store/fast.py)."""
    if user_id is not None:
        found = yield rows(_USER_BY_ID, {"app_id": app_id, "user_id": user_id})
    else:
        found = yield rows(_USER_BY_EXTERNAL_ID, {"app_id": app_id, "external_id": external_id,
                                                  "brand_key": brand_id or ""})
    return found[0] if found else None


async def require_user(conn: AsyncConnection, *, app_id: str, id_or_external_id: str,
                       brand_id: str | None = None) -> Any:
    """The user a path names: by id first, then by externalId (UserNotFound, or AppNotFound)."""
    row = None
    if is_id(id_or_external_id):
        row = await find_user(conn, app_id=app_id, user_id=id_or_external_id)
    if row is None:
        row = await find_user(conn, app_id=app_id, external_id=id_or_external_id, brand_id=brand_id)
    if row is None:
        await require_app(conn, app_id=app_id)
        raise UserNotFound()
    return row


async def lock_users(conn: AsyncConnection, *user_ids: str) -> None:
    """Hold these users' rows until the transaction ends (PostgreSQL; SQLite's writers queue anyway)."""
    await conn.execute(sa.select(_u.c.id).where(_u.c.id.in_(user_ids)).with_for_update())


async def identities(conn: AsyncConnection, *, user_id: str) -> list[dict[str, Any]]:
    """The user's identities, their unset fields left out."""
    found = await conn.execute(sa.select(_i.c.type, _i.c.value, _i.c.verification)
                               .where(_i.c.user_id == user_id).order_by(_i.c.type, _i.c.value))
    return [{k: v for k, v in r._mapping.items() if v is not None} for r in found]


async def insert_user(conn: AsyncConnection, row: dict[str, Any]) -> bool:
    """Insert the user; False if its externalId (within its brand) is taken, as a racing insert may find."""
    try:
        await conn.execute(_u.insert(), row)
    except IntegrityError:
        return False
    return True


async def users_by_email(conn: AsyncConnection, *, app_id: str, email: str, brand_id: str | None) -> list[Any]:
    query = (sa.select(_u).join(_i, _i.c.user_id == _u.c.id)
             .where(_i.c.app_id == app_id, _i.c.type == "email", _i.c.value == email).order_by(_u.c.id))
    if brand_id is not None:
        query = query.where(_u.c.brand_key == brand_id)
    return [r._mapping for r in await conn.execute(query)]


async def save_user(conn: AsyncConnection, row: dict[str, Any]) -> None:
    """Write back the fields UpdateUser may change."""
    await conn.execute(_u.update().where(_u.c.id == row["id"]).values(
        signed_up_at=row["signed_up_at"], to_be_retained=row["to_be_retained"],
        profile=row["profile"], metadata=row["metadata"]))


async def clear_clients(conn: AsyncConnection, *, user_id: str) -> None:
    """Forget the personal part (names, avatars, device info) of every client of the user."""
    await conn.execute(_CLEAR_CLIENTS, {"p_user_id": user_id})


async def memberships(conn: AsyncConnection, *, user_id: str) -> list[Any]:
    """The conversations the user takes part in (id, type, metadata), oldest first."""
    return [r._mapping for r in await conn.execute(
        sa.select(_c.c.id, _c.c.type, _c.c.metadata).join(_p, _p.c.conversation_id == _c.c.id)
        .where(_p.c.user_id == user_id).order_by(_c.c.id))]


async def delete_user(conn: AsyncConnection, *, user_id: str, conversation_ids: list[str]) -> None:
    """Delete the user and these conversations (with their messages, by cascade)."""
    if conversation_ids:
        await conn.execute(_c.delete().where(_c.c.id.in_(conversation_ids)))
    await conn.execute(_u.delete().where(_u.c.id == user_id))
