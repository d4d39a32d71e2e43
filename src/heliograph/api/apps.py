"""Apps and App Keys routes."""

from __future__ import annotations

from heliograph.api.http import ACCOUNT, APP, Call, Reply, Routes
from heliograph.api.lists import listing, string_filter
from heliograph.pagination import parse_page
from heliograph.schemas import render
from heliograph.schemas.apps import AppCreateBody, AppKeyCreateBody, AppUpdateBody
from heliograph.services import apps as service

routes = Routes()


@routes("POST", "/v2/apps", "CreateApp", ACCOUNT)
async def create_app(call: Call) -> Reply:
    """POST /v2/apps (CreateApp)."""
    body = call.body(AppCreateBody)
    async with call.services.db.write() as conn:
        return 201, {"app": await service.create_app(conn, ids=call.services.ids, body=body)}


@routes("GET", "/v2/apps", "ListApps", ACCOUNT)
async def list_apps(call: Call) -> Reply:
    """GET /v2/apps (ListApps)."""
    page = parse_page(call.query)
    service_account = string_filter(call, ("serviceAccountId",)).get("serviceAccountId")
    async with call.services.db.read() as conn:
        window = await service.list_apps(conn, page=page, service_account_id=service_account)
    return 200, listing(call, "apps", window, page, render.app)


@routes("GET", "/v2/apps/{appId}", "GetApp", APP)
async def get_app(call: Call) -> Reply:
    """GET /v2/apps/{appId} (GetApp)."""
    async with call.services.db.read() as conn:
        return 200, {"app": await service.get_app(conn, app_id=call.params["appId"])}


@routes("PATCH", "/v2/apps/{appId}", "UpdateApp", APP)
async def update_app(call: Call) -> Reply:
    """PATCH /v2/apps/{appId} (UpdateApp)."""
    body = call.body(AppUpdateBody)
    async with call.services.db.write() as conn:
        return 200, {"app": await service.update_app(conn, app_id=call.params["appId"], body=body)}


@routes("DELETE", "/v2/apps/{appId}", "DeleteApp", ACCOUNT)
async def delete_app(call: Call) -> Reply:
    """DELETE /v2/apps/{appId} (DeleteApp)."""
    async with call.services.db.write() as conn:
        await service.delete_app(conn, app_id=call.params["appId"])
    call.services.auth.forget_app(call.params["appId"])
    return 200, {}


@routes("POST", "/v2/apps/{appId}/keys", "CreateAppKey", ACCOUNT)
async def create_app_key(call: Call) -> Reply:
    """POST /v2/apps/{appId}/keys (CreateAppKey)."""
    body = call.body(AppKeyCreateBody)
    async with call.services.db.write() as conn:
        key = await service.create_app_key(conn, ids=call.services.ids,
                                           app_id=call.params["appId"], body=body)
    return 201, {"key": key}


@routes("GET", "/v2/apps/{appId}/keys", "ListAppKeys", ACCOUNT)
async def list_app_keys(call: Call) -> Reply:
    """GET /v2/apps/{appId}/keys (ListAppKeys)."""
    async with call.services.db.read() as conn:
        return 200, {"keys": await service.list_app_keys(conn, app_id=call.params["appId"])}


@routes("GET", "/v2/apps/{appId}/keys/{keyId}", "GetAppKey", ACCOUNT)
async def get_app_key(call: Call) -> Reply:
    """GET /v2/apps/{appId}/keys/{keyId} (GetAppKey)."""
    async with call.services.db.read() as conn:
        key = await service.get_app_key(conn, app_id=call.params["appId"], key_id=call.params["keyId"])
    return 200, {"key": key}


@routes("DELETE", "/v2/apps/{appId}/keys/{keyId}", "DeleteAppKey", ACCOUNT)
async def delete_app_key(call: Call) -> Reply:
    """DELETE /v2/apps/{appId}/keys/{keyId} (DeleteAppKey)."""
    async with call.services.db.write() as conn:
        await service.delete_app_key(conn, app_id=call.params["appId"], key_id=call.params["keyId"])
    call.services.auth.forget(call.params["keyId"])
    return 200, {}
