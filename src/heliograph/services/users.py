"""Users (CreateUser, ListUsers, GetUser, UpdateUser, DeleteUser, DeleteUserPersonalInformation)."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import BadRequest, Conflict, UserNotFound
from heliograph.events import payloads as events
from heliograph.ids import IdFactory, is_id, parse_iso
from heliograph.schemas import render
from heliograph.schemas.common import UNSET, check_metadata, to_wire
from heliograph.schemas.users import Profile, UserCreateBody, UserUpdateBody
from heliograph.services.apps import require_app
from heliograph.store import tables as t
from heliograph.store.client_tables import clients
from heliograph.store.fast import Fast, Plan, drive, rows
from heliograph.store.outbox import emit

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$")
PERSONAL_PROFILE_FIELDS = ("givenName", "surname", "email", "avatarUrl")
_USER_BY_ID = Fast(sa.select(t.users).where(
    t.users.c.app_id == sa.bindparam("app_id"), t.users.c.id == sa.bindparam("user_id")))
_USER_BY_EXTERNAL_ID = Fast(sa.select(t.users).where(
    t.users.c.app_id == sa.bindparam("app_id"), t.users.c.external_id == sa.bindparam("external_id"),
    t.users.c.brand_key == sa.bindparam("brand_key")))
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
    """GetUser's lookup: the path names a user by id first, then by externalId."""
    row = None
    if is_id(id_or_external_id):
        row = await find_user(conn, app_id=app_id, user_id=id_or_external_id)
    if row is None:
        row = await find_user(conn, app_id=app_id, external_id=id_or_external_id, brand_id=brand_id)
    if row is None:
        await require_app(conn, app_id)
        raise UserNotFound()
    return row


async def wire_user(conn: AsyncConnection, row: Any) -> dict[str, Any]:
    i = t.identities
    rows = await conn.execute(sa.select(i.c.type, i.c.value, i.c.verification)
                              .where(i.c.user_id == row["id"]).order_by(i.c.type, i.c.value))
    identities = [{k: v for k, v in r._mapping.items() if v is not None} for r in rows]
    return render.user(row, identities)


async def create_user(conn: AsyncConnection, *, ids: IdFactory, app_id: str,
                      body: UserCreateBody) -> dict[str, Any]:
    await require_app(conn, app_id)
    metadata = {} if body.metadata in (UNSET, None) else body.metadata
    check_metadata(metadata)
    user_id, now = ids.new_at()
    external_id = None if body.external_id is UNSET else body.external_id
    brand_id = None if body.brand_id is UNSET else body.brand_id
    if external_id is not None and await find_user(
            conn, app_id=app_id, external_id=external_id, brand_id=brand_id) is not None:
        raise Conflict("User already exists")
    row = {
        "id": user_id, "app_id": app_id, "external_id": external_id, "brand_id": brand_id,
        "brand_key": brand_id or "", "zendesk_id": None,
        "signed_up_at": now if body.signed_up_at is UNSET else _signed_up_at(body.signed_up_at),
        "to_be_retained": None if body.to_be_retained is UNSET else body.to_be_retained,
        "profile": _profile({}, body.profile), "metadata": metadata, "created_at": now,
    }
    try:
        await conn.execute(t.users.insert(), row)
    except IntegrityError:  # a concurrent request created the same externalId first
        raise Conflict("User already exists") from None
    return render.user(row, [])


async def list_users(conn: AsyncConnection, *, app_id: str, email: str | None,
                     brand_id: str | None) -> list[dict[str, Any]]:
    await require_app(conn, app_id)
    if not email:
        raise BadRequest("filter[identities.email] is required")
    u, i = t.users, t.identities
    query = (sa.select(u).join(i, i.c.user_id == u.c.id)
             .where(i.c.app_id == app_id, i.c.type == "email", i.c.value == email).order_by(u.c.id))
    if brand_id is not None:
        query = query.where(u.c.brand_key == brand_id)
    return [await wire_user(conn, r._mapping) for r in await conn.execute(query)]


async def get_user(conn: AsyncConnection, *, app_id: str, user: str, brand_id: str | None) -> dict[str, Any]:
    return await wire_user(conn, await require_user(
        conn, app_id=app_id, id_or_external_id=user, brand_id=brand_id))


