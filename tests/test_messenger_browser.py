"""The web messenger in a real browser (docs/messenger.md): a shop's page on another loopback origin embeds
it with one script tag; the widget chats through the SDK API and its realtime stream, and the business
answers through the official Python SDK."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sunshine_conversations_client as sc
from playwright.sync_api import Page, expect

from tests.apps import new_key
from tests.browser import Site, screenshot
from tests.conftest import Server
from tests.end_users import user_jwt
from tests.messenger import (
    WAIT_MS,
    Proxy,
    conversation_of,
    make_web,
    say,
    shop_site,
    shop_url,
    shown,
    stored,
    texts,
    visit,
)
from tests.utils import make_user, post, text

pytestmark = pytest.mark.usefixtures("console")  # a failing test shows what the page logged


@pytest.fixture(scope="module")
def stranger() -> Iterator[Site]:
    """Another website, which no integration lets in."""
    yield from shop_site()



def test_an_anonymous_visitor_opens_the_widget_and_chats(
        page: Page, server: Server, account: sc.ApiClient, app_id: str, shop: Site, shop_web: dict[str, Any],
        tmp_path: Path) -> None:
    """The launcher opens the panel with the focus in the composer; Enter sends; the message is stored once,
    from the web integration; Escape closes and gives the focus back to the launcher."""
    visit(page, shop, server.base_url, shop_web)
    launcher = page.get_by_role("button", name="Open the chat with Kent Shop")
    launcher.click()
    expect(page.get_by_role("textbox", name="Message")).to_be_focused()
    say(page, "Hello from the shop")
    conversation = conversation_of(page)
    activities: list[str] = []
    page.on("request", lambda request: activities.append(json.loads(request.post_data or "{}")["type"])
            if request.url.endswith("/activity") else None)
    composer = page.get_by_role("textbox", name="Message")
    composer.press_sequentially("Do you ship")
    composer.press("Shift+Enter")
    composer.press_sequentially("to Lisbon?")
    with page.expect_response(lambda response: response.url.endswith("/activity") and 200 == response.status):
        composer.press("Enter")  # sends, and stops the typing begun with the first key
    expect(stored(page, "to Lisbon?")).to_have_count(1, timeout=WAIT_MS)
    assert ["typing:start", "typing:stop"] == activities
    listed = sc.MessagesApi(account).list_messages(app_id, conversation).messages
    assert (["Hello from the shop", "Do you ship\nto Lisbon?"], ["user"] * 2, [("web", shop_web["id"])] * 2) == (
        [m.content.actual_instance.text for m in listed], [m.author.type for m in listed],
        [(m.source.type, m.source.integration_id) for m in listed])
    assert listed[0].id == stored(page, "Hello from the shop").get_attribute("data-message-id")
    screenshot(page, tmp_path, "desktop")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(launcher).to_be_focused()


def test_a_business_reply_appears_live_and_counts_as_unread_while_closed(
        page: Page, server: Server, account: sc.ApiClient, app_id: str, shop: Site, shop_web: dict[str, Any],
        tmp_path: Path) -> None:
    """Business messages posted through the official SDK while the panel is closed show in the badge; opening
    clears it and shows each of them once. The business's typing shows while the panel is open."""
    page.set_viewport_size({"width": 375, "height": 740})
    visit(page, shop, server.base_url, shop_web)
    page.get_by_role("button", name="Open the chat with Kent Shop").click()
    say(page, "Is anyone there?")
    conversation = conversation_of(page)
    page.get_by_role("button", name="Close the chat").click()
    post(account, app_id, conversation, text("Hello! Kent here."))
    post(account, app_id, conversation, text("How can I help?"))
    expect(page.locator(".hg-badge")).to_have_text("2", timeout=WAIT_MS)
    unread = sc.ParticipantsApi(account).list_participants(app_id, conversation).participants
    assert [2] == [p.unread_count for p in unread]
    with page.expect_response(lambda response: response.url.endswith("/activity") and 200 == response.status):
        page.get_by_role("button", name="Open the chat with Kent Shop, 2 unread messages").click()
    expect(page.locator(".hg-badge")).to_be_hidden()
    participants = sc.ParticipantsApi(account).list_participants(app_id, conversation).participants
    assert [0] == [p.unread_count for p in participants]  # the conversation:read the widget sent on opening
    for words in ("Hello! Kent here.", "How can I help?"):
        expect(shown(page, words)).to_have_count(1)
    activity = sc.ActivityPost(type="typing:start", author=sc.Author(type="business"))
    sc.ActivitiesApi(account).post_activity(app_id, conversation, activity)
    expect(page.locator(".hg-typing")).to_have_text("Kent Shop is typing…", timeout=WAIT_MS)
    screenshot(page, tmp_path, "phone")
    post(account, app_id, conversation, text("Here you go."))
    expect(shown(page, "Here you go.")).to_have_count(1, timeout=WAIT_MS)
    expect(page.locator(".hg-typing")).to_have_text("")
    assert 0 == page.evaluate("document.querySelector('[data-heliograph-messenger]').shadowRoot"
                              ".querySelector('.hg-badge').hidden ? 0 : 1")


