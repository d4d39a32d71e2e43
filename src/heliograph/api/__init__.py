"""Every route the server answers, in one registry: a new endpoint goes here and nowhere else.

RESOURCES lists the resource modules that serve the spec's operations; OUTSIDE_SPEC lists
Heliograph's own routes, each named. Most are `Routes` that the raw-path `Api` dispatches
(`all_routes`); the few Starlette serves itself, a file or a WebSocketRoute, are made from the
`Services` (`endpoints`). `create_app` mounts both; tests/test_routes.py checks all of them.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute
from starlette.routing import Route as Endpoint

from heliograph.api import (
    admin,
    app_stream,
    apps,
    attachments,
    channels,
    clients,
    conversations,
    end_users,
    integration_keys,
    integrations,
    message_refs,
    messages,
    messenger,
    oauth,
    participants,
    simulator,
    stream,
    switchboard_actions,
    switchboards,
    users,
    webhooks,
)
from heliograph.api.http import Route, Routes, Services

RESOURCES = (apps, users, clients, conversations, participants, messages, message_refs, attachments,
             integrations, integration_keys, webhooks, switchboards, switchboard_actions, oauth)


def media(services: Services) -> BaseRoute:
    """GET|HEAD /attachments/v2/{token}/{filename}: an uploaded file, to whoever has its mediaUrl."""
    return Endpoint(attachments.MEDIA_ROUTE, attachments.media_endpoint(services), methods=["GET", "HEAD"],
                    name="Media")


def health(services: Services) -> BaseRoute:
    """GET|HEAD /health: 200 once migrations ran and the account key exists, 503 before."""
    async def endpoint(_request: Request) -> JSONResponse:
        ready = services.ready.is_set()
        return JSONResponse({"status": "ok" if ready else "starting"}, 200 if ready else 503)
    return Endpoint("/health", endpoint, name="Health")


OUTSIDE_SPEC: tuple[Routes | Callable[[Services], BaseRoute], ...] = (
    admin.routes,  # /admin/…: webhook deliveries and redelivery (account key)
    end_users.routes,  # /sdk/v2/…: the end users' SDK API (docs/end-users.md)
    oauth.consent,  # /oauth/consent: the page an OAuth authorization leads to
    messenger.routes,  # /messenger.js and /messenger/demo: the web messenger (docs/messenger.md)
    channels.routes,  # /api/{type}/webhooks/…: what people do on the channels (docs/channels.md)
    simulator.routes,  # /_heliograph/sim/…: the channel simulator (HELIOGRAPH_CHANNELS=simulate)
    media,
    health,
    stream.stream,  # /sdk/v2/apps/{appId}/appusers/{userId}/stream: an end user's realtime stream
    stream.events,  # …/appusers/{userId}/events: its fallbacks, SSE and long-poll (docs/end-users.md, §4)
    app_stream.app_stream_route,  # /sdk/v2/apps/{appId}/stream: an app's socket-mode webhook (docs/socket-mode.md)
)


def all_routes() -> list[Route]:
    """Every route the `Api` dispatches: the spec's operations, then Heliograph's own."""
    own = [entry for entry in OUTSIDE_SPEC if isinstance(entry, Routes)]
    return [route for group in (*(module.routes for module in RESOURCES), *own) for route in group.routes]


def endpoints(services: Services) -> list[BaseRoute]:
    """The routes Starlette serves itself, made for these services; every other path goes to the `Api`."""
    return [entry(services) for entry in OUTSIDE_SPEC if not isinstance(entry, Routes)]
