"""Structured messages in the web messenger, end to end on a live server (both engines): the business sends
buttons, a carousel and a form through the v2 API; the visitor clicks and answers them in the widget on a
shop's page; the bot's webhook gets `conversation:postback`, and the answer is stored as a formResponse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import sunshine_conversations_client as sc
from playwright.sync_api import Locator, Page, expect

from tests.browser import Site, screenshot
from tests.conftest import Server
from tests.integrations import custom_integration
from tests.messenger import shop_url
from tests.receiver import Receiver
from tests.utils import messages_url

WAIT_MS = 10_000
FORM = {"type": "form", "blockChatInput": True, "fields": [
    {"type": "text", "name": "name", "label": "Your name", "minSize": 2, "maxSize": 40},
    {"type": "email", "name": "email", "label": "Your email"},
    {"type": "select", "name": "meal", "label": "Your meal", "options": [
        {"name": "taco", "label": "Taco"}, {"name": "burrito", "label": "Burrito"}]},
]}


@pytest.fixture
def web(http: httpx.Client, app_id: str, shop: Site) -> str:
    """The shop's web integration, which lets the shop's origin in: its id."""
    body = {"type": "web", "displayName": "Shop", "businessName": "Taco Shop", "originWhitelist": [shop.url]}
    response = http.post(f"/v2/apps/{app_id}/integrations", json=body)
    assert 201 == response.status_code, response.text
    return str(response.json()["integration"]["id"])


@pytest.fixture
def bot(account: sc.ApiClient, app_id: str, receiver: Receiver) -> Receiver:
    """The bot's webhook: messages and postbacks of the app."""
    custom_integration(account, app_id, receiver.url, ["conversation:message", "conversation:postback"])
    return receiver


def open_widget(page: Page, server: Server, shop: Site, web: str) -> None:
    """Open the shop's page and, once the messenger is ready, its panel."""
    page.on("pageerror", lambda error: print(f"page error: {error}"))
    page.goto(shop_url(shop.url, server.base_url, web))
    page.wait_for_function("window.hgEvents && window.hgEvents.includes('ready')", timeout=WAIT_MS)
    page.evaluate("Heliograph.open()")


@pytest.fixture
def conversation(page: Page, server: Server, shop: Site, web: str, bot: Receiver) -> str:
    """The visitor opens the widget on the shop's page and says hello: the conversation's id, from the bot's
    webhook."""
    open_widget(page, server, shop, web)
    page.evaluate("Heliograph.sendMessage('Hello, I am hungry')")
    event = bot.wait_for(lambda got: any(e["type"] == "conversation:message" for e in got))[0]
    return str(event["payload"]["conversation"]["id"])


def send(http: httpx.Client, app_id: str, conversation_id: str, content: dict[str, Any]) -> str:
    """The business posts `content` through the v2 API: the message's id."""
    body = {"author": {"type": "business", "displayName": "Taco Shop"}, "content": content}
    response = http.post(messages_url(app_id, conversation_id), json=body)
    assert 201 == response.status_code, response.text
    return str(response.json()["messages"][0]["id"])


def shown(page: Page, message_id: str) -> Locator:
    """The message's row in the widget, once it has arrived over the stream."""
    row = page.locator(f'.hg-message[data-message-id="{message_id}"]')
    expect(row).to_be_visible(timeout=WAIT_MS)
    return row


