"""Users and their identities: the look-ups every user-scoped operation starts from, the rows
behind CreateUser … DeleteUserPersonalInformation, and SyncUser's merge of two users."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import UserNotFound
from heliograph.ids import is_id
from heliograph.store import tables as t
from heliograph.store.apps import require_app
from heliograph.store.fast import Fast, Plan, drive, rows
from heliograph.store.tables import clients

_u, _i, _c, _p, _m = t.users, t.identities, t.conversations, t.participants, t.messages
_USER_BY_ID = Fast(sa.select(_u).where(_u.c.app_id == sa.bindparam("app_id"), _u.c.id == sa.bindparam("user_id")))
_USER_BY_EXTERNAL_ID = Fast(sa.select(_u).where(
    _u.c.app_id == sa.bindparam("app_id"), _u.c.external_id == sa.bindparam("external_id"),
    _u.c.brand_key == sa.bindparam("brand_key")))
_LOCK_USER = sa.select(_u.c.id).where(_u.c.id == sa.bindparam("user_id")).with_for_update()
_BY_ZENDESK_ID = sa.select(_u).where(_u.c.app_id == sa.bindparam("app_id"),
                                     _u.c.zendesk_id == sa.bindparam("zendesk_id")).order_by(_u.c.id).limit(1)
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


async def lock_user(conn: AsyncConnection, *, user_id: str) -> None:
    """Hold the user's row until the transaction ends: `lock_users` for one user, its statement prebuilt."""
    await conn.execute(_LOCK_USER, {"user_id": user_id})


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


async def set_external_id(conn: AsyncConnection, *, user_id: str, external_id: str) -> bool:
    """Give an anonymous user this externalId; False if another user of the app has it (a racing login)."""
    try:  # the caller answers 409, and its transaction goes back
        await conn.execute(_u.update().where(_u.c.id == user_id).values(external_id=external_id))
    except IntegrityError:
        return False
    return True


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


# --- Zendesk users (SyncUser, `heliograph users link-zendesk`) ------------------------------------

async def find_zendesk_user(conn: AsyncConnection, *, app_id: str, zendesk_id: str) -> Any:
    """The app's user linked to this Zendesk user; None if there is none."""
    row = (await conn.execute(_BY_ZENDESK_ID, {"app_id": app_id, "zendesk_id": zendesk_id})).first()
    return None if row is None else row._mapping


async def update_zendesk_id(conn: AsyncConnection, *, user_id: str, zendesk_id: str) -> None:
    await conn.execute(_u.update().where(_u.c.id == user_id).values(zendesk_id=zendesk_id))


# --- SyncUser's merge: one function per step (the clients' steps are in store/clients.py) ---------

_MEMBERSHIPS = sa.select(_p, _c.c.is_default).join(_c, _c.c.id == _p.c.conversation_id).where(
    _p.c.user_id == sa.bindparam("user_id")).order_by(_p.c.id)
_CONVERSATION = sa.select(_c).where(_c.c.id == sa.bindparam("conversation_id"))


async def participants_of(conn: AsyncConnection, *, user_id: str) -> list[Any]:
    """The user's participant rows, each with its conversation's `is_default`, in the order they were made."""
    return [r._mapping for r in await conn.execute(_MEMBERSHIPS, {"user_id": user_id})]


async def update_participant(conn: AsyncConnection, *, participant_id: str, unread_count: int,
                             client_associations: list[dict[str, str]]) -> None:
    await conn.execute(_p.update().where(_p.c.id == participant_id).values(
        client_associations=client_associations, unread_count=unread_count))


async def move_participant(conn: AsyncConnection, *, participant_id: str, user_id: str) -> None:
    """Make the participant another user's."""
    await conn.execute(_p.update().where(_p.c.id == participant_id).values(user_id=user_id))


async def delete_participant(conn: AsyncConnection, *, participant_id: str) -> None:
    await conn.execute(_p.delete().where(_p.c.id == participant_id))


async def conversation_pair(conn: AsyncConnection, *, kept_id: str, gone_id: str) -> tuple[Any, Any]:
    """The rows of the two default conversations a merge joins (both exist: the users' rows are locked)."""
    kept = (await conn.execute(_CONVERSATION, {"conversation_id": kept_id})).one()._mapping
    gone = (await conn.execute(_CONVERSATION, {"conversation_id": gone_id})).one()._mapping
    return kept, gone


async def move_messages(conn: AsyncConnection, *, from_conversation_id: str, to_conversation_id: str) -> None:
    """Move the messages; they leave the stream order of their old conversation (no `seq` in the new one)."""
    await conn.execute(_m.update().where(_m.c.conversation_id == from_conversation_id).values(
        conversation_id=to_conversation_id, seq=None))


async def add_moved_messages(conn: AsyncConnection, *, conversation_id: str, message_count: int,
                             last_updated_at: int) -> None:
    """Count `message_count` more messages in the conversation, last updated at `last_updated_at`."""
    await conn.execute(_c.update().where(_c.c.id == conversation_id).values(
        message_count=_c.c.message_count + message_count, last_updated_at=last_updated_at))


async def rewrite_authorship(conn: AsyncConnection, *, surviving_id: str, discarded_id: str) -> None:
    """Messages the discarded user wrote, in conversations the survivor is in now, name the survivor."""
    text = sa.type_coerce(_m.c.author, sa.Text)
    old, new = sa.literal(f'"{discarded_id}"', sa.Text), sa.literal(f'"{surviving_id}"', sa.Text)
    theirs = sa.select(_p.c.conversation_id).where(_p.c.user_id == surviving_id).scalar_subquery()
    await conn.execute(_m.update().where(_m.c.conversation_id.in_(theirs), text.contains(discarded_id))
                       .values(author=sa.type_coerce(sa.func.replace(text, old, new), sa.Text)))


async def identity_rows(conn: AsyncConnection, *, user_id: str) -> list[Any]:
    """The user's identities, every column (`identities` is their wire form)."""
    return [r._mapping for r in await conn.execute(sa.select(_i).where(_i.c.user_id == user_id))]


async def insert_identities(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    await conn.execute(_i.insert(), rows)


async def save_merged_user(conn: AsyncConnection, row: dict[str, Any]) -> None:
    """Write back the fields a merge may change."""
    await conn.execute(_u.update().where(_u.c.id == row["id"]).values(
        external_id=row["external_id"], signed_up_at=row["signed_up_at"], profile=row["profile"],
        metadata=row["metadata"]))
