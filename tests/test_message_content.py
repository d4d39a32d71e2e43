"""PostMessage content: every content type and action type, the fields the server fills in, bad content."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import sunshine_conversations_client as sc

from tests.utils import post, text

MAP_URL = "https://maps.example.com/pin"


def _listed(account: sc.ApiClient, app_id: str, conversation_id: str) -> list[dict[str, Any]]:
    """The conversation's messages as the JSON the server returned."""
    response = sc.MessagesApi(account).list_messages_with_http_info(app_id, conversation_id)
    return list(json.loads(response.raw_data)["messages"])


def _round_trip(account: sc.ApiClient, app_id: str, conversation_id: str, content: sc.Content,
                **fields: Any) -> dict[str, Any]:
    """Post `content` as the business (201); the returned content JSON, checked equal to the listed one."""
    body = sc.MessagePost(author=sc.Author(type="business"), content=content, **fields)
    response = sc.MessagesApi(account).post_message_with_http_info(app_id, conversation_id, body)
    assert 201 == response.status_code
    sent = json.loads(response.raw_data)["messages"][0]
    assert [sent] == _listed(account, app_id, conversation_id)
    return dict(sent["content"])


def _raw_post(http: httpx.Client, app_id: str, conversation_id: str, content: dict[str, Any],
              author: dict[str, Any] | None = None, **fields: Any) -> httpx.Response:
    body = {"author": author or {"type": "business"}, "content": content, **fields}
    return http.post(f"/v2/apps/{app_id}/conversations/{conversation_id}/messages", json=body)


def _every_action() -> list[sc.Action]:
    options = sc.ExtraChannelOptions(messenger=sc.ExtraChannelOptionsMessenger(
        messenger_extensions=True, webview_share_button="hide"))
    return [
        sc.Action(sc.Buy(type="buy", text="Buy", amount=999, currency="usd", metadata={"sku": "a1"})),
        sc.Action(sc.Link(type="link", text="Open", uri="https://example.com/a", default=True,
                          extra_channel_options=options)),
        sc.Action(sc.LocationRequest(type="locationRequest", text="Where are you?")),
        sc.Action(sc.Postback(type="postback", text="Yes", payload="YES", metadata={"n": 1})),
        sc.Action(sc.Reply(type="reply", text="Maybe", payload="MAYBE", icon_url="https://example.com/i.png")),
        sc.Action(sc.Webview(type="webview", text="Form", uri="https://example.com/w",
                             fallback="https://example.com/f", size="tall", open_on_receive=False)),
    ]


def _item(title: str, *actions: sc.ActionSubset, **fields: Any) -> sc.Item:
    return sc.Item(title=title, actions=list(actions), **fields)


def _link(n: int) -> sc.ActionSubset:
    return sc.ActionSubset(sc.Link(type="link", text=f"Link {n}", uri=f"https://example.com/{n}"))


def test_text_message_is_stored_and_returned_as_sent(account: sc.ApiClient, app_id: str,
                                                     conversation_id: str) -> None:
    """A text message with payload and blockChatInput comes back (and is listed) exactly as sent."""
    content = sc.TextMessage(type="text", text="Hello!", block_chat_input=True, payload="P1")
    assert content.to_dict() == _round_trip(account, app_id, conversation_id, sc.Content(content))


def test_text_of_exactly_4096_characters_is_accepted(account: sc.ApiClient, app_id: str,
                                                     conversation_id: str) -> None:
    """4096 characters is the largest text allowed."""
    assert "x" * 4096 == _round_trip(account, app_id, conversation_id, text("x" * 4096))["text"]


def test_every_action_type_is_returned_as_sent(account: sc.ApiClient, app_id: str, conversation_id: str) -> None:
    """buy, link, locationRequest, postback, reply and webview actions keep all their fields."""
    content = sc.TextMessage(type="text", text="Choose", actions=_every_action())
    returned = _round_trip(account, app_id, conversation_id, sc.Content(content))
    assert ["buy", "link", "locationRequest", "postback", "reply", "webview"] == [
        a["type"] for a in returned["actions"]]
    assert content.to_dict() == returned


