"""Channel links (docs/channels.md#client-linking): a `pending` client made by CreateClient, confirmed (active,
and attached to the link's target conversation) or given up (deleted), as plan steps that CreateClient, the
inbound route and the channel sender share. Each acts only on a client still pending, so a link is settled
once, whichever settles it first."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from heliograph.store import participants
from heliograph.store import tables as t
from heliograph.store.fast import Fast, Plan, rows, run

_c = t.clients
_PENDING = sa.and_(_c.c.id == sa.bindparam("p_client"), _c.c.status == "pending")
_CONFIRM = Fast(_c.update().where(_PENDING).values(status="active", linked_at=sa.bindparam("p_at"))
                .returning(*_c.c))
_GIVE_UP = Fast(_c.delete().where(_PENDING).returning(*_c.c))
_CLAIMED = Fast(sa.select(_c.c.id).where(_c.c.integration_id == sa.bindparam("p_integration"),
                                         _c.c.external_id == sa.bindparam("p_external"),
                                         _c.c.id != sa.bindparam("p_client")).limit(1))
_UNSENT = Fast(t.channel_sends.delete().where(  # a link's confirmation not out yet, nor being sent
    t.channel_sends.c.client_id == sa.bindparam("p_client"), t.channel_sends.c.message_id.is_(None),
    t.channel_sends.c.status == "pending", sa.or_(t.channel_sends.c.leased_until.is_(None),
                                                  t.channel_sends.c.leased_until < sa.bindparam("p_at"))))
_MATCH = Fast(_c.update().where(_PENDING).values(external_id=sa.bindparam("p_external")).returning(*_c.c))


def match_plan(*, client_id: str, integration_id: str, external_id: str) -> Plan[Any]:
    """Plan: the pending client is the person with `external_id` on the channel; the client as it is now, or None
    if another client of the integration is that person already (the link cannot be made)."""
    taken = yield rows(_CLAIMED, {"p_integration": integration_id, "p_external": external_id, "p_client": client_id})
    if taken:
        return None
    found = yield rows(_MATCH, {"p_client": client_id, "p_external": external_id})
    return found[0] if found else None


def confirm_plan(*, client_id: str, now: int) -> Plan[Any]:
    """Plan: the pending client becomes active and joins its link's target conversation (first among the
    participant's client associations when its matchCriteria is `primary`), its confirmation dropped if it has
    not gone out (the person wrote first); the client, or None if it is not pending (settled already, or
    removed)."""
    found = yield rows(_CONFIRM, {"p_client": client_id, "p_at": now})
    if not found:
        return None
    yield run(_UNSENT, {"p_client": client_id, "p_at": now})
    client, link = found[0], found[0]["link"] or {}
    target = (link.get("target") or {}).get("conversationId")
    if target:
        yield from participants.associate(conversation_id=target, user_id=client["user_id"],
                                          client_type=client["type"], client_id=client_id,
                                          first=(link.get("matchCriteria") or {}).get("primary", True) is not False)
    return client


def give_up_plan(*, client_id: str) -> Plan[Any]:
    """Plan: the pending client is deleted (its link failed); the client as it was, or None if it is not
    pending."""
    found = yield rows(_GIVE_UP, {"p_client": client_id})
    return found[0] if found else None
