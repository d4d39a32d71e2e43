"""Clients and Devices routes, and SyncUser (which merges users together with their clients)."""

from __future__ import annotations

from heliograph.api import users
from heliograph.api.http import INTEGRATION, Call, Reply, Routes
from heliograph.api.lists import listing
from heliograph.pagination import parse_page
from heliograph.schemas import clients as wire
from heliograph.schemas.clients import ClientCreate, SyncUserBody
from heliograph.services import clients as service
from heliograph.services import devices, user_sync

routes = Routes()
USER = "/v2/apps/{appId}/users/{userIdOrExternalId}"


@routes("POST", USER + "/clients", "CreateClient", INTEGRATION)
async def create_client(call: Call) -> Reply:
    """POST /v2/apps/{appId}/users/{userIdOrExternalId}/clients (CreateClient)."""
    body = call.body(ClientCreate)
    async with call.services.db.write() as conn:
        client = await service.create_client(conn, ids=call.services.ids, **users.user_ref(call), body=body)
    return 201, {"client": client}


@routes("GET", USER + "/clients", "ListClients", INTEGRATION)
async def list_clients(call: Call) -> Reply:
    """GET /v2/apps/{appId}/users/{userIdOrExternalId}/clients (ListClients)."""
    page = parse_page(call.query)
    async with call.services.db.read() as conn:
        window = await service.list_clients(conn, **users.user_ref(call), page=page)
    return 200, listing(call, "clients", window, page, wire.client)


@routes("DELETE", USER + "/clients/{clientId}", "RemoveClient", INTEGRATION)
async def remove_client(call: Call) -> Reply:
    """DELETE /v2/apps/{appId}/users/{userIdOrExternalId}/clients/{clientId} (RemoveClient)."""
    async with call.services.db.write() as conn:
        await service.remove_client(conn, ids=call.services.ids, **users.user_ref(call),
                                    client_id=call.params["clientId"])
    return 200, {}


@routes("GET", USER + "/devices", "ListDevices", INTEGRATION)
async def list_devices(call: Call) -> Reply:
    """GET /v2/apps/{appId}/users/{userIdOrExternalId}/devices (ListDevices)."""
    async with call.services.db.read() as conn:
        return 200, {"devices": await devices.list_devices(conn, **users.user_ref(call))}


@routes("GET", USER + "/devices/{deviceId}", "GetDevice", INTEGRATION)
async def get_device(call: Call) -> Reply:
    """GET /v2/apps/{appId}/users/{userIdOrExternalId}/devices/{deviceId} (GetDevice)."""
    async with call.services.db.read() as conn:
        device = await devices.get_device(conn, **users.user_ref(call), device_id=call.params["deviceId"])
    return 200, {"device": device}


@routes("POST", "/v2/apps/{appId}/users/{zendeskId}/sync", "SyncUser", INTEGRATION)
async def sync_user(call: Call) -> Reply:
    """POST /v2/apps/{appId}/users/{zendeskId}/sync (SyncUser)."""
    body = call.body(SyncUserBody) if call.raw_body.strip() else SyncUserBody()
    async with call.services.db.write() as conn:
        user = await user_sync.sync_user(conn, ids=call.services.ids, app_id=call.params["appId"],
                                         zendesk_id=call.params["zendeskId"], body=body)
    return 200, {"user": user}
