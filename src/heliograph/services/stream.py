"""What an end user's realtime stream reads and records (docs/end-users.md, §4): where the user's
conversations stand, what came after a cursor, the cursor itself, the events a conversation's stream
carries besides messages, and the tickets that open the SSE fallback.

A cursor is opaque to clients: base64url of a JSON object that maps each conversation to the `seq` of
the last thing of it the client has. Within a conversation, messages (store/messages.count_message) and
events (`record`) take their `seq` from one counter under the conversation's row lock, so `seq` order is
commit order without gaps, and reading `seq > position` per conversation resumes exactly.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.auth import EndUser, session_user, token_hash
from heliograph.errors import BadRequest, Conflict, Unauthorized, UserNotFound
from heliograph.ids import iso
from heliograph.schemas import render
from heliograph.store import messages
from heliograph.store import stream as store
from heliograph.store.fast import Plan, drive, notice

BATCH = 200  # rows read per conversation and query
TICKET_MS = 5 * 60 * 1000  # how long an SSE ticket opens the stream
KEEP_MS = 7 * 24 * 3600 * 1000  # how long a conversation's events are kept (pruned as it records another)
_TIMES = ("lastRead",)  # an event body's fields stored in ms and shown as ISO times


def encode_cursor(positions: dict[str, int]) -> str:
    raw = msgspec.json.encode(positions, order="sorted")  # as json.dumps with sort_keys, compact: a third of its time
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
    not name, joined since, from its start), or, without a cursor, where each stands now. A conversation the
    cursor names that is no longer the user's keeps its position: the stream tells the client it went
    (`memberships`). A position before the conversation's last pruned event: 409 (the client syncs again)."""
    state = await store.stream_state(conn, user_id=user_id)
    if cursor is None:
        return {conversation_id: seq for conversation_id, (seq, _) in state.items()}
    given = decode_cursor(cursor)
    if any(given[conversation_id] < state[conversation_id][1] for conversation_id in given.keys() & state.keys()):
        raise Conflict("The cursor is older than what the stream keeps (7 days of events): call /sync again")
    return given | {conversation_id: min(given.get(conversation_id, 0), seq)
                    for conversation_id, (seq, _) in state.items()}


async def memberships(conn: AsyncConnection, *, user_id: str) -> set[str]:
    """The conversations the user takes part in now."""
    return set(await store.stream_state(conn, user_id=user_id))


async def read_after(conn: AsyncConnection, *, conversation_id: str, seq: int,
                     limit: int = BATCH) -> list[tuple[int, dict[str, Any]]]:
    """What the conversation's stream carried after `seq` (at most `limit`), each with its seq, as frames
    without their cursor: `message` frames with the message as the API shows it, and the events'."""
    rows = await store.stream_after(conn, conversation_id=conversation_id, seq=seq, limit=limit)
    rows = await messages.with_quoted(conn, rows)  # a formResponse shows the form it answers
    return [(row["seq"], _frame(conversation_id, row)) for row in rows]


def message_frame(conversation_id: str, message: dict[str, Any]) -> dict[str, Any]:
    """A message's frame without its cursor, the message as the API shows it (render.message). PostMessage
    hands it to this process's streams with its notice, read_after makes it from the row: the same frame."""
    return {"type": "message", "conversationId": conversation_id, "message": message}


def _frame(conversation_id: str, row: Any) -> dict[str, Any]:
    if row["event_type"] is None:
        return message_frame(conversation_id, render.message(row))
    body = {key: iso(value) if key in _TIMES else value for key, value in row["event_body"].items()}
    return {"type": row["event_type"], "conversationId": conversation_id, **body}


async def record(conn: AsyncConnection, *, conversation_id: str, type: str, body: dict[str, Any], now: int) -> None:
    """Put an event on the conversation's stream, in the caller's transaction: its seq is the next of the
    conversation's counter (which locks the conversation's row until the commit: call this before other
    writes of the transaction that lock rows of the conversation, as PostMessage locks it first), and once
    the transaction commits the hubs hear `<conversation id>:<seq>`, as for a message. The conversation's
    events older than KEEP_MS go meanwhile, and it notes the last of them (a cursor before it: 409)."""
    await drive(conn, _record(conversation_id, type, body, now))


