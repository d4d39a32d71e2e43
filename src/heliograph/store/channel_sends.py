"""Channel sends (docs/channels.md): the outbox of business messages going out on the channels.

A business message's transaction writes one row per recipient client (`insert`), after reading where the
conversation's user can be reached (`routes`). A sender claims the head of each lane that is due (a lane is
one integration's sends in one conversation, so they leave in seq order and a retry holds back what follows
it), leases it, makes the channel's calls, and records what came of it (`record`): sent, a retry later (with
the calls made so far, which a retry does not make again), or failed. On PostgreSQL the heads are locked with
FOR UPDATE SKIP LOCKED, so senders in several processes never take the same lane at once.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.store import tables as t
from heliograph.store.fast import WAKE, Fast, Plan, Step, rows, run

_s, _p, _c, _i, _m = t.channel_sends, t.participants, t.clients, t.integrations, t.messages
PENDING, SENT, FAILED = "pending", "sent", "failed"

# The clients of the conversation's participants that a channel reaches, with each participant's
# associations (the first is the channel they used last).
_ROUTES = Fast(sa.select(_p.c.user_id, _p.c.client_associations, _c.c.id.label("client_id"), _c.c.type,
                         _c.c.integration_id, _c.c.external_id)
               .select_from(_p.join(_c, sa.and_(_c.c.user_id == _p.c.user_id, _c.c.integration_id.is_not(None),
                                                _c.c.status == "active", _c.c.external_id.is_not(None))))
               .where(_p.c.conversation_id == sa.bindparam("p_conversation_id")).order_by(_c.c.id))
_INSERT = Fast(_s.insert().values({c.key: sa.bindparam(c.key) for c in _s.c if c.key != "seq"}))

_IS_PENDING = _s.c.status == PENDING
_SEQS = _s.c.seq.in_(sa.bindparam("p_seqs", expanding=True))
_HEADS = sa.select(sa.func.min(_s.c.seq)).where(_IS_PENDING).group_by(_s.c.lane)
_DUE = sa.and_(_s.c.next_attempt_at <= sa.bindparam("p_now"),
               sa.or_(_s.c.leased_until.is_(None), _s.c.leased_until < sa.bindparam("p_now")))
_CLAIMABLE = Fast(sa.select(_s.c.seq, _s.c.lane).where(_s.c.seq.in_(_HEADS), _DUE).order_by(_s.c.seq)
                  .limit(sa.bindparam("p_limit")).with_for_update(skip_locked=True, of=_s))
_FOLLOWERS = Fast(sa.select(_s.c.seq, _s.c.lane, _DUE.label("ready")).where(
    _IS_PENDING, _s.c.lane.in_(sa.bindparam("p_lanes", expanding=True)), _s.c.seq > sa.bindparam("p_after"))
    .order_by(_s.c.seq).with_for_update(of=_s))
_RELEASE = Fast(_s.update().where(_SEQS, _IS_PENDING).values(leased_until=sa.null()))
_LEASE = Fast(_s.update().where(_SEQS).values(leased_until=sa.bindparam("p_until")))
_CLAIMED = Fast(sa.select(_s, _i.c.type.label("integration_type"), _i.c.status.label("integration_status"),
                          _i.c.config, _m.c.content.label("message_content"), _c.c.user_id, _c.c.link)
                .join(_i, _i.c.id == _s.c.integration_id).outerjoin(_m, _m.c.id == _s.c.message_id)
                .join(_c, _c.c.id == _s.c.client_id)
                .where(_SEQS).order_by(_s.c.seq))
_NEXT_DUE = sa.select(sa.func.min(sa.case((_s.c.leased_until > _s.c.next_attempt_at, _s.c.leased_until),
                                          else_=_s.c.next_attempt_at))).where(_s.c.seq.in_(_HEADS))


def routes(*, conversation_id: str) -> Step:
    """Step: the channel clients of the conversation's participants (`user_id`, `client_associations`,
    `client_id`, `type`, `integration_id`, `external_id`)."""
    return rows(_ROUTES, {"p_conversation_id": conversation_id})


def insert(*, row: dict[str, Any]) -> Plan[None]:
    """Plan: a send to make, pending now; the senders are woken once the transaction commits."""
    yield run(_INSERT, row)
    yield WAKE


def new_row(*, app_id: str, integration_id: str, conversation_id: str, message_id: str | None, client_id: str,
            recipient: str, now: int, content: dict[str, Any] | None = None) -> dict[str, Any]:
    """A send of a message (`message_id`), or of a channel link's confirmation (`content`, no message)."""
    return {"app_id": app_id, "integration_id": integration_id, "conversation_id": conversation_id,
            "message_id": message_id, "content": content, "client_id": client_id, "recipient": recipient,
            "lane": f"{integration_id}:{conversation_id}", "status": PENDING, "attempts": 0, "progress": 0,
            "external_ids": [], "next_attempt_at": now, "leased_until": None, "created_at": now,
            "finished_at": None, "last_error": None}


@dataclasses.dataclass(frozen=True)
class Claimed:
    """A send, leased: what to send (the message's content, or a link's confirmation: `message_id` None, and the
    client's `link`), where, and how far earlier attempts got."""

    seq: int
    lane: str
    app_id: str
    integration_id: str
    integration_type: str
    integration_status: str
    config: dict[str, Any]
    conversation_id: str
    message_id: str | None
    client_id: str
    user_id: str
    recipient: str
    content: dict[str, Any]
    attempts: int
    progress: int
    external_ids: list[str]
    link: dict[str, Any] | None


