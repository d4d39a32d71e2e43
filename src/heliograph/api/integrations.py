"""Integrations routes."""

from __future__ import annotations

from heliograph.api.http import APP, Call, Reply, Routes, public_base
from heliograph.api.lists import listing, string_filter
from heliograph.pagination import parse_page
from heliograph.schemas.integrations import IntegrationBody
from heliograph.services import channels
from heliograph.services import integrations as service

routes = Routes()
INTEGRATION = "/v2/apps/{appId}/integrations/{integrationId}"


@routes("POST", "/v2/apps/{appId}/integrations", "CreateIntegration", APP)
async def create_integration(call: Call) -> Reply:
    """POST /v2/apps/{appId}/integrations (CreateIntegration)."""
    body: IntegrationBody = call.body(IntegrationBody)  # type: ignore[arg-type]  # a union msgspec decodes
    integration = await channels.create_integration(
        call.services.db, call.services.channels, ids=call.services.ids, app_id=call.params["appId"], body=body,
        public_base=public_base(call))
    return 201, {"integration": integration}


@routes("GET", "/v2/apps/{appId}/integrations", "ListIntegrations", APP)
async def list_integrations(call: Call) -> Reply:
    """GET /v2/apps/{appId}/integrations (ListIntegrations)."""
    page = parse_page(call.query)
    types = string_filter(call, ("types",)).get("types")
    async with call.services.db.read() as conn:
        window = await service.list_integrations(conn, app_id=call.params["appId"], page=page, types=types)
    return 200, listing(call, "integrations", window, page, dict)


@routes("GET", INTEGRATION, "GetIntegration", APP)
async def get_integration(call: Call) -> Reply:
    """GET /v2/apps/{appId}/integrations/{integrationId} (GetIntegration)."""
    async with call.services.db.read() as conn:
        integration = await service.get_integration(conn, app_id=call.params["appId"],
                                                    integration_id=call.params["integrationId"])
    return 200, {"integration": integration}


@routes("PATCH", INTEGRATION, "UpdateIntegration", APP)
async def update_integration(call: Call) -> Reply:
    """PATCH /v2/apps/{appId}/integrations/{integrationId} (UpdateIntegration)."""
    async with call.services.db.write() as conn:
        integration = await service.update_integration(conn, app_id=call.params["appId"],
                                                       integration_id=call.params["integrationId"],
                                                       raw_body=call.raw_body)
    return 200, {"integration": integration}


@routes("DELETE", INTEGRATION, "DeleteIntegration", APP)
async def delete_integration(call: Call) -> Reply:
    """DELETE /v2/apps/{appId}/integrations/{integrationId} (DeleteIntegration)."""
    await channels.delete_integration(call.services.db, call.services.channels, app_id=call.params["appId"],
                                      integration_id=call.params["integrationId"])
    call.services.auth.forget_integration(call.params["integrationId"])
    return 200, {}
