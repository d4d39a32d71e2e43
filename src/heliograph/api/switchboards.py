"""Switchboards and Switchboard Integrations routes."""

from __future__ import annotations

from heliograph.api.http import APP, Call, Reply, Routes
from heliograph.schemas.switchboards import (
    SwitchboardIntegrationCreateBody,
    SwitchboardIntegrationUpdateBody,
    SwitchboardUpdateBody,
)
from heliograph.services import switchboards as service

routes = Routes()
SWITCHBOARDS = "/v2/apps/{appId}/switchboards"
SWITCHBOARD = SWITCHBOARDS + "/{switchboardId}"
MEMBERS = SWITCHBOARD + "/switchboardIntegrations"
MEMBER = MEMBERS + "/{switchboardIntegrationId}"


def _board(call: Call) -> dict[str, str]:
    return {"app_id": call.params["appId"], "switchboard_id": call.params["switchboardId"]}


@routes("POST", SWITCHBOARDS, "CreateSwitchboard", APP)
async def create_switchboard(call: Call) -> Reply:
    """POST /v2/apps/{appId}/switchboards (CreateSwitchboard)."""
    async with call.services.db.write() as conn:
        switchboard = await service.create_switchboard(conn, ids=call.services.ids,
                                                       app_id=call.params["appId"])
    return 201, {"switchboard": switchboard}


@routes("GET", SWITCHBOARDS, "ListSwitchboards", APP)
async def list_switchboards(call: Call) -> Reply:
    """GET /v2/apps/{appId}/switchboards (ListSwitchboards)."""
    async with call.services.db.read() as conn:
        return 200, {"switchboards": await service.list_switchboards(conn, app_id=call.params["appId"])}


@routes("PATCH", SWITCHBOARD, "UpdateSwitchboard", APP)
async def update_switchboard(call: Call) -> Reply:
    """PATCH /v2/apps/{appId}/switchboards/{switchboardId} (UpdateSwitchboard)."""
    body = call.body(SwitchboardUpdateBody)
    async with call.services.db.write() as conn:
        switchboard = await service.update_switchboard(conn, **_board(call), body=body)
    return 200, {"switchboard": switchboard}


@routes("DELETE", SWITCHBOARD, "DeleteSwitchboard", APP)
async def delete_switchboard(call: Call) -> Reply:
    """DELETE /v2/apps/{appId}/switchboards/{switchboardId} (DeleteSwitchboard)."""
    async with call.services.db.write() as conn:
        await service.delete_switchboard(conn, **_board(call))
    return 200, {}


@routes("POST", MEMBERS, "CreateSwitchboardIntegration", APP)
async def create_switchboard_integration(call: Call) -> Reply:
    """POST /v2/apps/{appId}/switchboards/{switchboardId}/switchboardIntegrations (CreateSwitchboardIntegration)."""
    body = call.body(SwitchboardIntegrationCreateBody)
    async with call.services.db.write() as conn:
        member = await service.create_switchboard_integration(conn, ids=call.services.ids,
                                                              **_board(call), body=body)
    return 201, {"switchboardIntegration": member}


@routes("GET", MEMBERS, "ListSwitchboardIntegrations", APP)
async def list_switchboard_integrations(call: Call) -> Reply:
    """GET /v2/apps/{appId}/switchboards/{switchboardId}/switchboardIntegrations (ListSwitchboardIntegrations)."""
    async with call.services.db.read() as conn:
        return 200, {"switchboardIntegrations": await service.list_switchboard_integrations(conn, **_board(call))}


@routes("PATCH", MEMBER, "UpdateSwitchboardIntegration", APP)
async def update_switchboard_integration(call: Call) -> Reply:
    """PATCH …/switchboardIntegrations/{switchboardIntegrationId} (UpdateSwitchboardIntegration)."""
    body = call.body(SwitchboardIntegrationUpdateBody)
    async with call.services.db.write() as conn:
        member = await service.update_switchboard_integration(
            conn, **_board(call), member_id=call.params["switchboardIntegrationId"], body=body)
    return 200, {"switchboardIntegration": member}


@routes("DELETE", MEMBER, "DeleteSwitchboardIntegration", APP)
async def delete_switchboard_integration(call: Call) -> Reply:
    """DELETE …/switchboardIntegrations/{switchboardIntegrationId} (DeleteSwitchboardIntegration)."""
    async with call.services.db.write() as conn:
        await service.delete_switchboard_integration(conn, **_board(call),
                                                     member_id=call.params["switchboardIntegrationId"])
    return 200, {}
