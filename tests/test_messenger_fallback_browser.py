"""The web messenger where the network falls short (docs/messenger.md §4), in a real browser on both engines:
without WebSocket, or behind a proxy that refuses the upgrade, it follows the stream by long-poll; a file chosen
offline waits in IndexedDB and is sent at the next visit."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import sunshine_conversations_client as sc
from playwright.sync_api import Page, expect

from tests.browser import Site
from tests.conftest import Server
from tests.messenger import WAIT_MS, Proxy, conversation_of, say, shop_url, shown, stored, texts, visit
from tests.utils import post, text

NO_WEBSOCKET = "delete window.WebSocket;"  # as a browser without it, or a page whose policy removed it
# How many files the widget keeps in IndexedDB (it opens the database with this version and store).
QUEUED_FILES = """() => new Promise((resolve, reject) => {
  const opening = indexedDB.open("heliograph", 1);
  opening.onupgradeneeded = () => opening.result.createObjectStore("files");
  opening.onerror = () => reject(opening.error);
  opening.onsuccess = () => {
    const counting = opening.result.transaction("files").objectStore("files").count();
    counting.onsuccess = () => { opening.result.close(); resolve(counting.result); };
  };
})"""

pytestmark = pytest.mark.usefixtures("console")  # a failing test shows what the page logged



def events_of(page: Page) -> list[str]:
    """The widget's stream requests, as they are made: `poll` for GET …/events, `socket` for a WebSocket."""
    made: list[str] = []
    page.on("request", lambda request: made.append("poll") if "/events?" in request.url else None)
    page.on("websocket", lambda _: made.append("socket"))
    return made


def chat(page: Page, shop: Site, api: str, shop_web: dict[str, Any], account: sc.ApiClient, app_id: str, words: str,
         reply: str) -> str:
    """Visit the shop with the widget calling `api`, open it, say `words`, and once the stream is connected have
    the business `reply`, shown once; the conversation's id."""
    visit(page, shop, api, shop_web)
    page.get_by_role("button", name="Open the chat with Kent Shop").click()
    say(page, words)
    conversation = conversation_of(page)
    page.wait_for_function("window.hgEvents.includes('connected')", timeout=WAIT_MS)
    post(account, app_id, conversation, text(reply))
    expect(shown(page, reply)).to_have_count(1, timeout=WAIT_MS)
    return conversation


def test_without_websocket_the_widget_follows_the_stream_by_long_poll(
        page: Page, server: Server, account: sc.ApiClient, app_id: str, shop: Site, shop_web: dict[str, Any],
        proxy: Proxy) -> None:
    """In a browser without WebSocket the visitor chats and the business's replies arrive live by long-poll.
    A cut connection is taken up again from the last cursor: what the business wrote meanwhile shows once,
    and nothing shows twice."""
    page.add_init_script(NO_WEBSOCKET)
    made = events_of(page)
    conversation = chat(page, shop, proxy.url, shop_web, account, app_id, "Hello without sockets",
                        "Hello, long-poller.")
    proxy.cut()
    page.wait_for_function("window.hgEvents.includes('disconnected')", timeout=WAIT_MS)
    post(account, app_id, conversation, text("Written while you were cut off."))
    proxy.restore()
    page.wait_for_function("window.hgEvents.filter((name) => name === 'connected').length === 2", timeout=WAIT_MS)
    post(account, app_id, conversation, text("And once you were back."))
    for words in ("Written while you were cut off.", "And once you were back."):
        expect(shown(page, words)).to_have_count(1, timeout=WAIT_MS)
    say(page, "Thanks")
    in_order = ["Hello without sockets", "Hello, long-poller.", "Written while you were cut off.",
                "And once you were back.", "Thanks"]
    assert in_order == texts(account, app_id, conversation)
    expect(page.locator(".hg-message")).to_have_count(len(in_order))
    assert "socket" not in made and "poll" in made


