"""HTTP plumbing for /v2: routing on the raw path, authentication, bodies, rendering.

Routes match the *raw* path and decode each segment afterwards, so that an externalId holding
`/` (sent as `%2F`) stays one path parameter. The spec's paths match as the hosted service takes
them: under its `/sc` base too, fixed segments in any case. Every failure leaves as the spec's error envelope.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

import msgspec
from python_multipart.multipart import parse_options_header
from starlette.datastructures import FormData, Headers, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocketClose

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
PUBLIC: frozenset[str] = frozenset()  # the spec's `security: []`: the handler authenticates, if at all
JSON = frozenset({b"application/json"})
FORM = b"application/x-www-form-urlencoded"
MULTIPART = frozenset({b"multipart/form-data"})  # streamed to disk with the upload limit, never read whole
ANONYMOUS = Principal(scope="anonymous", key_id="", app_id=None)

_encode = msgspec.json.Encoder().encode


class StreamHub(Protocol):
    """What a stream needs of the realtime hub (realtime/hub.py), which the composition root provides."""

    def watch(self, conversation_ids: Iterable[str], user_id: str | None = None, session_id: str | None = None,
              expires_at: int | None = None) -> Any: ...

    def follow(self, watch: Any, conversation_ids: Iterable[str]) -> None: ...

    def unwatch(self, watch: Any) -> None: ...


class AppSockets(Protocol):
    """What an app socket needs of the sockets registry (realtime/sockets.py), which the composition root provides."""

    def attach(self, webhook_id: str, token: str) -> Any: ...

    def detach(self, socket: Any) -> None: ...


@dataclasses.dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    ids: IdFactory
    auth: Authenticator
    ready: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)  # set once the lifespan has run
    hub: StreamHub | None = None  # the end users' streams (docs/end-users.md); None where none are served
    sockets: AppSockets | None = None  # the apps' sockets (docs/socket-mode.md); None where none are served
    channels: Any = None  # the channels' APIs (channels/apis.ChannelApis), which the composition root provides
    simulator: Any = None  # the fakes of the channels' APIs when simulating (simulator/app.Fakes), else None


@dataclasses.dataclass(frozen=True)
class Route:
    method: str
    template: str
    operation_id: str
    scopes: frozenset[str]
    handler: Handler
    pattern: re.Pattern[str]
    content_types: frozenset[bytes] = JSON
    large: bool = False  # its body may be as large as an upload (a channel's email with attachments)


@dataclasses.dataclass(frozen=True)
class Raw:
    """A reply that is not JSON (a redirect, a page): its bytes, type and extra headers."""

    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()


UPLOAD_FIELD = "source"  # UploadAttachment's one part: the file
HOSTED_BASE = "/sc"  # the path of the spec's first server, https://{subdomain}.zendesk.com/sc


def hosted_pattern(template: str) -> re.Pattern[str]:
    """The raw-path regex of a template as the hosted service accepts it: under `/sc` or not, its fixed
    segments in any ASCII case (`/V2/TokenInfo`), its `{param}` segments exact (ids are case-sensitive).
    Both live in the one compiled pattern, so routing takes no extra step per request."""
    parts = re.split(r"\{(\w+)\}", template)  # fixed text at even indexes, parameter names at odd ones
    regex = "".join(f"(?P<{part}>[^/]+)" if i % 2 else f"(?ai:{re.escape(part)})" if part else ""
                    for i, part in enumerate(parts))
    return re.compile(f"^(?ai:{HOSTED_BASE})?{regex}$")


def exact_pattern(template: str) -> re.Pattern[str]:
    """The raw-path regex of a template taken literally: Heliograph's own routes (/admin/…)."""
    return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$")


