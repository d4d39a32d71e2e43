"""The Mailgun adapter without a network (channels/mailgun.py): the signature against an answer computed
elsewhere, the forms of a forwarded email (URL-encoded, and multipart with an attachment), the domain's
events, and messages written as Messages API calls.

Sources of the shapes: documentation.mailgun.com, "Receiving messages via HTTP through a forward() action"
(the forwarded email's parameters: recipient, sender, from, subject, body-plain, stripped-text,
message-headers, timestamp, token, signature, attachment-count, attachment-x), "Securing webhooks" (the
signature: hex HMAC-SHA256 of timestamp + token with the webhook signing key; an event's `signature` and
`event-data` objects), "Events" (`delivered`, and `failed` with `severity` and `delivery-status`)."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qs, urlencode

import httpx
import pytest

from heliograph.channels.base import Call, ChannelError, InboundRequest, Receipt, Refused, Unsupported, UserMessage
from heliograph.channels.mailgun import FRESHNESS_S, Mailgun, signature

MAILGUN = Mailgun()
CONFIG = {"apiKey": "key-api", "signingKey": "key-7f3a6c2e1d", "domain": "mg.shop.example",
          "incomingAddress": "help@mg.shop.example"}
NOW = 1_529_006_900_000  # ms
URL = "https://hg.example.com/api/mailgun/webhooks/a/i"


def proof(key: str = "key-7f3a6c2e1d", timestamp: str = "1529006854",
          token: str = "b1d9a0e5ec0a3b16fec4b4c6b2d7fa5c31d3bd2d2c7aa1e0") -> dict[str, str]:
    return {"timestamp": timestamp, "token": token, "signature": signature(key, timestamp, token)}


def email_form(**changes: str) -> dict[str, str]:
    headers = [["Message-Id", "<CAF=ab12@mail.example.net>"], ["From", "Ana Lima <Ana@Example.org>"],
               ["Subject", "Order 1042"]]
    return {"recipient": "help@mg.shop.example", "sender": "ana@example.org", "from": "Ana Lima <Ana@Example.org>",
            "subject": "Order 1042", "body-plain": "Where is my order?\n\nOn Mon, you wrote:\n> Thanks!",
            "stripped-text": "Where is my order?", "Message-Id": "<CAF=ab12@mail.example.net>",
            "message-headers": json.dumps(headers), "attachment-count": "0", **proof(), **changes}


def form_request(form: dict[str, str], *, at: int = NOW) -> InboundRequest:
    return InboundRequest("POST", URL, {"content-type": "application/x-www-form-urlencoded"}, {},
                          urlencode(form).encode(), received_at=at)


def event_request(data: dict[str, object], signed: dict[str, str] | None = None) -> InboundRequest:
    body = {"signature": proof() if signed is None else signed, "event-data": data}
    return InboundRequest("POST", URL, {"content-type": "application/json"}, {}, json.dumps(body).encode(),
                          received_at=NOW)


def test_the_signature_gives_an_answer_computed_elsewhere() -> None:
    # printf '%s' 1529006854b1d9a0e5ec0a3b16fec4b4c6b2d7fa5c31d3bd2d2c7aa1e0 | openssl dgst -sha256 -hmac key-7f3a6c2e1d
    assert "b66efd5e9840924eebbb24318b6e5c2b168aaf9adb22a63126cbcdc043d8663f" == proof()["signature"]


def test_only_a_recent_request_signed_with_the_integrations_key_gets_in() -> None:
    MAILGUN.verify(CONFIG, "", form_request(email_form()))
    MAILGUN.verify({**CONFIG, "signingKey": None}, "", form_request(email_form(**proof("key-api"))))  # no signingKey
    MAILGUN.verify(CONFIG, "", event_request({"event": "delivered"}))
    stale = NOW + (FRESHNESS_S + 1) * 1000
    forged = [form_request(email_form(**proof("key-api"))),  # the API key, when there is a signing key
              form_request(email_form(token="another-token")),  # the signature of another token
              form_request(email_form(timestamp="1529006855")),
              form_request(email_form(signature="")), form_request(email_form(), at=stale),
              form_request({k: v for k, v in email_form().items() if k != "signature"}),
              event_request({"event": "delivered"}, proof("wrong"))]
    for request in forged:
        with pytest.raises(Refused) as refused:
            MAILGUN.verify(CONFIG, "", request)
        assert 401 == refused.value.status


def test_a_forwarded_email_is_the_senders_reply_without_its_quoted_history() -> None:
    [message] = MAILGUN.parse(form_request(email_form()))
    assert isinstance(message, UserMessage)
    assert ("ana@example.org", "message:ana@example.org:CAF=ab12@mail.example.net", "CAF=ab12@mail.example.net",
            {"type": "text", "text": "Where is my order?"}, "Ana Lima", 1_529_006_854_000) == (
        message.user, message.external_id, message.original_id, message.content, message.profile.display_name,
        message.sent_at)
    [whole] = MAILGUN.parse(form_request(email_form(**{"stripped-text": ""})))
    assert isinstance(whole, UserMessage) and whole.content["text"].startswith("Where is my order?\n\nOn Mon")
    assert [] == MAILGUN.parse(form_request(email_form(**{"stripped-text": "", "body-plain": "", "subject": ""})))
    with pytest.raises(Refused):
        MAILGUN.parse(form_request(email_form(**{"from": "nobody", "sender": ""})))


def test_a_message_is_keyed_by_its_sender_and_id_and_its_request_by_its_token() -> None:
    """The signature covers the token, not the body: the token is the request's nonce, taken in once. A sender
    names their own Message-Ids, so the key is theirs too; an email without one is keyed by its token."""
    assert proof()["token"] == MAILGUN.nonce(form_request(email_form()))
    [blank] = MAILGUN.parse(form_request(email_form(**{"Message-Id": "<>", "message-headers": "[]"})))
    [other] = MAILGUN.parse(form_request(email_form(**{"from": "bo@example.org"})))
    [long] = MAILGUN.parse(form_request(email_form(**{"Message-Id": "<" + "x" * 300 + "@example.net>"})))
    assert isinstance(blank, UserMessage) and isinstance(other, UserMessage) and isinstance(long, UserMessage)
    assert (f"message:ana@example.org:{proof()['token']}", "message:bo@example.org:CAF=ab12@mail.example.net") == (
        blank.external_id, other.external_id)
    assert long.external_id.startswith("message:sha256:") and len(long.external_id) <= 255


@pytest.mark.parametrize("body", [
    b'{"signature": {"timestamp": "1529006854", "token": "\\ud800", "signature": "x"}, "event-data": {}}',
    b"[" * 50000, b'{"signature": {"timestamp": true, "token": "t", "signature": "s"}}', b'"text"',
    b'{"signature": {"timestamp": "1", "token": "' + b"t" * 200 + b'", "signature": "s"}}'],
    ids=["surrogate", "deep", "boolean", "string", "long token"])
def test_hostile_events_are_refused(body: bytes) -> None:
    request = InboundRequest("POST", URL, {"content-type": "application/json"}, {}, body, received_at=NOW)
    with pytest.raises(Refused):
        MAILGUN.verify(CONFIG, "", request)


def test_hostile_forms_are_refused_or_read() -> None:
    for timestamp in ("nan", "inf", "-inf", "soon"):
        with pytest.raises(Refused):
            MAILGUN.verify(CONFIG, "", form_request(email_form(**proof(timestamp=timestamp))))
    odd = ("--b\r\nContent-Disposition: form-data; name=\"stripped-text\"\r\nContent-Type: text/plain; "
           "charset=nope\r\n\r\nhello\r\n")
    fields = "".join(f'--b\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                     for k, v in email_form().items() if k != "stripped-text")
    request = InboundRequest("POST", URL, {"content-type": "multipart/form-data; boundary=b"}, {},
                             (odd + fields + "--b--\r\n").encode(), received_at=NOW)
    MAILGUN.verify(CONFIG, "", request)
    [message] = MAILGUN.parse(request)
    assert isinstance(message, UserMessage) and "hello" == message.content["text"]


def test_an_email_with_an_attachment_comes_as_multipart() -> None:
    built = httpx.Request("POST", URL, data=email_form(**{"attachment-count": "1"}),
                          files={"attachment-1": ("receipt.pdf", b"%PDF-1.4 \xff\xfe", "application/pdf")})
    request = InboundRequest("POST", URL, {"content-type": built.headers["content-type"]}, {}, built.read(),
                             received_at=NOW)
    MAILGUN.verify(CONFIG, "", request)
    [message] = MAILGUN.parse(request)
    assert isinstance(message, UserMessage) and {"type": "text", "text": "Where is my order?"} == message.content
    broken = InboundRequest("POST", URL, {"content-type": "multipart/form-data; boundary=x"}, {}, b"--y\r\n",
                            received_at=NOW)
    with pytest.raises(Refused):
        MAILGUN.verify(CONFIG, "", broken)


def test_the_domains_events_are_receipts() -> None:
    headers = {"message": {"headers": {"message-id": "20180614.1@mg.shop.example"}}}
    [delivered] = MAILGUN.parse(event_request({"event": "delivered", "id": "ev1", **headers}))
    assert Receipt("event:ev1", "20180614.1@mg.shop.example", "delivered") == delivered
    failed = {"event": "failed", "id": "ev2", "severity": "permanent", "reason": "suppress-bounce", **headers,
              "delivery-status": {"code": 605, "description": "Not delivering to previously bounced address"}}
    [receipt] = MAILGUN.parse(event_request(failed))
    assert Receipt("event:ev2", "20180614.1@mg.shop.example", "failed",
                   ("mailgun_suppress_bounce", "Not delivering to previously bounced address")) == receipt
    assert [] == MAILGUN.parse(event_request({**failed, "severity": "temporary"}))  # Mailgun tries again itself
    assert [] == MAILGUN.parse(event_request({"event": "opened", "id": "ev3", **headers}))
    with pytest.raises(Refused):
        MAILGUN.parse(event_request([]))  # type: ignore[arg-type]


async def sent_form(content: dict[str, object], config: dict[str, object] = CONFIG) -> dict[str, list[str]]:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "<20180614.7@mg.shop.example>", "message": "Queued. Thank you."})

    [call] = MAILGUN.render(content, message_id="m1", to="ana@example.org")
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        sent = await MAILGUN.send(http, "https://api.eu.mailgun.net", config, call)
    assert ["20180614.7@mg.shop.example"] == list(sent.external_ids)
    assert "https://api.eu.mailgun.net/v3/mg.shop.example/messages" == str(seen[0].url)
    assert seen[0].headers["authorization"] == httpx.BasicAuth("api", "key-api")._auth_header
    return parse_qs(seen[0].content.decode())


def test_a_message_is_an_email_in_text_and_html_with_the_unsubscribe_link() -> None:
    form = asyncio.run(sent_form({"type": "text", "text": "Shipped <today>.", "actions": [
        {"type": "link", "text": "Track it", "uri": "https://shop.example/t?id=1&x=2"},
        {"type": "reply", "text": "Thanks", "payload": "THX"}]}))
    assert (["help@mg.shop.example"], ["help@mg.shop.example"], ["ana@example.org"]) == (
        form["from"], form["h:Reply-To"], form["to"])
    assert ["Shipped <today>.\nTrack it: https://shop.example/t?id=1&x=2\nThanks\n\n--\nUnsubscribe: "
            "%unsubscribe_url%"] == form["text"]
    html = form["html"][0]
    assert "Shipped &lt;today&gt;." in html and '<a href="https://shop.example/t?id=1&amp;x=2">Track it</a>' in html
    assert '<a href="%unsubscribe_url%">' in html

    quiet = asyncio.run(sent_form({"type": "image", "mediaUrl": "https://cdn.example/p.png", "text": "Your parcel"},
                            {**CONFIG, "hideUnsubscribeLink": True, "fromAddress": "care@shop.example"}))
    assert (["care@shop.example"], ["Your parcel\n\nhttps://cdn.example/p.png"]) == (quiet["from"], quiet["text"])
    assert '<img src="https://cdn.example/p.png"' in quiet["html"][0] and "unsubscribe" not in quiet["html"][0]
    with pytest.raises(Unsupported):
        MAILGUN.render({"type": "form", "fields": []}, message_id="m1", to="ana@example.org")


@pytest.mark.parametrize(("status", "headers", "code", "retryable", "after"), [
    (429, {"retry-after": "7"}, "too_many_requests", True, 7.0), (502, {}, "service_unavailable", True, None),
    (401, {}, "unauthorized", False, None), (400, {}, "bad_request", False, None)])
def test_refusals_are_channel_errors(status: int, headers: dict[str, str], code: str, retryable: bool,
                                    after: float | None) -> None:
    asyncio.run(refused(status, headers, code, retryable, after))


async def refused(status: int, headers: dict[str, str], code: str, retryable: bool, after: float | None) -> None:
    transport = httpx.MockTransport(lambda _request: httpx.Response(status, headers=headers, text="Forbidden"))
    async with httpx.AsyncClient(transport=transport) as http:
        with pytest.raises(ChannelError) as error:
            await MAILGUN.send(http, "https://api.mailgun.net", CONFIG, Call("POST", "messages", {
                "to": "ana@example.org", "subject": "s", "text": "t", "picture": ""}))
    assert (code, retryable, after) == (error.value.code, error.value.retryable, error.value.retry_after)
    assert "Forbidden" in error.value.message


def test_a_full_webhook_gives_up_the_oldest_heliograph_url_and_never_the_customers() -> None:
    ours = [f"https://old.example/api/mailgun/webhooks/a/{n}" for n in (1, 2)]

    async def provision(urls: list[str]) -> list[httpx.Request]:
        seen: list[httpx.Request] = []

        def answer(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            if request.method == "GET" and "/webhooks/" in request.url.path:
                return httpx.Response(200, json={"webhook": {"urls": urls}})
            return httpx.Response(200, json={"route": {"id": "r1"}, "message": "ok"})

        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
            await MAILGUN.provision(http, "https://api.mailgun.net", CONFIG, webhook_url=URL, secret="")
        return seen

    seen = asyncio.run(provision(["https://crm.example/a", *ours]))
    puts = [parse_qs(request.content.decode())["url"] for request in seen if request.method == "PUT"]
    assert [["https://crm.example/a", ours[1], URL]] * 2 == puts
    with pytest.raises(ChannelError) as full:
        asyncio.run(provision(["https://crm.example/a", "https://crm.example/b", "https://crm.example/c"]))
    assert "3 URLs already" in full.value.message
