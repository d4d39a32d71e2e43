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
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import BadGateway, BadRequest, Conflict, UserNotFound
from heliograph.events import clients as client_events
from heliograph.ids import IdFactory
from heliograph.schemas.clients import SyncUserBody
from heliograph.schemas.common import METADATA_MAX_BYTES, UNSET
from heliograph.services import stream
from heliograph.services.clients import replace_association
from heliograph.services.users import wire_user
from heliograph.store import clients as client_store
from heliograph.store import users as store
from heliograph.store.apps import require_app
from heliograph.store.conversations import delete_conversation, require_conversation
from heliograph.store.outbox import emit


async def sync_user(conn: AsyncConnection, *, ids: IdFactory, app_id: str, zendesk_id: str,
                    body: SyncUserBody) -> dict[str, Any]:
    outgoing = await _require_zendesk_user(conn, app_id, zendesk_id)
    if body.surviving_zendesk_id is UNSET:
        raise BadGateway("Synchronizing a user with its Zendesk Support user needs Zendesk Support, which "
                         "Heliograph does not reach: only a merge (survivingZendeskId) can be applied")
    if body.surviving_zendesk_id == zendesk_id:
        raise BadRequest("Invalid survivingZendeskId: it must differ from the zendeskId of the path")
    found = await store.find_zendesk_user(conn, app_id=app_id, zendesk_id=body.surviving_zendesk_id)
    if found is None:  # the surviving Zendesk user has no messaging user yet: this one stands for it now
        await store.update_zendesk_id(conn, user_id=outgoing["id"], zendesk_id=body.surviving_zendesk_id)
        return await wire_user(conn, {**outgoing, "zendesk_id": body.surviving_zendesk_id})
    return await wire_user(conn, await merge_users(conn, ids=ids, app_id=app_id, surviving=found,
                                                   discarded=outgoing))


async def merge_users(conn: AsyncConnection, *, ids: IdFactory, app_id: str, surviving: Any,
                      discarded: Any, reason: str = "api") -> dict[str, Any]:
    """Merge `discarded` into `surviving` and emit user:merge (with `reason`: `api`, or `sdkLogin` for an
    end user's login); the surviving user's row as it is now. The discarded user's streams close (4401), and
    the surviving user's follow the conversations that became theirs."""
    await store.lock_users(conn, surviving["id"], discarded["id"])
    merged, spilled = _merged_user(surviving, discarded)
    conversations = await _merge_conversations(conn, surviving["id"], discarded["id"])
    clients = await _merge_clients(conn, surviving["id"], discarded["id"])
    await _merge_identities(conn, surviving["id"], discarded["id"])
    await store.delete_user(conn, user_id=discarded["id"], conversation_ids=[])
    await stream.sessions_ended(conn, user_id=discarded["id"], reason=stream.MERGED)
    await store.save_merged_user(conn, merged)
    await emit(conn, ids=ids, app_id=app_id, type="user:merge", lane=surviving["id"],
               payload=client_events.user_merge(merged, discarded, conversations=conversations, clients=clients,
                                                discarded_metadata=spilled, reason=reason))
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
    kept = {m["conversation_id"]: m for m in await store.participants_of(conn, user_id=surviving_id)}
    merged = None
    for member in await store.participants_of(conn, user_id=discarded_id):
        ours = kept.get(member["conversation_id"])
        default = next((k for k in kept.values() if k["is_default"]), None)
        if member["is_default"] and default is not None:
            merged = await _merge_default(conn, default, member)
        elif ours is not None:  # both in one group: one participant, with both sets of clients
            await store.update_participant(conn, participant_id=ours["id"], client_associations=_joined(ours, member),
                                           unread_count=min(ours["unread_count"], member["unread_count"]))
            await store.delete_participant(conn, participant_id=member["id"])
        else:
            await store.move_participant(conn, participant_id=member["id"], user_id=surviving_id)
            await stream.joined(conn, user_ids=[surviving_id], conversation_id=member["conversation_id"])
    await store.rewrite_authorship(conn, surviving_id=surviving_id, discarded_id=discarded_id)
    return merged