def test_actions_alone_make_a_text_message(account: sc.ApiClient, app_id: str, conversation_id: str) -> None:
    """A text message needs no text when it carries actions."""
    content = sc.TextMessage(type="text", actions=_every_action()[3:4])
    assert content.to_dict() == _round_trip(account, app_id, conversation_id, sc.Content(content))


def test_html_text_gets_a_plain_text_fallback(account: sc.ApiClient, app_id: str, conversation_id: str) -> None:
    """htmlText without text is kept, and its plain text becomes `text`."""
    content = sc.TextMessage(type="text", html_text="<p>Hello <b>world</b></p>")
    returned = _round_trip(account, app_id, conversation_id, sc.Content(content))
    expected = {"type": "text", "htmlText": "<p>Hello <b>world</b></p>", "text": "Hello world"}
    assert expected == returned


def test_html_fallback_keeps_blocks_on_their_own_lines(account: sc.ApiClient, app_id: str,
                                                      conversation_id: str) -> None:
    """In the plain text fallback, paragraphs and <br> become line breaks and entities are decoded."""
    content = sc.TextMessage(type="text", html_text="<h1>Menu</h1><p>Fish &amp; chips<br>Tea</p>")
    assert "Menu\nFish & chips\nTea" == _round_trip(account, app_id, conversation_id, sc.Content(content))["text"]


def test_html_text_keeps_the_text_given(account: sc.ApiClient, app_id: str, conversation_id: str) -> None:
    """When both text and htmlText are sent, text is not replaced by the fallback."""
    content = sc.TextMessage(type="text", text="Plain", html_text="<i>Rich</i>")
    assert "Plain" == _round_trip(account, app_id, conversation_id, sc.Content(content))["text"]


def test_markdown_text_becomes_html_text(account: sc.ApiClient, app_id: str, conversation_id: str) -> None:
    """markdownText is write-only: it is converted to htmlText, and to a plain text fallback."""
    content = sc.TextMessage(type="text", markdown_text="**Hello** _world_")
    returned = _round_trip(account, app_id, conversation_id, sc.Content(content))
    expected = {"type": "text", "htmlText": "<p><strong>Hello</strong> <em>world</em></p>", "text": "Hello world"}
    assert expected == returned


def test_markdown_converting_past_the_limit_is_rejected(http: httpx.Client, app_id: str,
                                                        conversation_id: str) -> None:
    """markdownText whose htmlText would exceed 4096 characters is a 400 naming markdownText."""
    response = _raw_post(http, app_id, conversation_id, {"type": "text", "markdownText": "**a** " * 600})
    assert 400 == response.status_code
    assert "markdownText" in response.json()["errors"][0]["title"]


def test_image_and_file_messages_are_returned_as_sent(account: sc.ApiClient, app_id: str,
                                                      conversation_id: str) -> None:
    """image (with actions) and file messages keep mediaUrl, altText, text and blockChatInput."""
    image = sc.ImageMessage(type="image", media_url="https://example.com/a.png", alt_text="A cat",
                            text="Look", block_chat_input=False, actions=_every_action()[1:2])
    file = sc.FileMessage(type="file", media_url="https://example.com/a.pdf", alt_text="Report", text="Read")
    assert image.to_dict() == _round_trip(account, app_id, conversation_id, sc.Content(image))
    sc.MessagesApi(account).delete_all_messages(app_id, conversation_id)
    assert file.to_dict() == _round_trip(account, app_id, conversation_id, sc.Content(file))


def test_carousel_gets_a_text_fallback(account: sc.ApiClient, app_id: str, conversation_id: str) -> None:
    """A carousel keeps its items; its read-only `text` lists titles and links, not images or postbacks."""
    subset = [sc.ActionSubset(a.actual_instance) for a in _every_action() if a.actual_instance.type in
              ("buy", "postback", "webview")]
    items = [_item("Tacos", _link(1), *subset[:2], description="Spicy", media_url="https://example.com/t.png",
                   media_type="image/png", alt_text="Taco", size="large", metadata={"k": "v"}),
             _item("Burritos", subset[2])]
    carousel = sc.CarouselMessage(type="carousel", items=items,
                                  display_settings=sc.CarouselMessageDisplaySettings(image_aspect_ratio="square"))
    returned = _round_trip(account, app_id, conversation_id, sc.Content(carousel))
    fallback = returned.pop("text")
    assert carousel.to_dict() == returned
    assert ["Tacos", "Spicy", "https://example.com/1", "Burritos"] == [
        s for s in ("Tacos", "Spicy", "https://example.com/1", "Burritos") if s in fallback]
    assert [] == [s for s in ("https://example.com/t.png", "YES") if s in fallback]


