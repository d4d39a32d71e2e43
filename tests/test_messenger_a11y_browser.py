"""The web messenger to a screen reader (docs/messenger.md §7), in a real browser on both engines: read from
the accessibility tree, every control has a name, the log announces messages with their author, and a message's
state ("Sending…", "Not delivered", "Seen") is in words, not only in colour."""

from __future__ import annotations

import re
from typing import Any

import sunshine_conversations_client as sc
from playwright.sync_api import Page, expect

from tests.browser import Site
from tests.conftest import Server
from tests.messenger import WAIT_MS, Proxy, conversation_of, say, shown, visit
from tests.utils import post, text


def in_order(*parts: str) -> re.Pattern[str]:
    """These words in this order, whatever comes between them."""
    return re.compile(".*?".join(re.escape(part) for part in parts), re.DOTALL)


def test_a_screen_reader_gets_every_control_named_and_every_state_in_words(
        page: Page, server: Server, account: sc.ApiClient, app_id: str, shop: Site, shop_web: dict[str, Any],
        proxy: Proxy) -> None:
    """Read from the accessibility tree: every button has a name, and the hidden file input is not a second
    "Send a file"; the log is a polite live region where each message says who wrote it, and "Seen", "Not
    delivered" and "Sending…" are words next to the message they are about."""
    visit(page, shop, proxy.url, shop_web)
    page.get_by_role("button", name="Open the chat with Kent Shop").click()
    say(page, "Where is my parcel?")
    conversation = conversation_of(page)
    post(account, app_id, conversation, text("On its way."))
    expect(shown(page, "On its way.")).to_have_count(1, timeout=WAIT_MS)
    refused = page.evaluate("Heliograph.sendMessage({type: 'location'}).catch((error) => error.message)")
    read = sc.ActivityPost(type="conversation:read", author=sc.Author(type="business"))
    sc.ActivitiesApi(account).post_activity(app_id, conversation, read)
    expect(page.locator(".hg-seen")).to_have_count(1, timeout=WAIT_MS)
    proxy.cut()
    composer = page.get_by_role("textbox", name="Message")
    composer.fill("Hello?")
    composer.press("Enter")
    expect(page.locator(".hg-pending")).to_have_count(1)
    tree = page.locator("[data-heliograph-messenger]").aria_snapshot()
    assert ["Close the chat", "Send a file", "Send", "Open the chat with Kent Shop"] == re.findall(
        r'- button "([^"]+)"', tree), tree
    assert 4 == len(re.findall(r"- button\b", tree)), tree  # no button without a name
    log = page.get_by_role("log", name="Messages")
    expect(log).to_have_attribute("aria-live", "polite")
    assert in_order("You:", "Where is my parcel?", "Seen", "Kent Shop:", "On its way.",
                    "You:", f"Not delivered: {refused}", "You:", "Hello?", "Sending…").search(log.aria_snapshot())
