"""SyncUser: apply the merge of two Zendesk users to their messaging users (user:merge).

The user whose `zendeskId` is in the path is discarded into the one linked to `survivingZendeskId`:
its conversations, clients, devices, identities and the profile and metadata the survivor lacks
move over, its default conversation's messages join the survivor's default conversation, and it is
deleted. A sync without a merge would pull the profile from Zendesk Support, which Heliograph does
not reach: that is a 502 (docs/api-behaviour.md).
"""

from __future__ import annotations

from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import BadGateway, BadRequest, Conflict, UserNotFound
from heliograph.events import clients as client_events
from heliograph.ids import IdFactory
from heliograph.schemas.clients import SyncUserBody
from heliograph.schemas.common import METADATA_MAX_BYTES, UNSET
from heliograph.services.clients import replace_association
from heliograph.services.users import wire_user
from heliograph.store import tables as t
from heliograph.store.apps import require_app
from heliograph.store.client_tables import clients as c
from heliograph.store.client_tables import devices as d
from heliograph.store.outbox import emit
from heliograph.store.users import require_user

_u, _p, _cv, _m = t.users, t.participants, t.conversations, t.messages
_BY_ZENDESK_ID = sa.select(_u).where(_u.c.app_id == sa.bindparam("app_id"),
                                     _u.c.zendesk_id == sa.bindparam("zendesk_id")).order_by(_u.c.id).limit(1)
_MEMBERSHIPS = sa.select(_p, _cv.c.is_default).join(_cv, _cv.c.id == _p.c.conversation_id).where(
    _p.c.user_id == sa.bindparam("user_id")).order_by(_p.c.id)
_CONVERSATION = sa.select(_cv).where(_cv.c.id == sa.bindparam("conversation_id"))


async def sync_user(conn: AsyncConnection, *, ids: IdFactory, app_id: str, zendesk_id: str,
                    body: SyncUserBody) -> dict[str, Any]:
    outgoing = await _require_zendesk_user(conn, app_id, zendesk_id)
    if body.surviving_zendesk_id is UNSET:
        raise BadGateway("Synchronizing a user with its Zendesk Support user needs Zendesk Support, which "
                         "Heliograph does not reach: only a merge (survivingZendeskId) can be applied")
    if body.surviving_zendesk_id == zendesk_id:
        raise BadRequest("Invalid survivingZendeskId: it must differ from the zendeskId of the path")
    found = (await conn.execute(_BY_ZENDESK_ID, {"app_id": app_id, "zendesk_id": body.surviving_zendesk_id})).first()
    if found is None:  # the surviving Zendesk user has no messaging user yet: this one stands for it now
        await conn.execute(_u.update().where(_u.c.id == outgoing["id"]).values(zendesk_id=body.surviving_zendesk_id))
        return await wire_user(conn, {**outgoing, "zendesk_id": body.surviving_zendesk_id})
    return await wire_user(conn, await merge_users(conn, ids=ids, app_id=app_id, surviving=found._mapping,
                                                   discarded=outgoing))


async def merge_users(conn: AsyncConnection, *, ids: IdFactory, app_id: str, surviving: Any,
                      discarded: Any) -> dict[str, Any]:
    """Merge `discarded` into `surviving` and emit user:merge; the surviving user's row as it is now."""
    await conn.execute(sa.select(_u.c.id).where(_u.c.id.in_([surviving["id"], discarded["id"]])).with_for_update())
    merged, spilled = _merged_user(surviving, discarded)
    conversations = await _merge_conversations(conn, surviving["id"], discarded["id"])
    clients = await _merge_clients(conn, surviving["id"], discarded["id"])
    await _merge_identities(conn, surviving["id"], discarded["id"])
    await conn.execute(_u.delete().where(_u.c.id == discarded["id"]))
    await conn.execute(_u.update().where(_u.c.id == surviving["id"]).values(
        external_id=merged["external_id"], signed_up_at=merged["signed_up_at"], profile=merged["profile"],
        metadata=merged["metadata"]))
    await emit(conn, ids=ids, app_id=app_id, type="user:merge", lane=surviving["id"],
               payload=client_events.user_merge(merged, discarded, conversations=conversations, clients=clients,
                                                discarded_metadata=spilled))
    return merged


