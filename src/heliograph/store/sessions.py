"""End users' sessions (docs/end-users.md): found by the SHA-256 of their token, never by the token."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.store import tables as t

_s = t.sdk_sessions
_BY_HASH = sa.select(_s.c.id, _s.c.app_id, _s.c.user_id, _s.c.client_id, _s.c.integration_id,
                     _s.c.expires_at).where(_s.c.token_hash == sa.bindparam("token_hash"))


async def insert_session(conn: AsyncConnection, row: dict[str, Any]) -> None:
    await conn.execute(_s.insert(), row)


async def find_session(conn: AsyncConnection, *, token_hash: str) -> Any:
    """The session whose token has this SHA-256 (hex); None if there is none."""
    row = (await conn.execute(_BY_HASH, {"token_hash": token_hash})).first()
    return None if row is None else row._mapping


async def delete_session(conn: AsyncConnection, *, session_id: str) -> None:
    await conn.execute(_s.delete().where(_s.c.id == session_id))
