"""The route registry (heliograph.api) against the spec and against the app `create_app` mounts from it."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route as Endpoint
from starlette.routing import WebSocketRoute
from starlette.types import Message

from heliograph.api import OUTSIDE_SPEC, RESOURCES
from heliograph.api.http import Api, Routes
from heliograph.app import create_app
from heliograph.config import Settings
from heliograph.errors import MethodNotAllowed, NotFound
from tests.spec import operations, security_scopes

NO_ROUTE = [NotFound().envelope(), MethodNotAllowed().envelope()]  # what the routers answer for no route


def build(database_url: str, data_dir: Path) -> Starlette:
    return create_app(Settings(database_url=database_url, data_dir=data_dir, dispatcher=False))


@pytest.fixture
def app(tmp_path: Path) -> Starlette:
    """An app on a SQLite file that is never opened: enough to read its routes."""
    return build(f"sqlite+aiosqlite:///{tmp_path / 'routes.sqlite3'}", tmp_path)


def api_of(app: Starlette) -> Api:
    api = app.router.default
    assert isinstance(api, Api)
    return api


def answered(app: Starlette) -> list[tuple[str, str, str]]:
    """(name, METHOD, path template) of every route `app` answers: Starlette's own, then the Api's."""
    own = []
    for route in app.router.routes:
        if isinstance(route, WebSocketRoute):
            own.append((route.name, "WEBSOCKET", route.path))
            continue
        assert isinstance(route, Endpoint), f"{route!r}: teach answered() this kind of route"
        own += [(route.name, method, route.path) for method in sorted(route.methods or ())]
    return own + [(route.operation_id, route.method, route.template) for route in api_of(app).routes]


def outside_spec_names(app: Starlette) -> set[str]:
    """The names OUTSIDE_SPEC gives its routes (those made from the Services, made with the app's)."""
    names = set()
    for entry in OUTSIDE_SPEC:
        if isinstance(entry, Routes):
            names |= {route.operation_id for route in entry.routes}
        else:
            route = entry(api_of(app).services)
            assert isinstance(route, Endpoint | WebSocketRoute), f"{route!r}: teach outside_spec_names() this kind"
            names.add(route.name)
    return names


def shape(path: str) -> str:
    """A path template with its parameters unnamed: `/v2/apps/{appId}` and `/v2/apps/{id}` are one path."""
    return re.sub(r"\{\w+\}", "{}", path)


def test_every_operation_of_the_spec_is_routed_exactly_once(app: Starlette) -> None:
    """All the spec's operations are answered by the app, each by one route: none missing, none twice."""
    counts = Counter(name for name, _, _ in answered(app))
    assert {op: 1 for op in sorted(operations())} == {op: counts[op] for op in sorted(operations())}


def test_resource_modules_route_only_operations_of_the_spec() -> None:
    """RESOURCES serve the spec's operations and nothing else: Heliograph's own routes are OUTSIDE_SPEC."""
    names = {route.operation_id for module in RESOURCES for route in module.routes.routes}
    assert set() == names - set(operations())


def test_routes_match_the_spec_paths_and_methods(app: Starlette) -> None:
    """A route named after an operation has the spec's method and path template for it."""
    spec = operations()
    routed = [(name, method, path) for name, method, path in answered(app) if name in spec]
    assert [(name, *spec[name][:2]) for name, _, _ in routed] == routed


def test_routes_accept_exactly_the_scopes_of_the_spec_security_block(app: Starlette) -> None:
    """The scopes a route accepts are the union of the scopes its operation's security block lists."""
    spec = operations()
    routes = [route for route in api_of(app).routes if route.operation_id in spec]
    expected = [(route.operation_id, security_scopes(spec[route.operation_id][2])) for route in routes]
    assert expected == [(route.operation_id, set(route.scopes)) for route in routes]


def test_every_other_route_is_listed_outside_the_spec_on_a_path_of_its_own(app: Starlette) -> None:
    """A route serving no spec operation is one of OUTSIDE_SPEC's (all of which are mounted), and its
    method and path are none of the spec's."""
    spec = operations()
    others = [(name, method, path) for name, method, path in answered(app) if name not in spec]
    assert sorted(outside_spec_names(app)) == sorted({name for name, _, _ in others})
    taken = {(method, shape(path)) for method, path, _ in spec.values()}
    assert [] == [route for route in others if (route[1], shape(route[2])) in taken]


async def send_each(app: Starlette, requests: list[tuple[str, str]]) -> list[tuple[int, Any]]:
    """Each (METHOD, path) sent to the app without credentials: its status and JSON body (None if not JSON)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://heliograph.test") as client:
        responses = [await client.request(method, path) for method, path in requests]
    return [(response.status_code, response.json() if "json" in response.headers.get("content-type", "") else None)
            for response in responses]


async def send_each_started(app: Starlette, requests: list[tuple[str, str]]) -> list[tuple[int, Any]]:
    """The same, the app's lifespan running: migrated, the account key made, ready."""
    async with app.router.lifespan_context(app):
        return await send_each(app, requests)


def test_every_registered_route_is_answered_by_the_app(database_url: str, tmp_path: Path) -> None:
    """One request per route and method of the app (placeholder ids, no credentials) reaches its route:
    never the routers' answer for no route (404 not_found, 405 method_not_allowed), never a 500.
    HEAD is left out: Starlette answers it wherever GET is, and a body-less reply names no router; so are
    WebSocket routes, which no HTTP request reaches (tests/test_stream.py opens them)."""
    app = build(database_url, tmp_path)
    requests = [(method, re.sub(r"\{\w+\}", "x", path)) for _, method, path in answered(app)
                if method not in ("HEAD", "WEBSOCKET")]
    replies = asyncio.run(send_each_started(app, requests))
    unanswered = [(request, reply) for request, reply in zip(requests, replies, strict=True)
                  if reply[0] >= 500 or reply[0] in (404, 405) and reply[1] in NO_ROUTE]
    assert [] == unanswered


def test_health_answers_503_until_the_lifespan_has_run(database_url: str, tmp_path: Path) -> None:
    """GET /health is 503 "starting" before migrations and the account key, then 200 "ok"."""
    app = build(database_url, tmp_path)
    before = asyncio.run(send_each(app, [("GET", "/health")]))
    after = asyncio.run(send_each_started(app, [("GET", "/health")]))
    assert [(503, {"status": "starting"}), (200, {"status": "ok"})] == before + after


def test_a_method_a_starlette_route_lacks_is_405_in_the_error_envelope(app: Starlette) -> None:
    """POST /health (a route Starlette serves) answers 405 in the same envelope as the Api's routes."""
    assert [(405, MethodNotAllowed().envelope())] == asyncio.run(send_each(app, [("POST", "/health")]))


def test_a_websocket_to_an_unknown_path_is_closed(app: Starlette) -> None:
    """A websocket no route takes is closed before the handshake, as Starlette does, not failed with an error."""
    scope = {"type": "websocket", "asgi": {"version": "3.0"}, "scheme": "ws", "path": "/v2/nothing",
             "raw_path": b"/v2/nothing", "root_path": "", "query_string": b"", "headers": [], "subprotocols": []}
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    assert [{"type": "websocket.close", "code": 1000, "reason": ""}] == sent
