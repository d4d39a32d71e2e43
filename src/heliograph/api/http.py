"""HTTP plumbing for /v2: routing on the raw path, authentication, bodies, rendering.

Routes match the *raw* path and decode each segment afterwards, so that an externalId holding
`/` (sent as `%2F`) stays one path parameter. Every failure leaves as the spec's error envelope.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote

import msgspec
from starlette.types import Receive, Scope, Send

from heliograph.auth import Authenticator, Principal
from heliograph.config import Settings
from heliograph.errors import ApiError, BadRequest, MethodNotAllowed, NotFound, PayloadTooLarge, UnsupportedMediaType
from heliograph.ids import IdFactory
from heliograph.schemas.common import decode
from heliograph.store.db import Database

log = logging.getLogger("heliograph.api")
T = TypeVar("T")
Reply = tuple[int, Any]
Handler = Callable[["Call"], Awaitable[Reply]]

ACCOUNT = frozenset({"account"})
APP = frozenset({"account", "app"})
INTEGRATION = frozenset({"account", "app", "integration"})
CONNECT = frozenset({"app", "integration"})  # the Webhooks tag: integration and app keys, no account key

_encode = msgspec.json.Encoder().encode


@dataclasses.dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    ids: IdFactory
    auth: Authenticator


@dataclasses.dataclass(frozen=True)
class Route:
    method: str
    template: str
    operation_id: str
    scopes: frozenset[str]
    handler: Handler
    pattern: re.Pattern[str]


class Routes:
    """A resource module's routes, declared with one decorator each."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def __call__(self, method: str, template: str, operation_id: str,
                 scopes: frozenset[str]) -> Callable[[Handler], Handler]:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)

        def register(handler: Handler) -> Handler:
            self.routes.append(Route(method, template, operation_id, scopes, handler, re.compile(f"^{regex}$")))
            return handler
        return register


@dataclasses.dataclass
class Call:
    """One request, as a handler sees it."""

    services: Services
    principal: Principal
    params: dict[str, str]
    query: list[tuple[str, str]]
    base_url: str
    raw_body: bytes

    def body(self, model: type[T]) -> T:
        return decode(self.raw_body, model)

    def query_value(self, name: str) -> str | None:
        values = [v for k, v in self.query if k == name]
        return values[-1] if values else None


class Api:
    """The ASGI application serving every /v2 route."""

    def __init__(self, services: Services, routes: list[Route]) -> None:
        self.services = services
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            status, payload = await self._dispatch(scope, receive)
        except ApiError as error:
            status, payload = error.status, error.envelope()
        except Exception:  # a bug: report it in the envelope, never leak a traceback
            log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            status, payload = 500, ApiError().envelope()
        await _send_json(send, status, payload)

    async def _dispatch(self, scope: Scope, receive: Receive) -> Reply:
        route, params = self._match(scope["method"], scope.get("raw_path") or scope["path"].encode())
        headers = dict(scope["headers"])
        principal = await self.services.auth.authenticate(_header(headers, b"authorization"))
        principal.require(route.scopes, params.get("appId"))
        body = await _read_body(scope, receive, headers, self.services.settings.max_body_bytes)
        query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        if any("\x00" in k or "\x00" in v for k, v in query):
            raise BadRequest("Query parameters may not contain the NUL character")
        host = _header(headers, b"host") or "localhost"
        base_url = f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}{scope['path']}"
        return await route.handler(Call(self.services, principal, params, query, base_url, body))

    def _match(self, method: str, raw_path: bytes) -> tuple[Route, dict[str, str]]:
        path = raw_path.split(b"?", 1)[0].decode("latin-1")
        allowed = False
        for route in self.routes:
            found = route.pattern.match(path)
            if found is None:
                continue
            if route.method == method:
                params = {k: unquote(v) for k, v in found.groupdict().items()}
                if any("\x00" in v for v in params.values()):
                    raise NotFound()  # no record can have such an id
                return route, params
            allowed = True
        raise MethodNotAllowed() if allowed else NotFound()


def _header(headers: dict[bytes, bytes], name: bytes) -> str | None:
    value = headers.get(name)
    return None if value is None else value.decode("latin-1")


async def _read_body(scope: Scope, receive: Receive, headers: dict[bytes, bytes], limit: int) -> bytes:
    if scope["method"] in ("GET", "DELETE", "HEAD"):
        return b""
    declared = headers.get(b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"Request body exceeds the {limit // 1024}kb limit")
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"Request body exceeds the {limit // 1024}kb limit")
        chunks.append(chunk)
        more = message.get("more_body", False)
    body = b"".join(chunks)
    content_type = (headers.get(b"content-type") or b"").split(b";")[0].strip().lower()
    if body and content_type != b"application/json":
        raise UnsupportedMediaType()
    return body


async def _send_json(send: Send, status: int, payload: Any) -> None:
    body = _encode(payload)
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