def test_a_cut_connection_loses_nothing_and_repeats_nothing(
        page: Page, server: Server, account: sc.ApiClient, app_id: str, shop: Site, shop_web: dict[str, Any],
        proxy: Proxy) -> None:
    """The page reaches the server through a proxy. While it is cut, the business writes twice and the visitor
    once; once it is back, every message shows exactly once and the visitor's was stored exactly once."""
    visit(page, shop, proxy.url, shop_web)
    page.get_by_role("button", name="Open the chat with Kent Shop").click()
    say(page, "Before the tunnel")
    conversation = conversation_of(page)
    page.wait_for_function("window.hgEvents.includes('connected')", timeout=WAIT_MS)
    proxy.cut()
    page.wait_for_function("window.hgEvents.includes('disconnected')", timeout=WAIT_MS)
    post(account, app_id, conversation, text("Are you still there?"))
    composer = page.get_by_role("textbox", name="Message")
    composer.fill("In the tunnel")
    composer.press("Enter")
    post(account, app_id, conversation, text("Take your time."))
    expect(page.locator(".hg-message.hg-pending").filter(has_text="In the tunnel")).to_have_count(1)
    proxy.restore()
    expect(stored(page, "In the tunnel")).to_have_count(1, timeout=WAIT_MS)
    for words in ("Are you still there?", "Take your time."):
        expect(shown(page, words)).to_have_count(1, timeout=WAIT_MS)
    in_order = ["Before the tunnel", "Are you still there?", "In the tunnel", "Take your time."]
    stored_texts = texts(account, app_id, conversation)
    assert sorted(in_order) == sorted(stored_texts)
    assert len(in_order) == page.locator(".hg-message").count()


def test_a_file_sent_from_the_composer_is_uploaded_once(
        page: Page, server: Server, account: sc.ApiClient, app_id: str, shop: Site, shop_web: dict[str, Any]) -> None:
    """The composer's file input uploads the file as a message of the visitor; its mediaUrl serves the bytes."""
    visit(page, shop, server.base_url, shop_web)
    page.get_by_role("button", name="Open the chat with Kent Shop").click()
    data = b"Order 1234: two lamps, one chair.\n"
    page.locator("input[type=file]").set_input_files(files=[{"name": "order.txt", "mimeType": "text/plain",
                                                             "buffer": data}])
    expect(page.locator(".hg-message.hg-from-user:not(.hg-pending)")).to_have_count(1, timeout=WAIT_MS)
    listed = sc.MessagesApi(account).list_messages(app_id, conversation_of(page)).messages
    content = listed[0].content.actual_instance
    assert (1, "file", "user") == (len(listed), content.type, listed[0].author.type)
    assert data == httpx.get(content.media_url).content
    expect(page.locator(f'.hg-message[data-message-id="{listed[0].id}"]')).to_have_count(1)


