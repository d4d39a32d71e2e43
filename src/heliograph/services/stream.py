"""What an end user's realtime stream reads (docs/end-users.md, §4): where the user's conversations
stand, what came after a cursor, and the cursor itself.

A cursor is opaque to clients: base64url of a JSON object that maps each conversation to the `seq` of
the last message the client has. Within a conversation, `seq` order is commit order without gaps
(store/messages.count_message), so reading `seq > position` per conversation resumes exactly.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import BadRequest
from heliograph.schemas import render
from heliograph.store import conversations, messages
from heliograph.store.fast import Plan, drive, notice

BATCH = 200  # messages read per conversation and query


def encode_cursor(positions: dict[str, int]) -> str:
    raw = json.dumps(positions, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> dict[str, int]:
    """The positions of a cursor this server gave; BadRequest if it is not one."""
    try:
        positions = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise BadRequest("Invalid cursor") from None
    if not isinstance(positions, dict) or not all(
            isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v >= 0
            for k, v in positions.items()):
        raise BadRequest("Invalid cursor")
    return positions


async def positions(conn: AsyncConnection, *, user_id: str, cursor: str | None) -> dict[str, int]:
    """Where to start: the cursor's positions for the user's conversations (a conversation the cursor does
    not name, joined since, from its start), or, without a cursor, where each stands now."""
    now = await conversations.stream_positions(conn, user_id=user_id)
    if cursor is None:
        return now
    given = decode_cursor(cursor)
    return {conversation_id: min(given.get(conversation_id, 0), seq) for conversation_id, seq in now.items()}


async def read_after(conn: AsyncConnection, *, conversation_id: str, seq: int) -> list[tuple[int, dict[str, Any]]]:
    """The conversation's messages after `seq` (at most BATCH), each with its seq, as the API shows them."""
    rows = await messages.stream_after(conn, conversation_id=conversation_id, seq=seq, limit=BATCH)
    return [(row["seq"], render.message(row)) for row in rows]


async def joined(conn: AsyncConnection, *, user_ids: list[str], conversation_id: str) -> None:
    """Once this transaction commits, the streams of these users start watching the conversation (its
    messages from the first one): the notice `@<user id>:<conversation id>` (realtime/hub.py)."""
    def plan() -> Plan[None]:
        for user_id in user_ids:
            yield notice(f"@{user_id}:{conversation_id}")
    await drive(conn, plan())
