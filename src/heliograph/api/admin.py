"""Admin routes outside /v2 (account key only): webhook deliveries, their attempts, redelivery.

    GET  /admin/webhooks/{webhookId}/deliveries[?status=failed&limit=50&before=ID]
    GET  /admin/deliveries/{deliveryId}
    POST /admin/deliveries/{deliveryId}/redeliver
"""

from __future__ import annotations

from heliograph.api.http import ACCOUNT, Call, Reply, Routes, exact_pattern
from heliograph.errors import BadRequest
from heliograph.services import deliveries as service

routes = Routes(exact_pattern)  # Heliograph's own: only at the root, spelled as written


def _int(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    if not value.isdigit():
        raise BadRequest(f"{name} must be a whole number")
    return int(value)


@routes("GET", "/admin/webhooks/{webhookId}/deliveries", "AdminListDeliveries", ACCOUNT)
async def list_deliveries(call: Call) -> Reply:
    """GET /admin/webhooks/{webhookId}/deliveries: newest first, optionally by status."""
    async with call.services.db.read() as conn:
        listed = await service.list_deliveries(
            conn, webhook_id=call.params["webhookId"], status=call.query_value("status"),
            before=_int(call.query_value("before"), "before"), limit=_int(call.query_value("limit"), "limit") or 50)
    return 200, {"deliveries": listed}


@routes("GET", "/admin/deliveries/{deliveryId}", "AdminGetDelivery", ACCOUNT)
async def get_delivery(call: Call) -> Reply:
    """GET /admin/deliveries/{deliveryId}: the delivery, its event and every attempt."""
    delivery_id = _int(call.params["deliveryId"], "deliveryId") or 0
    async with call.services.db.read() as conn:
        return 200, {"delivery": await service.get_delivery(conn, delivery_id=delivery_id)}


@routes("POST", "/admin/deliveries/{deliveryId}/redeliver", "AdminRedeliver", ACCOUNT)
async def redeliver(call: Call) -> Reply:
    """POST /admin/deliveries/{deliveryId}/redeliver: send it again now, with the same event id."""
    delivery_id = _int(call.params["deliveryId"], "deliveryId") or 0
    async with call.services.db.write() as conn:
        delivery = await service.redeliver(conn, delivery_id=delivery_id, now=call.services.ids.clock())
    return 200, {"delivery": delivery}
