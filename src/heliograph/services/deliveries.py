"""Webhook deliveries for people: list them, look at one with its attempts, send one again.

Shared by `heliograph deliveries …` and the admin endpoints under /admin (account key only).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import BadRequest, NotFound
from heliograph.ids import iso
from heliograph.store import deliveries as store
from heliograph.store.outbox import wake_after_commit

STATUSES = ("pending", "held", "delivered", "failed")  # held: waiting for the app socket (docs/socket-mode.md)


def _wire(row: dict[str, Any]) -> dict[str, Any]:
    wire = {
        "id": row["seq"], "eventId": row["event_id"], "eventType": row["type"], "webhookId": row["webhook_id"],
        "status": row["status"], "attempts": row["attempts"], "createdAt": iso(row["created_at"]),
        "nextAttemptAt": iso(row["next_attempt_at"]) if row["status"] == "pending" else None,
        "finishedAt": iso(row["finished_at"]), "lastError": row["last_error"],
    }
    return {k: v for k, v in wire.items() if v is not None}


async def list_deliveries(conn: AsyncConnection, *, webhook_id: str, status: str | None = None,
                          before: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
    if status is not None and status not in STATUSES:
        raise BadRequest(f"status must be one of {', '.join(STATUSES)}")
    if not 1 <= limit <= 500:
        raise BadRequest("limit must be from 1 to 500")
    if not await store.has_webhook(conn, webhook_id=webhook_id):
        raise NotFound(f"Webhook {webhook_id} not found")
    rows = await store.list_deliveries(conn, webhook_id=webhook_id, status=status, before=before, limit=limit)
    return [_wire(row) for row in rows]


async def get_delivery(conn: AsyncConnection, *, delivery_id: int) -> dict[str, Any]:
    row = await store.find_delivery(conn, seq=delivery_id)
    if row is None:
        raise NotFound(f"Delivery {delivery_id} not found")
    attempts = [{k: v for k, v in {"attemptedAt": iso(a["attempted_at"]), "statusCode": a["status_code"],
                                   "latencyMs": a["latency_ms"], "error": a["error"]}.items() if v is not None}
                for a in row["attempt_log"]]
    return {**_wire(row), "event": row["body"], "attemptLog": attempts}


async def redeliver(conn: AsyncConnection, *, delivery_id: int, now: int) -> dict[str, Any]:
    """Send a delivery again (same event id), as a new series of attempts starting now."""
    if not await store.redeliver(conn, seq=delivery_id, now=now):
        raise NotFound(f"Delivery {delivery_id} not found")
    await wake_after_commit(conn)
    return await get_delivery(conn, delivery_id=delivery_id)
