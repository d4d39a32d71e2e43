"""Participants: a user's membership of a conversation, with its unread count and client associations.

`is_member` and `mark_unread` are steps of PostMessage's plan (store/fast.py): the plan yields them.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.ids import IdFactory
from heliograph.pagination import Page, Window
from heliograph.store import tables as t
from heliograph.store.fast import Fast, Plan, Step, rows, run
from heliograph.store.paging import window

_p, _u = t.participants, t.users

# The hot path's statements, built once (bind names take a p_ prefix: SQLAlchemy reserves column
# names in UPDATE statements).
_IN_CONVERSATION = _p.c.conversation_id == sa.bindparam("p_conversation_id")
_IS_AUTHOR = _p.c.user_id == sa.bindparam("p_author_id")
_UNREAD_FOR_ALL = Fast(_p.update().where(_IN_CONVERSATION).values(unread_count=_p.c.unread_count + 1))
_UNREAD_FOR_OTHERS = Fast(_p.update().where(_IN_CONVERSATION).values(
    unread_count=sa.case((_IS_AUTHOR, 0), else_=_p.c.unread_count + 1),
    last_read=sa.case((_IS_AUTHOR, sa.bindparam("p_now")), else_=_p.c.last_read)))
_MEMBER = Fast(sa.select(_p.c.id).where(_IN_CONVERSATION, _p.c.user_id == sa.bindparam("p_user_id")))

_ASSOCIATIONS = Fast(sa.select(_p.c.id, _p.c.client_associations).where(
    _IN_CONVERSATION, _p.c.user_id == sa.bindparam("p_user_id")))
_SET_ASSOCIATIONS = Fast(_p.update().where(_p.c.id == sa.bindparam("p_id")).values(
    client_associations=sa.bindparam("p_associations", type_=t.Json())))

_WITH_EXTERNAL_ID = sa.select(_p, _u.c.external_id).join(_u, _u.c.id == _p.c.user_id)
_MEMBER_USER = sa.select(_p.c.id.label("participant_id"), _u).join(
    _u, _u.c.id == _p.c.user_id)  # a participant's user, as the leave event names them


async def add_participant(conn: AsyncConnection, *, ids: IdFactory, conversation_id: str,
                          user_id: str) -> dict[str, Any]:
    """Make the user a participant of the conversation; the new row."""
    row = {"id": ids.new(), "conversation_id": conversation_id, "user_id": user_id,
           "unread_count": 0, "last_read": None, "client_associations": []}
    await conn.execute(_p.insert(), row)
    return row


def is_member(*, conversation_id: str, user_id: str) -> Step:
    """Step: its rows are the user's participant id in the conversation, or none if they are no participant."""
    return rows(_MEMBER, {"p_conversation_id": conversation_id, "p_user_id": user_id})


def used_first(*, conversation_id: str, user_id: str, client_type: str) -> Plan[None]:
    """Plan: the participant's client association of `client_type`, if they have one, becomes their first (the
    client that interacted with the conversation last, which business messages go to)."""
    found = yield rows(_ASSOCIATIONS, {"p_conversation_id": conversation_id, "p_user_id": user_id})
    current = found[0]["client_associations"] if found else []
    used = next((association for association in current if association["type"] == client_type), None)
    if used is None or current[0] is used:
        return
    yield run(_SET_ASSOCIATIONS, {"p_id": found[0]["id"],
                                  "p_associations": [used, *(a for a in current if a is not used)]})


def associate(*, conversation_id: str, user_id: str, client_type: str, client_id: str, first: bool) -> Plan[None]:
    """Plan: the participant's client associations gain the client, first (the one business messages go to) or
    last; nothing if the user takes no part in the conversation."""
    found = yield rows(_ASSOCIATIONS, {"p_conversation_id": conversation_id, "p_user_id": user_id})
    if not found:
        return
    entry = {"type": client_type, "clientId": client_id}
    others = [association for association in found[0]["client_associations"] or () if association != entry]
    yield run(_SET_ASSOCIATIONS, {"p_id": found[0]["id"], "p_associations": [entry, *others] if first else
                                  [*others, entry]})


def mark_unread(*, conversation_id: str, author_id: str | None, now: int) -> Step:
    """Step: everyone but the author has one more unread message; the author has read up to `now`."""
    if author_id is None:
        return run(_UNREAD_FOR_ALL, {"p_conversation_id": conversation_id})
    return run(_UNREAD_FOR_OTHERS, {"p_conversation_id": conversation_id, "p_author_id": author_id, "p_now": now})


async def update_last_read(conn: AsyncConnection, *, conversation_id: str, user_id: str, now: int) -> None:
    """The participant has read everything up to `now`."""
    await conn.execute(_p.update().where(_p.c.conversation_id == conversation_id, _p.c.user_id == user_id)
                       .values(last_read=now, unread_count=0))


async def page_participants(conn: AsyncConnection, *, conversation_id: str, page: Page) -> Window:
    """A page of the conversation's participants, each with their user's externalId."""
    return await window(conn, _WITH_EXTERNAL_ID.where(_p.c.conversation_id == conversation_id), _p.c.id, page)


async def list_member_ids(conn: AsyncConnection, *, conversation_id: str) -> list[str]:
    """The user ids of the conversation's participants."""
    query = sa.select(_p.c.user_id).where(_p.c.conversation_id == conversation_id)
    return list((await conn.execute(query)).scalars().all())


async def find_member(conn: AsyncConnection, *, conversation_id: str, user_id: str | None = None,
                      external_id: str | None = None, participant_id: str | None = None) -> Any:
    """The participant that one of `user_id`, `external_id` (their user's) or `participant_id` names: their
    user's row and `participant_id`; None if the conversation has no such participant."""
    named = [column == value for column, value in (
        (_p.c.user_id, user_id), (_u.c.external_id, external_id), (_p.c.id, participant_id)) if value is not None]
    row = (await conn.execute(_MEMBER_USER.where(_p.c.conversation_id == conversation_id, *named))).first()
    return None if row is None else row._mapping


async def delete_participant(conn: AsyncConnection, *, participant_id: str) -> None:
    await conn.execute(_p.delete().where(_p.c.id == participant_id))
