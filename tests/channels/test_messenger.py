"""The Messenger and Instagram adapters without a network (channels/messenger.py): notifications read, echoes and
reads dropped, messages written as Send API bodies.

Shapes written by hand from Meta's documentation (developers.facebook.com/docs/messenger-platform/reference/
webhook-events: messages, messaging_postbacks, message_deliveries, message_reads; …/reference/send-api and the
button, generic and quick-reply pages)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from heliograph.channels.base import InboundRequest, Postback, Read, Receipt, Refused, Unsupported, UserMessage
from heliograph.channels.messenger import Instagram, Messenger
from heliograph.channels.meta import SIGNATURE_HEADER, sign

MESSENGER, INSTAGRAM = Messenger(), Instagram()
MID = "5f74a0d52b5315fc007e7900"


def request(object_: str, *items: dict[str, Any]) -> InboundRequest:
    body = json.dumps({"object": object_, "entry": [{"id": "PAGE", "time": 1, "messaging": [
        {"sender": {"id": "PSID"}, "recipient": {"id": "PAGE"}, "timestamp": 1458692752478, **item}
        for item in items]}]}).encode()
    return InboundRequest("POST", "u", {SIGNATURE_HEADER: sign("secret", body)}, {}, body)


def test_what_a_page_hears() -> None:
    events = MESSENGER.parse(request(
        "page", {"message": {"mid": "m_1", "text": "hello"}},
        {"message": {"mid": "m_2", "text": "Coffee", "quick_reply": {"payload": "COFFEE"}}},
        {"message": {"mid": "m_3", "attachments": [{"type": "image", "payload": {"url": "https://cdn.test/a.jpg"}}]}},
        {"message": {"mid": "m_4", "text": "our own", "is_echo": True}},
        {"postback": {"mid": "m_5", "title": "Yes", "payload": f"{MID}:0"}},
        {"delivery": {"mids": ["m_out"], "watermark": 1458668856253}},
        {"read": {"watermark": 1458668856253}}))
    assert [UserMessage, UserMessage, UserMessage, Postback, Receipt, Read] == [type(e) for e in events]
    text, quick, picture, press, delivered, read = events
    assert Read("PSID", "read:PSID:1458668856253", "PAGE") == read
    assert ({"type": "text", "text": "hello"}, "PSID", 1458692752478) == (text.content, text.user, text.sent_at)  # type: ignore[union-attr]
    assert {"type": "text", "text": "Coffee", "payload": "COFFEE"} == quick.content  # type: ignore[union-attr]
    assert {"type": "image", "mediaUrl": "https://cdn.test/a.jpg"} == picture.content  # type: ignore[union-attr]
    assert f"{MID}:0" == press.action_id  # type: ignore[union-attr]
    assert Receipt("status:m_out:delivered", "m_out", "delivered", addressee="PAGE") == delivered
    assert {"PAGE"} == {event.addressee for event in events}  # the Page each was for (entry.id)
    MESSENGER.verify({"appSecret": "secret"}, "", request("page"))
    with pytest.raises(Refused):
        MESSENGER.verify({"appSecret": "other"}, "", request("page"))
    with pytest.raises(Refused):
        INSTAGRAM.parse(request("page"))  # a Page's notification is not Instagram's


def test_what_a_page_says() -> None:
    def message(adapter: Messenger, content: dict[str, Any]) -> list[dict[str, Any]]:
        calls = adapter.render(content, message_id=MID, to="PSID")
        assert all(("me/messages", {"id": "PSID"}, "RESPONSE") == (c.path, (c.json or {})["recipient"],
                                                                   (c.json or {})["messaging_type"]) for c in calls)
        return [(c.json or {})["message"] for c in calls]

    assert [{"text": "Tea?", "quick_replies": [{"content_type": "text", "title": "Yes", "payload": "Y"}]}] == message(
        MESSENGER, {"type": "text", "text": "Tea?", "actions": [{"type": "reply", "text": "Yes", "payload": "Y"}]})
    actions = [{"type": "postback", "text": "Buy", "payload": "B"}, {"type": "link", "text": "Site",
                                                                    "uri": "https://x.test"}]
    [button] = message(MESSENGER, {"type": "text", "text": "Pick", "actions": actions})
    assert {"template_type": "button", "text": "Pick", "buttons": [
        {"type": "postback", "title": "Buy", "payload": f"{MID}:0"},
        {"type": "web_url", "title": "Site", "url": "https://x.test"}]} == button["attachment"]["payload"]
    [generic] = message(INSTAGRAM, {"type": "text", "text": "Pick", "actions": actions})
    assert "generic" == generic["attachment"]["payload"]["template_type"]
    [cards] = message(MESSENGER, {"type": "carousel", "items": [
        {"title": "Tea", "description": "Green", "mediaUrl": "https://x.test/t.png",
         "actions": [{"type": "postback", "text": "Buy", "payload": "T"}]}]})
    assert [{"title": "Tea", "subtitle": "Green", "image_url": "https://x.test/t.png",
             "buttons": [{"type": "postback", "title": "Buy", "payload": f"{MID}:0:0"}]}] == cards[
        "attachment"]["payload"]["elements"]
    picture, caption = message(MESSENGER, {"type": "image", "mediaUrl": "https://x.test/a.png", "text": "Look"})
    assert ({"type": "image", "payload": {"url": "https://x.test/a.png", "is_reusable": True}}, {"text": "Look"}) == (
        picture["attachment"], caption)
    with pytest.raises(Unsupported):
        MESSENGER.render({"type": "form", "fields": []}, message_id=MID, to="PSID")
