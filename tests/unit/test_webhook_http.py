"""The webhooks' HTTP client (worker/http.py) against a real asyncio server on loopback.

The server answers each request with the next scripted reply, as raw bytes, and counts its connections.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from heliograph.worker.attempt import attempt
from heliograph.worker.http import Client, ProtocolError

OK = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
HANG = b""  # a reply that never comes


@dataclass
class Server:
    """A loopback HTTP/1.1 server: records each request, answers with the next reply (default OK)."""

    replies: list[bytes] = field(default_factory=list)
    close_after: set[int] = field(default_factory=set)  # requests (1-based) after which it hangs up
    requests: list[tuple[bytes, bytes]] = field(default_factory=list)
    connections: int = 0
    tls: ssl.SSLContext | None = None

    async def start(self) -> Server:
        self._writers: list[asyncio.StreamWriter] = []
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}{path}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(int(line.split(b":")[1]) for line in head.lower().split(b"\r\n")
                              if line.startswith(b"content-length:"))
                self.requests.append((head, await reader.readexactly(length)))
                reply = self.replies.pop(0) if self.replies else OK
                if reply == HANG:
                    await asyncio.Event().wait()
                writer.write(reply)
                await writer.drain()
                if len(self.requests) in self.close_after or b"connection: close" in reply.lower():
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def stop(self) -> None:
        for writer in self._writers:
            writer.close()
        self._server.close()
        await self._server.wait_closed()


def served(scenario: Callable[[Server, Client], Awaitable[Any]], server: Server | None = None,
           client: Client | None = None) -> Any:
    """Run `scenario` with a started server and a client; both closed afterwards. Its value."""
    async def main() -> Any:
        running = await (server or Server()).start()
        http = client or Client()
        try:
            return await scenario(running, http)
        finally:
            await http.aclose()
            await running.stop()
    return asyncio.run(main())


async def post(client: Client, url: str, body: bytes = b"{}", timeout: float = 5) -> int:
    return await client.post(url, content=body, headers={"x-api-key": "s3cret"}, timeout=timeout)


def test_a_post_carries_its_body_and_headers_and_keeps_its_connection() -> None:
    """The request has the host, the content length and the headers given; a second POST reuses the connection."""
    async def scenario(server: Server, client: Client) -> Any:
        return await post(client, server.url("/hook?a=b"), b'{"n": 1}'), await post(client, server.url()), server
    first, second, server = served(scenario)
    head, body = server.requests[0]
    lines = head.decode().split("\r\n")
    assert (200, 200, 1) == (first, second, server.connections)
    assert ("POST /hook?a=b HTTP/1.1", b'{"n": 1}') == (lines[0], body)
    assert {f"host: 127.0.0.1:{server.port}", "x-api-key: s3cret", "content-length: 8"} <= set(lines)


def test_a_chunked_response_is_read_whole_and_the_connection_reused() -> None:
    """A chunked body is read to its last chunk, so the next POST goes on the same connection."""
    chunked = b"HTTP/1.1 202 Accepted\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"

    async def scenario(server: Server, client: Client) -> Any:
        return [await post(client, server.url()) for _ in range(3)], server.connections
    assert ([202, 202, 200], 1) == served(scenario, Server(replies=[chunked, chunked]))


def test_connection_close_is_honoured() -> None:
    """After `Connection: close` (or an HTTP/1.0 reply without keep-alive) the next POST opens a new connection."""
    close = b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"
    old = b"HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n"

    async def scenario(server: Server, client: Client) -> Any:
        return [await post(client, server.url()) for _ in range(4)], server.connections
    assert ([200, 200, 200, 200], 3) == served(scenario, Server(replies=[close, old, OK]))


def test_a_body_that_ends_with_the_connection_is_a_response() -> None:
    """Without Content-Length or chunking the body runs to the close: the status stands, the connection is not kept."""
    unframed = b"HTTP/1.1 200 OK\r\n\r\nall of it"

    async def scenario(server: Server, client: Client) -> Any:
        return [await post(client, server.url()) for _ in range(2)], server.connections
    assert ([200, 200], 2) == served(scenario, Server(replies=[unframed], close_after={1}))


def test_a_connection_the_server_closed_while_idle_is_replaced() -> None:
    """A keep-alive connection the server hung up on is not used again, whether the client saw the hang-up before
    the next POST or only as it went out (then the POST is sent once more, on a new connection)."""
    async def scenario(server: Server, client: Client) -> Any:
        return await post(client, server.url()), await post(client, server.url()), server.connections
    assert (200, 200, 2) == served(scenario, Server(close_after={1}))


@pytest.mark.parametrize("status", [400, 404, 500, 503])
def test_error_statuses_are_answers_not_exceptions(status: int) -> None:
    """4xx and 5xx come back as the status (the attempt turns them into 'HTTP 503'), and keep the connection."""
    reply = f"HTTP/1.1 {status} Whatever\r\ncontent-length: 5\r\n\r\nnope!".encode()

    async def scenario(server: Server, client: Client) -> Any:
        outcome = await attempt(client, target=server.url(), secret="s", payload={}, timeout=5)
        return outcome.status_code, outcome.error, await post(client, server.url()), server.connections
    assert (status, f"HTTP {status}", 200, 1) == served(scenario, Server(replies=[reply]))


def test_redirects_are_not_followed() -> None:
    """A 3xx is the attempt's answer; nothing is sent to its Location."""
    moved = b"HTTP/1.1 301 Moved\r\nlocation: http://127.0.0.1:1/elsewhere\r\ncontent-length: 0\r\n\r\n"

    async def scenario(server: Server, client: Client) -> Any:
        return await post(client, server.url()), len(server.requests)
    assert (301, 1) == served(scenario, Server(replies=[moved]))


