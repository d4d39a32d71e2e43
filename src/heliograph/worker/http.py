"""The webhooks' HTTP client: POSTs on pooled keep-alive HTTP/1.1 connections, cheap enough for one event per POST.

httpx spent about 3 ms of CPU per POST, which one event per POST cannot afford at 2,000 messages/s
(docs/performance.md). This client does only what a webhook POST needs: asyncio connections (TLS by the
ssl module's default context: certificates verified, SNI sent), the request written in one buffer,
the response parsed by httptools (uvicorn's parser) for its status, its body (`Content-Length`,
chunked, or up to the close) read and dropped. Idle connections wait in a pool per (scheme, host,
port) unless the response said `Connection: close` (or was HTTP/1.0 without keep-alive). No
redirect is followed and no proxy is read from the environment.

What `post` raises, beside returning the status code:

    TimeoutError     the whole attempt (connect, TLS, request, response) outlasted `timeout`
    OSError          the connection failed: refused, reset, unknown host, a certificate not trusted …
    ProtocolError    the peer answered something that is not HTTP, or closed without a status line
    ValueError       the URL is not http(s)://host…
"""

from __future__ import annotations

import asyncio
import base64
import ssl
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

import httptools

Origin = tuple[str, str, int]  # scheme, host, port: what a pooled connection can serve
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SAFE = "/%:@!$&'()*+,;=?~"  # kept as they are in a request target; anything else is percent-encoded
_MAX_TARGETS = 1024  # parsed URLs kept; a server has few webhook targets


class ProtocolError(Exception):
    """The response was not HTTP/1.x, or the connection closed before its status line."""


@dataclass(frozen=True)
class _Target:
    origin: Origin
    head: bytes  # the request line and the headers every POST to this URL carries


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: one request at a time, the response parsed as it arrives."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[int] | None = None
        self.status = 0  # of the response being read, once its headers are in
        self.answered = False  # a byte of the current response has arrived
        self.reusable = True

    async def request(self, data: bytes, deadline: float) -> int:
        """Write one request; the status of its response, once the whole response has been read by `deadline`
        (the loop's time), else TimeoutError. One timer per request: cheaper than asyncio.timeout's task dance."""
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        self.waiter = loop.create_future()
        self.status, self.answered = 0, False
        timer = loop.call_at(deadline, self._settle, TimeoutError())
        self.transport.write(data)
        try:
            return await self.waiter
        finally:
            timer.cancel()
            self.waiter = None

    def close(self) -> None:
        self.reusable = False
        if self.transport is not None:
            self.transport.close()

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.waiter is None:  # nothing was asked: a server that talks out of turn is not reused
            self.close()
            return
        self.answered = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._settle(ProtocolError(f"invalid HTTP response: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.reusable = False
        if self.status >= 200:  # the status is in; the body ends with the connection (or was cut short)
            self._settle(self.status)
        else:
            self._settle(exc if isinstance(exc, OSError) else
                         ProtocolError("the server closed the connection without a response"))

    # httptools callbacks

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()

    def on_message_complete(self) -> None:
        if self.status < 200:  # an informational response (100 Continue): the real one follows
            self.status = 0
            return
        if not self.parser.should_keep_alive():
            self.close()
        self._settle(self.status)

    def _settle(self, result: int | BaseException) -> None:
        if self.waiter is not None and not self.waiter.done():
            if isinstance(result, int):
                self.waiter.set_result(result)
            else:
                self.waiter.set_exception(result)


class Client:
    """POSTs with a whole-attempt timeout on a pool of keep-alive connections per origin."""

    def __init__(self, *, max_idle: int = 64, ssl_context: ssl.SSLContext | None = None) -> None:
        self.max_idle = max_idle  # idle connections kept per origin
        self._ssl = ssl_context  # None: the default context, made at the first https:// POST
        self._idle: dict[Origin, list[_Connection]] = {}
        self._targets: dict[str, _Target] = {}

    async def post(self, url: str, *, content: bytes, headers: dict[str, str], timeout: float) -> int:
        """POST `content` to `url`; the response's status code (any: redirects are not followed)."""
        target = self._target(url)
        data = b"".join((target.head, "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode("latin-1"),
                         b"content-length: %d\r\n\r\n" % len(content), content))
        return await self._send(target.origin, data, asyncio.get_running_loop().time() + timeout)

    async def aclose(self) -> None:
        """Close the idle connections (those in use close when their request ends or is cancelled)."""
        for pool in self._idle.values():
            for connection in pool:
                connection.close()
        self._idle.clear()

    async def _send(self, origin: Origin, data: bytes, deadline: float) -> int:
        connection = self._take(origin)
        if connection is not None:
            try:
                return await self._exchange(origin, connection, data, deadline)
            except TimeoutError:
                raise
            except (OSError, ProtocolError):
                if connection.answered:
                    raise
                # the server closed the idle connection as the request went out: once more, on a new one
                # (the event may arrive twice, which at-least-once delivery allows: event.id tells)
        async with asyncio.timeout_at(deadline):
            connection = await self._connect(origin)
        return await self._exchange(origin, connection, data, deadline)

    async def _exchange(self, origin: Origin, connection: _Connection, data: bytes, deadline: float) -> int:
        try:
            status = await connection.request(data, deadline)
        except BaseException:  # a failure, the timeout or a cancel: the connection is in an unknown state
            connection.close()
            raise
        self._release(origin, connection)
        return status

    def _take(self, origin: Origin) -> _Connection | None:
        pool = self._idle.get(origin)
        while pool:
            connection = pool.pop()
            if connection.reusable and connection.transport is not None and not connection.transport.is_closing():
                return connection
        return None

    def _release(self, origin: Origin, connection: _Connection) -> None:
        pool = self._idle.setdefault(origin, [])
        if connection.reusable and len(pool) < self.max_idle:
            pool.append(connection)
        else:
            connection.close()

    async def _connect(self, origin: Origin) -> _Connection:
        scheme, host, port = origin
        tls = None
        if scheme == "https":
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            tls = self._ssl
        loop = asyncio.get_running_loop()
        _, connection = await loop.create_connection(
            _Connection, host, port, ssl=tls, server_hostname=host if tls is not None else None)
        return connection

    def _target(self, url: str) -> _Target:
        target = self._targets.get(url)
        if target is None:
            if len(self._targets) >= _MAX_TARGETS:
                self._targets.clear()
            target = self._targets[url] = parse_target(url)
        return target


def parse_target(url: str) -> _Target:
    """The origin of `url` and the head of a POST to it: request line, Host, and Basic auth from user:password@."""
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an http:// or https:// URL: {url!r}")
    host, port = parts.hostname, parts.port or _DEFAULT_PORTS[parts.scheme]
    name = f"[{host}]" if ":" in host else host  # an IPv6 address, in brackets
    path = quote(parts.path or "/", safe=_SAFE) + ("?" + quote(parts.query, safe=_SAFE) if parts.query else "")
    lines = [f"POST {path} HTTP/1.1", f"host: {name}" if parts.port is None else f"host: {name}:{port}",
             "user-agent: Heliograph"]
    if parts.username is not None:
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        lines.append("authorization: Basic " + base64.b64encode(credentials).decode())
    return _Target((parts.scheme, host, port), "".join(line + "\r\n" for line in lines).encode())
