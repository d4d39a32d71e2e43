"""The end users' SDK API (docs/end-users.md): an SDK integration's config, anonymous users and their
sessions, and the signed-in user's own profile.

An end user reaches their own user and nothing else: another user's id is a 404, as if there were
none. A `web` integration's `originWhitelist`, when set, holds every browser request to its origins
(a request without `Origin` is no browser's cross-origin request, and passes).
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.auth import EndUser, token_hash
from heliograph.errors import Forbidden, IntegrationNotFound, UserNotFound
from heliograph.ids import IdFactory
from heliograph.schemas import render
from heliograph.schemas.clients import client as wire_client
from heliograph.schemas.end_users import AnonymousUserBody
from heliograph.schemas.users import UserCreateBody
from heliograph.services.clients import open_sdk_client
from heliograph.services.users import insert_new_user, wire_user
from heliograph.store import integrations as integration_store
from heliograph.store import sessions
from heliograph.store.apps import require_app
from heliograph.store.users import find_user

SDK_TYPES = frozenset({"web", "ios", "android", "unity"})  # the spec's clientType `sdk` integrations
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_allowed(integration: Any, origin: str | None) -> bool:
    """Whether a browser on `origin` may use this SDK integration: always, unless it is a `web` one
    whose originWhitelist is set and does not hold that origin (scheme, host and port, in any case)."""
    whitelist = integration["config"].get("originWhitelist") or [] if integration["type"] == "web" else []
    return origin is None or not whitelist or _origin(origin) in {_origin(entry) for entry in whitelist}


def check_origin(integration: Any, origin: str | None) -> None:
    if not origin_allowed(integration, origin):
        raise Forbidden(f"Origin {origin} is not in the originWhitelist of integration {integration['id']}")


async def config(conn: AsyncConnection, *, integration_id: str, origin: str | None, base_url: str) -> dict[str, Any]:
    """What a widget needs to start: the app, the integration's public fields, and the API's URL."""
    integration = await integration_store.find_any_integration(conn, integration_id=integration_id)
    if integration is None or integration["type"] not in SDK_TYPES:
        raise IntegrationNotFound()
    check_origin(integration, origin)
    app = await require_app(conn, app_id=integration["app_id"])
    return {"config": {
        "app": {"id": app["id"], "settings": {"multiConvoEnabled": bool(app["settings"].get("multiConvoEnabled"))}},
        "integration": render.integration(integration),
        "urls": {"api": f"{base_url}/sdk/v2/apps/{app['id']}"},
    }}


async def sdk_integration(conn: AsyncConnection, *, app_id: str, integration_id: str, origin: str | None) -> Any:
    """The app's SDK integration with this id, which this origin may use (404, 403 otherwise)."""
    integration = await integration_store.find_integration(conn, app_id=app_id, integration_id=integration_id)
    if integration is None or integration["type"] not in SDK_TYPES:
        await require_app(conn, app_id=app_id)
        raise IntegrationNotFound()
    check_origin(integration, origin)
    return integration


async def any_origin_allowed(conn: AsyncConnection, *, app_id: str, origin: str | None) -> bool:
    """Whether some SDK integration of the app lets this origin in (for a CORS preflight, which carries
    no credentials; the request that follows is held to its own session's integration)."""
    found = await integration_store.list_sdk_integrations(conn, app_id=app_id, types=SDK_TYPES)
    return any(origin_allowed(integration, origin) for integration in found)


async def create_anonymous_user(conn: AsyncConnection, *, ids: IdFactory, app_id: str, body: AnonymousUserBody,
                                origin: str | None) -> dict[str, Any]:
    """A user without externalId, their `sdk` client and a session: `{user, client, sessionToken}`. The
    token is shown once; only its SHA-256 is kept."""
    integration = await sdk_integration(conn, app_id=app_id, integration_id=body.integration_id, origin=origin)
    user = await insert_new_user(conn, ids=ids, app_id=app_id, body=UserCreateBody(
        profile=body.profile, metadata=body.metadata))
    client = await open_sdk_client(conn, ids=ids, app_id=app_id, user=user, integration=integration)
    token = secrets.token_urlsafe(32)
    session_id, now = ids.new_at()
    await sessions.insert_session(conn, {
        "id": session_id, "app_id": app_id, "user_id": user["id"], "client_id": client["id"],
        "integration_id": integration["id"], "token_hash": token_hash(token), "created_at": now})
    return {"user": render.user(user, []), "client": wire_client(client), "sessionToken": token}


async def get_own_user(conn: AsyncConnection, *, end_user: EndUser, user_id: str,
                       origin: str | None) -> dict[str, Any]:
    """The signed-in user, as GetUser shows users; any other user is not found."""
    await sdk_integration(conn, app_id=end_user.app_id, integration_id=end_user.integration_id, origin=origin)
    row = None if user_id != end_user.user_id else await find_user(conn, app_id=end_user.app_id, user_id=user_id)
    if row is None:
        raise UserNotFound()
    return await wire_user(conn, row)


def _origin(value: str) -> str:
    """An origin compared as RFC 6454 does: scheme and host in lower case, the default port made explicit."""
    url = urlsplit(value.strip())
    scheme = url.scheme.lower()
    try:
        port = url.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        return value
    return f"{scheme}://{(url.hostname or '').lower()}:{port}"

