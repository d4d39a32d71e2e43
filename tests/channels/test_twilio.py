"""The Twilio adapter without a network (channels/twilio.py): the signature against Twilio's published
known answer, the forms of an incoming message and a status callback, and messages written as Messages.json
calls.

Sources of the shapes: twilio.com/docs/usage/security (the signature and its published example, also in
twilio-python's tests/unit/test_request_validator.py), twilio.com/docs/messaging/guides/webhook-request (an
incoming message's parameters), twilio.com/docs/messaging/guides/outbound-message-status-in-status-callbacks
(a status callback's)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from heliograph.channels.base import InboundRequest, Receipt, Refused, Unsupported, UserMessage
from heliograph.channels.twilio import EMPTY_TWIML, MAX_BODY, SIGNATURE_HEADER, Twilio, signature

TWILIO = Twilio()
CONFIG = {"accountSid": "AC9a0b", "authToken": "12345", "phoneNumber": "+15005550006"}
URL = "https://hg.example.com/api/twilio/webhooks/a/i"
MID = "5f74a0d52b5315fc007e7900"
INCOMING = [("MessageSid", "SM11"), ("AccountSid", "AC9a0b"), ("From", "+14158675309"), ("To", "+15005550006"),
            ("Body", "Is the shop open?"), ("NumMedia", "0"), ("SmsStatus", "received")]


def request(params: list[tuple[str, str]], *, url: str = URL, token: str = "12345",
            signed: str | None = None) -> InboundRequest:
    header = signature(token, url, params) if signed is None else signed
    return InboundRequest("POST", url, {SIGNATURE_HEADER: header}, {}, urlencode(params).encode())


def test_the_signature_gives_twilios_published_answer() -> None:
    params = [("CallSid", "CA1234567890ABCDE"), ("Caller", "+14158675309"), ("Digits", "1234"),
              ("From", "+14158675309"), ("To", "+18005551212")]
    assert "RSOYDt4T1cUTdK1PDd93/VVr8B8=" == signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params)


def test_only_a_request_signed_with_the_accounts_token_for_this_url_gets_in() -> None:
    TWILIO.verify(CONFIG, "", request(INCOMING))
    with_port = URL.replace("hg.example.com", "hg.example.com:443")
    TWILIO.verify(CONFIG, "", request(INCOMING, url=URL, signed=signature("12345", with_port, INCOMING)))
    tampered = InboundRequest("POST", URL, {SIGNATURE_HEADER: signature("12345", URL, INCOMING)}, {},
                              urlencode([*INCOMING[:-3], ("Body", "Give me a refund"), *INCOMING[-2:]]).encode())
    cases = [request(INCOMING, token="54321"), request(INCOMING, signed="bm90IGl0"), tampered,
             InboundRequest("POST", URL, {}, {}, urlencode(INCOMING).encode()),
             request(INCOMING, url=URL + "/other"), request([*INCOMING[:1], ("AccountSid", "ACother"), *INCOMING[2:]])]
    for forged in cases:
        if forged.url != URL:  # signed for another URL, sent to this one
            forged = InboundRequest("POST", URL, forged.headers, {}, forged.body)
        with pytest.raises(Refused) as refused:
            TWILIO.verify(CONFIG, "", forged)
        assert 401 == refused.value.status


def test_an_incoming_message_and_an_mms() -> None:
    [message] = TWILIO.parse(request(INCOMING))
    assert isinstance(message, UserMessage)
    assert ("+14158675309", "message:SM11", "SM11", {"type": "text", "text": "Is the shop open?"}) == (
        message.user, message.external_id, message.original_id, message.content)
    mms = [*INCOMING[:4], ("Body", ""), ("NumMedia", "1"), ("MediaUrl0", "https://api.twilio.com/m/ME1"),
           ("MediaContentType0", "image/jpeg")]
    [picture] = TWILIO.parse(request(mms))
    assert {"type": "image", "mediaUrl": "https://api.twilio.com/m/ME1", "mediaType": "image/jpeg"} == (
        picture.content)  # type: ignore[union-attr]
    assert (200, EMPTY_TWIML, "text/xml") == tuple(vars(TWILIO.acknowledge([message])).values())


def test_status_callbacks_become_receipts() -> None:
    def status(value: str, *extra: tuple[str, str]) -> list[Receipt]:
        params = [("MessageSid", "SM22"), ("AccountSid", "AC9a0b"), ("MessageStatus", value), *extra]
        return TWILIO.parse(request(params))  # type: ignore[return-value]

    assert [Receipt("status:SM22:delivered", "SM22", "delivered")] == status("delivered")
    assert [Receipt("status:SM22:read", "SM22", "read")] == status("read")
    [failed] = status("undelivered", ("ErrorCode", "30003"))
    assert ("failed", ("twilio_30003", "Twilio could not deliver the message (undelivered)")) == (
        failed.status, failed.error)
    assert [] == status("sent") == status("queued")  # on its way: nothing to report yet


@pytest.mark.parametrize("body", [b"", urlencode([("From", "+1")]).encode(), b"\xff\xfe"],
                         ids=["empty", "no sid", "not utf-8"])
def test_a_form_that_is_not_twilios_is_refused(body: bytes) -> None:
    with pytest.raises(Refused) as refused:
        TWILIO.parse(InboundRequest("POST", URL, {}, {}, body))
    assert 400 == refused.value.status


def test_messages_become_texts_with_their_actions_as_lines() -> None:
    [text] = TWILIO.render({"type": "text", "text": "Pick one", "actions": [
        {"type": "reply", "text": "Yes", "payload": "Y"}, {"type": "link", "text": "Guide", "uri": "https://x.test"}]},
        message_id=MID, to="+14158675309")
    assert ("Messages.json", {"To": "+14158675309", "Body": "Pick one\nYes\nGuide: https://x.test"}) == (
        text.path, text.json)
    [image] = TWILIO.render({"type": "image", "mediaUrl": "https://x.test/a.png", "text": "Look"}, message_id=MID,
                            to="+1")
    assert {"To": "+1", "Body": "Look", "MediaUrl": "https://x.test/a.png"} == image.json
    [file] = TWILIO.render({"type": "file", "mediaUrl": "https://x.test/a.pdf"}, message_id=MID, to="+1")
    assert "https://x.test/a.pdf" == file.json["Body"]  # type: ignore[index]
    [place] = TWILIO.render({"type": "location", "coordinates": {"lat": 1.5, "long": 2.5}}, message_id=MID, to="+1")
    assert "https://maps.google.com/maps?q=1.5,2.5" == place.json["Body"]  # type: ignore[index]
    [cards] = TWILIO.render({"type": "carousel", "items": [
        {"title": "Tea", "description": "Green", "actions": [{"type": "postback", "text": "Buy tea", "payload": "T"}]},
        {"title": "Coffee"}]}, message_id=MID, to="+1")
    assert "Tea\nGreen\nBuy tea\n\nCoffee" == cards.json["Body"]  # type: ignore[index]
    first, second = TWILIO.render({"type": "text", "text": "x" * (MAX_BODY + 1)}, message_id=MID, to="+1")
    assert (MAX_BODY, 1) == (len(first.json["Body"]), len(second.json["Body"]))  # type: ignore[index]
    with pytest.raises(Unsupported):
        TWILIO.render({"type": "form", "fields": []}, message_id=MID, to="+1")
