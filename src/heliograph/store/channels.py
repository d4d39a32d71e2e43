"""Channels' rows (docs/channels.md): the channel messages an integration took in, and the person behind a
channel's client. Each statement is a prebuilt plan step (store/fast.py), so that a known person's message is
one plan through SQLite's group commit (services/channels.py); the async functions run the same plans."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.store import tables as t
from heliograph.store.fast import Fast, FastByDialect, Plan, drive, rows, run

_m, _c, _p, _v, _s = t.channel_messages, t.clients, t.participants, t.conversations, t.channel_sends
OUT = "out:"  # an `external_id` of the channel's id for a message Heliograph sent (a receipt finds it by it)

_TAKE_IN = FastByDialect({name: insert(_m).values(
    integration_id=sa.bindparam("p_integration"), external_id=sa.bindparam("p_external"),
    created_at=sa.bindparam("p_at")).on_conflict_do_nothing().returning(_m.c.external_id)
    for name, insert in (("sqlite", sqlite.insert), ("postgresql", postgresql.insert))})
_TAKEN = Fast(sa.select(_m.c.external_id).where(_m.c.integration_id == sa.bindparam("p_integration"),
                                              _m.c.external_id == sa.bindparam("p_external")))
_SET_MESSAGE = Fast(_m.update().where(_m.c.integration_id == sa.bindparam("p_integration"),
                                      _m.c.external_id == sa.bindparam("p_external"))
                    .values(message_id=sa.bindparam("p_message")))
_PERSON = Fast(sa.select(_c).where(_c.c.integration_id == sa.bindparam("p_integration"),
                                   _c.c.external_id == sa.bindparam("p_external"))
               .order_by(_c.c.id.desc()).limit(1))
_PERSONAL = Fast(sa.select(_v.c.id, _v.c.is_default, _v.c.last_updated_at, _p.c.client_associations)
                 .join(_p, _p.c.conversation_id == _v.c.id)
                 .where(_p.c.user_id == sa.bindparam("p_user"), _v.c.type == "personal"))
_SEEN = Fast(_c.update().where(_c.c.id == sa.bindparam("p_client")).values(last_seen=sa.bindparam("p_at")))


def take_in_plan(*, integration_id: str, external_id: str, now: int) -> Plan[bool]:
    """Plan: record that the integration took in the channel's `external_id`; False if it had already (a webhook
    the channel sent again): then the caller adds nothing. Two transactions racing with the same id: one waits
    for the other's commit on PostgreSQL and then finds the row."""
    found = yield rows(_TAKE_IN, {"p_integration": integration_id, "p_external": external_id, "p_at": now})
    return bool(found)


def set_message_plan(*, integration_id: str, external_id: str, message_id: str) -> Plan[None]:
    """Plan: the message a channel message taken in became."""
    yield run(_SET_MESSAGE, {"p_integration": integration_id, "p_external": external_id, "p_message": message_id})


def person_plan(*, integration_id: str, external_id: str) -> Plan[Any]:
    """Plan: the client of the integration for the person with this id on the channel (the newest), or None."""
    found = yield rows(_PERSON, {"p_integration": integration_id, "p_external": external_id})
    return found[0] if found else None


def personal_plan(*, user_id: str) -> Plan[list[Any]]:
    """Plan: the user's personal conversations, each with its `is_default`, `last_updated_at` and the user's
    `client_associations` there."""
    found = yield rows(_PERSONAL, {"p_user": user_id})
    return list(found)


def seen_plan(*, client_id: str, now: int) -> Plan[None]:
    yield run(_SEEN, {"p_client": client_id, "p_at": now})


async def take_in(conn: AsyncConnection, *, integration_id: str, external_id: str, now: int) -> bool:
    return await drive(conn, take_in_plan(integration_id=integration_id, external_id=external_id, now=now))


async def set_message(conn: AsyncConnection, *, integration_id: str, external_id: str, message_id: str) -> None:
    await drive(conn, set_message_plan(integration_id=integration_id, external_id=external_id, message_id=message_id))


async def taken_in(conn: AsyncConnection, *, integration_id: str, external_id: str) -> bool:
    """Whether the integration took in the channel's `external_id` already."""
    return bool(await _TAKEN.rows(conn, {"p_integration": integration_id, "p_external": external_id}))


async def find_person(conn: AsyncConnection, *, integration_id: str, external_id: str) -> Any:
    return await drive(conn, person_plan(integration_id=integration_id, external_id=external_id))


async def personal_conversations(conn: AsyncConnection, *, user_id: str) -> list[Any]:
    return await drive(conn, personal_plan(user_id=user_id))


async def seen(conn: AsyncConnection, *, client_id: str, now: int) -> None:
    await drive(conn, seen_plan(client_id=client_id, now=now))


async def sent_message(conn: AsyncConnection, *, integration_id: str, external_id: str) -> Any:
    """The message (`message_id`, `conversation_id`, and its conversation's user's `user_id`) that the
    integration's channel knows by `external_id`; None if it is not one Heliograph sent there."""
    found = sa.select(_m.c.message_id, _s.c.conversation_id, _c.c.user_id).select_from(
        _m.join(_s, sa.and_(_s.c.message_id == _m.c.message_id, _s.c.integration_id == _m.c.integration_id))
        .join(_c, _c.c.id == _s.c.client_id)).where(
        _m.c.integration_id == integration_id, _m.c.external_id == OUT + external_id).limit(1)
    row = (await conn.execute(found)).first()
    return None if row is None else row._mapping
