"""How the web messenger shows one message (src/heliograph/messenger/render.js and render.css), in a real
chromium: every content type and action type of the spec, what a person sees and what their clicks call.

text.js and render.js are loaded raw into a page with a fake `ui` that records its calls, so these tests need no server
and run once (not per engine). Media URLs point at https://media.example/, which the page answers itself.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.browser import launch, open_page, screenshot

MESSENGER = Path(__file__).parent.parent / "src" / "heliograph" / "messenger"
MEDIA = "https://media.example"
BUSINESS = {"type": "business", "displayName": "Acme"}
USER = {"type": "user", "userId": "u1"}

# A stand-in for core.js: a message row as core.js draws it (the rendered content straight in the row), and a
# `ui` that records every call.
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Render</title>
<style>
  body { margin: 0; font-family: system-ui, sans-serif; background: #fafbfc; }
  #chat { --hg-brand: #5b3df5; --hg-conversation: #5b3df5; --hg-action: #0b6bcb;
          width: min(100%, 420px); margin: 0 auto; padding: 12px; display: flex; flex-direction: column; gap: 10px;
          background: #fff; box-sizing: border-box; }
  .hg-message { display: flex; flex-direction: column; max-width: 82%; }
  .hg-from-user { align-self: flex-end; align-items: flex-end; }
  .hg-from-business { align-self: flex-start; align-items: flex-start; }
</style></head><body><main id="chat" aria-label="Conversation"></main></body></html>"""

FAKE_UI = """
window.calls = [];
window.answered = [];
window.release = {};
window.formOutcome = null;
window.ui = {
  postback(actionId) {
    calls.push(["postback", actionId]);
    return new Promise((resolve) => { release.postback = resolve; });
  },
  reply(text, payload) { calls.push(["reply", text, payload]); return Promise.resolve(); },
  shareLocation() { calls.push(["shareLocation"]); return Promise.resolve(); },
  submitForm(id, fields) {
    calls.push(["submitForm", id, fields]);
    const outcome = formOutcome;
    return outcome ? Promise.reject(new Error(outcome)) : Promise.resolve({id: "response", content: {}});
  },
  openUrl(url, options) { calls.push(["openUrl", url, options]); },
  isFormAnswered(id) { return answered.includes(id); },
};
window.show = (message) => {
  const row = document.createElement("div");
  row.className = "hg-message hg-from-" + (message.author.type === "user" ? "user" : "business");
  row.dataset.messageId = message.id;
  row.append(hgRenderContent(message, ui));
  document.getElementById("chat").append(row);
};
"""


def svg(label: str, colour: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="400" height="260"><rect width="400" height="260" '
            f'fill="{colour}"/><text x="200" y="145" font-size="34" text-anchor="middle" fill="#fff" '
            f'font-family="sans-serif">{label}</text></svg>')