def test_login_as_an_identified_user_merges_the_anonymous_history(
        page: Page, server: Server, account: sc.ApiClient, app_id: str, shop: Site, shop_web: dict[str, Any]) -> None:
    """Heliograph.login with a user JWT merges the anonymous visitor into the user with that externalId: the
    widget keeps showing what was said, and what is said next is that user's. Heliograph.logout leaves a new
    anonymous visitor."""
    ana = make_user(account, app_id, external_id="ana")
    token = user_jwt(new_key(account, app_id), external_id="ana")
    visit(page, shop, server.base_url, shop_web)
    page.get_by_role("button", name="Open the chat with Kent Shop").click()
    say(page, "Before signing in")
    signed_in = page.evaluate("([id, token]) => Heliograph.login(id, token).then((user) => user.id)",
                              ["ana", token])
    expect(stored(page, "Before signing in")).to_have_count(1, timeout=WAIT_MS)
    say(page, "After signing in")
    conversation = conversation_of(page)
    listed = sc.MessagesApi(account).list_messages(app_id, conversation).messages
    assert ana.id == signed_in
    assert [("Before signing in", ana.id), ("After signing in", ana.id)] == [
        (m.content.actual_instance.text, m.author.user_id) for m in listed]
    page.evaluate("Heliograph.logout()")
    expect(page.locator(".hg-message")).to_have_count(0)
    say(page, "A guest again")
    assert ana.id != page.evaluate("Heliograph.getUser().id")


def test_a_login_in_one_tab_carries_the_other_tab_over(
        page: Page, server: Server, account: sc.ApiClient, app_id: str, shop: Site, shop_web: dict[str, Any]) -> None:
    """Two tabs of the shop chat as one anonymous visitor; Heliograph.login in the first merges the visitor into
    Ana. The second tab takes the session the first one stored (its own ended with the merge): it is Ana, still
    shows what was said, and what it sends next is Ana's; the stored session is still Ana's, not wiped by the
    second tab hearing its own session end. (That the server closes that stream at once:
    tests/test_stream_session_end.py.)"""
    ana = make_user(account, app_id, external_id="ana")
    key = new_key(account, app_id)
    visit(page, shop, server.base_url, shop_web)
    page.get_by_role("button", name="Open the chat with Kent Shop").click()
    say(page, "From the first tab")
    other = page.context.new_page()
    visit(other, shop, server.base_url, shop_web)
    other.get_by_role("button", name="Open the chat with Kent Shop").click()
    expect(stored(other, "From the first tab")).to_have_count(1, timeout=WAIT_MS)
    other.wait_for_function("window.hgEvents.includes('connected')", timeout=WAIT_MS)
    page.evaluate("([id, token]) => Heliograph.login(id, token)", ["ana", user_jwt(key, external_id="ana")])
    other.wait_for_function("(id) => (Heliograph.getUser() || {}).id === id", arg=ana.id, timeout=WAIT_MS)
    expect(stored(other, "From the first tab")).to_have_count(1, timeout=WAIT_MS)
    say(other, "From the second tab")
    listed = sc.MessagesApi(account).list_messages(app_id, conversation_of(other)).messages
    assert [("From the first tab", ana.id), ("From the second tab", ana.id)] == [
        (m.content.actual_instance.text, m.author.user_id) for m in listed]
    assert ana.id == json.loads(other.evaluate(f"localStorage.getItem('heliograph.session.{shop_web['id']}')"))[
        "userId"]


def test_what_the_business_removes_goes_from_the_open_widget(
        page: Page, server: Server, account: sc.ApiClient, app_id: str, shop: Site, shop_web: dict[str, Any]) -> None:
    """Without a reload: DeleteMessage takes that message off the widget, and DeleteAllMessages empties the
    conversation (what is said next stays in it)."""
    messages = sc.MessagesApi(account)
    visit(page, shop, server.base_url, shop_web)
    page.get_by_role("button", name="Open the chat with Kent Shop").click()
    say(page, "first")
    say(page, "second")
    conversation = conversation_of(page)
    first = messages.list_messages(app_id, conversation).messages[0].id
    messages.delete_message(app_id, conversation, first)
    expect(shown(page, "first")).to_have_count(0, timeout=WAIT_MS)
    expect(shown(page, "second")).to_have_count(1)
    messages.delete_all_messages(app_id, conversation)
    expect(page.locator(".hg-message")).to_have_count(0, timeout=WAIT_MS)
    say(page, "third")
    assert (conversation, ["third"]) == (conversation_of(page), texts(account, app_id, conversation))


