"""Channels' rows (docs/channels.md): the channel messages an integration took in, and the person behind a
channel's client."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.store import tables as t

_m, _c, _p, _v, _s = t.channel_messages, t.clients, t.participants, t.conversations, t.channel_sends
_PERSON = (sa.select(_c).where(_c.c.integration_id == sa.bindparam("integration_id"),
                               _c.c.external_id == sa.bindparam("external_id"))
           .order_by(_c.c.id.desc()).limit(1))
_PERSONAL = (sa.select(_v.c.id, _v.c.is_default, _v.c.last_updated_at, _p.c.client_associations)
             .join(_p, _p.c.conversation_id == _v.c.id)
             .where(_p.c.user_id == sa.bindparam("user_id"), _v.c.type == "personal"))


async def take_in(conn: AsyncConnection, *, integration_id: str, external_id: str, now: int) -> bool:
    """Record that the integration took in the channel's `external_id`; False if it had already (a webhook the
    channel sent again): then the caller adds nothing. Two transactions racing with the same id: one waits for
    the other's commit on PostgreSQL and then finds the row."""
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(_m)
    statement = insert.values(integration_id=integration_id, external_id=external_id, created_at=now)
    found = await conn.execute(statement.on_conflict_do_nothing().returning(_m.c.external_id))
    return found.first() is not None


async def set_message(conn: AsyncConnection, *, integration_id: str, external_id: str, message_id: str) -> None:
    """The message a channel message taken in became."""
    await conn.execute(_m.update().where(_m.c.integration_id == integration_id, _m.c.external_id == external_id)
                       .values(message_id=message_id))


OUT = "out:"  # an `external_id` of the channel's id for a message Heliograph sent (a receipt finds it by it)


async def sent_message(conn: AsyncConnection, *, integration_id: str, external_id: str) -> Any:
    """The message (`message_id`, `conversation_id`, and its conversation's user's `user_id`) that the
    integration's channel knows by `external_id`; None if it is not one Heliograph sent there."""
    found = sa.select(_m.c.message_id, _s.c.conversation_id, _c.c.user_id).select_from(
        _m.join(_s, sa.and_(_s.c.message_id == _m.c.message_id, _s.c.integration_id == _m.c.integration_id))
        .join(_c, _c.c.id == _s.c.client_id)).where(
        _m.c.integration_id == integration_id, _m.c.external_id == OUT + external_id).limit(1)
    row = (await conn.execute(found)).first()
    return None if row is None else row._mapping


async def find_person(conn: AsyncConnection, *, integration_id: str, external_id: str) -> Any:
    """The client of the integration for the person with this id on the channel (the newest), or None."""
    row = (await conn.execute(_PERSON, {"integration_id": integration_id, "external_id": external_id})).first()
    return None if row is None else row._mapping


async def personal_conversations(conn: AsyncConnection, *, user_id: str) -> list[Any]:
    """The user's personal conversations, each with its `is_default`, `last_updated_at` and the user's
    `client_associations` there."""
    return [row._mapping for row in await conn.execute(_PERSONAL, {"user_id": user_id})]


async def seen(conn: AsyncConnection, *, client_id: str, now: int) -> None:
    await conn.execute(_c.update().where(_c.c.id == client_id).values(last_seen=now))