def test_list_message_is_returned_as_sent(account: sc.ApiClient, app_id: str, conversation_id: str) -> None:
    """A list message keeps its items and its message-level actions."""
    content = sc.ListMessage(type="list", items=[_item("One", _link(1)), _item("Two", _link(2))],
                             actions=[_link(3)], block_chat_input=True)
    assert content.to_dict() == _round_trip(account, app_id, conversation_id, sc.Content(content))


def test_location_gets_a_text_fallback(account: sc.ApiClient, app_id: str, conversation_id: str) -> None:
    """A location keeps coordinates and place; its read-only `text` names the place and the coordinates."""
    content = sc.LocationMessage(type="location", coordinates=sc.LocationMessageCoordinates(lat=45.5, long=-73.6),
                                 location=sc.LocationMessageLocation(name="Office", address="1 Main St"))
    returned = _round_trip(account, app_id, conversation_id, sc.Content(content))
    fallback = returned.pop("text")
    assert content.to_dict() == returned
    assert ["Office", "1 Main St", "45.5", "-73.6"] == [
        s for s in ("Office", "1 Main St", "45.5", "-73.6") if s in fallback]


def test_location_without_place_still_gets_a_fallback(account: sc.ApiClient, app_id: str,
                                                      conversation_id: str) -> None:
    """Coordinates alone are enough: the fallback text holds them."""
    content = sc.LocationMessage(type="location", coordinates=sc.LocationMessageCoordinates(lat=-12, long=130.25))
    returned = _round_trip(account, app_id, conversation_id, sc.Content(content))
    assert ["-12", "130.25"] == [s for s in ("-12", "130.25") if s in returned["text"]]


def test_form_is_stored_unsubmitted(account: sc.ApiClient, app_id: str, conversation_id: str) -> None:
    """A form with email, select and text fields is returned with submitted false."""
    fields = [sc.FormMessageField(type="email", name="email", label="Email", placeholder="you@example.com"),
              sc.FormMessageField(type="select", name="size", label="Size", options=[
                  sc.FormOptionsInner(label="Small", name="s"), sc.FormOptionsInner(label="Large", name="l")]),
              sc.FormMessageField(type="text", name="note", label="Note", min_size=2, max_size=50)]
    content = sc.FormMessage(type="form", fields=fields, text="Tell us", block_chat_input=True)
    returned = _round_trip(account, app_id, conversation_id, sc.Content(content))
    assert {**content.to_dict(), "submitted": False} == returned


def test_a_user_cannot_send_a_form(account: sc.ApiClient, app_id: str, user: sc.User,
                                   conversation_id: str) -> None:
    """Only the business may send a form: from a user it is a 400 naming the form."""
    content = sc.Content(sc.FormMessage(type="form", fields=[
        sc.FormMessageField(type="text", name="note", label="Note")]))
    with pytest.raises(sc.ApiException) as raised:
        post(account, app_id, conversation_id, content, sc.Author(type="user", user_id=user.id))
    assert 400 == raised.value.status
    assert "form" in raised.value.body
    assert [] == _listed(account, app_id, conversation_id)


def test_template_needs_the_whatsapp_schema(account: sc.ApiClient, app_id: str, conversation_id: str) -> None:
    """A template is accepted with schema "whatsapp" and refused without it."""
    template = {"name": "hello", "language": {"policy": "deterministic", "code": "en"}}
    content = sc.Content(sc.TemplateMessage(type="template", template=template))
    with pytest.raises(sc.ApiException) as raised:
        post(account, app_id, conversation_id, content)
    assert 400 == raised.value.status
    assert "schema" in raised.value.body
    assert [] == _listed(account, app_id, conversation_id)
    returned = _round_trip(account, app_id, conversation_id, content, var_schema="whatsapp")
    assert {"type": "template", "template": template} == returned


