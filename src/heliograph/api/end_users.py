"""The end users' SDK API under /sdk/v2 (docs/end-users.md): Heliograph's own, outside the spec.

Browsers call it from the host page's origin, so every route answers CORS: a preflight (OPTIONS) is
granted to an origin some SDK integration of the app lets in, and the answers (error answers
included) carry `Access-Control-Allow-Origin` for such an origin only. Each request is then held to
its own integration's originWhitelist (403).
"""

from __future__ import annotations

from heliograph.api.attachments import media_base
from heliograph.api.http import PUBLIC, Call, Raw, Reply, Routes, exact_pattern
from heliograph.errors import Forbidden
from heliograph.schemas.end_users import AnonymousUserBody
from heliograph.services import end_users as service

routes = Routes(exact_pattern)
CONFIG = "/sdk/v2/integrations/{integrationId}/config"
APPUSERS = "/sdk/v2/apps/{appId}/appusers"
APPUSER = APPUSERS + "/{userId}"
_METHODS = {CONFIG: ("GET", "SdkConfig"), APPUSERS: ("POST", "SdkCreateUser"),  # for their preflights
            APPUSER: ("GET", "SdkGetUser")}
_PREFLIGHT_SECONDS = "600"


def _allow(call: Call) -> None:
    """Let the browser read this answer (the caller checked that the origin may use the app)."""
    if call.origin is not None:
        call.response_headers[:] = [("access-control-allow-origin", call.origin), ("vary", "Origin")]


async def _allow_for_app(call: Call, app_id: str) -> None:
    if call.origin is None:
        return
    async with call.services.db.read() as conn:
        allowed = await service.any_origin_allowed(conn, app_id=app_id, origin=call.origin)
    if allowed:
        _allow(call)


@routes("GET", CONFIG, "SdkConfig", PUBLIC)
async def config(call: Call) -> Reply:
    """GET /sdk/v2/integrations/{integrationId}/config: what a widget needs to start (no credentials)."""
    async with call.services.db.read() as conn:
        found = await service.config(conn, integration_id=call.params["integrationId"], origin=call.origin,
                                     base_url=media_base(call))
    _allow(call)
    return 200, found


@routes("POST", APPUSERS, "SdkCreateUser", PUBLIC)
async def create_user(call: Call) -> Reply:
    """POST /sdk/v2/apps/{appId}/appusers: an anonymous user, their sdk client and session token."""
    app_id = call.params["appId"]
    await _allow_for_app(call, app_id)
    body = call.body(AnonymousUserBody)
    async with call.services.db.write() as conn:
        created = await service.create_anonymous_user(conn, ids=call.services.ids, app_id=app_id, body=body,
                                                      origin=call.origin)
    return 201, created


@routes("GET", APPUSER, "SdkGetUser", PUBLIC)
async def get_user(call: Call) -> Reply:
    """GET /sdk/v2/apps/{appId}/appusers/{userId}: the signed-in user (Basic userId:sessionToken)."""
    app_id = call.params["appId"]
    await _allow_for_app(call, app_id)
    end_user = await call.services.auth.end_user(call.authorization, app_id=app_id)
    async with call.services.db.read() as conn:
        user = await service.get_own_user(conn, end_user=end_user, user_id=call.params["userId"], origin=call.origin)
    return 200, {"user": user}


def _preflight(template: str, method: str, name: str) -> None:
    async def preflight(call: Call) -> Reply:
        """A CORS preflight: granted (200, empty) to an origin the app's SDK integrations let in, else 403."""
        app_id = call.params.get("appId")
        if app_id is None:
            async with call.services.db.read() as conn:
                await service.config(conn, integration_id=call.params["integrationId"], origin=call.origin,
                                     base_url="")
        else:
            await _allow_for_app(call, app_id)
            if call.origin is not None and not call.response_headers:
                raise Forbidden(f"Origin {call.origin} may not use app {app_id}")
        _allow(call)
        call.response_headers += [("access-control-allow-methods", method),
                                  ("access-control-allow-headers", "authorization, content-type"),
                                  ("access-control-max-age", _PREFLIGHT_SECONDS)]
        return 200, Raw(b"", "text/plain; charset=utf-8")
    routes("OPTIONS", template, f"{name}Preflight", PUBLIC)(preflight)


for _template, (_method, _name) in _METHODS.items():
    _preflight(_template, _method, _name)