def _record(conversation_id: str, type: str, body: dict[str, Any], now: int) -> Plan[None]:
    found = yield store.next_seq(conversation_id=conversation_id)
    if not found:
        return  # no such conversation: its callers look it up first, so this is one deleted meanwhile
    seq = found[0]["stream_seq"]
    yield store.insert_event({"conversation_id": conversation_id, "seq": seq, "type": type, "body": body,
                              "created_at": now})
    pruned = yield store.prune_events(conversation_id=conversation_id, before=now - KEEP_MS)
    if pruned:
        yield store.set_pruned(conversation_id=conversation_id, seq=max(row["seq"] for row in pruned))
    yield notice(f"{conversation_id}:{seq}", notified=True)


def read_event(*, author_type: str, user_id: str | None, now: int) -> dict[str, Any]:
    """The body of a `conversation:read` event: who read, and up to when (`lastRead`, ms)."""
    author: dict[str, Any] = {"type": author_type}
    if user_id is not None:
        author["userId"] = user_id
    return {"author": author, "lastRead": now}


async def joined(conn: AsyncConnection, *, user_ids: list[str], conversation_id: str) -> None:
    """Once this transaction commits, the streams of these users start watching the conversation (its
    messages from the first one): the notice `@<user id>:<conversation id>` (realtime/hub.py)."""
    await drive(conn, _membership_notices("@", user_ids, conversation_id))


async def left(conn: AsyncConnection, *, user_ids: list[str], conversation_id: str) -> None:
    """Once this transaction commits, the streams of these users, who no longer take part in the conversation
    (they left, or it is deleted), stop following it and say so (`conversation:removed`): the notice
    `-<user id>:<conversation id>` (realtime/hub.py)."""
    await drive(conn, _membership_notices("-", user_ids, conversation_id))


def _membership_notices(sign: str, user_ids: list[str], conversation_id: str) -> Plan[None]:
    for user_id in user_ids:
        yield notice(f"{sign}{user_id}:{conversation_id}")


LOGGED_OUT = "The session has ended: logged out"
LOGGED_IN = "The session has ended: its user logged in, with a session of their own"
MERGED = "The session has ended: its user was merged into another"
DELETED = "The session has ended: its user was deleted"


async def sessions_ended(conn: AsyncConnection, *, user_id: str, session_id: str | None = None, reason: str) -> None:
    """Once this transaction commits, the streams opened with this session of the user (None: with any of
    theirs) close at once, in every process, with 4401 and `reason`: the notice `~<user id>:<session id>:
    <reason>` (realtime/hub.py). Without it they would close at their next heartbeat's check."""
    await drive(conn, _ended_notice(user_id, session_id or "", reason))


def _ended_notice(user_id: str, session_id: str, reason: str) -> Plan[None]:
    yield notice(f"~{user_id}:{session_id}:{reason}")


# --- tickets: the SSE fallback's credentials ---------------------------------------------------------

async def issue_ticket(conn: AsyncConnection, *, end_user: EndUser, user_id: str, now: int) -> dict[str, Any]:
    """A ticket that opens this user's stream as an EventSource (which cannot send credentials) for
    TICKET_MS: 32 random bytes, base64url, stored as their SHA-256 with the session, shown once."""
    if end_user.user_id != user_id:
        raise UserNotFound()  # another user's: existence is not disclosed (docs/end-users.md)
    ticket = secrets.token_urlsafe(32)
    expires_at = now + TICKET_MS
    await store.insert_ticket(conn, token_hash=token_hash(ticket), session_id=end_user.session_id,
                              expires_at=expires_at, now=now)
    return {"ticket": ticket, "expiresAt": iso(expires_at)}


async def ticket_user(conn: AsyncConnection, *, app_id: str, ticket: str, now: int) -> EndUser:
    """The end user a ticket was given to, if it is this app's and neither it nor its session has expired;
    401 otherwise."""
    session = await store.find_ticket_session(conn, token_hash=token_hash(ticket))
    if session is None or session["app_id"] != app_id:
        raise Unauthorized("Invalid ticket")
    if session["ticket_expires_at"] <= now:
        raise Unauthorized("The ticket has expired: ask for another")
    return session_user(session, now=now)