def test_no_answer_within_the_timeout_is_a_timeout() -> None:
    """The whole attempt is bounded: a server that never answers costs the timeout, and the connection is dropped."""
    async def scenario(server: Server, client: Client) -> Any:
        outcome = await attempt(client, target=server.url(), secret="s", payload={}, timeout=0.05)
        return outcome.status_code, outcome.error, client._idle.get(("http", "127.0.0.1", server.port), [])
    assert (None, "no response within 0.05 s", []) == served(scenario, Server(replies=[HANG]))


def test_a_refused_connection_is_described() -> None:
    """Nothing listening: the attempt's error names the refusal."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))  # bound, not listening: connecting to it is refused
        port = unused.getsockname()[1]

        async def main() -> Any:
            client = Client()
            try:
                with pytest.raises(ConnectionRefusedError):
                    await post(client, f"http://127.0.0.1:{port}/hook")
                return await attempt(client, target=f"http://127.0.0.1:{port}/", secret="s", payload={}, timeout=5)
            finally:
                await client.aclose()
        outcome = asyncio.run(main())
    assert (None, True) == (outcome.status_code, outcome.error.startswith("ConnectionRefusedError: "))


def test_a_reply_that_is_not_http_is_a_protocol_error() -> None:
    async def scenario(server: Server, client: Client) -> Any:
        with pytest.raises(ProtocolError):
            await post(client, server.url())
        return await post(client, server.url()), server.connections
    assert (200, 2) == served(scenario, Server(replies=[b"SSH-2.0-OpenSSH\r\n\r\n"]))


def test_the_url_gives_the_request_target_host_and_basic_auth() -> None:
    """Unsafe characters are percent-encoded, a default port is left out of Host, user:password@ becomes Basic auth."""
    from heliograph.worker.http import parse_target

    target = parse_target("https://bot:p%40ss@Example.COM/hooks/a b?x=1")
    assert (("https", "example.com", 443), [
        "POST /hooks/a%20b?x=1 HTTP/1.1", "host: example.com", "user-agent: Heliograph",
        "authorization: Basic Ym90OnBAc3M="]) == (target.origin, target.head.decode().split("\r\n")[:-1])
    with pytest.raises(ValueError):
        parse_target("ftp://example.com/")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for `localhost`, and its key."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def test_tls_verifies_the_certificate_and_sends_sni(certificate: tuple[Path, Path]) -> None:
    """Over https the server's certificate must be trusted (the default context refuses a self-signed one), and the
    host name goes in SNI."""
    cert, key = certificate
    names: list[str | None] = []
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    tls.sni_callback = lambda _sock, name, _ctx: names.append(name)  # type: ignore[func-returns-value]

    async def refused(server: Server, client: Client) -> Any:
        with pytest.raises(ssl.SSLCertVerificationError):
            await post(client, server.url(host="localhost"))

    async def trusted(server: Server, client: Client) -> Any:
        return await post(client, server.url(host="localhost")), await post(client, server.url(host="localhost"))
    served(refused, Server(tls=tls))
    assert (200, 200) == served(trusted, Server(tls=tls), Client(ssl_context=ssl.create_default_context(cafile=cert)))
    assert ["localhost", "localhost"] == names  # the refused handshake and the trusted one: one connection each
