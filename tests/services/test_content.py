"""Message content rules (services/content.py): what the types cannot say, and the text the server fills in."""

from __future__ import annotations

from typing import Any

import pytest

from heliograph.errors import BadRequest
from heliograph.schemas import messages as m
from heliograph.services import content
from tests.factories import body


def prepared(author: str = "business", schema: str | None = None, **wire: Any) -> dict[str, Any]:
    """The content `wire` as stored, sent by an author of type `author`."""
    return content.prepare(body(m.Content, **wire), author_type=author, schema=schema)  # type: ignore[arg-type]


def refusal(author: str = "business", schema: str | None = None, **wire: Any) -> str:
    """The title of the 400 that the content `wire` gets."""
    with pytest.raises(BadRequest) as raised:
        prepared(author, schema, **wire)
    return raised.value.title


def test_text_is_stored_as_given() -> None:
    """A plain text message is stored exactly as sent."""
    assert {"type": "text", "text": "Hello"} == prepared(type="text", text="Hello")


@pytest.mark.parametrize("wire", [{}, {"text": ""}, {"actions": []}, {"text": "", "htmlText": ""}])
def test_a_text_message_must_say_something(wire: dict[str, Any]) -> None:
    """Empty strings and an empty actions list do not count as something to say."""
    assert "content.text is required unless actions, htmlText or markdownText is provided" == \
        refusal(type="text", **wire)


def test_actions_alone_are_enough() -> None:
    """A text message of only actions is accepted."""
    reply = {"type": "reply", "text": "Yes", "payload": "YES"}
    assert {"type": "text", "actions": [reply]} == prepared(type="text", actions=[reply])


def test_markdown_becomes_html_with_a_plain_text_fallback() -> None:
    """markdownText is stored as htmlText; without text, the plain text of the HTML fills it in, a line a block."""
    assert {"type": "text", "htmlText": "<p><strong>Hi</strong> there</p>\n<ul>\n<li>one</li>\n</ul>",
            "text": "Hi there\none"} == prepared(type="text", markdownText="**Hi** there\n\n- one")


def test_a_given_text_is_kept_beside_the_html() -> None:
    """A text sent with htmlText is kept, not replaced by the HTML's plain text."""
    assert {"type": "text", "text": "plain", "htmlText": "<b>rich</b>"} == \
        prepared(type="text", text="plain", htmlText="<b>rich</b>")


def test_html_and_markdown_do_not_go_together() -> None:
    """htmlText and markdownText in one message are a 400."""
    assert "content: htmlText and markdownText cannot be used together" == \
        refusal(type="text", htmlText="<b>a</b>", markdownText="**a**")


def test_markdown_must_fit_once_converted() -> None:
    """markdownText within 4096 characters that renders to longer HTML is a 400."""
    assert "content.markdownText converts to htmlText over 4096 characters" == \
        refusal(type="text", markdownText="*a* " * 1000)


def test_the_only_schema_is_whatsapp() -> None:
    """A schema other than `whatsapp` is refused; a template needs exactly that schema."""
    template = {"type": "template", "template": {"name": "hello"}}
    assert ["Invalid schema: the only supported value is 'whatsapp'",
            "content.type template requires schema to be set to 'whatsapp'",
            template] == [refusal(schema="messenger", type="text", text="x"), refusal(**template),
                          prepared(schema="whatsapp", **template)]


def test_a_form_response_comes_from_web_messenger_only() -> None:
    """formResponse content cannot be posted through the API."""
    assert refusal(type="formResponse", fields=[{"type": "text", "name": "a", "label": "A", "text": "x"}]) \
        .startswith("content.type formResponse cannot be sent via the API")


def test_forms_come_from_the_business_with_unique_fields_and_select_options() -> None:
    """A user may not send a form; field names are unique; a select needs options; a stored form is unsubmitted."""
    field = {"type": "text", "name": "name", "label": "Name"}
    assert ["content.type form can only be sent by the business",
            "content.fields: each field name must be unique within the form",
            "content.fields[1].options is required for a select field",
            {"type": "form", "fields": [field], "submitted": False}] == [
        refusal("user", type="form", fields=[field]),
        refusal(type="form", fields=[field, field]),
        refusal(type="form", fields=[field, {"type": "select", "name": "size", "label": "Size"}]),
        prepared(type="form", fields=[field])]


def test_an_actions_metadata_is_limited_to_4_kb() -> None:
    """Metadata of an action past 4 KB is a 400 naming that action."""
    action = {"type": "postback", "text": "Go", "payload": "GO", "metadata": {"blob": "x" * 4096}}
    assert "content.actions[0].metadata is limited to 4096 bytes in size." == refusal(type="text", actions=[action])


def test_a_carousel_gets_a_text_fallback_of_its_items() -> None:
    """A carousel's text lists each item: its title, its description and its link actions."""
    items = [{"title": "Tea", "description": "Green", "actions": [{"type": "link", "text": "Buy", "uri": "https://t.example"}]},
             {"title": "Coffee", "actions": [{"type": "postback", "text": "More", "payload": "MORE"}]}]
    assert "1. Tea\nGreen\nBuy: https://t.example\n\n2. Coffee" == prepared(type="carousel", items=items)["text"]


def test_a_location_gets_a_text_fallback_with_a_map_link() -> None:
    """A location's text names the place and links to a map of its coordinates."""
    assert "Location shared:\nHarbour\n1 Quay St\nhttps://maps.google.com/maps?q=45.5,-73.6" == prepared(
        type="location", coordinates={"lat": 45.5, "long": -73.6},
        location={"name": "Harbour", "address": "1 Quay St"})["text"]


WEBVIEW = {"type": "webview", "text": "Open", "uri": "https://example.com", "fallback": "https://example.com"}


def test_one_webview_of_a_message_may_open_on_receipt() -> None:
    """One webview with openOnReceive is kept; a second one, among the actions or in an item, is a 400."""
    one = prepared(type="text", text="hi", actions=[{**WEBVIEW, "openOnReceive": True}, WEBVIEW])
    title = "content: only one webview action per message can have openOnReceive set to true"
    assert (True, title, title) == (
        one["actions"][0]["openOnReceive"],
        refusal(type="text", text="hi", actions=[{**WEBVIEW, "openOnReceive": True}] * 2),
        refusal(type="carousel", items=[{"title": "A", "actions": [{**WEBVIEW, "openOnReceive": True}]},
                                        {"title": "B", "actions": [{**WEBVIEW, "openOnReceive": True}]}]))


def test_option_names_are_unique_within_a_select_field() -> None:
    """A select field's options need distinct names; the same name in two fields is fine."""
    def select(name: str, *options: str) -> dict[str, Any]:
        return {"type": "select", "name": name, "label": name,
                "options": [{"name": option, "label": option} for option in options]}

    kept = prepared(type="form", fields=[select("a", "x", "y"), select("b", "x")])
    assert (2, "content.fields[1].options: each option name must be unique within its field") == (
        len(kept["fields"]), refusal(type="form", fields=[select("a", "x"), select("b", "y", "y")]))
