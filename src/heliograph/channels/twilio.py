"""Twilio SMS (docs/channels.md#twilio): a number's incoming messages and the messages' status callbacks come to
the integration's webhook as forms signed with the account's auth token; messages go out through the
Messages resource of the 2010-04-01 REST API (twilio.com/docs/messaging/api/message-resource).

Provisioning checks the credentials on the integration's phone number (`phoneNumberSid`), reads its number
(the sender of every message) and points the number's `SmsUrl` at the integration's inbound URL; with a
`messagingServiceSid` it points the service's inbound request URL there instead. Every request Twilio makes
carries `X-Twilio-Signature`: Base64(HMAC-SHA1(auth token, the URL it was sent to + each POST parameter's
name and value, sorted by name)), checked here in constant time, with and without the URL's default port as
Twilio's own validator does.

SMS has no buttons: content goes as plain text (channels/plain.py); an image as MMS (`MediaUrl`). Texts are
cut at 1,600 characters, Twilio's limit for one message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx

from heliograph.channels.base import (
    Answer,
    Call,
    ChannelError,
    InboundEvent,
    InboundRequest,
    Profile,
    Receipt,
    Refused,
    Sent,
    UserMessage,
    call_api,
    refusal,
)
from heliograph.channels.plain import plain

SIGNATURE_HEADER = "x-twilio-signature"
MAX_BODY = 1600  # characters of one message's Body
API = "/2010-04-01/Accounts/{account}"
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
_DELIVERED = {"delivered": "delivered", "read": "read"}
_FAILED = {"failed", "undelivered"}


class Twilio:
    type: ClassVar[str] = "twilio"
    default_base_url: ClassVar[str] = "https://api.twilio.com"
    receipts: ClassVar[bool] = True  # status callbacks: delivered, failed (and read, for WhatsApp through Twilio)
    reads: ClassVar[bool] = False  # an SMS is never reported read: `delivered` is its last receipt

    # --- inbound ----------------------------------------------------------------------------------

    def configured(self, config: Mapping[str, Any]) -> bool:
        return True  # the spec's required fields are all it needs

    def handshake(self, secret: str, query: Mapping[str, str]) -> Answer:
        raise Refused(405, "This channel sends no GET")

    def verify(self, config: Mapping[str, Any], secret: str, request: InboundRequest) -> None:
        given = request.headers.get(SIGNATURE_HEADER)
        if given is None:
            raise Refused(401, "Missing X-Twilio-Signature header")
        params = _form(request.body)
        token = str(config.get("authToken") or "")
        if not any(hmac.compare_digest(signature(token, url, params).encode(), given.encode())
                   for url in _with_and_without_port(request.url)):
            raise Refused(401, "Invalid X-Twilio-Signature header")
        if dict(params).get("AccountSid") != config.get("accountSid"):
            raise Refused(401, "The request is for another Twilio account")

    def address(self, config: Mapping[str, Any]) -> str | None:
        return None  # a webhook of its own: every request is this integration's

    def nonce(self, request: InboundRequest) -> str | None:
        return None  # the signature covers the whole request

    def parse(self, request: InboundRequest) -> list[InboundEvent]:
        form = dict(_form(request.body))
        sid = form.get("MessageSid") or form.get("SmsSid")
        if not sid:
            raise Refused(400, "The form has no MessageSid")
        status = form.get("MessageStatus")
        if status is not None and "Body" not in form:  # a status callback of a message we sent
            return [] if status not in _DELIVERED and status not in _FAILED else [_receipt(sid, status, form)]
        person = form.get("From")
        if not person:
            raise Refused(400, "The form has no From")
        content = _content(form)
        if content is None:
            return []
        profile = Profile(display_name=person, raw={"phoneNumber": person})
        return [UserMessage(user=person, profile=profile, external_id=f"message:{sid}", original_id=sid,
                            sent_at=None, content=content)]

    def acknowledge(self, events: Sequence[InboundEvent]) -> Answer:
        return Answer(200, EMPTY_TWIML, "text/xml")  # TwiML that sends no answer of its own

    # --- outbound ---------------------------------------------------------------------------------

    def render(self, content: Mapping[str, Any], *, message_id: str, to: str) -> list[Call]:
        text, picture = plain(content)
        parts = [text[start:start + MAX_BODY] for start in range(0, len(text), MAX_BODY)] or [""]
        calls = [Call("POST", "Messages.json", {"To": to, "Body": part}) for part in parts]
        if picture:  # the picture comes with the first part
            calls[0] = Call("POST", "Messages.json", {**(calls[0].json or {}), "MediaUrl": picture})
        return calls

    async def send(self, http: httpx.AsyncClient, base_url: str, config: Mapping[str, Any], call: Call) -> Sent:
        form = {**(call.json or {}), **_sender(config)}
        if config.get("statusCallback"):
            form["StatusCallback"] = config["statusCallback"]
        answer = await _request(http, "POST", _url(base_url, config, call.path), config, form)
        return Sent([str(answer["sid"])] if answer.get("sid") else [])

    # --- provisioning -----------------------------------------------------------------------------

    async def provision(self, http: httpx.AsyncClient, base_url: str, config: Mapping[str, Any], *,
                        webhook_url: str, secret: str) -> dict[str, Any]:
        learnt: dict[str, Any] = {"statusCallback": webhook_url}
        if config.get("phoneNumberSid"):
            path = f"IncomingPhoneNumbers/{config['phoneNumberSid']}.json"
            number = await _request(http, "POST", _url(base_url, config, path), config,
                                    {"SmsUrl": webhook_url, "SmsMethod": "POST"})
            if not number.get("phone_number"):
                raise ChannelError("bad_request", "Twilio did not describe the phone number")
            learnt["phoneNumber"] = number["phone_number"]
        else:
            service = f"{_messaging(base_url)}/v1/Services/{config['messagingServiceSid']}"
            await _request(http, "POST", service, config, {"InboundRequestUrl": webhook_url,
                                                           "InboundMethod": "POST", "UseInboundWebhookOnNumber":
                                                           "false"})
        return learnt

    async def deprovision(self, http: httpx.AsyncClient, base_url: str, config: Mapping[str, Any]) -> None:
        if config.get("phoneNumberSid"):
            path = f"IncomingPhoneNumbers/{config['phoneNumberSid']}.json"
            await _request(http, "POST", _url(base_url, config, path), config, {"SmsUrl": ""})
        else:
            await _request(http, "POST", f"{_messaging(base_url)}/v1/Services/{config['messagingServiceSid']}",
                           config, {"InboundRequestUrl": ""})


def signature(token: str, url: str, params: Sequence[tuple[str, str]]) -> str:
    """X-Twilio-Signature of a POST of `params` to `url`, signed with the auth token `token`."""
    signed = url + "".join(name + value for name, value in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), signed.encode(), hashlib.sha1).digest()).decode()


# --- reading requests ----------------------------------------------------------------------------------

def _form(body: bytes) -> list[tuple[str, str]]:
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        raise Refused(400, "The body is not a form") from None


def _with_and_without_port(url: str) -> list[str]:
    """The URL as given, and with its scheme's default port removed or added (Twilio signs either)."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    if parts.port is None and default is not None:
        other = parts._replace(netloc=f"{parts.netloc}:{default}")
    elif parts.port == default:
        other = parts._replace(netloc=parts.netloc.rsplit(":", 1)[0])
    else:
        return [url]
    return [url, urlunsplit(other)] if host else [url]