def test_a_proxy_that_refuses_websocket_upgrades_sends_the_widget_to_long_poll(
        page: Page, server: Server, account: sc.ApiClient, app_id: str, shop: Site, shop_web: dict[str, Any],
        proxy: Proxy) -> None:
    """When three WebSockets in a row fail before `ready` (a proxy answers their handshake 502), the widget
    polls instead, and a business reply still arrives live, once. Five minutes later it tries a WebSocket
    again, and stays on it once one gets through."""
    proxy.refuse_upgrades = True
    page.clock.install()  # time flows as usual, until the test moves it on
    made = events_of(page)
    conversation = chat(page, shop, proxy.url, shop_web, account, app_id, "Behind a strict proxy",
                        "Still reaching you.")
    assert (3, ["socket"] * 3) == (proxy.upgrades_refused, made[:3])
    assert {"poll"} == set(made[3:])
    proxy.refuse_upgrades = False
    with page.expect_websocket(timeout=WAIT_MS) as opened:
        page.clock.fast_forward("05:01")
        post(account, app_id, conversation, text("Back on a socket?"))  # a poll answers: then it switches
    received: list[str] = []
    opened.value.on("framereceived", lambda payload: received.append(str(payload)))
    expect(shown(page, "Back on a socket?")).to_have_count(1, timeout=WAIT_MS)
    page.wait_for_function("window.hgEvents.lastIndexOf('connected') > window.hgEvents.lastIndexOf('disconnected')",
                           timeout=WAIT_MS)
    post(account, app_id, conversation, text("By socket, then."))
    expect(shown(page, "By socket, then.")).to_have_count(1, timeout=WAIT_MS)
    assert any("By socket, then." in frame for frame in received), received
    assert "socket" == made[-1]


def test_a_file_chosen_offline_survives_a_reload_and_is_stored_once(
        page: Page, server: Server, account: sc.ApiClient, app_id: str, shop: Site, shop_web: dict[str, Any],
        proxy: Proxy) -> None:
    """A file picked while the server is out of reach waits in IndexedDB. The page is reloaded while still cut
    off, so only what was stored can send it: once the server is back, the file is uploaded, stored once, shown
    once, and removed from IndexedDB."""
    page.goto(shop_url(shop.url, server.base_url, shop_web["id"], api_base=proxy.url))  # the API through the proxy
    page.wait_for_function("window.hgEvents && window.hgEvents.includes('ready')", timeout=WAIT_MS)
    page.get_by_role("button", name="Open the chat with Kent Shop").click()
    say(page, "My order form follows")
    conversation = conversation_of(page)
    proxy.cut()
    data = b"Order 1234: two lamps, one chair.\n"
    page.locator("input[type=file]").set_input_files(files=[{"name": "order.txt", "mimeType": "text/plain",
                                                             "buffer": data}])
    expect(page.locator(".hg-message.hg-pending")).to_have_count(1)
    page.wait_for_function(f"({QUEUED_FILES})().then((count) => count === 1)", timeout=WAIT_MS)
    page.reload()
    page.get_by_role("button", name="Open the chat").click()
    expect(page.get_by_role("alert")).to_have_text("The messenger cannot reach its server. Trying again…",
                                                   timeout=WAIT_MS)
    proxy.restore()
    page.wait_for_function("window.hgEvents.includes('message:sent')", timeout=WAIT_MS * 2)
    listed = sc.MessagesApi(account).list_messages(app_id, conversation).messages
    assert (["text", "file"], "order.txt") == ([m.content.actual_instance.type for m in listed],
                                               listed[1].content.actual_instance.alt_text)
    assert data == httpx.get(listed[1].content.actual_instance.media_url).content
    expect(page.locator(f'.hg-message[data-message-id="{listed[1].id}"]')).to_have_count(1)
    expect(page.locator(".hg-message")).to_have_count(2)
    assert 0 == page.evaluate(QUEUED_FILES)
    assert "[]" == page.evaluate(f"localStorage.getItem('heliograph.queue.{shop_web['id']}')")
    assert stored(page, "My order form follows").count() == 1