def _merged_user(surviving: Any, discarded: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The survivor's fields win; it gains what it lacks. Metadata past 4 KB is left out and returned."""
    merged = dict(surviving)
    merged["profile"] = {**discarded["profile"], **surviving["profile"]}
    merged["signed_up_at"] = min(surviving["signed_up_at"], discarded["signed_up_at"])
    if surviving["external_id"] is None and surviving["brand_key"] == discarded["brand_key"]:
        merged["external_id"] = discarded["external_id"]
    metadata, spilled = dict(surviving["metadata"]), {}
    for key, value in discarded["metadata"].items():
        if key in metadata:
            continue
        if len(msgspec.json.encode({**metadata, key: value})) > METADATA_MAX_BYTES:
            spilled[key] = value
        else:
            metadata[key] = value
    merged["metadata"] = metadata
    return merged, spilled


async def _merge_conversations(conn: AsyncConnection, surviving_id: str, discarded_id: str) -> tuple[Any, Any] | None:
    """Move the discarded user's memberships; two default conversations become the survivor's one."""
    kept = {m.conversation_id: m for m in await conn.execute(_MEMBERSHIPS, {"user_id": surviving_id})}
    merged = None
    for member in (await conn.execute(_MEMBERSHIPS, {"user_id": discarded_id})).all():
        ours = kept.get(member.conversation_id)
        default = next((k for k in kept.values() if k.is_default), None)
        if member.is_default and default is not None:
            merged = await _merge_default(conn, default, member)
        elif ours is not None:  # both in one group: one participant, with both sets of clients
            associations = ours.client_associations + [
                a for a in member.client_associations if a not in ours.client_associations]
            await conn.execute(_p.update().where(_p.c.id == ours.id).values(
                client_associations=associations, unread_count=min(ours.unread_count, member.unread_count)))
            await conn.execute(_p.delete().where(_p.c.id == member.id))
        else:
            await conn.execute(_p.update().where(_p.c.id == member.id).values(user_id=surviving_id))
    await _rewrite_authorship(conn, surviving_id, discarded_id)
    return merged


async def _merge_default(conn: AsyncConnection, kept: Any, gone: Any) -> tuple[Any, Any]:
    """The discarded default conversation's messages join the surviving one, which then stands alone."""
    survivor = (await conn.execute(_CONVERSATION, {"conversation_id": kept.conversation_id})).one()._mapping
    other = (await conn.execute(_CONVERSATION, {"conversation_id": gone.conversation_id})).one()._mapping
    await conn.execute(_m.update().where(_m.c.conversation_id == other["id"]).values(conversation_id=survivor["id"]))
    await conn.execute(_cv.update().where(_cv.c.id == survivor["id"]).values(
        message_count=_cv.c.message_count + other["message_count"],
        last_updated_at=max(survivor["last_updated_at"], other["last_updated_at"])))
    await conn.execute(_p.update().where(_p.c.id == kept.id).values(
        unread_count=kept.unread_count + gone.unread_count, client_associations=kept.client_associations + [
            a for a in gone.client_associations if a not in kept.client_associations]))
    await conn.execute(_cv.delete().where(_cv.c.id == other["id"]))
    return survivor, other


async def _rewrite_authorship(conn: AsyncConnection, surviving_id: str, discarded_id: str) -> None:
    """Messages the discarded user wrote, in conversations the survivor is in now, name the survivor."""
    text = sa.type_coerce(_m.c.author, sa.Text)
    old, new = sa.literal(f'"{discarded_id}"', sa.Text), sa.literal(f'"{surviving_id}"', sa.Text)
    theirs = sa.select(_p.c.conversation_id).where(_p.c.user_id == surviving_id).scalar_subquery()
    await conn.execute(_m.update().where(_m.c.conversation_id.in_(theirs), text.contains(discarded_id))
                       .values(author=sa.type_coerce(sa.func.replace(text, old, new), sa.Text)))


async def _merge_clients(conn: AsyncConnection, surviving_id: str, discarded_id: str) -> tuple[Any, Any] | None:
    """Clients move over; where both users have one for the same channel, the survivor's is kept and the
    discarded one's devices join it. The first such pair is the event's mergedClients."""
    ours = {(r.type, r.integration_id): r._mapping for r in await conn.execute(
        sa.select(c).where(c.c.user_id == surviving_id).order_by(c.c.id))}
    merged = None
    for theirs in (await conn.execute(sa.select(c).where(c.c.user_id == discarded_id).order_by(c.c.id))).all():
        kept = ours.get((theirs.type, theirs.integration_id))
        if kept is None:
            await conn.execute(c.update().where(c.c.id == theirs.id).values(user_id=surviving_id))
            await conn.execute(d.update().where(d.c.client_id == theirs.id).values(user_id=surviving_id))
            continue
        await conn.execute(d.update().where(d.c.client_id == theirs.id).values(user_id=surviving_id,
                                                                                client_id=kept["id"]))
        await replace_association(conn, user_id=surviving_id, client_id=theirs.id,
                                  replacement={"type": kept["type"], "clientId": kept["id"]})
        await conn.execute(c.delete().where(c.c.id == theirs.id))
        merged = merged or (kept, theirs._mapping)
    return merged


async def _merge_identities(conn: AsyncConnection, surviving_id: str, discarded_id: str) -> None:
    i = t.identities
    have = {(r.type, r.value) for r in await conn.execute(sa.select(i).where(i.c.user_id == surviving_id))}
    rows = [{**r._mapping, "user_id": surviving_id}
            for r in await conn.execute(sa.select(i).where(i.c.user_id == discarded_id))
            if (r.type, r.value) not in have]
    if rows:
        await conn.execute(i.insert(), rows)


async def _require_zendesk_user(conn: AsyncConnection, app_id: str, zendesk_id: str) -> Any:
    row = (await conn.execute(_BY_ZENDESK_ID, {"app_id": app_id, "zendesk_id": zendesk_id})).first()
    if row is None:
        await require_app(conn, app_id=app_id)
        raise UserNotFound()
    return row._mapping


async def link_zendesk(conn: AsyncConnection, *, app_id: str, user: str, zendesk_id: str) -> dict[str, Any]:
    """Link a messaging user to a Zendesk user (what a Help Center login does on the hosted service).

    Heliograph has no Zendesk login, so an operator links users (`heliograph users link-zendesk`).
    A zendeskId names one user of an app at a time.
    """
    row = await require_user(conn, app_id=app_id, id_or_external_id=user)
    holder = (await conn.execute(_BY_ZENDESK_ID, {"app_id": app_id, "zendesk_id": zendesk_id})).first()
    if holder is not None and holder.id != row["id"]:
        raise Conflict(f"zendeskId {zendesk_id} is already linked to user {holder.id}")
    await conn.execute(_u.update().where(_u.c.id == row["id"]).values(zendesk_id=zendesk_id))
    return await wire_user(conn, {**row, "zendesk_id": zendesk_id})
