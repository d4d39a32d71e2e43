"""Users (CreateUser, ListUsers, GetUser, UpdateUser, DeleteUser, DeleteUserPersonalInformation)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import BadRequest, Conflict
from heliograph.events import payloads as events
from heliograph.ids import IdFactory, parse_iso
from heliograph.schemas import render
from heliograph.schemas.common import UNSET, check_metadata, to_wire
from heliograph.schemas.users import Profile, UserCreateBody, UserUpdateBody
from heliograph.services import stream
from heliograph.store import users as store
from heliograph.store.apps import require_app
from heliograph.store.outbox import emit

PERSONAL_PROFILE_FIELDS = ("givenName", "surname", "email", "avatarUrl")


async def wire_user(conn: AsyncConnection, row: Any) -> dict[str, Any]:
    return render.user(row, await store.identities(conn, user_id=row["id"]))


async def create_user(conn: AsyncConnection, *, ids: IdFactory, app_id: str,
                      body: UserCreateBody) -> dict[str, Any]:
    return render.user(await insert_new_user(conn, ids=ids, app_id=app_id, body=body), [])


async def insert_new_user(conn: AsyncConnection, *, ids: IdFactory, app_id: str,
                          body: UserCreateBody) -> dict[str, Any]:
    """CreateUser's checks and row (an end user's, without `externalId`, too); the stored row."""
    await require_app(conn, app_id=app_id)
    metadata = {} if body.metadata in (UNSET, None) else body.metadata
    check_metadata(metadata)
    user_id, now = ids.new_at()
    external_id = None if body.external_id is UNSET else body.external_id
    brand_id = None if body.brand_id is UNSET else body.brand_id
    if external_id is not None and await store.find_user(
            conn, app_id=app_id, external_id=external_id, brand_id=brand_id) is not None:
        raise Conflict("User already exists")
    row = {
        "id": user_id, "app_id": app_id, "external_id": external_id, "brand_id": brand_id,
        "brand_key": brand_id or "", "zendesk_id": None,
        "signed_up_at": now if body.signed_up_at is UNSET else _signed_up_at(body.signed_up_at),
        "to_be_retained": None if body.to_be_retained is UNSET else body.to_be_retained,
        "profile": _profile({}, body.profile), "metadata": metadata, "created_at": now,
    }
    if not await store.insert_user(conn, row):  # a concurrent request created the same externalId first
        raise Conflict("User already exists")
    return row


async def list_users(conn: AsyncConnection, *, app_id: str, email: str | None,
                     brand_id: str | None) -> list[dict[str, Any]]:
    await require_app(conn, app_id=app_id)
    if not email:
        raise BadRequest("filter[identities.email] is required")
    found = await store.users_by_email(conn, app_id=app_id, email=email, brand_id=brand_id)
    return [await wire_user(conn, row) for row in found]


async def get_user(conn: AsyncConnection, *, app_id: str, user: str, brand_id: str | None) -> dict[str, Any]:
    return await wire_user(conn, await store.require_user(
        conn, app_id=app_id, id_or_external_id=user, brand_id=brand_id))


async def update_user(conn: AsyncConnection, *, app_id: str, user: str, brand_id: str | None,
                      body: UserUpdateBody) -> dict[str, Any]:
    row = dict(await store.require_user(conn, app_id=app_id, id_or_external_id=user, brand_id=brand_id))
    if body.signed_up_at is not UNSET:
        row["signed_up_at"] = _signed_up_at(body.signed_up_at)
    if body.to_be_retained is not UNSET:
        row["to_be_retained"] = body.to_be_retained
    row["profile"] = _profile(row["profile"], body.profile)
    if body.metadata is not UNSET:
        row["metadata"] = body.metadata or {}
        check_metadata(row["metadata"])
    await store.save_user(conn, row)
    return await wire_user(conn, row)


async def delete_user(conn: AsyncConnection, *, ids: IdFactory, app_id: str, user: str,
                      brand_id: str | None) -> None:
    """Remove the user, their personal conversations (with messages), group memberships, clients and devices.

    Emits conversation:remove per personal conversation, conversation:leave per group, then
    user:remove (the spec: the user is completely deleted once that event fires).
    """
    row = await store.require_user(conn, app_id=app_id, id_or_external_id=user, brand_id=brand_id)
    conversations = await store.memberships(conn, user_id=row["id"])
    personal = [conversation["id"] for conversation in conversations if conversation["type"] == "personal"]
    for conversation in conversations:  # emitted first: the conversations' switchboard state goes with them
        await _emit_departure(conn, ids, app_id, conversation, row)
    await store.delete_user(conn, user_id=row["id"], conversation_ids=personal)
    await stream.sessions_ended(conn, user_id=row["id"], reason=stream.DELETED)
    await emit(conn, ids=ids, app_id=app_id, type="user:remove", lane=row["id"], payload=events.user_remove(row))


async def _emit_departure(conn: AsyncConnection, ids: IdFactory, app_id: str, conversation: Any, user: Any) -> None:
    """A deleted user's personal conversation is removed; a group they belonged to sees them leave."""
    personal = conversation["type"] == "personal"
    def payload(control: dict[str, Any]) -> dict[str, Any]:
        shown = {**conversation, **control}
        return events.conversation_remove(shown) if personal else events.conversation_participant(shown, user)
    await emit(conn, ids=ids, app_id=app_id, type="conversation:remove" if personal else "conversation:leave",
               lane=conversation["id"], payload=payload)


async def delete_user_personal_information(conn: AsyncConnection, *, app_id: str, user: str,
                                           brand_id: str | None) -> dict[str, Any]:
    row = dict(await store.require_user(conn, app_id=app_id, id_or_external_id=user, brand_id=brand_id))
    row["profile"] = {k: v for k, v in row["profile"].items() if k not in PERSONAL_PROFILE_FIELDS}
    row["metadata"] = {}
    await store.save_user(conn, row)
    await store.clear_clients(conn, user_id=row["id"])
    return await wire_user(conn, row)


def _profile(current: dict[str, Any], change: Profile | Any) -> dict[str, Any]:
    """Profile fields given replace the stored ones; a null clears one."""
    if change is UNSET:
        return current
    merged = {**current, **to_wire(change)}  # to_wire keeps explicit nulls and drops unset fields
    return {k: v for k, v in merged.items() if v is not None}


def _signed_up_at(value: str) -> int:
    """An RFC 3339 date-time, the spec's `YYYY-MM-DDThh:mm:ss.sssZ` among them; kept to the millisecond."""
    try:
        return parse_iso(value)
    except ValueError as exc:
        example = "2020-05-21T15:53:30.197Z"
        raise BadRequest(f"Invalid signedUpAt: {exc} (expected a date-time such as {example})") from None