def test_form_response_cannot_be_sent(http: httpx.Client, account: sc.ApiClient, app_id: str,
                                      conversation_id: str) -> None:
    """formResponse messages only answer forms on Web Messenger: through the API they are a 400."""
    content = {"type": "formResponse", "fields": [{"type": "text", "name": "note", "label": "Note", "text": "hi"}]}
    response = _raw_post(http, app_id, conversation_id, content)
    assert 400 == response.status_code
    assert "formResponse" in response.json()["errors"][0]["title"]
    assert [] == _listed(account, app_id, conversation_id)


LINK = {"type": "link", "text": "Go", "uri": "https://example.com"}
ITEM = {"title": "One", "actions": [LINK]}
WEBVIEW = {"type": "webview", "text": "Open", "uri": "https://example.com", "fallback": "https://example.com"}
BAD_CONTENT = {
    "text over 4096": ({"type": "text", "text": "x" * 4097}, "content.text"),
    "empty text": ({"type": "text"}, "content.text"),
    "empty text and actions": ({"type": "text", "text": "", "actions": []}, "content.text"),
    "html and markdown": ({"type": "text", "htmlText": "<b>a</b>", "markdownText": "**a**"}, "markdownText"),
    "unknown content type": ({"type": "hologram", "text": "hi"}, "content.type"),
    "unknown action type": ({"type": "text", "text": "hi", "actions": [{"type": "call", "text": "Call"}]},
                            "content.actions[0].type"),
    "link without uri": ({"type": "text", "text": "hi", "actions": [{"type": "link", "text": "Go"}]}, "uri"),
    "webview without fallback": ({"type": "text", "text": "hi", "actions": [
        {"type": "webview", "text": "Go", "uri": "https://example.com"}]}, "fallback"),
    "carousel without items": ({"type": "carousel", "items": []}, "content.items"),
    "carousel of 11 items": ({"type": "carousel", "items": [ITEM] * 11}, "content.items"),
    "item with 4 actions": ({"type": "carousel", "items": [{"title": "One", "actions": [LINK] * 4}]},
                            "content.items[0].actions"),
    "item mediaUrl not a uri": ({"type": "carousel", "items": [{**ITEM, "mediaUrl": "not a uri"}]},
                                "content.items[0].mediaUrl"),
    "locationRequest in an item": ({"type": "list", "items": [{"title": "One", "actions": [
        {"type": "locationRequest", "text": "Where?"}]}]}, "content.items[0].actions[0].type"),
    "select without options": ({"type": "form", "fields": [{"type": "select", "name": "s", "label": "S"}]},
                               "content.fields[0].options"),
    "select with a repeated option name": ({"type": "form", "fields": [{"type": "select", "name": "s", "label": "S",
        "options": [{"name": "x", "label": "X"}, {"name": "x", "label": "Y"}]}]}, "content.fields[0].options"),
    "two webviews open on receipt": ({"type": "text", "text": "hi", "actions": [
        {**WEBVIEW, "openOnReceive": True}, {**WEBVIEW, "openOnReceive": True}]}, "openOnReceive"),
    "location without coordinates": ({"type": "location"}, "coordinates"),
    "image without mediaUrl": ({"type": "image"}, "mediaUrl"),
}


@pytest.mark.parametrize(("content", "field"), BAD_CONTENT.values(), ids=BAD_CONTENT.keys())
def test_bad_content_is_refused_naming_the_field(http: httpx.Client, account: sc.ApiClient, app_id: str,
                                                 conversation_id: str, content: dict[str, Any], field: str) -> None:
    """Content that breaks a rule of its type is a 400 whose title names the field; nothing is stored."""
    response = _raw_post(http, app_id, conversation_id, content)
    assert (400, "bad_request") == (response.status_code, response.json()["errors"][0]["code"])
    assert field in response.json()["errors"][0]["title"]
    assert [] == _listed(account, app_id, conversation_id)
