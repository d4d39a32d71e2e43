"""The web messenger under test (docs/messenger.md): a shop's page that embeds it, what a visitor does there
(visit, say) and what a test reads back, and a loopback TCP proxy between that page and the server whose
connections a test cuts and restores."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import sunshine_conversations_client as sc
from playwright.sync_api import Locator, Page, expect

from tests.browser import Site

WAIT_MS = 10_000  # how long a browser test waits for what the widget or the server should do

# The shop's page: it embeds the messenger from the server named in its query (`api`), for the web
# integration named there (and, with `apiBase`, tells it to call another address), and records the widget's
# events in `window.hgEvents` for the test to wait on.
SHOP_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>The shop</title></head>
<body><h1>The shop</h1><p>Products, prices, and a chat at the bottom right.</p>
<script>
  window.hgEvents = [];
  const query = new URLSearchParams(location.search);
  const script = document.createElement("script");
  script.src = query.get("api") + "/messenger.js";
  script.dataset.integrationId = query.get("integration");
  if (query.get("apiBase")) script.dataset.apiBase = query.get("apiBase");
  script.onload = () => {
    for (const name of ["ready", "connected", "disconnected", "message:received", "message:sent", "unreadCount",
                        "widget:opened", "widget:closed", "typing:start", "typing:stop"]) {
      Heliograph.on(name, () => window.hgEvents.push(name));
    }
  };
  document.body.append(script);
</script></body></html>"""


def shop_site() -> Iterator[Site]:
    """A website on loopback whose page embeds the messenger (SHOP_PAGE), stopped after: the shop's, or a
    stranger's (another origin)."""
    site = Site(SHOP_PAGE)
    yield site
    site.stop()


def shop_url(site_url: str, api: str, integration_id: str, api_base: str | None = None) -> str:
    query = {"api": api, "integration": integration_id, **({"apiBase": api_base} if api_base else {})}
    return f"{site_url}/?{urlencode(query)}"


def make_web(http: httpx.Client, app_id: str, shop: Site, **fields: Any) -> dict[str, Any]:
    """A web integration whose whitelist lets the shop in (`fields` added to, or in place of, the defaults)."""
    body = {"type": "web", "displayName": "Shop", "originWhitelist": [shop.url], **fields}
    response = http.post(f"/v2/apps/{app_id}/integrations", json=body)
    assert 201 == response.status_code, response.text
    return dict(response.json()["integration"])


def visit(page: Page, site: Site, api: str, integration: dict[str, Any]) -> None:
    """Open the site's page with the messenger of `integration`, loaded from `api`; wait for it to be ready."""
    page.goto(shop_url(site.url, api, integration["id"]))
    page.wait_for_function("window.hgEvents && window.hgEvents.includes('ready')", timeout=WAIT_MS)


def say(page: Page, words: str) -> None:
    """Type in the composer and press Enter; wait until the server has stored the message."""
    composer = page.get_by_role("textbox", name="Message")
    composer.fill(words)
    composer.press("Enter")
    expect(stored(page, words)).to_have_count(1, timeout=WAIT_MS)


def stored(page: Page, words: str) -> Locator:
    """The user's messages with these words that the server has stored (no longer pending)."""
    return page.locator(".hg-message.hg-from-user:not(.hg-pending)").filter(has_text=words)


def shown(page: Page, words: str) -> Locator:
    """The messages with these words on the page, the user's and the business's."""
    return page.locator(".hg-message").filter(has_text=words)


def conversation_of(page: Page) -> str:
    """The id of the conversation the widget shows."""
    return str(page.evaluate("Heliograph.getDisplayedConversation().id"))


def texts(account: sc.ApiClient, app_id: str, conversation_id: str) -> list[str]:
    """The conversation's messages' texts as the server stored them, oldest first."""
    listed = sc.MessagesApi(account).list_messages(app_id, conversation_id).messages
    return [m.content.actual_instance.text for m in listed]


class Proxy:
    """A TCP proxy on loopback to `port`. `cut()` drops every connection and refuses new ones (each is
    accepted and closed at once, as a dead network looks to a browser) until `restore()`. With
    `refuse_upgrades`, it answers a WebSocket handshake 502 itself, as some corporate proxies do, and passes
    every other request on."""

    def __init__(self, port: int, *, refuse_upgrades: bool = False) -> None:
        self.port = port
        self.refuse_upgrades = refuse_upgrades
        self.upgrades_refused = 0
        self.refusing = False
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # stopped
            if self.refusing:
                client.close()
                continue
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        head = _head(client) if self.refuse_upgrades else b""
        if b"\r\nupgrade: websocket" in head.lower():
            self.upgrades_refused += 1
            with contextlib.suppress(OSError):
                client.sendall(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            self._drop(client)
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", self.port))
            upstream.sendall(head)
        except OSError:
            client.close()
            return
        with self._lock:
            self._open |= {client, upstream}
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for end in (source, sink):
            self._drop(end)

    def _drop(self, end: socket.socket) -> None:
        with self._lock:
            self._open.discard(end)
        with contextlib.suppress(OSError):
            end.shutdown(socket.SHUT_RDWR)
        end.close()

    def cut(self) -> None:
        self.refusing = True
        with self._lock:
            ends = list(self._open)
        for end in ends:
            self._drop(end)

    def restore(self) -> None:
        self.refusing = False

    def stop(self) -> None:
        self.cut()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        self._listener.close()
        self._thread.join(timeout=5)


def _head(client: socket.socket) -> bytes:
    """The first request's head (and whatever came with it), read from a new connection ("" if it closes)."""
    head = b""
    with contextlib.suppress(OSError):
        while b"\r\n\r\n" not in head and len(head) < 65536:
            if not (data := client.recv(65536)):
                break
            head += data
    return head
