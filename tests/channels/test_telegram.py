"""The Telegram adapter without a network (channels/telegram.py): updates checked and read, messages written as
Bot API calls, and the Bot API's answers read, against httpx's mock transport."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from heliograph.channels.base import ChannelError, InboundRequest, Postback, Refused, Unsupported, UserMessage
from heliograph.channels.telegram import MAX_TEXT, SECRET_HEADER, Telegram
from tests.channels import telegram_payloads as payloads

TELEGRAM = Telegram()
SECRET = "s3cret_-token"
MID = "5f74a0d52b5315fc007e7900"


def request(update: Any, secret: str | None = SECRET) -> InboundRequest:
    headers = {} if secret is None else {SECRET_HEADER: secret}
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    return InboundRequest("POST", "https://example.test/api/telegram/webhooks/a/i", headers, {}, body)


def test_only_the_integrations_secret_token_lets_an_update_in() -> None:
    TELEGRAM.verify({}, SECRET, request(payloads.TEXT))
    for secret, said in ((None, "Missing"), ("wrong", "Invalid"), (SECRET + "x", "Invalid"), ("", "Invalid")):
        with pytest.raises(Refused) as refused:
            TELEGRAM.verify({}, SECRET, request(payloads.TEXT, secret))
        assert 401 == refused.value.status and said in str(refused.value)


def test_a_private_chats_text_and_location_become_the_persons_messages() -> None:
    [text] = TELEGRAM.parse(request(payloads.TEXT))
    assert isinstance(text, UserMessage)
    assert ("111", "message:111:1365", "1365", 1700000000000) == (
        text.user, text.external_id, text.original_id, text.sent_at)
    assert {"type": "text", "text": "hi"} == text.content
    assert ("Ann", "Lee", "Ann Lee") == (text.profile.given_name, text.profile.surname, text.profile.display_name)
    assert payloads.ANN == text.profile.raw
    [location] = TELEGRAM.parse(request(payloads.LOCATION))
    assert {"type": "location", "coordinates": {"lat": 45.5017, "long": -73.5673}} == location.content  # type: ignore[union-attr]


def test_a_button_press_is_a_postback_answered_in_the_webhooks_reply() -> None:
    events = TELEGRAM.parse(request(payloads.BUTTON))
    assert [Postback] == [type(event) for event in events]
    press = events[0]
    assert isinstance(press, Postback)
    assert ("111", f"{MID}:1", "callback:4382bfdwdsb323b2d9") == (press.user, press.action_id, press.external_id)
    answer = TELEGRAM.acknowledge(events)
    assert (200, "application/json") == (answer.status, answer.content_type)
    assert {"method": "answerCallbackQuery", "callback_query_id": "4382bfdwdsb323b2d9"} == json.loads(answer.body)
    assert b"" == TELEGRAM.acknowledge(TELEGRAM.parse(request(payloads.TEXT))).body


@pytest.mark.parametrize("update", [payloads.GROUP, payloads.EDITED, payloads.STICKER, {"update_id": 1}],
                         ids=["group", "edited", "sticker", "empty"])
def test_what_is_not_a_private_message_or_press_is_dropped(update: dict[str, Any]) -> None:
    assert [] == TELEGRAM.parse(request(update))


@pytest.mark.parametrize("body", [b"{", b"[1]", b""], ids=["truncated", "array", "empty"])
def test_a_body_that_is_not_an_update_is_refused(body: bytes) -> None:
    with pytest.raises(Refused) as refused:
        TELEGRAM.parse(request(body))
    assert 400 == refused.value.status


def test_text_with_buttons_becomes_sendmessage_with_an_inline_keyboard() -> None:
    content = {"type": "text", "text": "Pick one", "actions": [
        {"type": "postback", "text": "Red", "payload": "RED"},
        {"type": "link", "text": "Shop", "uri": "https://shop.example/"},
        {"type": "buy", "text": "Buy", "amount": 100}]}
    [call] = TELEGRAM.render(content, message_id=MID, to="111")
    assert ("POST", "sendMessage") == (call.method, call.path)
    buttons = [[{"text": "Red", "callback_data": f"{MID}:0"}], [{"text": "Shop", "url": "https://shop.example/"}]]
    assert {"chat_id": "111", "text": "Pick one", "reply_markup": {"inline_keyboard": buttons}} == call.json
    assert len(f"{MID}:99:99".encode()) <= 64  # Telegram's limit on callback_data


def test_replies_become_a_one_time_keyboard_and_a_long_text_several_messages() -> None:
    content = {"type": "text", "text": "x" * (MAX_TEXT + 5), "actions": [
        {"type": "reply", "text": "Yes", "payload": "Y"}, {"type": "locationRequest", "text": "Where am I"}]}
    first, second = TELEGRAM.render(content, message_id=MID, to="111")
    assert {"chat_id": "111", "text": "x" * MAX_TEXT} == first.json  # the keyboard comes with the last part
    assert {"chat_id": "111", "text": "xxxxx", "reply_markup": {
        "keyboard": [[{"text": "Yes"}], [{"text": "Where am I", "request_location": True}]],
        "one_time_keyboard": True, "resize_keyboard": True}} == second.json


def test_media_location_and_carousels() -> None:
    [photo] = TELEGRAM.render({"type": "image", "mediaUrl": "https://x.test/a.png", "text": "Look"},
                              message_id=MID, to="111")
    assert ("sendPhoto", {"chat_id": "111", "photo": "https://x.test/a.png", "caption": "Look"}) == (
        photo.path, photo.json)
    [document] = TELEGRAM.render({"type": "file", "mediaUrl": "https://x.test/a.pdf"}, message_id=MID, to="111")
    assert ("sendDocument", {"chat_id": "111", "document": "https://x.test/a.pdf"}) == (document.path, document.json)
    [place] = TELEGRAM.render({"type": "location", "coordinates": {"lat": 1.5, "long": 2.5}}, message_id=MID, to="7")
    assert ("sendLocation", {"chat_id": "7", "latitude": 1.5, "longitude": 2.5}) == (place.path, place.json)
    items = [{"title": "Red", "description": "A red one", "mediaUrl": "https://x.test/r.png",
              "actions": [{"type": "postback", "text": "Pick", "payload": "R"}]},
             {"title": "Blue", "actions": [{"type": "postback", "text": "Pick", "payload": "B"}]}]
    red, blue = TELEGRAM.render({"type": "carousel", "items": items}, message_id=MID, to="111")
    assert ("sendPhoto", "Red\nA red one", [[{"text": "Pick", "callback_data": f"{MID}:0:0"}]]) == (
        red.path, red.json["caption"], red.json["reply_markup"]["inline_keyboard"])  # type: ignore[index]
    assert ("sendMessage", "Blue", f"{MID}:1:0") == (
        blue.path, blue.json["text"], blue.json["reply_markup"]["inline_keyboard"][0][0]["callback_data"])  # type: ignore[index]


def test_a_form_cannot_be_sent() -> None:
    with pytest.raises(Unsupported) as unsupported:
        TELEGRAM.render({"type": "form", "fields": []}, message_id=MID, to="111")
    assert ("uncategorized_error", "Unsupported message type `form`") == (
        unsupported.value.code, unsupported.value.message)


def bot_api(answer: Callable[[httpx.Request], httpx.Response]) -> tuple[httpx.AsyncClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request)

    return httpx.AsyncClient(transport=httpx.MockTransport(handle)), seen


def test_a_sent_message_gives_its_id_and_failures_say_whether_to_try_again() -> None:
    config = {"token": "123:ABC"}
    [call] = TELEGRAM.render({"type": "text", "text": "hi"}, message_id=MID, to="111")

    async def send(status: int, body: Any) -> Any:
        http, seen = bot_api(lambda _: httpx.Response(status, json=body))
        async with http:
            try:
                return await TELEGRAM.send(http, "https://tg.test/", config, call), seen
            except ChannelError as error:
                return error, seen

    sent, seen = asyncio.run(send(200, {"ok": True, "result": {"message_id": 371, "chat": {"id": 111}}}))
    assert ["371"] == list(sent.external_ids)
    assert "https://tg.test/bot123:ABC/sendMessage" == str(seen[0].url)
    assert {"chat_id": "111", "text": "hi"} == json.loads(seen[0].content)
    cases = [(429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 7",
                    "parameters": {"retry_after": 7}}, ("too_many_requests", True, 7.0)),
             (502, {}, ("service_unavailable", True, None)),
             (403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
              ("forbidden", False, None)),
             (401, {"ok": False, "error_code": 401, "description": "Unauthorized"}, ("unauthorized", False, None))]
    for status, body, expected in cases:
        error, _ = asyncio.run(send(status, body))
        assert isinstance(error, ChannelError)
        assert expected == (error.code, error.retryable, error.retry_after)
    error, _ = asyncio.run(send(403, {"ok": False, "description": "Forbidden: bot was blocked by the user"}))
    assert "Telegram refused sendMessage: Forbidden: bot was blocked by the user" == error.message


def test_provisioning_checks_the_token_and_sets_the_webhook_with_its_secret() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/getMe"):
            return httpx.Response(200, json={"ok": True, "result": {"id": 999, "is_bot": True, "username": "shop_bot"}})
        return httpx.Response(200, json={"ok": True, "result": True})

    async def provision() -> tuple[dict[str, Any], list[httpx.Request]]:
        http, seen = bot_api(answer)
        async with http:
            learnt = await TELEGRAM.provision(http, "https://tg.test", {"token": "123:ABC"},
                                              webhook_url="https://hg.test/api/telegram/webhooks/a/i", secret=SECRET)
            await TELEGRAM.deprovision(http, "https://tg.test", {"token": "123:ABC"})
        return learnt, seen

    learnt, seen = asyncio.run(provision())
    assert {"botId": "999", "username": "shop_bot"} == learnt
    assert ["/bot123:ABC/getMe", "/bot123:ABC/setWebhook", "/bot123:ABC/deleteWebhook"] == [r.url.path for r in seen]
    assert {"url": "https://hg.test/api/telegram/webhooks/a/i", "secret_token": SECRET,
            "allowed_updates": ["message", "callback_query"]} == json.loads(seen[1].content)
