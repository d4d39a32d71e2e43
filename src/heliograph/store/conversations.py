"""Conversations: `require_conversation`, the query that reads them with their switchboard control,
and the rows behind CreateConversation … DeleteConversation."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import ConversationNotFound
from heliograph.pagination import Page, Window
from heliograph.store import tables as t
from heliograph.store.apps import require_app
from heliograph.store.paging import window
from heliograph.store.switchboards import CONTROL_FIELDS
from heliograph.store.users import lock_user

_c, _p = t.conversations, t.participants
_sb, _si, _cs = t.switchboards, t.switchboard_integrations, t.conversation_switchboards

# A conversation with the switchboard integrations in control of it and offered control, when the
# app's switchboard is enabled: its own row's, or the default's if it was never assigned.
_active, _pending = _si.alias("active_sbi"), _si.alias("pending_sbi")
_ENABLED = sa.and_(_sb.c.app_id == _c.c.app_id, _sb.c.enabled == sa.true())
_IN_CONTROL = sa.case((_cs.c.conversation_id.is_(None), _sb.c.default_id), else_=_cs.c.active_id)
_WITH_CONTROL_JOIN = (
    _c.outerjoin(_cs, _cs.c.conversation_id == _c.c.id).outerjoin(_sb, _ENABLED)
    .outerjoin(_active, sa.and_(_active.c.switchboard_id == _sb.c.id, _active.c.id == _IN_CONTROL))
    .outerjoin(_pending, sa.and_(_pending.c.switchboard_id == _sb.c.id, _pending.c.id == _cs.c.pending_id)))
_CONTROL_COLUMNS = [alias.c[column].label(f"{prefix}_sbi_{column}")
                    for prefix, alias in (("active", _active), ("pending", _pending))
                    for column in CONTROL_FIELDS]


def select_conversations() -> sa.Select[Any]:
    """Conversations with their control columns (`active_sbi_id`, …, `pending_sbi_…`) for render.conversation."""
    return sa.select(_c, *_CONTROL_COLUMNS).select_from(_WITH_CONTROL_JOIN)


_OF_APP = (_c.c.id == sa.bindparam("conversation_id"), _c.c.app_id == sa.bindparam("app_id"))
_CONVERSATION = sa.select(_c).where(*_OF_APP)
_WITH_CONTROL = select_conversations().where(*_OF_APP)


async def require_conversation(conn: AsyncConnection, *, app_id: str, conversation_id: str,
                               with_control: bool = False) -> Any:
    """The app's conversation (with its control columns, with `with_control`); ConversationNotFound
    or AppNotFound if there is none."""
    query = _WITH_CONTROL if with_control else _CONVERSATION
    row = (await conn.execute(query, {"conversation_id": conversation_id, "app_id": app_id})).first()
    if row is None:
        await require_app(conn, app_id=app_id)
        raise ConversationNotFound()
    return row._mapping


async def lock_conversation(conn: AsyncConnection, *, conversation_id: str) -> None:
    """Hold the conversation's row until the transaction ends (PostgreSQL; SQLite's writers queue anyway)."""
    await conn.execute(sa.select(_c.c.id).where(_c.c.id == conversation_id).with_for_update())


async def has_default(conn: AsyncConnection, *, user_id: str) -> bool:
    """Whether the user has their default conversation already (the user row is locked meanwhile)."""
    await lock_user(conn, user_id=user_id)
    query = (sa.select(_c.c.id).join(_p, _p.c.conversation_id == _c.c.id)
             .where(_p.c.user_id == user_id, _c.c.is_default.is_(True)).limit(1))
    return (await conn.scalar(query)) is not None


async def insert_conversation(conn: AsyncConnection, row: dict[str, Any]) -> None:
    await conn.execute(_c.insert(), row)


async def page_of_user(conn: AsyncConnection, *, user_id: str, page: Page) -> Window:
    """A page of the user's conversations, with their control columns."""
    query = select_conversations().join(_p, _p.c.conversation_id == _c.c.id).where(_p.c.user_id == user_id)
    # Paged by the participant's conversation_id (= the conversation's id): the page comes straight off
    # ix_participants_user_conversation, without sorting all of the user's conversations (SQLite does
    # not carry an ORDER BY across the join's equality).
    return await window(conn, query, _p.c.conversation_id, page, same=_c.c.id)


async def update_conversation(conn: AsyncConnection, *, conversation_id: str, changes: dict[str, Any]) -> None:
    """Set these columns of the conversation."""
    await conn.execute(_c.update().where(_c.c.id == conversation_id).values(changes))


async def delete_conversation(conn: AsyncConnection, *, conversation_id: str) -> None:
    """Delete the conversation, and by cascade its participants and messages."""
    await conn.execute(_c.delete().where(_c.c.id == conversation_id))
