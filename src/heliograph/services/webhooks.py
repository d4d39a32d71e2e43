"""Webhooks (CreateWebhook … DeleteWebhook) of a custom integration, or of an OAuth client's (`oauth`).

`caller` is the integration of an integration-scoped key (None for an app key): such a caller
names its own integration as `me` or by id, and may not touch another integration's webhooks.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.errors import BadRequest, Forbidden, IntegrationNotFound, NotFound
from heliograph.ids import IdFactory
from heliograph.schemas import render
from heliograph.schemas.common import UNSET
from heliograph.schemas.webhooks import WebhookBody, WebhookCreateBody, check_target, check_triggers, check_webhook
from heliograph.services.integrations import add_webhook, require_custom
from heliograph.store import tables as t

ME = "me"
FEATURE = "Webhooks"

_w = t.webhooks
_OF_INTEGRATION = _w.c.integration_id == sa.bindparam("integration_id")
_WEBHOOKS: sa.Select[Any] = sa.select(_w).where(_OF_INTEGRATION).order_by(_w.c.id)
_WEBHOOK: sa.Select[Any] = sa.select(_w).where(_OF_INTEGRATION, _w.c.id == sa.bindparam("webhook_id"))
_COUNT = sa.select(sa.func.count()).select_from(_w).where(_OF_INTEGRATION)
_INTEGRATION_TYPE = sa.select(t.integrations.c.type).where(t.integrations.c.id == sa.bindparam("integration_id"))


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
    return [render.webhook(r._mapping) for r in await conn.execute(_WEBHOOKS, {"integration_id": integration_id})]


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
        await conn.execute(_w.update().where(_w.c.id == webhook_id).values(**changes))
    return render.webhook(row)


async def delete_webhook(conn: AsyncConnection, *, app_id: str, integration_id: str,
                         caller: str | None, webhook_id: str) -> None:
    """Delete a webhook, but never a custom integration's last one (its schema requires one)."""
    integration_id = owned(integration_id, caller)
    await _require_webhook(conn, app_id, integration_id, webhook_id)
    params = {"integration_id": integration_id}
    kind = await conn.scalar(_INTEGRATION_TYPE.with_for_update(), params)  # one count-then-delete at a time
    if kind == "custom" and (await conn.scalar(_COUNT, params) or 0) <= 1:
        raise BadRequest("A custom integration keeps at least one webhook: "
                         "delete the integration to remove its last webhook")
    await conn.execute(_w.delete().where(_w.c.id == webhook_id))


async def _require_webhook(conn: AsyncConnection, app_id: str, integration_id: str, webhook_id: str) -> Any:
    await require_custom(conn, app_id=app_id, integration_id=integration_id, feature=FEATURE, oauth=True)
    row = (await conn.execute(_WEBHOOK, {"integration_id": integration_id, "webhook_id": webhook_id})).first()
    if row is None:
        raise NotFound("Webhook not found")
    return row._mapping