class Routes:
    """A resource module's routes, declared with one decorator each.

    By default a template matches as the hosted service matches it (`hosted_pattern`); a group of
    Heliograph's own routes may ask for its templates to be taken literally (`exact_pattern`).
    """

    def __init__(self, pattern: Callable[[str], re.Pattern[str]] = hosted_pattern) -> None:
        self.routes: list[Route] = []
        self.pattern = pattern

    def __call__(self, method: str, template: str, operation_id: str, scopes: frozenset[str],
                 content_types: frozenset[bytes] = JSON, *, large: bool = False) -> Callable[[Handler], Handler]:
        pattern = self.pattern(template)

        def register(handler: Handler) -> Handler:
            self.routes.append(Route(method, template, operation_id, scopes, handler, pattern, content_types,
                                     large))
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
    authorization: str | None = None  # the header, for handlers of PUBLIC routes that authenticate
    content_type: bytes = b"application/json"
    form: FormData | None = None  # a MULTIPART route's parts, files spooled to disk
    origin: str | None = None  # the request's Origin header (a browser's cross-origin request)
    # Headers for the answer, error answers included, once a handler set them (CORS, docs/end-users.md)
    response_headers: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    headers: dict[bytes, bytes] = dataclasses.field(default_factory=dict)  # the request's, names in lower case

    def body(self, model: type[T]) -> T:
        if self.content_type == FORM:
            return decode(_encode(dict(parse_qsl(self.raw_body.decode("latin-1"), keep_blank_values=True))), model)
        return decode(self.raw_body, model)

    def query_value(self, name: str) -> str | None:
        values = [v for k, v in self.query if k == name]
        return values[-1] if values else None


def public_base(call: Call) -> str:
    """Where the world reaches this server: HELIOGRAPH_PUBLIC_URL, else the scheme and host of the request."""
    if call.services.settings.public_url is not None:
        return call.services.settings.public_url
    url = urlsplit(call.base_url)
    return f"{url.scheme}://{url.netloc}"


class Api:
    """The ASGI application behind Starlette's routes: every `Route` of the registry, and the 404s.

    It answers HTTP only: a websocket Starlette's routes did not take is closed, as Starlette's own
    router does, before the handshake completes.
    """

    def __init__(self, services: Services, routes: list[Route]) -> None:
        self.services = services
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await WebSocketClose()(scope, receive, send)
            return
        extra: tuple[tuple[str, str], ...] = ()
        try:
            status, payload, extra = await self._dispatch(scope, receive)
        except ApiError as error:
            status, payload = error.status, error.envelope()
        except Exception:  # a bug: report it in the envelope, never leak a traceback
            log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            status, payload = 500, ApiError().envelope()
        if isinstance(payload, Raw):
            await _send(send, status, payload.body, payload.content_type, payload.headers + extra)
            return
        challenge = (("www-authenticate", 'Basic realm="Heliograph"'),) if status == 401 and not extra else ()
        await _send(send, status, _encode(payload), "application/json; charset=utf-8", challenge + extra)

    async def _dispatch(self, scope: Scope, receive: Receive) -> tuple[int, Any, tuple[tuple[str, str], ...]]:
        route, params = self._match(scope["method"], scope.get("raw_path") or scope["path"].encode())
        headers = dict(scope["headers"])
        principal = ANONYMOUS
        if route.scopes:
            principal = await self.services.auth.authenticate(_header(headers, b"authorization"))
            principal.require(route.scopes, params.get("appId"), route.template)
        multipart = route.content_types == MULTIPART
        settings = self.services.settings
        limit = settings.max_upload_bytes if route.large else settings.max_body_bytes
        body = b"" if multipart else await _read_body(scope, receive, headers, limit,
                                                      route.content_types)
        query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        if any("\x00" in k or "\x00" in v for k, v in query):
            raise BadRequest("Query parameters may not contain the NUL character")
        host = _header(headers, b"host") or "localhost"
        base_url = f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}{scope['path']}"
        call = Call(self.services, principal, params, query, base_url, body,
                    _header(headers, b"authorization"), _content_type(headers), origin=_header(headers, b"origin"),
                    headers=headers)
        if multipart:
            call.form = await _read_form(scope, receive, settings.max_upload_bytes)
        try:
            status, payload = await route.handler(call)
        except ApiError as error:
            if not call.response_headers:
                raise
            status, payload = error.status, error.envelope()  # a refusal the browser may read (CORS)
        finally:
            if call.form is not None:
                await call.form.close()
        return status, payload, tuple(call.response_headers)

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