def test_custom_text_and_menu_items_change_what_the_widget_says_and_offers(
        page: Page, server: Server, account: sc.ApiClient, app_id: str, shop: Site, shop_web: dict[str, Any],
        tmp_path: Path) -> None:
    """Heliograph.init with customText in French and menuItems {fileUpload: false, shareLocation: true}: the
    launcher, the composer and the business's read speak French (a key the widget does not have is warned of
    and left out); the attachment button asks for images only, and a location button is there."""
    warnings: list[str] = []
    page.on("console", lambda message: warnings.append(message.text) if message.type == "warning" else None)
    visit(page, shop, server.base_url, shop_web)
    page.evaluate("""() => { window.hgEvents = []; return Heliograph.init({
        customText: {openChatNamed: "Ouvrir la discussion avec {name}", inputPlaceholder: "Écrivez un message",
                     sendButtonText: "Envoyer", uploadPhoto: "Envoyer une image", shareLocation: "Envoyer ma position",
                     messageSeen: "Vu", notAKey: "?"},
        menuItems: {fileUpload: false, shareLocation: true}}); }""")
    page.wait_for_function("window.hgEvents.includes('ready')", timeout=WAIT_MS)
    page.get_by_role("button", name="Ouvrir la discussion avec Kent Shop").click()
    expect(page.get_by_role("textbox", name="Message")).to_have_attribute("placeholder", "Écrivez un message")
    for label in ("Envoyer", "Envoyer une image", "Envoyer ma position"):
        expect(page.get_by_role("button", name=label, exact=True)).to_be_visible()
    say(page, "Bonjour")
    sc.ActivitiesApi(account).post_activity(app_id, conversation_of(page), sc.ActivityPost(
        author=sc.Author(type="business"), type="conversation:read"))
    expect(page.locator(".hg-seen")).to_have_text("Vu", timeout=WAIT_MS)
    screenshot(page, tmp_path, "custom-text")
    assert "image/*" == page.locator("#hg-file").get_attribute("accept")
    assert ["Heliograph: customText.notAKey is not a text the messenger shows (docs/messenger.md, \"Text\")"] == [
        text for text in warnings if "customText" in text]


def test_the_look_comes_from_the_integration(
        page: Page, server: Server, http: httpx.Client, app_id: str, shop: Site) -> None:
    """brandColor paints the launcher and the header, conversationColor the visitor's bubbles, and the header
    names the business."""
    themed = make_web(http, app_id, shop, brandColor="123456", conversationColor="f80", businessName="Lamp & Co")
    visit(page, shop, server.base_url, themed)
    launcher = page.get_by_role("button", name="Open the chat with Lamp & Co")
    expect(launcher).to_have_css("background-color", "rgb(18, 52, 86)")
    launcher.click()
    expect(page.get_by_role("heading", name="Lamp & Co")).to_be_visible()
    expect(page.locator(".hg-header")).to_have_css("background-color", "rgb(18, 52, 86)")
    say(page, "Nice colours")
    bubble = ".hg-balloon, .hg-bubble:not(:has(> .hg-content))"  # render.js's balloon, or core's own bubble
    expect(stored(page, "Nice colours").locator(bubble)).to_have_css("background-color", "rgb(255, 136, 0)")