async def _merge_default(conn: AsyncConnection, kept: Any, gone: Any) -> tuple[Any, Any]:
    """The discarded default conversation's messages join the surviving one, which then stands alone."""
    survivor, other = await store.conversation_pair(conn, kept_id=kept["conversation_id"],
                                                    gone_id=gone["conversation_id"])
    shown = [await require_conversation(conn, app_id=row["app_id"], conversation_id=row["id"], with_control=True)
             for row in (survivor, other)]  # as user:merge shows them: with their switchboard state
    await store.move_messages(conn, from_conversation_id=other["id"], to_conversation_id=survivor["id"])
    await store.add_moved_messages(conn, conversation_id=survivor["id"], message_count=other["message_count"],
                                   last_updated_at=max(survivor["last_updated_at"], other["last_updated_at"]))
    await store.update_participant(conn, participant_id=kept["id"], client_associations=_joined(kept, gone),
                                   unread_count=kept["unread_count"] + gone["unread_count"])
    await delete_conversation(conn, conversation_id=other["id"])
    return shown[0], shown[1]


def _joined(kept: Any, gone: Any) -> list[dict[str, str]]:
    """The kept participant's client associations, then those of the gone one it lacks."""
    ours: list[dict[str, str]] = kept["client_associations"]
    return ours + [a for a in gone["client_associations"] if a not in ours]


async def _merge_clients(conn: AsyncConnection, surviving_id: str, discarded_id: str) -> tuple[Any, Any] | None:
    """Clients move over; where both users have one for the same channel, the survivor's is kept and the
    discarded one's devices join it. The first such pair is the event's mergedClients."""
    ours = {(r["type"], r["integration_id"]): r for r in await client_store.list_clients(conn, user_id=surviving_id)}
    merged = None
    for theirs in await client_store.list_clients(conn, user_id=discarded_id):
        kept = ours.get((theirs["type"], theirs["integration_id"]))
        if kept is None:
            await client_store.move_client(conn, client_id=theirs["id"], user_id=surviving_id)
            continue
        await client_store.move_devices(conn, from_client_id=theirs["id"], to_client_id=kept["id"],
                                        user_id=surviving_id)
        await replace_association(conn, user_id=surviving_id, client_id=theirs["id"],
                                  replacement={"type": kept["type"], "clientId": kept["id"]})
        await client_store.delete_client(conn, client_id=theirs["id"])
        merged = merged or (kept, theirs)
    return merged


async def _merge_identities(conn: AsyncConnection, surviving_id: str, discarded_id: str) -> None:
    """The survivor gains the identities it lacks."""
    have = {(r["type"], r["value"]) for r in await store.identity_rows(conn, user_id=surviving_id)}
    rows = [{**r, "user_id": surviving_id} for r in await store.identity_rows(conn, user_id=discarded_id)
            if (r["type"], r["value"]) not in have]
    if rows:
        await store.insert_identities(conn, rows)


async def _require_zendesk_user(conn: AsyncConnection, app_id: str, zendesk_id: str) -> Any:
    row = await store.find_zendesk_user(conn, app_id=app_id, zendesk_id=zendesk_id)
    if row is None:
        await require_app(conn, app_id=app_id)
        raise UserNotFound()
    return row


async def link_zendesk(conn: AsyncConnection, *, app_id: str, user: str, zendesk_id: str) -> dict[str, Any]:
    """Link a messaging user to a Zendesk user (what a Help Center login does on the hosted service).

    Heliograph has no Zendesk login, so an operator links users (`heliograph users link-zendesk`).
    A zendeskId names one user of an app at a time.
    """
    row = await store.require_user(conn, app_id=app_id, id_or_external_id=user)
    holder = await store.find_zendesk_user(conn, app_id=app_id, zendesk_id=zendesk_id)
    if holder is not None and holder["id"] != row["id"]:
        raise Conflict(f"zendeskId {zendesk_id} is already linked to user {holder['id']}")
    await store.update_zendesk_id(conn, user_id=row["id"], zendesk_id=zendesk_id)
    return await wire_user(conn, {**row, "zendesk_id": zendesk_id})
