"""Custom Integration API Keys routes."""

from __future__ import annotations

from typing import Any

from heliograph.api.http import APP, Call, Reply, Routes
from heliograph.schemas.integrations import IntegrationApiKey
from heliograph.services import integration_keys as service

routes = Routes()
KEYS = "/v2/apps/{appId}/integrations/{integrationId}/keys"


def _integration(call: Call) -> dict[str, Any]:
    return {"app_id": call.params["appId"], "integration_id": call.params["integrationId"]}


@routes("POST", KEYS, "CreateCustomIntegrationKey", APP)
async def create_custom_integration_key(call: Call) -> Reply:
    """POST /v2/apps/{appId}/integrations/{integrationId}/keys (CreateCustomIntegrationKey)."""
    body = call.body(IntegrationApiKey)
    async with call.services.db.write() as conn:
        key = await service.create_custom_integration_key(conn, ids=call.services.ids,
                                                          **_integration(call), body=body)
    return 201, {"key": key}


@routes("GET", KEYS, "ListCustomIntegrationKeys", APP)
async def list_custom_integration_keys(call: Call) -> Reply:
    """GET /v2/apps/{appId}/integrations/{integrationId}/keys (ListCustomIntegrationKeys)."""
    async with call.services.db.read() as conn:
        return 200, {"keys": await service.list_custom_integration_keys(conn, **_integration(call))}


@routes("GET", KEYS + "/{keyId}", "GetCustomIntegrationKey", APP)
async def get_custom_integration_key(call: Call) -> Reply:
    """GET /v2/apps/{appId}/integrations/{integrationId}/keys/{keyId} (GetCustomIntegrationKey)."""
    async with call.services.db.read() as conn:
        key = await service.get_custom_integration_key(conn, **_integration(call), key_id=call.params["keyId"])
    return 200, {"key": key}


@routes("DELETE", KEYS + "/{keyId}", "DeleteCustomIntegrationKey", APP)
async def delete_custom_integration_key(call: Call) -> Reply:
    """DELETE /v2/apps/{appId}/integrations/{integrationId}/keys/{keyId} (DeleteCustomIntegrationKey)."""
    async with call.services.db.write() as conn:
        await service.delete_custom_integration_key(conn, **_integration(call), key_id=call.params["keyId"])
    call.services.auth.forget(call.params["keyId"])
    return 200, {}
