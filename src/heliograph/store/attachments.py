"""Attachments' rows: one per uploaded file (the files themselves are store/media.py's).

`find_by_media_url` and `claim` are steps of PostMessage's plan (store/fast.py): the plan yields them.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.store.fast import Fast, Step, rows, run
from heliograph.store.tables import attachments as _a

_BY_URL = Fast(sa.select(_a.c.token, _a.c.conversation_id, _a.c.message_id, _a.c.filename, _a.c.media_type,
                         _a.c.media_size).where(_a.c.app_id == sa.bindparam("p_app_id"),
                                                _a.c.media_url == sa.bindparam("p_media_url")))
_CLAIM = Fast(_a.update().where(_a.c.token == sa.bindparam("p_token"), _a.c.message_id.is_(None)).values(
    message_id=sa.bindparam("p_message_id")))


def find_by_media_url(*, app_id: str, media_url: str) -> Step:
    """Step: its rows are the app's upload with this mediaUrl (token, conversation_id, message_id, filename,
    media_type, media_size), or none."""
    return rows(_BY_URL, {"p_app_id": app_id, "p_media_url": media_url})


def claim(*, token: str, message_id: str) -> Step:
    """Step: the upload goes with this message, unless a message has it already."""
    return run(_CLAIM, {"p_token": token, "p_message_id": message_id})


async def insert_attachment(conn: AsyncConnection, row: dict[str, Any]) -> None:
    await conn.execute(_a.insert(), row)


async def delete_attachment(conn: AsyncConnection, *, app_id: str, media_url: str) -> bool:
    """Delete the app's attachment with this mediaUrl; whether there was one."""
    deleted = await conn.execute(_a.delete().where(_a.c.app_id == app_id, _a.c.media_url == media_url))
    return bool(deleted.rowcount)


async def find_media(conn: AsyncConnection, *, token: str) -> Any:
    """The file name and media type of the attachment with this token, or None."""
    row = (await conn.execute(sa.select(_a.c.filename, _a.c.media_type).where(_a.c.token == token))).first()
    return None if row is None else row._mapping
