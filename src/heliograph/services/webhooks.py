"""Webhooks (CreateWebhook … DeleteWebhook) of a custom integration, or of an OAuth client's (`oauth`).

`caller` is the integration of an integration-scoped key (None for an app key): such a caller
names its own integration as `me` or by id, and may not touch another integration's webhooks.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import BadRequest, Forbidden, IntegrationNotFound
from heliograph.ids import IdFactory
from heliograph.schemas import render
from heliograph.schemas.common import UNSET
from heliograph.schemas.webhooks import WebhookBody, WebhookCreateBody, check_target, check_triggers, check_webhook
from heliograph.services.integrations import add_webhook, require_custom
from heliograph.store import webhooks as store
from heliograph.store.integrations import find_integration

ME = "me"
FEATURE = "Webhooks"


def owned(integration_id: str, caller: str | None) -> str:
    """The integration the path names: `me` is the caller's; an integration key reaches only its own."""
    if integration_id == ME:
        if caller is None:
            raise IntegrationNotFound("Integration `me` names the caller's integration: "
                                      "it needs integration-scoped credentials")
        return caller
    if caller is not None and integration_id != caller:
        raise Forbidden("An integration key can only manage its own integration's webhooks")
    return integration_id


async def create_webhook(conn: AsyncConnection, *, ids: IdFactory, app_id: str,
                         integration_id: str, caller: str | None, body: WebhookCreateBody) -> dict[str, Any]:
    integration_id = owned(integration_id, caller)
    body = check_webhook(body)
    await require_custom(conn, app_id=app_id, integration_id=integration_id, feature=FEATURE, oauth=True)
    return await add_webhook(conn, ids=ids, app_id=app_id, integration_id=integration_id, body=body)


async def list_webhooks(conn: AsyncConnection, *, app_id: str, integration_id: str,
                        caller: str | None) -> list[dict[str, Any]]:
    integration_id = owned(integration_id, caller)
    await require_custom(conn, app_id=app_id, integration_id=integration_id, feature=FEATURE, oauth=True)
    return [render.webhook(row) for row in await store.list_webhooks(conn, integration_id=integration_id)]


async def get_webhook(conn: AsyncConnection, *, app_id: str, integration_id: str, caller: str | None,
                      webhook_id: str) -> dict[str, Any]:
    return render.webhook(await _require_webhook(conn, app_id, owned(integration_id, caller), webhook_id))


async def update_webhook(conn: AsyncConnection, *, app_id: str, integration_id: str, caller: str | None,
                         webhook_id: str, body: WebhookBody) -> dict[str, Any]:
    integration_id = owned(integration_id, caller)
    changes: dict[str, Any] = {}
    if body.target is not UNSET:
        check_target(body.target)
        changes["target"] = body.target
    if body.triggers is not UNSET:
        changes["triggers"] = check_triggers(body.triggers)
    if body.include_full_user is not UNSET:
        changes["include_full_user"] = body.include_full_user
    if body.include_full_source is not UNSET:
        changes["include_full_source"] = body.include_full_source
    row = {**await _require_webhook(conn, app_id, integration_id, webhook_id), **changes}
    if changes:
        await store.update_webhook(conn, webhook_id=webhook_id, changes=changes)
    return render.webhook(row)


async def delete_webhook(conn: AsyncConnection, *, app_id: str, integration_id: str,
                         caller: str | None, webhook_id: str) -> None:
    """Delete a webhook, but never a custom integration's last one (its schema requires one)."""
    integration_id = owned(integration_id, caller)
    await _require_webhook(conn, app_id, integration_id, webhook_id)
    # one count-then-delete at a time
    integration = await find_integration(conn, app_id=app_id, integration_id=integration_id, lock=True)
    if (integration is not None and integration["type"] == "custom"
            and await store.count_webhooks(conn, integration_id=integration_id) <= 1):
        raise BadRequest("A custom integration keeps at least one webhook: "
                         "delete the integration to remove its last webhook")
    await store.delete_webhook(conn, webhook_id=webhook_id)


async def _require_webhook(conn: AsyncConnection, app_id: str, integration_id: str, webhook_id: str) -> Any:
    await require_custom(conn, app_id=app_id, integration_id=integration_id, feature=FEATURE, oauth=True)
    return await store.require_webhook(conn, integration_id=integration_id, webhook_id=webhook_id)