def serve_media(route: Route) -> None:
    name = route.request.url.rsplit("/", 1)[-1]
    colours = {"shoes.svg": "#e4572e", "hat.svg": "#17bebb", "bag.svg": "#76b041", "icon.svg": "#ffc914"}
    route.fulfill(status=200, content_type="image/svg+xml", body=svg(name.split(".")[0], colours.get(name, "#4c6ef5")))


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Headless chromium for this module only: render.js needs no server, so no engine either."""
    yield from launch(in_ci=os.environ.get("CI") == "true")


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    """A page with render.css, text.js and render.js loaded raw, a fake `ui`, and `show(message)`."""
    for tab in open_page(chromium):
        tab.route(f"{MEDIA}/**", serve_media)
        tab.set_content(PAGE)
        tab.add_style_tag(content=(MESSENGER / "render.css").read_text())
        tab.add_script_tag(content=(MESSENGER / "text.js").read_text() + (MESSENGER / "render.js").read_text())
        tab.add_script_tag(content=FAKE_UI)
        yield tab


def show(page: Page, message: dict[str, Any]) -> Any:
    """Render `message` as the widget would; the locator of its row."""
    page.evaluate("message => show(message)", message)
    return page.locator(f'.hg-message[data-message-id="{message["id"]}"]')


def message(id_: str, content: dict[str, Any], author: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": id_, "received": "2026-12-02T03:00:00.000Z", "author": author or BUSINESS, "content": content,
            "source": {"type": "api"}}


def calls(page: Page) -> list[list[Any]]:
    return list(page.evaluate("calls"))


# Fixtures written from the spec's examples (components/schemas), one per content type.
ITEMS = [
    {"title": "Tacos", "description": "Beef, cheese and salsa", "mediaUrl": f"{MEDIA}/shoes.svg", "altText": "A taco",
     "actions": [{"type": "postback", "text": "Order tacos", "payload": "TACOS"},
                 {"type": "link", "text": "Menu", "uri": "https://example.com/tacos"}]},
    {"title": "Burritos", "description": "Rice, beans and guacamole", "mediaUrl": f"{MEDIA}/hat.svg",
     "actions": [{"type": "postback", "text": "Order a burrito", "payload": "BURRITO"}]},
    {"title": "Nachos", "mediaUrl": f"{MEDIA}/bag.svg",
     "actions": [{"type": "webview", "text": "See nachos", "uri": "https://example.com/nachos",
                  "fallback": "https://example.com/nachos", "size": "compact"}]},
]
FORM = {"type": "form", "blockChatInput": True, "fields": [
    {"type": "text", "name": "name", "label": "Your name", "placeholder": "Type your name", "minSize": 2,
     "maxSize": 30},
    {"type": "email", "name": "email", "label": "Your email", "placeholder": "you@example.com"},
    {"type": "select", "name": "meal", "label": "Your meal", "options": [
        {"name": "taco", "label": "Taco"}, {"name": "burrito", "label": "Burrito"},
        {"name": "salad", "label": "Salad"}]},
]}
EVERY_TYPE = [
    message("m-text", {"type": "text", "text": "Hello! **Welcome** to *Acme*.\nSee https://example.com or "
                       "`code`.\n- one\n- ~~two~~ three"}),
    message("m-user", {"type": "text", "text": "Hi, I would like a **taco** please"}, USER),
    message("m-actions", {"type": "text", "text": "How can we help?", "actions": [
        {"type": "postback", "text": "Talk to a human", "payload": "HUMAN"},
        {"type": "link", "text": "Our website", "uri": "https://example.com"},
        {"type": "webview", "text": "Book a table", "uri": "https://example.com/book", "fallback":
         "https://example.com/book", "size": "tall"},
        {"type": "buy", "text": "Buy vinegar", "amount": 8000, "currency": "cad", "uri": "https://example.com/pay"},
        {"type": "locationRequest", "text": "Share my location"},
        {"type": "reply", "text": "Tacos", "payload": "TACOS", "iconUrl": f"{MEDIA}/icon.svg"},
        {"type": "reply", "text": "Burritos", "payload": "BURRITOS"}]}),
    message("m-image", {"type": "image", "mediaUrl": f"{MEDIA}/shoes.svg", "altText": "Red running shoes",
                        "text": "Our best seller"}),
    message("m-file", {"type": "file", "mediaUrl": f"{MEDIA}/files/menu.pdf", "mediaSize": 184320,
                       "mediaType": "application/pdf", "altText": "menu.pdf"}),
    message("m-location", {"type": "location", "coordinates": {"lat": 45.5261583, "long": -73.595346},
                           "location": {"name": "Zendesk Montreal", "address": "1 Saint-Laurent, Montreal"}}),
    message("m-carousel", {"type": "carousel", "items": ITEMS}),
    message("m-list", {"type": "list", "items": ITEMS[:2], "actions": [
        {"type": "postback", "text": "More dishes", "payload": "MORE"}]}),
    message("m-form", FORM),
    message("m-response", {"type": "formResponse", "textFallback": "Your name: Ada\nYour meal: Taco, Salad",
                           "fields": [{"type": "text", "name": "name", "label": "Your name", "text": "Ada"},
                                      {"type": "select", "name": "meal", "label": "Your meal",
                                       "select": [{"name": "taco", "label": "Taco"},
                                                  {"name": "salad", "label": "Salad"}]}]}, USER),
    message("m-template", {"type": "template", "template": {"name": "hello"}, "text": "Hello from a template"}),
]


def test_markdown_becomes_formatting_and_links(page: Page) -> None:
    """Bold, italic, strikethrough, inline code, a code block, links and line breaks are shown as such."""
    row = show(page, message("m1", {"type": "text", "text": (
        "**bold** and *italic* and _also_ and ~~gone~~ and `x < y`\nsecond line with [docs](https://example.com/d)"
        " and mail <mailto:help@example.com> and https://example.com/bare.\n```\nprint('<b>hi</b>')\n```")}))
    expect(row.locator("strong")).to_have_text("bold")
    expect(row.locator("em")).to_have_text(["italic", "also"])
    expect(row.locator("s")).to_have_text("gone")
    expect(row.locator("code.hg-code")).to_have_text("x < y")
    expect(row.locator("pre.hg-code-block")).to_have_text("print('<b>hi</b>')")
    expect(row.locator("br")).to_have_count(1)
    links = row.locator("a.hg-link")
    expect(links).to_have_text(["docs", "mailto:help@example.com", "https://example.com/bare"])
    expect(links.first).to_have_attribute("href", "https://example.com/d")
    expect(links.first).to_have_attribute("target", "_blank")
    expect(links.first).to_have_attribute("rel", "noopener noreferrer")
    assert "https://example.com/bare" == links.nth(2).get_attribute("href")


def test_a_message_cannot_inject_markup_or_scripts(page: Page) -> None:
    """Markup in text stays text, a javascript: link stays inert, and htmlText keeps only safe formatting."""
    row = show(page, message("m1", {"type": "text", "text": (
        "<script>window.hacked = 1</script><img src=x onerror='window.hacked = 2'> "
        "[click](javascript:window.hacked=3) **<i>bold</i>**")}))
    expect(row).to_contain_text("<script>window.hacked = 1</script><img src=x onerror='window.hacked = 2'>")
    expect(row).to_contain_text("[click](javascript:window.hacked=3")
    expect(row.locator("strong")).to_have_text("<i>bold</i>")
    rich = show(page, message("m2", {"type": "text", "text": "Hello", "htmlText": (
        "<p><strong>Hello</strong> <a href='javascript:alert(1)'>bad</a> <a href='https://example.com'>good</a>"
        "<img src=x onerror='window.hacked = 4'><script>window.hacked = 5</script></p>")}))
    expect(rich.locator("strong")).to_have_text("Hello")
    expect(rich.locator("a")).to_have_text(["good"])
    assert (0, 0, 0, None) == (row.locator("script, img, i").count(), rich.locator("script, img").count(),
                               page.locator("a[href^='javascript']").count(), page.evaluate("window.hacked"))


def test_image_file_and_location(page: Page) -> None:
    """An image has its alt text and opens on click; a file shows its name, size and a download link; a
    location its name, address, coordinates and a link to a map."""
    rows = {m["id"]: show(page, m) for m in EVERY_TYPE if m["id"] in ("m-image", "m-file", "m-location")}
    image = rows["m-image"].get_by_role("img", name="Red running shoes")
    expect(image).to_have_attribute("src", f"{MEDIA}/shoes.svg")
    expect(image).to_have_js_property("complete", True)
    opener = rows["m-image"].get_by_role("link", name="Open image: Red running shoes")
    expect(opener).to_have_attribute("href", f"{MEDIA}/shoes.svg")
    expect(opener).to_have_attribute("target", "_blank")
    expect(rows["m-image"]).to_contain_text("Our best seller")
    expect(rows["m-file"].locator(".hg-attachment-name")).to_have_text("menu.pdf")
    expect(rows["m-file"].locator(".hg-attachment-size")).to_have_text("180 KB")
    download = rows["m-file"].get_by_role("link", name="Download menu.pdf (180 KB)")
    expect(download).to_have_attribute("href", f"{MEDIA}/files/menu.pdf")
    expect(rows["m-location"]).to_contain_text("Zendesk Montreal1 Saint-Laurent, Montreal45.52616, -73.59535")
    expect(rows["m-location"].get_by_role("link", name="Open Zendesk Montreal on a map")).to_have_attribute(
        "href", "https://www.openstreetmap.org/?mlat=45.5261583&mlon=-73.595346#map=16/45.5261583/-73.595346")


def test_actions_of_every_type(page: Page) -> None:
    """A link opens in a new tab, a webview goes to ui.openUrl, a buy shows its price, a location request
    calls ui.shareLocation, and a postback button calls ui.postback("<id>:0"), disabled until it answers."""
    row = show(page, EVERY_TYPE[2])
    link = row.get_by_role("link", name="Our website (opens in a new tab)")
    expect(link).to_have_attribute("href", "https://example.com/")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(row.get_by_role("link", name="Buy vinegar, CA$80.00 (opens in a new tab)")).to_have_attribute(
        "href", "https://example.com/pay")
    row.get_by_role("button", name="Book a table").click()
    row.get_by_role("button", name="Share my location (shares your location)").click()
    postback = row.get_by_role("button", name="Talk to a human")
    postback.click()
    expect(postback).to_be_disabled()
    page.evaluate("release.postback()")
    expect(postback).to_be_enabled()
    assert [["openUrl", "https://example.com/book", {"webview": True, "size": "tall"}], ["shareLocation"],
            ["postback", "m-actions:0"]] == calls(page)


def test_reply_chips(page: Page) -> None:
    """Replies are chips below the message, with their icon; one calls ui.reply(text, payload) and the
    chips are spent."""
    row = show(page, EVERY_TYPE[2])
    chips = row.locator(".hg-replies button")
    expect(chips).to_have_text(["Tacos", "Burritos"])
    expect(chips.first.locator("img")).to_have_attribute("src", f"{MEDIA}/icon.svg")
    row.get_by_role("button", name="Reply: Burritos").click()
    expect(row.locator(".hg-replies.hg-replies-used")).to_be_visible()
    expect(chips).to_have_count(2)
    for n in range(2):
        expect(chips.nth(n)).to_be_disabled()
    assert [["reply", "Burritos", "BURRITOS"]] == calls(page)


def test_carousel_items_buttons_and_keyboard(page: Page) -> None:
    """Carousel items are cards with title, description, image and buttons; an item's postback calls
    ui.postback("<id>:<item>:<n>"); the row scrolls with the arrow keys and with its arrow buttons."""
    row = show(page, EVERY_TYPE[6])
    cards = row.locator(".hg-card")
    expect(cards.locator(".hg-item-title")).to_have_text(["Tacos", "Burritos", "Nachos"])
    expect(cards.first.locator(".hg-item-description")).to_have_text("Beef, cheese and salsa")
    expect(cards.first.get_by_role("img", name="A taco")).to_be_visible()
    expect(cards.nth(1).get_by_role("img", name="Burritos")).to_be_attached()
    expect(cards.first.get_by_role("link", name="Menu (opens in a new tab)")).to_have_attribute(
        "href", "https://example.com/tacos")
    page.set_viewport_size({"width": 375, "height": 700})
    track = row.get_by_role("region", name="Carousel, 3 items")
    track.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("el => el.scrollLeft > 100", arg=track.element_handle(), timeout=5000)
    expect(row.get_by_role("button", name="Previous items")).to_be_visible()
    page.keyboard.press("Home")
    expect(row.get_by_role("button", name="Previous items")).to_be_hidden()
    row.get_by_role("button", name="Next items").click()
    page.wait_for_function("el => el.scrollLeft > 100", arg=track.element_handle(), timeout=5000)
    cards.nth(1).get_by_role("button", name="Order a burrito").click()
    cards.nth(2).get_by_role("button", name="See nachos").click()
    assert [["postback", "m-carousel:1:0"],
            ["openUrl", "https://example.com/nachos", {"webview": True, "size": "compact"}]] == calls(page)


def test_list_items_and_its_own_actions(page: Page) -> None:
    """A list shows its items with their buttons, and its own actions after them (ids `<id>:<n>`)."""
    row = show(page, EVERY_TYPE[7])
    expect(row.locator(".hg-list-item .hg-item-title")).to_have_text(["Tacos", "Burritos"])
    row.get_by_role("button", name="Order tacos").click()
    page.evaluate("release.postback()")
    row.locator(".hg-list-actions").get_by_role("button", name="More dishes").click()
    assert [["postback", "m-list:0:0"], ["postback", "m-list:0"]] == calls(page)


def test_form_checks_fields_before_sending(page: Page) -> None:
    """An empty required field and a bad email are refused in the page, next to the field: nothing is sent."""
    row = show(page, EVERY_TYPE[8])
    row.get_by_role("button", name="Submit the form").click()
    expect(row.locator(".hg-form-field-error:visible")).to_have_text(
        ["This field is required", "This field is required", "Choose at least one option"])
    expect(row.get_by_label("Your name")).to_be_focused()
    row.get_by_label("Your name").fill("A")
    row.get_by_label("Your email").fill("not-an-email")
    row.get_by_label("Burrito").check()
    row.get_by_role("button", name="Submit the form").click()
    expect(row.locator(".hg-form-field-error:visible")).to_have_text(["Enter 2 to 30 characters",
                                                                 "Enter a valid email address"])
    expect(row.get_by_label("Your email")).to_have_attribute("aria-invalid", "true")
    assert [] == calls(page)


def test_form_checks_number_formats(page: Page) -> None:
    """A text field with `format` takes an integer or a decimal, as the server checks it."""
    row = show(page, message("m-numbers", {"type": "form", "fields": [
        {"type": "text", "name": "guests", "label": "Guests", "format": "integer"},
        {"type": "text", "name": "budget", "label": "Budget", "format": "decimal"}]}))
    row.get_by_label("Guests").fill("2.5")
    row.get_by_label("Budget").fill("12,50")
    row.get_by_role("button", name="Submit the form").click()
    expect(row.locator(".hg-form-field-error:visible")).to_have_text(["Enter a whole number", "Enter a number"])
    row.get_by_label("Guests").fill("-3")
    row.get_by_label("Budget").fill("12.50")
    row.get_by_role("button", name="Submit the form").click()
    expect(row.get_by_role("status")).to_have_text("Submitted")
    assert [["submitForm", "m-numbers", [{"type": "text", "name": "guests", "text": "-3"},
                                         {"type": "text", "name": "budget", "text": "12.50"}]]] == calls(page)


def test_form_submits_its_fields_and_shows_a_server_error(page: Page) -> None:
    """The form sends the answers as the form-responses endpoint takes them; a 400's message shows next to
    it and it can be sent again; once accepted it is answered and read-only."""
    row = show(page, EVERY_TYPE[8])
    row.get_by_label("Your name").fill("  Ada Lovelace ")
    row.get_by_label("Your email").fill("ada@example.com")
    row.get_by_label("Taco").check()
    row.get_by_label("Salad").check()
    page.evaluate("formOutcome = \"fields[1].email: this address is refused\"")
    row.get_by_role("button", name="Submit the form").click()
    expect(row.get_by_role("alert")).to_have_text("fields[1].email: this address is refused")
    expect(row.get_by_label("Your name")).to_be_editable()
    page.evaluate("formOutcome = null")
    row.get_by_role("button", name="Submit the form").click()
    expect(row.get_by_role("status")).to_have_text("Submitted")
    expect(row.get_by_role("alert")).to_be_hidden()
    expect(row.get_by_label("Your name")).to_be_disabled()
    expect(row.get_by_label("Taco")).to_be_disabled()
    expect(row.get_by_role("button", name="Submit the form")).to_have_count(0)
    fields = [{"type": "text", "name": "name", "text": "Ada Lovelace"},
              {"type": "email", "name": "email", "email": "ada@example.com"},
              {"type": "select", "name": "meal", "select": [{"name": "taco"}, {"name": "salad"}]}]
    assert [["submitForm", "m-form", fields]] * 2 == calls(page)


def test_an_answered_form_is_read_only(page: Page) -> None:
    """A form that ui.isFormAnswered names, or that the server marks submitted, shows as answered."""
    page.evaluate("answered.push('m-form')")
    row = show(page, EVERY_TYPE[8])
    expect(row.get_by_role("status")).to_have_text("Submitted")
    expect(row.get_by_label("Your email")).to_be_disabled()
    submitted = show(page, message("m-form-2", {**FORM, "submitted": True}))
    expect(submitted.get_by_role("button")).to_have_count(0)
    expect(submitted.get_by_label("Your name")).to_be_disabled()


def test_form_response_template_and_unknown(page: Page) -> None:
    """A formResponse shows label: value per field; a template and an unknown type show their text."""
    response = show(page, EVERY_TYPE[9])
    expect(response.locator("dt")).to_have_text(["Your name:", "Your meal:"])
    expect(response.locator("dd")).to_have_text(["Ada", "Taco, Salad"])
    expect(show(page, EVERY_TYPE[10])).to_have_text("Hello from a template")
    unknown = show(page, message("m-new", {"type": "hologram"}))
    expect(unknown).to_have_text("This message cannot be shown here.")


def test_every_control_is_focusable_and_labelled(page: Page) -> None:
    """Every button, link, input and the carousel can be reached with Tab and has a name."""
    for each in EVERY_TYPE:
        show(page, each)
    unnamed = page.locator("#chat").evaluate("""chat => Array.from(
        chat.querySelectorAll('button, a, input, [tabindex]')).filter(el => {
          const name = el.getAttribute('aria-label') || (el.labels && el.labels.length && el.labels[0].textContent);
          return !(name && name.trim()) || el.tabIndex < 0;
        }).map(el => el.outerHTML)""")
    assert [] == unnamed
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="https://example.com (opens in a new tab)")).to_be_focused()


def test_button_text_is_readable_with_the_default_action_colour(page: Page) -> None:
    """With the hosted default actionColor #0099ff (3.0:1 on white), button text is drawn darker: ≥ 4.5:1."""
    page.evaluate("document.getElementById('chat').style.setProperty('--hg-action', '#0099ff')")
    row = show(page, EVERY_TYPE[2])
    colour = row.get_by_role("button", name="Talk to a human").evaluate("el => getComputedStyle(el).color")
    scale = 1 if colour.startswith("color(srgb ") else 255  # color-mix() computes to color(srgb r g b)
    channels = [float(c) / scale for c in re.findall(r"[\d.]+", colour)[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    assert 4.5 <= 1.05 / (luminance + 0.05) < 5, colour


@pytest.mark.parametrize("width", [1024, 375])
def test_every_type_on_one_page(page: Page, tmp_path: Path, width: int) -> None:
    """One message of every type, on a desktop and on a phone: nothing overflows the page sideways, and a
    screenshot is saved to look at."""
    page.set_viewport_size({"width": width, "height": 800})
    for each in EVERY_TYPE:
        show(page, each)
    expect(page.locator(".hg-message")).to_have_count(len(EVERY_TYPE))
    page.wait_for_function("Array.from(document.images).every(img => img.complete)", timeout=5000)
    screenshot(page, tmp_path, f"every-type-{width}")
    assert width >= page.evaluate("document.documentElement.scrollWidth")


@pytest.mark.parametrize("name", ["render.js", "text.js"])
def test_render_and_text_declare_only_prefixed_names(name: str) -> None:
    """render.js and text.js share one scope with core.js in the bundle: they declare only top-level functions
    and constants named hg… / HG_…, and no module syntax."""
    source = (MESSENGER / name).read_text()
    declared = re.findall(r"^(?:async\s+)?(function|const|let|var|class)\s+([\w$]+)", source, re.MULTILINE)
    assert [] == [(kind, name) for kind, name in declared
                  if kind not in ("function", "const") or not re.match(r"^(hg[A-Z]|HG_)", name)]
    assert [] == re.findall(r"^\s*(?:import|export)\b.*$", source, re.MULTILINE)
    assert (40 if name == "render.js" else 3) < len(declared)