async def update_user(conn: AsyncConnection, *, app_id: str, user: str, brand_id: str | None,
                      body: UserUpdateBody) -> dict[str, Any]:
    row = dict(await require_user(conn, app_id=app_id, id_or_external_id=user, brand_id=brand_id))
    if body.signed_up_at is not UNSET:
        row["signed_up_at"] = _signed_up_at(body.signed_up_at)
    if body.to_be_retained is not UNSET:
        row["to_be_retained"] = body.to_be_retained
    row["profile"] = _profile(row["profile"], body.profile)
    if body.metadata is not UNSET:
        row["metadata"] = body.metadata or {}
        check_metadata(row["metadata"])
    await _save(conn, row)
    return await wire_user(conn, row)


async def delete_user(conn: AsyncConnection, *, ids: IdFactory, app_id: str, user: str,
                      brand_id: str | None) -> None:
    """Remove the user, their personal conversations (with messages), group memberships, clients and devices.

    Emits conversation:remove per personal conversation, conversation:leave per group, then
    user:remove (the spec: the user is completely deleted once that event fires).
    """
    row = await require_user(conn, app_id=app_id, id_or_external_id=user, brand_id=brand_id)
    c, p = t.conversations, t.participants
    conversations = (await conn.execute(
        sa.select(c.c.id, c.c.type, c.c.metadata).join(p, p.c.conversation_id == c.c.id)
        .where(p.c.user_id == row["id"]).order_by(c.c.id))).all()
    personal = [conversation.id for conversation in conversations if conversation.type == "personal"]
    if personal:
        await conn.execute(c.delete().where(c.c.id.in_(personal)))
    await conn.execute(t.users.delete().where(t.users.c.id == row["id"]))
    for conversation in conversations:
        await _emit_departure(conn, ids, app_id, conversation._mapping, row)
    await emit(conn, ids=ids, app_id=app_id, type="user:remove", lane=row["id"], payload=events.user_remove(row))


async def _emit_departure(conn: AsyncConnection, ids: IdFactory, app_id: str, conversation: Any, user: Any) -> None:
    """A deleted user's personal conversation is removed; a group they belonged to sees them leave."""
    if conversation["type"] == "personal":
        kind, payload = "conversation:remove", events.conversation_remove(conversation)
    else:
        kind, payload = "conversation:leave", events.conversation_participant(conversation, user)
    await emit(conn, ids=ids, app_id=app_id, type=kind, lane=conversation["id"], payload=payload)


async def delete_user_personal_information(conn: AsyncConnection, *, app_id: str, user: str,
                                           brand_id: str | None) -> dict[str, Any]:
    row = dict(await require_user(conn, app_id=app_id, id_or_external_id=user, brand_id=brand_id))
    row["profile"] = {k: v for k, v in row["profile"].items() if k not in PERSONAL_PROFILE_FIELDS}
    row["metadata"] = {}
    await _save(conn, row)
    await conn.execute(_CLEAR_CLIENTS, {"p_user_id": row["id"]})
    return await wire_user(conn, row)


async def _save(conn: AsyncConnection, row: dict[str, Any]) -> None:
    await conn.execute(t.users.update().where(t.users.c.id == row["id"]).values(
        signed_up_at=row["signed_up_at"], to_be_retained=row["to_be_retained"],
        profile=row["profile"], metadata=row["metadata"]))


def _profile(current: dict[str, Any], change: Profile | Any) -> dict[str, Any]:
    """Profile fields given replace the stored ones; a null clears one."""
    if change is UNSET:
        return current
    merged = {**current, **to_wire(change)}  # to_wire keeps explicit nulls and drops unset fields
    return {k: v for k, v in merged.items() if v is not None}


def _signed_up_at(value: str) -> int:
    if not _ISO.match(value):
        raise BadRequest("Invalid signedUpAt: must be an ISO 8601 date such as 2020-05-21T15:53:30.197Z")
    try:
        return parse_iso(value)
    except ValueError:
        raise BadRequest(f"Invalid signedUpAt: {value} is not a valid date") from None