def test_a_page_on_an_origin_the_whitelist_does_not_list_is_refused(
        page: Page, server: Server, stranger: Site, shop_web: dict[str, Any], tmp_path: Path) -> None:
    """On another site the widget says it is not allowed there, its composer is off, and no user is made."""
    created: list[str] = []
    page.on("request", lambda request: created.append(request.url) if request.method == "POST" else None)
    page.goto(shop_url(stranger.url, server.base_url, shop_web["id"]))
    launcher = page.get_by_role("button", name="Open the chat")
    launcher.click()
    expect(page.get_by_role("alert")).to_contain_text(f"This website ({stranger.url}) is not allowed",
                                                       timeout=WAIT_MS)
    expect(page.get_by_role("textbox", name="Message")).to_be_disabled()
    screenshot(page, tmp_path, "refused")
    assert [] == created
    assert page.evaluate("Object.keys(localStorage).filter((key) => key.startsWith('heliograph.session'))") == []


def test_the_script_and_the_demo_page_are_served(server: Server) -> None:
    """/messenger.js is one cacheable script that defines window.Heliograph; /messenger/demo is a page."""
    with httpx.Client(base_url=server.base_url) as client:
        script, demo = client.get("/messenger.js"), client.get("/messenger/demo")
    assert (200, "application/javascript; charset=utf-8", "public, max-age=300") == (
        script.status_code, script.headers["content-type"], script.headers["cache-control"])
    assert script.text.startswith('(function () {\n"use strict";\nconst STYLES = ')
    assert "window.Heliograph = Heliograph;" in script.text
    assert (200, "text/html; charset=utf-8") == (demo.status_code, demo.headers["content-type"])


def test_the_demo_page_asks_for_an_integration_and_then_chats(
        page: Page, server: Server, http: httpx.Client, account: sc.ApiClient, app_id: str, shop: Site) -> None:
    """Without an integration id the demo explains how to make one; with the id pasted, the messenger starts
    on the demo's own origin (which the integration's whitelist lists) and its messages are stored."""
    demo_web = make_web(http, app_id, shop, originWhitelist=[server.base_url], businessName="Demo Shop")
    page.goto(f"{server.base_url}/messenger/demo")
    expect(page.locator("#create")).to_contain_text(f'"originWhitelist": ["{server.base_url}"]')
    page.get_by_label("Integration id").fill(demo_web["id"])
    page.get_by_role("button", name="Open the demo").click()
    page.get_by_role("button", name="Open the chat with Demo Shop").click()
    say(page, "Hello from the demo")
    assert ["Hello from the demo"] == texts(account, app_id, conversation_of(page))


def test_several_conversations_when_the_app_allows_them(
        page: Page, server: Server, account: sc.ApiClient, app_id: str, shop: Site, shop_web: dict[str, Any],
        tmp_path: Path) -> None:
    """With multiConvoEnabled, the visitor starts a second conversation from the list and goes back to the
    first; each keeps its own messages. The business deleting the second while it is shown (DeleteConversation)
    takes it off the widget, which shows the first again."""
    settings = sc.AppSettings(multi_convo_enabled=True)
    sc.AppsApi(account).update_app(app_id, sc.AppUpdateBody(settings=settings))
    visit(page, shop, server.base_url, shop_web)
    page.get_by_role("button", name="Open the chat with Kent Shop").click()
    say(page, "About my order")
    first = conversation_of(page)
    page.get_by_role("button", name="Your conversations").click()
    page.get_by_role("button", name="New conversation").click()
    expect(page.locator(".hg-message")).to_have_count(0)
    say(page, "About a refund")
    second = conversation_of(page)
    page.get_by_role("button", name="Your conversations").click()
    screenshot(page, tmp_path, "conversations")
    page.locator(f'[data-conversation-id="{first}"]').click()
    expect(shown(page, "About my order")).to_have_count(1)
    expect(shown(page, "About a refund")).to_have_count(0)
    assert (["About my order"], ["About a refund"]) == (
        texts(account, app_id, first), texts(account, app_id, second))
    page.get_by_role("button", name="Your conversations").click()
    page.locator(f'[data-conversation-id="{second}"]').click()
    expect(shown(page, "About a refund")).to_have_count(1)
    sc.ConversationsApi(account).delete_conversation(app_id, second)
    page.wait_for_function("(id) => Heliograph.getDisplayedConversation().id === id", arg=first, timeout=WAIT_MS)
    expect(shown(page, "About my order")).to_have_count(1)
    page.get_by_role("button", name="Your conversations").click()
    expect(page.locator(".hg-conversation-item")).to_have_count(1)