def claim_plan(*, now: int, lease_ms: int, lanes: int, limit: int) -> Plan[list[Claimed]]:
    """Lease until `now + lease_ms` the due heads of up to `lanes` lanes, oldest first, each with the run of due
    sends that follows it in its lane (`limit` sends in all): a busy conversation needs one claim per run, not
    per message. A run stops at the first send that is not due (or leased): order comes first."""
    heads = yield rows(_CLAIMABLE, {"p_now": now, "p_limit": lanes})
    if not heads:
        return []
    seqs = [head["seq"] for head in heads]
    open_lanes = {head["lane"] for head in heads}
    followers = yield rows(_FOLLOWERS, {"p_now": now, "p_lanes": sorted(open_lanes), "p_after": min(seqs)})
    for row in followers:
        if len(seqs) >= limit:
            break
        if row["lane"] not in open_lanes or row["seq"] in seqs:
            continue
        if row["ready"]:
            seqs.append(row["seq"])
        else:
            open_lanes.discard(row["lane"])
    yield run(_LEASE, {"p_seqs": seqs, "p_until": now + lease_ms})
    claimed = yield rows(_CLAIMED, {"p_seqs": seqs})
    fields = {field.name for field in dataclasses.fields(Claimed)} - {"content"}
    return [Claimed(**{k: v for k, v in row.items() if k in fields},
                    content=row["content"] if row["message_id"] is None else row["message_content"])
            for row in claimed]


def release_plan(seqs: list[int]) -> Plan[None]:
    """Plan: lift the lease of these sends (a run stopped before them): claimable again at once."""
    if seqs:
        yield run(_RELEASE, {"p_seqs": seqs})


_FENCED = sa.and_(_s.c.seq == sa.bindparam("p_seq"), _IS_PENDING, _s.c.leased_until == sa.bindparam("p_lease"))
_COMMON = {"attempts": _s.c.attempts + 1, "progress": sa.bindparam("p_progress"), "leased_until": sa.null(),
           "external_ids": sa.bindparam("p_ids", type_=t.Json()), "last_error": sa.bindparam("p_error")}
_RECORD = {  # pending again (until p_at), or over (sent, failed: at p_at)
    PENDING: Fast(_s.update().where(_FENCED).values(**_COMMON, next_attempt_at=sa.bindparam("p_at"))
                  .returning(_s.c.seq)),
    "over": Fast(_s.update().where(_FENCED).values(**_COMMON, status=sa.bindparam("p_status"),
                                                     finished_at=sa.bindparam("p_at")).returning(_s.c.seq)),
}
_CONVERSATION = Fast(sa.select(t.conversations.c.id, t.conversations.c.type, t.conversations.c.metadata)
                     .where(t.conversations.c.id == sa.bindparam("p_id")))
_SENT_ID = Fast(t.channel_messages.insert().values(
    integration_id=sa.bindparam("p_integration"), external_id=sa.bindparam("p_external"),
    message_id=sa.bindparam("p_message"), created_at=sa.bindparam("p_at")))


_HOLD = {table: Fast(sa.select(table.c.id).where(table.c.id == sa.bindparam("p_id"))
                     .with_for_update(read=True, key_share=True))
         for table in (_m, _i, _c)}


def hold_plan(*, message_id: str | None, integration_id: str, client_id: str) -> Plan[None]:
    """Plan: FOR KEY SHARE on the rows a send's record refers to (its message, integration and client), before the
    send itself: the order a delete of one of them takes (the row, then by cascade the send), so a record and a
    delete wait for each other rather than deadlock (PostgreSQL; SQLite has one writer)."""
    if message_id is not None:
        yield rows(_HOLD[_m], {"p_id": message_id})
    yield rows(_HOLD[_i], {"p_id": integration_id})
    yield rows(_HOLD[_c], {"p_id": client_id})


def record_plan(*, seq: int, leased_until: int, status: str, at: int, progress: int, external_ids: list[str],
                retry_at: int | None, error: str | None) -> Plan[bool]:
    """Plan: what an attempt came to: `sent`, `failed`, or still `pending` until `retry_at`; False if the send is
    gone (its message, conversation or integration was deleted meanwhile) or no longer under the lease it was
    claimed with (`leased_until`: another sender claimed it after the lease ran out, and records it)."""
    params = {"p_seq": seq, "p_lease": leased_until, "p_progress": progress, "p_ids": external_ids,
              "p_error": error, "p_at": retry_at if status == PENDING else at, "p_status": status}
    found = yield rows(_RECORD[PENDING if status == PENDING else "over"], params)
    return bool(found)


def sent_ids_plan(*, integration_id: str, message_id: str, external_ids: list[str], now: int) -> Plan[None]:
    """Plan: the channel's ids for parts of a message sent through the integration, which its receipts name
    (store/channels.OUT: `out:<id>`; ids the channel gives are its own, so none comes twice)."""
    for external_id in external_ids:
        yield run(_SENT_ID, {"p_integration": integration_id, "p_external": "out:" + external_id,
                             "p_message": message_id, "p_at": now})


def conversation_plan(*, conversation_id: str) -> Plan[Any]:
    """Plan: the conversation's `id`, `type` and `metadata` (what a delivery event shows of it), or None."""
    found = yield rows(_CONVERSATION, {"p_id": conversation_id})
    return found[0] if found else None


async def next_due(conn: AsyncConnection) -> int | None:
    """When the next lane head falls due (or its lease runs out), in ms; None if nothing is pending."""
    value = await conn.scalar(_NEXT_DUE)
    return None if value is None else int(value)


async def release_leases(conn: AsyncConnection) -> None:
    """Make every leased send claimable now (only safe when no other process is sending)."""
    await conn.execute(_s.update().where(_IS_PENDING, _s.c.leased_until.is_not(None)).values(leased_until=None))
