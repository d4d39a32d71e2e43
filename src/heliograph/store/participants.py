"""Participants: a user's membership of a conversation, with its unread count and client associations."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.ids import IdFactory
from heliograph.store import tables as t

_p = t.participants


async def add_participant(conn: AsyncConnection, *, ids: IdFactory, conversation_id: str,
                          user_id: str) -> dict[str, Any]:
    """Make the user a participant of the conversation; the new row."""
    row = {"id": ids.new(), "conversation_id": conversation_id, "user_id": user_id,
           "unread_count": 0, "last_read": None, "client_associations": []}
    await conn.execute(_p.insert(), row)
    return row
