"""Switchboards, their switchboard integrations, and who controls each conversation."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.store import switchboard_tables as s

_sb, _si, _cs = s.switchboards, s.switchboard_integrations, s.conversation_switchboards
CONTROL_FIELDS = ("id", "name", "integration_id", "integration_type")


async def initial_control(conn: AsyncConnection, *, app_id: str, conversation_id: str) -> dict[str, Any]:
    """Give a new conversation to the default switchboard integration of the app's enabled switchboard.

    The control columns for render.conversation (empty when there is no such switchboard).
    """
    query = (sa.select(_si).join(_sb, _sb.c.default_id == _si.c.id)
             .where(_sb.c.app_id == app_id, _sb.c.enabled == sa.true()))
    default = (await conn.execute(query)).first()
    if default is None:
        return {}
    await conn.execute(_cs.insert(), {"conversation_id": conversation_id, "app_id": app_id,
                                      "active_id": default.id, "pending_id": None})
    return {f"active_sbi_{column}": default._mapping[column] for column in CONTROL_FIELDS}
