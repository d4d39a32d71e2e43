"""The WhatsApp Cloud API adapter without a network (channels/whatsapp.py; not served yet): the signature, the
handshake, notifications of messages and statuses, messages written as Graph API calls, and its answers.

Shapes written by hand from Meta's documentation (developers.facebook.com/documentation/business-messaging/
whatsapp/webhooks/reference/messages and …/messages/status; …/reference/messages for sending; the error codes
page for 131047 and 130429); the text notification is the one the documentation shows."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest

from heliograph.channels.base import ChannelError, InboundRequest, Postback, Receipt, Refused, Unsupported, UserMessage
from heliograph.channels.whatsapp import SIGNATURE_HEADER, WhatsApp

WHATSAPP = WhatsApp()
CONFIG = {"appSecret": "app-secret", "accessToken": "EAAG", "phoneNumberId": "106540352242922",
          "accountId": "102290129340398"}
MID = "5f74a0d52b5315fc007e7900"
VALUE = {"messaging_product": "whatsapp",
         "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
         "contacts": [{"profile": {"name": "Sheena"}, "wa_id": "16505551234"}]}


def notification(**value: Any) -> dict[str, Any]:
    return {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [
        {"field": "messages", "value": {**VALUE, **value}}]}]}


def request(body: Any, secret: str = "app-secret", signed: str | None = None) -> InboundRequest:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    header = signed or "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return InboundRequest("POST", "https://hg.test/api/whatsapp/webhooks/a/i", {SIGNATURE_HEADER: header}, {}, raw)


WAMID = "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
TEXT = notification(messages=[{"from": "16505551234", "id": WAMID, "timestamp": "1749416383", "type": "text",
                               "text": {"body": "Does it come in another color?"}}])


def test_only_the_apps_signature_on_these_bytes_gets_in() -> None:
    WHATSAPP.verify(CONFIG, "", request(TEXT))
    raw = json.dumps(TEXT).encode()
    for forged in (request(TEXT, secret="another"), request(raw + b" "),
                   InboundRequest("POST", "u", {}, {}, raw),
                   request(raw, signed="sha256=" + hmac.new(b"app-secret", raw + b"x", hashlib.sha256).hexdigest())):
        if forged.body == raw + b" ":  # signed for other bytes than the ones sent
            forged = InboundRequest("POST", "u", {SIGNATURE_HEADER: request(TEXT).headers[SIGNATURE_HEADER]}, {},
                                    raw + b" ")
        with pytest.raises(Refused) as refused:
            WHATSAPP.verify(CONFIG, "", forged)
        assert 401 == refused.value.status


def test_the_handshake_answers_the_challenge_for_the_integrations_token_only() -> None:
    answer = WHATSAPP.handshake("verify-me", {"hub.mode": "subscribe", "hub.verify_token": "verify-me",
                                              "hub.challenge": "1158201444"})
    assert (200, b"1158201444", "text/plain") == (answer.status, answer.body, answer.content_type)
    for query in ({"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"},
                  {"hub.mode": "unsubscribe", "hub.verify_token": "verify-me", "hub.challenge": "1"}):
        with pytest.raises(Refused) as refused:
            WHATSAPP.handshake("verify-me", query)
        assert 403 == refused.value.status


def test_messages_presses_and_statuses_are_read() -> None:
    [text] = WHATSAPP.parse(request(TEXT))
    assert isinstance(text, UserMessage)
    assert ("16505551234", "Sheena", {"type": "text", "text": "Does it come in another color?"}, 1749416383000) == (
        text.user, text.profile.display_name, text.content, text.sent_at)
    place = notification(messages=[{"from": "16505551234", "id": "wamid.2", "timestamp": "1749416390",
                                    "type": "location", "location": {"latitude": 37.48, "longitude": -122.15,
                                                                     "name": "Philz Coffee"}}])
    [where] = WHATSAPP.parse(request(place))
    assert {"type": "location", "coordinates": {"lat": 37.48, "long": -122.15},
            "location": {"name": "Philz Coffee"}} == where.content  # type: ignore[union-attr]
    press = notification(messages=[{"from": "16505551234", "id": "wamid.3", "timestamp": "1749416400",
                                    "type": "interactive", "interactive": {
                                        "type": "button_reply", "button_reply": {"id": f"{MID}:1", "title": "Blue"}}}])
    [pressed] = WHATSAPP.parse(request(press))
    assert isinstance(pressed, Postback) and f"{MID}:1" == pressed.action_id
    statuses = notification(statuses=[
        {"id": "wamid.9", "status": "sent", "timestamp": "1", "recipient_id": "16505551234"},
        {"id": "wamid.9", "status": "delivered", "timestamp": "2", "recipient_id": "16505551234"},
        {"id": "wamid.9", "status": "read", "timestamp": "3", "recipient_id": "16505551234"},
        {"id": "wamid.8", "status": "failed", "timestamp": "4", "recipient_id": "16505551234",
         "errors": [{"code": 131047, "title": "Re-engagement message"}]}])
    number = CONFIG["phoneNumberId"]  # each names the number it was for (metadata.phone_number_id)
    assert [Receipt("status:wamid.9:delivered", "wamid.9", "delivered", addressee=number),
            Receipt("status:wamid.9:read", "wamid.9", "read", addressee=number),
            Receipt("status:wamid.8:failed", "wamid.8", "failed", ("whatsapp_131047", "Re-engagement message"),
                    addressee=number)
            ] == WHATSAPP.parse(request(statuses))
    for body in (b"{", {"object": "page", "entry": []}):
        with pytest.raises(Refused):
            WHATSAPP.parse(request(body))


def test_messages_become_graph_calls() -> None:
    def body(content: dict[str, Any]) -> dict[str, Any]:
        [call] = WHATSAPP.render(content, message_id=MID, to="16505551234")
        assert "messages" == call.path
        return {k: v for k, v in (call.json or {}).items() if k not in ("messaging_product", "recipient_type", "to")}

    assert {"type": "text", "text": {"body": "Hi\nGuide: https://x.test"}} == body(
        {"type": "text", "text": "Hi", "actions": [{"type": "link", "text": "Guide", "uri": "https://x.test"}]})
    buttons = body({"type": "text", "text": "Size?", "actions": [{"type": "reply", "text": "Small", "payload": "S"},
                                                                {"type": "postback", "text": "A very long label indeed",
                                                                 "payload": "L"}]})
    assert {"type": "button", "body": {"text": "Size?"}, "action": {"buttons": [
        {"type": "reply", "reply": {"id": f"{MID}:0", "title": "Small"}},
        {"type": "reply", "reply": {"id": f"{MID}:1", "title": "A very long label in"}}]}} == buttons["interactive"]
    many = body({"type": "text", "text": "Pick", "actions": [{"type": "reply", "text": f"n{n}", "payload": str(n)}
                                                             for n in range(12)]})
    assert ("list", 10) == (many["interactive"]["type"], len(many["interactive"]["action"]["sections"][0]["rows"]))
    assert {"type": "image", "image": {"link": "https://x.test/a.png", "caption": "Look"}} == body(
        {"type": "image", "mediaUrl": "https://x.test/a.png", "text": "Look"})
    assert {"type": "location", "location": {"latitude": 1.5, "longitude": 2.5}} == body(
        {"type": "location", "coordinates": {"lat": 1.5, "long": 2.5}})
    with pytest.raises(Unsupported):
        WHATSAPP.render({"type": "form", "fields": []}, message_id=MID, to="1")


def test_the_graph_apis_answers() -> None:
    [call] = WHATSAPP.render({"type": "text", "text": "hi"}, message_id=MID, to="16505551234")

    async def send(status: int, answer: dict[str, Any]) -> Any:
        seen: list[httpx.Request] = []

        def handle(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return httpx.Response(status, json=answer)

        async with httpx.AsyncClient(transport=httpx.MockTransport(handle)) as http:
            try:
                return await WHATSAPP.send(http, "https://graph.test", CONFIG, call), seen
            except ChannelError as error:
                return error, seen

    sent, seen = asyncio.run(send(200, {"messaging_product": "whatsapp", "contacts": [{"wa_id": "16505551234"}],
                                        "messages": [{"id": "wamid.OUT"}]}))
    assert ["wamid.OUT"] == list(sent.external_ids)
    assert ("https://graph.test/v21.0/106540352242922/messages", "Bearer EAAG") == (
        str(seen[0].url), seen[0].headers["authorization"])
    for status, code, expected in ((400, 131047, ("outside_window", False)), (400, 130429, ("too_many_requests", True)),
                                   (401, 190, ("unauthorized", False)), (503, 2, ("service_unavailable", True))):
        error, _ = asyncio.run(send(status, {"error": {"message": "nope", "type": "OAuthException", "code": code}}))
        assert expected == (error.code, error.retryable)


@pytest.mark.parametrize("message", [
    {"from": "1", "id": "w1", "type": "text", "text": "not an object"},
    {"from": "1", "id": "w2", "type": "interactive", "interactive": "x"},
    {"from": "1", "id": "w3", "type": "interactive", "interactive": {"type": "nfm_reply", "nfm_reply": {}}},
    {"from": "1", "id": "w4", "type": "location", "location": []},
    {"from": "1", "id": "w5", "type": "text", "text": {"body": "hi"}, "timestamp": "²"},
], ids=["text", "interactive", "flow", "location", "timestamp"])
def test_a_notification_of_an_unexpected_shape_is_dropped_not_a_crash(message: dict[str, Any]) -> None:
    events = WHATSAPP.parse(request(notification(contacts=[{"wa_id": "1", "profile": "x"}], messages=[message])))
    assert all(isinstance(event, UserMessage) and event.sent_at is None for event in events)