def test_prechat_capture_asks_name_and_email_before_the_first_message(
        page: Page, server: Server, http: httpx.Client, account: sc.ApiClient, app_id: str, shop: Site,
        tmp_path: Path) -> None:
    """With prechatCapture enabled, the panel asks the default fields first; the answers are the user's
    profile, and the conversation then starts."""
    capturing = make_web(http, app_id, shop, businessName="Kent Shop", prechatCapture={"enabled": True})
    visit(page, shop, server.base_url, capturing)
    page.get_by_role("button", name="Open the chat with Kent Shop").click()
    expect(page.get_by_label("Name")).to_be_focused()
    expect(page.get_by_role("textbox", name="Message")).to_be_hidden()
    screenshot(page, tmp_path, "prechat")
    page.get_by_label("Name").fill("Ana")
    page.get_by_label("Email").fill("ana@example.com")
    page.get_by_role("button", name="Start the conversation").click()
    expect(page.get_by_role("textbox", name="Message")).to_be_focused(timeout=WAIT_MS)
    say(page, "Hi, it's Ana")
    user = sc.UsersApi(account).get_user(app_id, page.evaluate("Heliograph.getUser().id")).user
    assert ("Ana", "ana@example.com") == (user.profile.given_name, user.profile.email)


def test_the_business_reading_shows_seen_under_the_last_message(
        page: Page, server: Server, account: sc.ApiClient, app_id: str, shop: Site, shop_web: dict[str, Any]) -> None:
    """A conversation:read activity of the business reaches the stream: "Seen" shows under the visitor's
    last message."""
    visit(page, shop, server.base_url, shop_web)
    page.get_by_role("button", name="Open the chat with Kent Shop").click()
    say(page, "Did you get my order?")
    page.wait_for_function("window.hgEvents.includes('connected')", timeout=WAIT_MS)
    activity = sc.ActivityPost(type="conversation:read", author=sc.Author(type="business"))
    sc.ActivitiesApi(account).post_activity(app_id, conversation_of(page), activity)
    expect(stored(page, "Did you get my order?").locator(".hg-seen")).to_have_text("Seen", timeout=WAIT_MS)


def test_a_message_whose_answer_was_lost_is_sent_again_at_the_next_visit_and_stored_once(
        page: Page, server: Server, account: sc.ApiClient, app_id: str, shop: Site, shop_web: dict[str, Any]) -> None:
    """A message left in the queue (the page closed before the 201 arrived, though the server had stored it) is
    sent again with the same clientMessageId at the next visit: it shows once, and the server keeps one."""
    visit(page, shop, server.base_url, shop_web)
    page.get_by_role("button", name="Open the chat with Kent Shop").click()
    say(page, "Sent just before closing")
    conversation = conversation_of(page)
    sent = sc.MessagesApi(account).list_messages(app_id, conversation).messages[0]
    left = {"clientMessageId": sent.source.original_message_id, "conversationId": conversation,
            "content": {"type": "text", "text": "Sent just before closing"}, "at": "2020-01-01T00:00:00.000Z"}
    page.evaluate("([key, item]) => localStorage.setItem(key, JSON.stringify([item]))",
                  [f"heliograph.queue.{shop_web['id']}", left])
    page.reload()
    page.wait_for_function("window.hgEvents.includes('message:sent')", timeout=WAIT_MS)
    page.get_by_role("button", name="Open the chat with Kent Shop").click()
    expect(stored(page, "Sent just before closing")).to_have_count(1)
    assert "[]" == page.evaluate(f"localStorage.getItem('heliograph.queue.{shop_web['id']}')")
    assert ["Sent just before closing"] == texts(account, app_id, conversation)


