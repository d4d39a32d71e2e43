"""The realtime stream's rows (docs/end-users.md, §4): a conversation's events beside its messages, one
sequence for both, and the tickets that open the SSE fallback.

A conversation's `stream_seq` moves under its row lock in the transaction that writes what the stream
carries (a message: store/messages.count_message; an event: `next_seq` here), so within a conversation
`seq` order is commit order without gaps, and one read after a position sees all of it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.store import tables as t
from heliograph.store.fast import Fast, Step, StreamNotice, rows, run

_c, _m, _e, _s, _k = t.conversations, t.messages, t.conversation_events, t.sdk_sessions, t.stream_tickets

_NEXT_SEQ = Fast(_c.update().where(_c.c.id == sa.bindparam("p_conversation_id"))
                 .values(stream_seq=_c.c.stream_seq + 1)
                 .returning(_c.c.stream_seq,
                            StreamNotice(_c.c.id + ":" + sa.cast(_c.c.stream_seq, sa.String)).label("notified")))
_INSERT_EVENT = Fast(_e.insert())
_PRUNE = Fast(_e.delete().where(_e.c.conversation_id == sa.bindparam("p_conversation_id"),
                                _e.c.created_at < sa.bindparam("p_before")).returning(_e.c.seq))
_PRUNED = Fast(_c.update().where(_c.c.id == sa.bindparam("p_conversation_id"))
               .values(stream_pruned_seq=sa.bindparam("p_seq")))


def next_seq(*, conversation_id: str) -> Step:
    """Step: move the conversation's stream_seq on by one, under its row lock; its rows: the new value
    (`stream_seq`), none if there is no such conversation. On PostgreSQL the statement also NOTIFYs the
    stream `<conversation id>:<seq>` (StreamNotice), as PostMessage's counting statement does."""
    return rows(_NEXT_SEQ, {"p_conversation_id": conversation_id})


def insert_event(row: dict[str, Any]) -> Step:
    """Step: insert the event's row (`conversation_id`, `seq`, `type`, `body`, `created_at`)."""
    return run(_INSERT_EVENT, row)


def prune_events(*, conversation_id: str, before: int) -> Step:
    """Step: delete the conversation's events created before `before` (ms); its rows: their `seq`."""
    return rows(_PRUNE, {"p_conversation_id": conversation_id, "p_before": before})


def set_pruned(*, conversation_id: str, seq: int) -> Step:
    """Step: the conversation's events up to `seq` are pruned: a cursor before that cannot resume exactly."""
    return run(_PRUNED, {"p_conversation_id": conversation_id, "p_seq": seq})


async def stream_state(conn: AsyncConnection, *, user_id: str) -> dict[str, tuple[int, int]]:
    """Each conversation the user takes part in: where its stream stands (`stream_seq`) and the seq of its
    last event pruned (`stream_pruned_seq`)."""
    query = sa.select(_c.c.id, _c.c.stream_seq, _c.c.stream_pruned_seq).join(
        t.participants, t.participants.c.conversation_id == _c.c.id).where(t.participants.c.user_id == user_id)
    return {row.id: (row.stream_seq, row.stream_pruned_seq) for row in await conn.execute(query)}


def _after(conversation_id: Any, seq: Any) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """The conversation's messages and events after `seq`, as two selects of the same columns: every
    message column, then the event's `event_type` and `event_body` (NULL on a message's row)."""
    message_columns = [c for c in _m.c if c.name != "seq"]
    messages = sa.select(_m.c.seq, *message_columns, sa.cast(sa.null(), _e.c.type.type).label("event_type"),
                         sa.cast(sa.null(), _e.c.body.type).label("event_body")
                         ).where(_m.c.conversation_id == conversation_id, _m.c.seq > seq)
    events = sa.select(_e.c.seq, *(sa.cast(sa.null(), c.type).label(c.name) if c.name != "conversation_id"
                                   else _e.c.conversation_id for c in message_columns),
                       _e.c.type.label("event_type"), _e.c.body.label("event_body")
                       ).where(_e.c.conversation_id == conversation_id, _e.c.seq > seq)
    return messages, events


_MESSAGES, _EVENTS = _after(sa.bindparam("conversation_id"), sa.bindparam("seq"))
_STREAM_AFTER = sa.union_all(_MESSAGES, _EVENTS).order_by(sa.literal_column("seq")).limit(sa.bindparam("limit"))


async def stream_after(conn: AsyncConnection, *, conversation_id: str, seq: int, limit: int) -> list[Any]:
    """What the conversation's stream carried after `seq`, in seq order, at most `limit`: its messages (a
    message's columns, `event_type` None) and events (`event_type`, `event_body`), read in one statement, so
    one snapshot: a message and an event committed meanwhile are both seen or both not."""
    result = await conn.execute(_STREAM_AFTER, {"conversation_id": conversation_id, "seq": seq, "limit": limit})
    return [r._mapping for r in result]


# --- tickets: an EventSource's credentials -----------------------------------------------------------

_TICKET_SESSION = sa.select(_s.c.id, _s.c.app_id, _s.c.user_id, _s.c.client_id, _s.c.integration_id,
                            _s.c.expires_at, _k.c.expires_at.label("ticket_expires_at")).join(
    _k, _k.c.session_id == _s.c.id).where(_k.c.token_hash == sa.bindparam("token_hash"))
_SESSIONS = sa.select(_s.c.id).where(_s.c.id.in_(sa.bindparam("session_ids", expanding=True)))
SESSIONS_PER_QUERY = 1000  # ids per statement of `existing_sessions`


async def insert_ticket(conn: AsyncConnection, *, token_hash: str, session_id: str, expires_at: int, now: int) -> None:
    """Store a ticket of the session (by its hash), and forget the session's tickets expired by `now`."""
    await conn.execute(_k.delete().where(_k.c.session_id == session_id, _k.c.expires_at <= now))
    await conn.execute(_k.insert(), {"token_hash": token_hash, "session_id": session_id, "expires_at": expires_at})


async def find_ticket_session(conn: AsyncConnection, *, token_hash: str) -> Any:
    """The session a ticket (by its hash) was given to, with the ticket's `ticket_expires_at`; None if none."""
    row = (await conn.execute(_TICKET_SESSION, {"token_hash": token_hash})).first()
    return None if row is None else row._mapping


async def existing_sessions(conn: AsyncConnection, *, session_ids: list[str],
                            per_query: int = SESSIONS_PER_QUERY) -> set[str]:
    """Which of these sessions still exist (a logout, or deleting the user, deletes them), `per_query` ids
    per statement."""
    found: set[str] = set()
    for start in range(0, len(session_ids), per_query):
        chunk = session_ids[start:start + per_query]
        found.update((await conn.execute(_SESSIONS, {"session_ids": chunk})).scalars())
    return found