def _content(form: Mapping[str, str]) -> dict[str, Any] | None:
    """A message's text, or its first picture or file (with the text), as Sunshine content."""
    text = form.get("Body") or ""
    count = int(form.get("NumMedia") or 0) if (form.get("NumMedia") or "0").isdigit() else 0
    if count and form.get("MediaUrl0"):
        media_type = form.get("MediaContentType0") or "application/octet-stream"
        kind = "image" if media_type.startswith("image/") else "file"
        found = {"type": kind, "mediaUrl": form["MediaUrl0"], "mediaType": media_type}
        return {**found, "text": text} if text else found
    return {"type": "text", "text": text} if text else None


def _receipt(sid: str, status: str, form: Mapping[str, str]) -> Receipt:
    error = None
    if status in _FAILED:
        code = form.get("ErrorCode") or "uncategorized"
        error = (f"twilio_{code}", form.get("ErrorMessage") or f"Twilio could not deliver the message ({status})")
    return Receipt(external_id=f"status:{sid}:{status}", message=sid, status=_DELIVERED.get(status, "failed"),
                   error=error)


# --- the REST API ------------------------------------------------------------------------------------------

def _sender(config: Mapping[str, Any]) -> dict[str, str]:
    if config.get("messagingServiceSid"):
        return {"MessagingServiceSid": str(config["messagingServiceSid"])}
    return {"From": str(config.get("phoneNumber") or "")}


def _url(base_url: str, config: Mapping[str, Any], path: str) -> str:
    return f"{base_url.rstrip('/')}{API.format(account=config.get('accountSid', ''))}/{path}"


def _messaging(base_url: str) -> str:
    """The Messaging API's base: its own host at Twilio, the same base anywhere else (a proxy, a fake)."""
    return "https://messaging.twilio.com" if base_url.rstrip("/") == Twilio.default_base_url else base_url.rstrip("/")


async def _request(http: httpx.AsyncClient, method: str, url: str, config: Mapping[str, Any],
                   form: Mapping[str, str]) -> dict[str, Any]:
    """One call with the account's credentials (Basic `AccountSid:AuthToken`): its JSON, or ChannelError."""
    auth = (str(config.get("accountSid") or ""), str(config.get("authToken") or ""))
    response, answer = await call_api(http, "Twilio", method, url, data=dict(form), auth=auth)
    if 200 <= response.status_code < 300:
        return answer
    said = answer.get("message") or f"HTTP {response.status_code}"
    code = answer.get("code")
    message = f"Twilio refused the request: {said}" + (f" (error {code})" if code else "")
    raise refusal(response, message)
