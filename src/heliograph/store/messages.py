"""Messages: the steps of PostMessage's plan (store/fast.py), and the rows behind ListMessages,
DeleteAllMessages and DeleteMessage.

A function that returns a `Step` builds one statement of a plan from its prebuilt `Fast` statement:
the plan yields it and receives its rows (for `rows`) or None.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import NotFound
from heliograph.pagination import Page, Window
from heliograph.store import tables as t
from heliograph.store.fast import Fast, Step, StreamNotice, rows, run
from heliograph.store.paging import window

# The hot path's statements, built once: building a statement costs more than running it.
# (Bind names take a p_ prefix: SQLAlchemy reserves column names in UPDATE statements.)
_m, _c, _p = t.messages, t.conversations, t.participants
_APP_SETTINGS = sa.select(t.apps.c.settings).where(t.apps.c.id == sa.bindparam("p_app_id")).scalar_subquery().label(
    "app_settings")


def _count_statement(by_business: bool) -> sa.Update:
    """Count one message if there is room; a business that writes has read what came before."""
    values: dict[str, Any] = {"message_count": _c.c.message_count + 1, "last_updated_at": sa.bindparam("p_now"),
                              "stream_seq": _c.c.stream_seq + 1}
    if by_business:
        values["business_last_read"] = sa.bindparam("p_now")
    return _c.update().where(
        _c.c.id == sa.bindparam("p_conversation_id"), _c.c.app_id == sa.bindparam("p_app_id"),
        _c.c.message_count < sa.bindparam("p_limit"),
    ).values(values).returning(_c.c.id, _c.c.type, _c.c.metadata, _c.c.stream_seq, _APP_SETTINGS,
                               StreamNotice(_c.c.id + ":" + sa.cast(_c.c.stream_seq, sa.String)).label("notified"))


_COUNT = {"business": Fast(_count_statement(True)), "user": Fast(_count_statement(False))}
_INSERT = Fast(_m.insert())


def count_message(*, author_type: str, app_id: str, conversation_id: str, limit: int, now: int) -> Step:
    """Step: count one more message in the app's conversation if it holds fewer than `limit` (and move its
    lastUpdatedAt, and a business author's businessLastRead, to `now`, and its stream_seq on by one). Its
    rows: the conversation's id, type, metadata and new stream_seq (the message's `seq`), and its app's
    settings (`app_settings`, read in the same statement: what PostMessage needs of the app costs no round
    trip); on PostgreSQL the statement also NOTIFYs the stream `<conversation id>:<seq>` (StreamNotice).
    No rows when there is no such conversation or it is full."""
    return rows(_COUNT[author_type], {
        "p_conversation_id": conversation_id, "p_app_id": app_id, "p_limit": limit, "p_now": now})


def insert_message(row: dict[str, Any]) -> Step:
    """Step: insert the message's row."""
    return run(_INSERT, row)


_REPLACE_CONTENT = Fast(_m.update().where(
    _m.c.id == sa.bindparam("p_message_id"), _m.c.conversation_id == sa.bindparam("p_conversation_id"),
    _m.c.content == sa.bindparam("p_before", type_=t.Json()),
).values(content=sa.bindparam("p_after", type_=t.Json())).returning(_m.c.id))


def replace_content(*, conversation_id: str, message_id: str, before: Any, after: Any) -> Step:
    """Step: set the message's content to `after` if it is still `before` (compare-and-set: the stored JSON
    text is compared, and a row written with msgspec reads back and encodes again to the same text); its
    rows: the message's id, none if the content changed meanwhile or there is no such message. The row
    lock makes a second transaction wait, then find the new content and match nothing."""
    return rows(_REPLACE_CONTENT, {"p_conversation_id": conversation_id, "p_message_id": message_id,
                                   "p_before": before, "p_after": after})


_CLIENT_MESSAGE = Fast(sa.select(t.client_message_ids.c.message_id).where(
    t.client_message_ids.c.user_id == sa.bindparam("user_id"),
    t.client_message_ids.c.client_message_id == sa.bindparam("client_message_id")))
_INSERT_CLIENT_MESSAGE = Fast(t.client_message_ids.insert())


def find_client_message(*, user_id: str, client_message_id: str) -> Step:
    """Step: its rows are the message (`message_id`) the user sent with this clientMessageId, or none."""
    return rows(_CLIENT_MESSAGE, {"user_id": user_id, "client_message_id": client_message_id})


def insert_client_message(*, user_id: str, client_message_id: str, message_id: str) -> Step:
    """Step: remember which message the user's clientMessageId made."""
    return run(_INSERT_CLIENT_MESSAGE, {"user_id": user_id, "client_message_id": client_message_id,
                                        "message_id": message_id})


async def find_message(conn: AsyncConnection, *, conversation_id: str, message_id: str) -> Any:
    """The conversation's message, with the one it quotes (`quoted`, see `with_quoted`), or None."""
    row = (await conn.execute(sa.select(_m).where(_m.c.id == message_id, _m.c.conversation_id == conversation_id))
           ).first()
    return None if row is None else (await with_quoted(conn, [row._mapping]))[0]


async def page_messages(conn: AsyncConnection, *, conversation_id: str, page: Page) -> Window:
    """A page of the conversation's messages, with those they quote; without a cursor, the newest."""
    query = sa.select(_m).where(_m.c.conversation_id == conversation_id)
    found = await window(conn, query, _m.c.id, page, newest_first=True)
    return dataclasses.replace(found, records=await with_quoted(conn, found.records))


async def with_quoted(conn: AsyncConnection, rows: Sequence[Any]) -> list[Any]:
    """The message rows, those that quote a message given `quoted`: that message's row as it is now, or None
    if it was deleted since. One SELECT, and none when no row quotes anything."""
    wanted = {row["quoted_message_id"] for row in rows if row.get("quoted_message_id") is not None}
    if not wanted:
        return list(rows)
    found = {row["id"]: row for row in (await conn.execute(sa.select(_m).where(_m.c.id.in_(wanted)))).mappings()}
    return [row if row.get("quoted_message_id") is None else {**row, "quoted": found.get(row["quoted_message_id"])}
            for row in rows]


async def delete_messages(conn: AsyncConnection, *, conversation_id: str) -> None:
    """Delete all of the conversation's messages: its message count and its participants' unread counts
    go back to zero."""
    await conn.execute(_m.delete().where(_m.c.conversation_id == conversation_id))
    await conn.execute(_c.update().where(_c.c.id == conversation_id).values(message_count=0))
    await conn.execute(_p.update().where(_p.c.conversation_id == conversation_id).values(unread_count=0))


async def stale_conversations(conn: AsyncConnection, *, app_id: str, updated_before: int, limit: int) -> list[str]:
    """Ids of the app's conversations that hold messages and were last updated at or before `updated_before`
    (ms), least recently updated first, at most `limit`."""
    query = (sa.select(_c.c.id)
             .where(_c.c.app_id == app_id, _c.c.message_count > 0, _c.c.last_updated_at <= updated_before)
             .order_by(_c.c.last_updated_at, _c.c.id).limit(limit))
    return list(await conn.scalars(query))


async def delete_message(conn: AsyncConnection, *, conversation_id: str, message_id: str) -> None:
    """Delete the conversation's message and count one message less; NotFound if there is no such message."""
    deleted = await conn.execute(_m.delete().where(_m.c.id == message_id, _m.c.conversation_id == conversation_id))
    if deleted.rowcount == 0:
        raise NotFound("Message not found")
    await conn.execute(_c.update().where(_c.c.id == conversation_id).values(message_count=_c.c.message_count - 1))


# --- message refs ---------------------------------------------------------------------------
