"""What an app socket reads and writes (socket mode, docs/socket-mode.md): whether a key may open one for a
webhook, the webhook's held deliveries as the bodies its POSTs would carry, and acknowledgements.

A socket-mode webhook is an ordinary webhook whose target is `https://socket.invalid` (or a path under
it): the outbox stores its deliveries `held` (store/outbox.py), the dispatcher never claims them, and
the app's socket sends them and marks each one `delivered` when the client acknowledges it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.auth import Principal
from heliograph.errors import BadRequest, NotFound
from heliograph.events.payloads import for_webhook
from heliograph.store import apps, deliveries

SCOPES = frozenset({"account", "app"})  # an account key, or a key of the app
ROUTE = "/sdk/v2/apps/{appId}/stream"


async def check(conn: AsyncConnection, *, principal: Principal, app_id: str, webhook_id: str | None) -> str:
    """The webhook a socket of `principal` may serve: the app's own, in socket mode; its id.

    Forbidden for a key of another app (or of an integration), AppNotFound / NotFound for an
    unknown app or a webhook the app does not have, BadRequest for a webhook that posts over HTTP.
    """
    principal.require(SCOPES, app_id, ROUTE)
    await apps.require_app(conn, app_id=app_id)
    if not webhook_id:
        raise BadRequest("Name the socket-mode webhook: ?webhookId=<id>")
    webhook = await deliveries.find_socket_webhook(conn, app_id=app_id, webhook_id=webhook_id)
    if webhook is None:
        raise NotFound(f"Webhook {webhook_id} not found in this app")
    if not deliveries.held_by_socket(webhook["target"]):
        raise BadRequest(f"Webhook {webhook_id} is not in socket mode: its target must be "
                         f"{deliveries.SOCKET_TARGET}")
    return webhook_id


async def attached(conn: AsyncConnection, *, webhook_id: str, token: str) -> None:
    """Once this transaction commits, every process's sockets of the webhook with an older token close."""
    await deliveries.wake_sockets(conn, webhook_id=webhook_id, token=token)


async def waiting(conn: AsyncConnection, *, webhook_id: str, skip: Collection[int],
                  limit: int) -> list[tuple[int, dict[str, Any]]]:
    """Up to `limit` held deliveries of the webhook not in `skip` (those sent already), in the order the
    dispatcher would POST them, each with the body its POST would carry: `{app, webhook, events: [event]}`."""
    rows = await deliveries.held_deliveries(conn, webhook_id=webhook_id, limit=limit + len(skip))
    return [(row["seq"], _body(row)) for row in rows if row["seq"] not in skip][:limit]


async def acknowledge(conn: AsyncConnection, *, webhook_id: str, seqs: Sequence[int], now: int) -> None:
    """The client has these deliveries: they become `delivered` and are never sent again. A seq that is not
    a held delivery of this webhook (acknowledged before, or someone else's) changes nothing."""
    await deliveries.acknowledge(conn, webhook_id=webhook_id, seqs=sorted(set(seqs)), at=now)


def _body(row: dict[str, Any]) -> dict[str, Any]:
    """The webhook's POST body for one delivery, cut as the dispatcher cuts it (includeFullUser/Source)."""
    event = for_webhook(row["body"], include_full_user=row["include_full_user"],
                        include_full_source=row["include_full_source"])
    return {"app": {"id": row["app_id"]}, "webhook": {"id": row["webhook_id"], "version": "v2"}, "events": [event]}