async def method_not_allowed(_request: Request, exc: Exception) -> JSONResponse:
    """Starlette's 405 (a method one of its own routes lacks), in the envelope the `Api` answers with."""
    headers = exc.headers if isinstance(exc, HTTPException) else None
    return JSONResponse(MethodNotAllowed().envelope(), 405, headers)


def _header(headers: dict[bytes, bytes], name: bytes) -> str | None:
    value = headers.get(name)
    return None if value is None else value.decode("latin-1")


def _content_type(headers: dict[bytes, bytes]) -> bytes:
    return (headers.get(b"content-type") or b"").split(b";")[0].strip().lower()


async def _read_body(scope: Scope, receive: Receive, headers: dict[bytes, bytes], limit: int,
                     accepted: frozenset[bytes]) -> bytes:
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
    if body and _content_type(headers) not in accepted:
        raise UnsupportedMediaType(None if accepted == JSON else
                                   f"Content-Type must be one of {', '.join(sorted(t.decode() for t in accepted))}")
    return body


_FORM_OVERHEAD = 64 * 1024  # room for the boundaries and part headers around a file of the largest size


async def _read_form(scope: Scope, receive: Receive, limit: int) -> FormData:
    """A multipart/form-data body with one file of at most `limit` bytes (413 beyond), spooled to disk."""
    headers = Headers(scope=scope)
    if headers.get("content-type", "").split(";")[0].strip().lower() != "multipart/form-data":
        raise UnsupportedMediaType("Content-Type must be multipart/form-data")
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + _FORM_OVERHEAD:
        raise _too_large(limit)

    async def stream() -> AsyncGenerator[bytes, None]:
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise BadRequest("The client disconnected before the end of the body")
            size += len(message.get("body", b""))
            if size > limit + _FORM_OVERHEAD:
                raise _too_large(limit)
            yield message.get("body", b"")
            more = message.get("more_body", False)

    try:
        form = await _UploadParser(headers, stream(), max_files=1, max_fields=10).parse()
    except MultiPartException as exc:
        raise BadRequest(f"Invalid multipart body: {exc.message}") from None
    if any(isinstance(value, UploadFile) and (value.size or 0) > limit for _, value in form.multi_items()):
        await form.close()
        raise _too_large(limit)
    return form


class _UploadParser(MultiPartParser):
    """Starlette's parser, reading the upload's `source` part as a file even when it names no filename.

    The official JS SDK uploads a Node Buffer as a part without `filename=`, which Starlette would read as
    a text field: decoded (so different bytes can become the same string), held in memory and capped at
    1 MB. Marked as a file (with an empty name, which becomes `file`), it is spooled to disk byte for byte
    under the upload limit like any other.
    """

    def on_headers_finished(self) -> None:
        disposition = self._current_part.content_disposition
        if disposition is not None:  # (without one, Starlette refuses the part)
            _, options = parse_options_header(disposition)
            if options.get(b"name") == UPLOAD_FIELD.encode() and b"filename" not in options:
                self._current_part.content_disposition = disposition + b'; filename=""'
        super().on_headers_finished()


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"Attachments are limited to {limit // (1024 * 1024)} MB ({limit} bytes)")


async def _send(send: Send, status: int, body: bytes, content_type: str,
                headers: tuple[tuple[str, str], ...]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()),
        *((name.encode(), value.encode("latin-1")) for name, value in headers)]})
    await send({"type": "http.response.body", "body": body})