def test_postback_buttons_fire_conversation_postback(
        page: Page, http: httpx.Client, app_id: str, web: str, bot: Receiver, conversation: str,
        tmp_path: Path) -> None:
    """A message's postback button and a carousel item's reach the bot as conversation:postback with the
    action's payload and metadata, from the web integration."""
    question = send(http, app_id, conversation, {"type": "text", "text": "What would you like?", "actions": [
        {"type": "link", "text": "Menu", "uri": "https://example.com/menu"},
        {"type": "postback", "text": "Order tacos", "payload": "TACOS", "metadata": {"size": "large"}}]})
    carousel = send(http, app_id, conversation, {"type": "carousel", "items": [
        {"title": "Taco", "actions": [{"type": "postback", "text": "Add a taco", "payload": "ADD_TACO"}]},
        {"title": "Burrito", "description": "With rice",
         "actions": [{"type": "postback", "text": "Add a burrito", "payload": "ADD_BURRITO"}]}]})
    shown(page, question).get_by_role("button", name="Order tacos").click()
    cards = shown(page, carousel).locator(".hg-card")
    expect(cards.locator(".hg-item-title")).to_have_text(["Taco", "Burrito"])
    cards.nth(1).get_by_role("button", name="Add a burrito").click()
    screenshot(page, tmp_path, "postbacks")
    events = bot.wait_for(lambda got: sum(e["type"] == "conversation:postback" for e in got) >= 2)
    postbacks = [e["payload"] for e in events if e["type"] == "conversation:postback"]
    assert [{"payload": "TACOS", "metadata": {"size": "large"}}, {"payload": "ADD_BURRITO"}] == [
        p["postback"] for p in postbacks]
    assert [(conversation, "web", web)] * 2 == [
        (p["conversation"]["id"], p["source"]["type"], p["source"]["integrationId"]) for p in postbacks]


