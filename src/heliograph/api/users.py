"""Users routes."""

from __future__ import annotations

from typing import Any

from heliograph.api.http import INTEGRATION, Call, Reply, Routes
from heliograph.api.lists import string_filter
from heliograph.schemas.users import UserCreateBody, UserUpdateBody
from heliograph.services import users as service

routes = Routes()
USER = "/v2/apps/{appId}/users/{userIdOrExternalId}"


def user_ref(call: Call) -> dict[str, Any]:
    """The user the path names: app, id or externalId, and the optional brandId query."""
    return {"app_id": call.params["appId"], "user": call.params["userIdOrExternalId"],
            "brand_id": call.query_value("brandId")}


@routes("POST", "/v2/apps/{appId}/users", "CreateUser", INTEGRATION)
async def create_user(call: Call) -> Reply:
    """POST /v2/apps/{appId}/users (CreateUser)."""
    body = call.body(UserCreateBody)
    async with call.services.db.write() as conn:
        user = await service.create_user(conn, ids=call.services.ids, app_id=call.params["appId"], body=body)
    return 201, {"user": user}


@routes("GET", "/v2/apps/{appId}/users", "ListUsers", INTEGRATION)
async def list_users(call: Call) -> Reply:
    """GET /v2/apps/{appId}/users (ListUsers)."""
    email = string_filter(call, ("identities.email",)).get("identities.email")
    async with call.services.db.read() as conn:
        users = await service.list_users(conn, app_id=call.params["appId"], email=email,
                                         brand_id=call.query_value("brandId"))
    return 200, {"users": users}


@routes("GET", USER, "GetUser", INTEGRATION)
async def get_user(call: Call) -> Reply:
    """GET /v2/apps/{appId}/users/{userIdOrExternalId} (GetUser)."""
    async with call.services.db.read() as conn:
        return 200, {"user": await service.get_user(conn, **user_ref(call))}


@routes("PATCH", USER, "UpdateUser", INTEGRATION)
async def update_user(call: Call) -> Reply:
    """PATCH /v2/apps/{appId}/users/{userIdOrExternalId} (UpdateUser)."""
    body = call.body(UserUpdateBody)
    async with call.services.db.write() as conn:
        return 200, {"user": await service.update_user(conn, **user_ref(call), body=body)}


@routes("DELETE", USER, "DeleteUser", INTEGRATION)
async def delete_user(call: Call) -> Reply:
    """DELETE /v2/apps/{appId}/users/{userIdOrExternalId} (DeleteUser)."""
    async with call.services.db.write() as conn:
        await service.delete_user(conn, ids=call.services.ids, **user_ref(call))
    return 200, {}


@routes("DELETE", USER + "/personalinformation", "DeleteUserPersonalInformation", INTEGRATION)
async def delete_user_personal_information(call: Call) -> Reply:
    """DELETE /v2/apps/{appId}/users/{userIdOrExternalId}/personalinformation (DeleteUserPersonalInformation)."""
    async with call.services.db.write() as conn:
        return 200, {"user": await service.delete_user_personal_information(conn, **user_ref(call))}
