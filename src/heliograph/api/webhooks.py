"""Webhooks routes: app keys, and integration keys on their own integration (`me`)."""

from __future__ import annotations

from typing import Any

from heliograph.api.http import CONNECT, Call, Reply, Routes
from heliograph.schemas.webhooks import WebhookBody, WebhookCreateBody
from heliograph.services import webhooks as service

routes = Routes()
WEBHOOKS = "/v2/apps/{appId}/integrations/{integrationId}/webhooks"
WEBHOOK = WEBHOOKS + "/{webhookId}"


def _integration(call: Call) -> dict[str, Any]:
    """The app and integration the path names, and the integration of an integration-scoped caller, which
    may name only its own: refused here, before the handler reads the body (credentials come first)."""
    service.owned(call.params["integrationId"], call.principal.integration_id)
    return {"app_id": call.params["appId"], "integration_id": call.params["integrationId"],
            "caller": call.principal.integration_id}


@routes("POST", WEBHOOKS, "CreateWebhook", CONNECT)
async def create_webhook(call: Call) -> Reply:
    """POST /v2/apps/{appId}/integrations/{integrationId}/webhooks (CreateWebhook)."""
    where = _integration(call)
    body = call.body(WebhookCreateBody)
    async with call.services.db.write() as conn:
        webhook = await service.create_webhook(conn, ids=call.services.ids, **where, body=body)
    return 201, {"webhook": webhook}


@routes("GET", WEBHOOKS, "ListWebhooks", CONNECT)
async def list_webhooks(call: Call) -> Reply:
    """GET /v2/apps/{appId}/integrations/{integrationId}/webhooks (ListWebhooks)."""
    async with call.services.db.read() as conn:
        return 200, {"webhooks": await service.list_webhooks(conn, **_integration(call))}


@routes("GET", WEBHOOK, "GetWebhook", CONNECT)
async def get_webhook(call: Call) -> Reply:
    """GET /v2/apps/{appId}/integrations/{integrationId}/webhooks/{webhookId} (GetWebhook)."""
    async with call.services.db.read() as conn:
        webhook = await service.get_webhook(conn, **_integration(call), webhook_id=call.params["webhookId"])
    return 200, {"webhook": webhook}


@routes("PATCH", WEBHOOK, "UpdateWebhook", CONNECT)
async def update_webhook(call: Call) -> Reply:
    """PATCH /v2/apps/{appId}/integrations/{integrationId}/webhooks/{webhookId} (UpdateWebhook)."""
    where = _integration(call)
    body = call.body(WebhookBody)
    async with call.services.db.write() as conn:
        webhook = await service.update_webhook(conn, **where, webhook_id=call.params["webhookId"], body=body)
    return 200, {"webhook": webhook}


@routes("DELETE", WEBHOOK, "DeleteWebhook", CONNECT)
async def delete_webhook(call: Call) -> Reply:
    """DELETE /v2/apps/{appId}/integrations/{integrationId}/webhooks/{webhookId} (DeleteWebhook)."""
    async with call.services.db.write() as conn:
        await service.delete_webhook(conn, **_integration(call),
                                     webhook_id=call.params["webhookId"])
    return 200, {}