def test_a_reply_chip_sends_its_text_and_payload(
        page: Page, http: httpx.Client, app_id: str, bot: Receiver, conversation: str) -> None:
    """The last message's reply chips show; one sends the user's text message with the chip's payload."""
    question = send(http, app_id, conversation, {"type": "text", "text": "Spicy?", "actions": [
        {"type": "reply", "text": "Yes please", "payload": "SPICY_YES"},
        {"type": "reply", "text": "No thanks", "payload": "SPICY_NO"}]})
    shown(page, question).locator(".hg-replies").get_by_role("button", name="Reply: No thanks").click()
    def users(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [e["payload"]["message"] for e in events
                if e["type"] == "conversation:message" and e["payload"]["message"]["author"]["type"] == "user"]

    said = users(bot.wait_for(lambda got: len(users(got)) >= 2))
    assert [{"type": "text", "text": "No thanks", "payload": "SPICY_NO"}] == [m["content"] for m in said[1:]]


def test_a_form_is_answered_in_the_widget(
        page: Page, http: httpx.Client, app_id: str, web: str, conversation: str, tmp_path: Path) -> None:
    """The visitor fills in the business's form (a bad email is refused in the page first); the answer is
    stored as the user's formResponse message with the form's labels, shown in the widget, and the form
    shows as answered."""
    page.set_viewport_size({"width": 375, "height": 740})
    form = shown(page, send(http, app_id, conversation, FORM))
    form.get_by_label("Your name").fill("Ada")
    form.get_by_label("Your email").fill("ada-at-example.com")
    form.get_by_label("Burrito").check()
    form.get_by_role("button", name="Submit the form").click()
    expect(form.locator(".hg-form-field-error:visible")).to_have_text(["Enter a valid email address"])
    form.get_by_label("Your email").fill("ada@example.com")
    form.get_by_role("button", name="Submit the form").click()
    expect(form.get_by_role("status")).to_have_text("Submitted", timeout=WAIT_MS)
    expect(form.get_by_label("Your name")).to_be_disabled()
    answer = page.locator(".hg-message").filter(has=page.locator(".hg-form-response"))
    expect(answer.locator("dd")).to_have_text(["Ada", "ada@example.com", "Burrito"], timeout=WAIT_MS)
    screenshot(page, tmp_path, "form")
    stored = http.get(messages_url(app_id, conversation)).json()["messages"][-1]
    assert ("user", "web", web) == (stored["author"]["type"], stored["source"]["type"],
                                    stored["source"]["integrationId"])
    assert {"type": "formResponse", "textFallback": "Your name: Ada\nYour email: ada@example.com\nYour meal: Burrito",
            "fields": [{"type": "text", "name": "name", "label": "Your name", "text": "Ada"},
                       {"type": "email", "name": "email", "label": "Your email", "email": "ada@example.com"},
                       {"type": "select", "name": "meal", "label": "Your meal",
                        "select": [{"name": "burrito", "label": "Burrito"}]}]} == stored["content"]
    assert stored["id"] == answer.get_attribute("data-message-id")


def test_a_form_answered_in_another_tab_shows_the_servers_refusal(
        page: Page, server: Server, shop: Site, http: httpx.Client, app_id: str, web: str,
        conversation: str) -> None:
    """Two tabs of the same visitor show the same form; once one has answered it, the other's answer is
    refused by the server, whose message shows next to the form, which stays editable; one answer is stored."""
    form_id = send(http, app_id, conversation, FORM)
    other = page.context.new_page()
    open_widget(other, server, shop, web)
    for tab in (page, other):
        form = shown(tab, form_id)
        form.get_by_label("Your name").fill("Ada" if tab is page else "Bob")
        form.get_by_label("Your email").fill("ada@example.com")
        form.get_by_label("Taco").check()
        form.get_by_role("button", name="Submit the form").click()
        if tab is page:
            expect(form.get_by_role("status")).to_have_text("Submitted", timeout=WAIT_MS)
    refused = shown(other, form_id)
    expect(refused.get_by_role("alert")).to_have_text("quotedMessageId: the form has been answered already",
                                                      timeout=WAIT_MS)
    expect(refused.get_by_label("Your name")).to_be_editable()
    stored = http.get(messages_url(app_id, conversation)).json()["messages"]
    assert [["Ada"]] == [[f.get("text") for f in m["content"]["fields"] if f["type"] == "text"]
                         for m in stored if m["content"]["type"] == "formResponse"]


def test_every_content_type_the_business_sends_shows_in_the_widget(
        page: Page, http: httpx.Client, app_id: str, conversation: str, tmp_path: Path) -> None:
    """What the v2 API stores is what the widget draws: markdownText (stored as htmlText) shows formatted,
    and an image, a file, a location, a carousel, a list and a form each show as their kind."""
    page.route("https://media.example/**", lambda route: route.fulfill(
        content_type="image/svg+xml", body='<svg xmlns="http://www.w3.org/2000/svg" width="300" height="160">'
        '<rect width="300" height="160" fill="#e4572e"/></svg>'))
    item = {"title": "Taco", "description": "Beef", "mediaUrl": "https://media.example/taco.svg",
            "actions": [{"type": "postback", "text": "Add", "payload": "ADD"}]}
    contents = [
        {"type": "text", "markdownText": "**Welcome** to the [menu](https://example.com/menu)"},
        {"type": "image", "mediaUrl": "https://media.example/taco.svg", "altText": "A taco"},
        {"type": "file", "mediaUrl": "https://media.example/menu.pdf", "altText": "menu.pdf"},
        {"type": "location", "coordinates": {"lat": 45.5, "long": -73.6}, "location": {"name": "The shop"}},
        {"type": "carousel", "items": [item, {**item, "title": "Burrito"}]},
        {"type": "list", "items": [item], "actions": [{"type": "postback", "text": "More", "payload": "MORE"}]},
        FORM,
    ]
    rows = [shown(page, send(http, app_id, conversation, content)) for content in contents]
    expect(rows[0].locator("strong")).to_have_text("Welcome")
    expect(rows[0].get_by_role("link", name="menu (opens in a new tab)")).to_have_attribute(
        "href", "https://example.com/menu")
    expect(rows[1].get_by_role("img", name="A taco")).to_be_visible()
    expect(rows[2].get_by_role("link", name="Download menu.pdf")).to_be_visible()
    expect(rows[3].get_by_role("link", name="Open The shop on a map")).to_be_visible()
    expect(rows[4].locator(".hg-card .hg-item-title")).to_have_text(["Taco", "Burrito"])
    expect(rows[5].locator(".hg-list-actions").get_by_role("button", name="More")).to_be_visible()
    expect(rows[6].get_by_label("Your email")).to_be_editable()
    for n in (0, 3, 6):  # the log scrolls: one screenshot from each part of it
        rows[n].scroll_into_view_if_needed()
        screenshot(page, tmp_path, f"every-type-{n}")