def test_a_session_the_server_no_longer_knows_is_forgotten_for_a_new_one(
        page: Page, server: Server, account: sc.ApiClient, app_id: str, shop: Site, shop_web: dict[str, Any]) -> None:
    """A stored session the server refuses (401: logged out, expired) is dropped; the visitor chats on as a new
    anonymous user."""
    stale = {"userId": "01a2000000000000000000aa", "sessionToken": "gone"}
    key = f"heliograph.session.{shop_web['id']}"
    page.add_init_script(f"localStorage.getItem('{key}') || localStorage.setItem('{key}', '{json.dumps(stale)}')")
    visit(page, shop, server.base_url, shop_web)
    page.get_by_role("button", name="Open the chat with Kent Shop").click()
    say(page, "Starting over")
    user_id = page.evaluate("Heliograph.getUser().id")
    assert user_id != stale["userId"]
    assert ["Starting over"] == texts(account, app_id, conversation_of(page))


def test_the_tab_style_the_fixed_intro_and_the_background_come_from_the_integration(
        page: Page, server: Server, http: httpx.Client, app_id: str, shop: Site, tmp_path: Path) -> None:
    """displayStyle "tab" draws a labelled tab; fixedIntroPane keeps the introduction above the log;
    backgroundImageUrl is tiled behind the messages."""
    tile = f"{shop.url}/tile.png"
    tabbed = make_web(http, app_id, shop, businessName="Kent Shop", displayStyle="tab", fixedIntroPane=True,
                      backgroundImageUrl=tile)
    visit(page, shop, server.base_url, tabbed)
    expect(page.get_by_role("button", name="Open the chat with Kent Shop")).to_have_text("Chat with Kent Shop")
    page.get_by_role("button", name="Open the chat with Kent Shop").click()
    say(page, "Hello, tab")
    screenshot(page, tmp_path, "tab")
    expect(page.locator(".hg-log")).to_have_css("background-image", f'url("{tile}")')
    expect(page.locator(".hg-log .hg-intro")).to_have_count(0)
    expect(page.locator(".hg-panel > .hg-intro")).to_contain_text("Kent Shop")


def test_earlier_messages_are_shown_on_demand(
        page: Page, server: Server, account: sc.ApiClient, app_id: str, shop: Site, shop_web: dict[str, Any]) -> None:
    """At a later visit the widget shows the last 50 messages; "Show earlier messages" pages back to the first,
    each message once."""
    visit(page, shop, server.base_url, shop_web)
    page.get_by_role("button", name="Open the chat with Kent Shop").click()
    say(page, "The very first message")
    conversation = conversation_of(page)
    page.keyboard.press("Escape")  # closed, the widget reads nothing: all 55 stay unread
    for n in range(55):
        post(account, app_id, conversation, text(f"Catalogue page {n}"))
    page.reload()
    page.wait_for_function("window.hgEvents.includes('connected')", timeout=WAIT_MS)
    page.get_by_role("button", name="Open the chat with Kent Shop, 55 unread messages").click()
    expect(page.locator(".hg-message")).to_have_count(50)
    page.get_by_role("button", name="Show earlier messages").click()
    expect(page.locator(".hg-message")).to_have_count(56)
    expect(page.locator(".hg-message").first).to_contain_text("The very first message")
    expect(page.get_by_role("button", name="Show earlier messages")).to_have_count(0)


def test_a_server_out_of_reach_at_start_is_said_and_tried_again(
        page: Page, server: Server, account: sc.ApiClient, app_id: str, shop: Site, shop_web: dict[str, Any],
        proxy: Proxy) -> None:
    """The script loads, but its server cannot be reached (data-api-base through a cut proxy): the widget says
    so, keeps trying, and starts by itself once the server answers."""
    proxy.cut()
    page.goto(shop_url(shop.url, server.base_url, shop_web["id"], api_base=proxy.url))
    page.get_by_role("button", name="Open the chat").click()
    expect(page.get_by_role("alert")).to_have_text("The messenger cannot reach its server. Trying again…",
                                                   timeout=WAIT_MS)
    proxy.restore()
    page.wait_for_function("window.hgEvents.includes('ready')", timeout=WAIT_MS * 2)
    expect(page.get_by_role("alert")).to_be_hidden()
    say(page, "Made it")
    assert ["Made it"] == texts(account, app_id, conversation_of(page))
