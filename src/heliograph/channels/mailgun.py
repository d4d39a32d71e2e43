"""Mailgun (docs/channels.md#mailgun): email. What people write to the integration's `incomingAddress` comes to
its webhook through a Mailgun route; the delivery reports of what it sent come there through the domain's
webhooks; messages go out through the Messages API (documentation.mailgun.com, "Receiving messages via HTTP
through a forward() action", "Securing webhooks", "Sending messages").

Provisioning checks the API key on the domain, makes a route `match_recipient("<incomingAddress>")` →
`forward("<inbound URL>")` (its id kept, to delete it with the integration) and adds the same URL to the
domain's `delivered` and `permanent_fail` webhooks (beside the URLs they have). Every request Mailgun makes
carries a timestamp, a random token and `signature` = hex(HMAC-SHA256(signing key, timestamp + token)): in the
form of a forwarded email, in the `signature` object of an event's JSON. It is checked in constant time with
the integration's `signingKey` (its `apiKey` when it has none, as the spec says), and a timestamp more than
`FRESHNESS_S` (Mailgun's 8 hours of retries, and some) away from now is refused; as the signature does not
cover the body, each token is taken in once (`nonce`): a captured request sent again, whatever its body, adds
nothing.

The person is the address in the email's `From`, the client's externalId; their message is the reply's text
without the quoted history (`stripped-text`), or else the whole plain body. Attachments are not taken in
(docs/channels.md, known limits). Email has no buttons: content goes as plain text (channels/plain.py) and as
HTML, where links are links and an image is shown; every email ends with Mailgun's unsubscribe link
(`%unsubscribe_url%`) unless the integration has `hideUnsubscribeLink`.
"""

from __future__ import annotations

import email.parser
import email.policy
import email.utils
import hashlib
import hmac
import html
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import parse_qsl

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

# How far a request's timestamp may be from now: Mailgun retries a forward for 8 hours, maybe with its first
# signature; within that, a token is taken in once (docs/channels.md, Mailgun)
FRESHNESS_S = 8 * 3600 + 30 * 60
SUBJECT = "New message"  # of every email sent (Mailgun needs one)
UNSUBSCRIBE = "%unsubscribe_url%"  # Mailgun puts the recipient's own unsubscribe link there
WEBHOOKS = ("delivered", "permanent_fail")  # the domain's webhooks pointed at the integration
MAX_WEBHOOK_URLS = 3  # a webhook's URLs, at most
WEBHOOK_PATH = "/api/mailgun/webhooks/"  # in the URL of a Heliograph integration's webhook


class Mailgun:
    type: ClassVar[str] = "mailgun"
    default_base_url: ClassVar[str] = "https://api.mailgun.net"  # the EU region's: https://api.eu.mailgun.net
    receipts: ClassVar[bool] = True  # `delivered`, `failed` (permanent) events
    reads: ClassVar[bool] = False  # opens are tracking, not reads: not taken

    # --- inbound ----------------------------------------------------------------------------------

    def configured(self, config: Mapping[str, Any]) -> bool:
        return bool(config.get("apiKey"))  # nullable in the spec: without it nothing can be sent

    def handshake(self, secret: str, query: Mapping[str, str]) -> Answer:
        raise Refused(405, "This channel sends no GET")

    def verify(self, config: Mapping[str, Any], secret: str, request: InboundRequest) -> None:
        timestamp, token, given = _signature(request)
        key = str(config.get("signingKey") or config.get("apiKey") or "")
        if not key or not hmac.compare_digest(signature(key, timestamp, token).encode(), given.encode()):
            raise Refused(401, "Invalid Mailgun signature")
        if abs(request.received_at / 1000 - _seconds(timestamp)) > FRESHNESS_S:
            raise Refused(401, "Stale Mailgun signature: its timestamp is too far from now")

    def address(self, config: Mapping[str, Any]) -> str | None:
        return None  # a webhook of its own: every request is this integration's

    def nonce(self, request: InboundRequest) -> str | None:
        return _signature(request)[1]  # the signature covers the token, not the body: a token is taken in once

    def parse(self, request: InboundRequest) -> list[InboundEvent]:
        if _is_json(request):
            receipt = _receipt(_event(request))
            return [] if receipt is None else [receipt]
        form = _fields(request)
        name, address = email.utils.parseaddr(form.get("from") or form.get("From") or form.get("sender") or "")
        if "@" not in address:
            raise Refused(400, "The email has no sender address")
        text = (form.get("stripped-text") or form.get("body-plain") or "").strip() or (form.get("subject") or "")
        if not text.strip():
            return []
        message_id = _bare(form.get("Message-Id") or form.get("message-id") or _header(form, "message-id") or "")
        message_id = message_id or form["token"]  # (an email without one: its request's token, taken in once)
        person = address.lower()
        profile = Profile(display_name=name or address, raw={"email": person, "name": name or None})
        key = f"message:{person}:{message_id}"  # (a sender names their own messages: the key is theirs too)
        if len(key) > 255:  # the replay keys' length
            key = "message:sha256:" + hashlib.sha256(key.encode()).hexdigest()
        return [UserMessage(user=person, profile=profile, original_id=message_id, external_id=key,
                            sent_at=int(_seconds(form["timestamp"]) * 1000),
                            content={"type": "text", "text": text.strip()})]

    def acknowledge(self, events: Sequence[InboundEvent]) -> Answer:
        return Answer(200, b"OK")

    # --- outbound ---------------------------------------------------------------------------------

    def render(self, content: Mapping[str, Any], *, message_id: str, to: str) -> list[Call]:
        text, picture = plain(content)
        return [Call("POST", "messages", {"to": to, "subject": SUBJECT, "text": text, "picture": picture or ""})]

    async def send(self, http: httpx.AsyncClient, base_url: str, config: Mapping[str, Any], call: Call) -> Sent:
        body = dict(call.json or {})
        sender = str(config.get("fromAddress") or config.get("incomingAddress") or "")
        footer = not config.get("hideUnsubscribeLink")
        form = {"from": sender, "h:Reply-To": sender, "to": body["to"], "subject": body["subject"],
                "text": _text_body(body["text"], body["picture"], footer),
                "html": _html_body(body["text"], body["picture"], footer)}
        answer = await _request(http, "POST", f"{_v3(base_url)}/{config.get('domain', '')}/messages", config, form)
        return Sent([_bare(str(answer["id"]))] if answer.get("id") else [])

    # --- provisioning -----------------------------------------------------------------------------

    async def provision(self, http: httpx.AsyncClient, base_url: str, config: Mapping[str, Any], *,
                        webhook_url: str, secret: str) -> dict[str, Any]:
        domain, base = str(config["domain"]), _v3(base_url)
        await _request(http, "GET", f"{base}/domains/{domain}", config)
        route = await _request(http, "POST", f"{base}/routes", config, {
            "priority": "0", "description": f"Heliograph: {webhook_url}",
            "expression": f'match_recipient("{config["incomingAddress"]}")',
            "action": [f'forward("{webhook_url}")', "stop()"]})
        route_id = _dict(route.get("route")).get("id")
        if not route_id:
            raise ChannelError("bad_request", "Mailgun did not describe the route it made")
        learnt = {"routeId": route_id, "webhookUrl": webhook_url}
        pointed: list[str] = []
        try:
            for kind in WEBHOOKS:
                await _add_webhook(http, base, config, kind, webhook_url)
                pointed.append(kind)
        except ChannelError:
            await _undo(http, base, {**config, **learnt}, pointed)
            raise
        return learnt

    async def deprovision(self, http: httpx.AsyncClient, base_url: str, config: Mapping[str, Any]) -> None:
        await _undo(http, _v3(base_url), config, WEBHOOKS)


def signature(key: str, timestamp: str, token: str) -> str:
    """Mailgun's signature of a request: hex HMAC-SHA256 of the timestamp and token with the signing key."""
    return hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()


# --- reading requests ----------------------------------------------------------------------------------

def _is_json(request: InboundRequest) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json"


def _event(request: InboundRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body)
    except (ValueError, RecursionError):
        raise Refused(400, "The body is not JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("signature"), dict):
        raise Refused(400, "The event has no signature object")
    return body


def _signature(request: InboundRequest) -> tuple[str, str, str]:
    """The request's timestamp, token and signature (in an event's `signature` object, or an email's form)."""
    proof: Mapping[str, Any] = _event(request)["signature"] if _is_json(request) else _fields(request)
    found = [str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
             for value in (proof.get(name) for name in ("timestamp", "token", "signature"))]
    if not all(value and len(value) <= 128 and value.isascii() and value.isprintable() for value in found):
        raise Refused(401, "Missing Mailgun signature (timestamp, token, signature)")
    return found[0], found[1], found[2]


def _seconds(timestamp: str) -> float:
    """A signed timestamp (seconds since the epoch), or Refused."""
    try:
        seconds = float(timestamp)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds):
        raise Refused(401, "Invalid Mailgun timestamp")
    return seconds


def _fields(request: InboundRequest) -> dict[str, str]:
    """The text fields of a forwarded email: a URL-encoded form, or multipart when it has attachments (whose
    files are left out)."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "multipart/form-data":
        try:
            return dict(parse_qsl(request.body.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
        except (UnicodeDecodeError, ValueError):
            raise Refused(400, "The body is not a form") from None
    try:
        parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n" + request.body)
        if not parsed.is_multipart() or parsed.defects:
            raise Refused(400, "The body is not a multipart form")
        fields: dict[str, str] = {}
        for part in parsed.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and part.get_filename() is None and isinstance(payload, bytes):
                fields[name] = _decoded(payload, part.get_content_charset())
        return fields
    except (ValueError, LookupError, RecursionError, TypeError):  # the email package's view of a broken form
        raise Refused(400, "The body is not a multipart form") from None


def _decoded(payload: bytes, charset: str | None) -> str:
    try:
        return payload.decode(charset or "utf-8", "replace")
    except LookupError:  # a charset Python does not know
        return payload.decode("utf-8", "replace")


def _header(form: Mapping[str, str], wanted: str) -> str | None:
    """A header of the email from its `message-headers` (a JSON list of name-value pairs)."""
    try:
        pairs = json.loads(form.get("message-headers") or "[]")
    except (ValueError, RecursionError):
        return None
    for pair in pairs if isinstance(pairs, list) else ():
        if isinstance(pair, list) and len(pair) == 2 and str(pair[0]).lower() == wanted:
            return str(pair[1])
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _bare(message_id: str) -> str:
    """A Message-Id without its angle brackets (Mailgun's events name messages so)."""
    return message_id.strip().removeprefix("<").removesuffix(">")


def _receipt(body: Mapping[str, Any]) -> Receipt | None:
    """A delivery report: `delivered`, or `failed` for good (a temporary failure is retried by Mailgun)."""
    data = body.get("event-data")
    if not isinstance(data, dict):
        raise Refused(400, "The event has no event-data")
    message = _dict(data.get("message"))
    headers = _dict(message.get("headers"))
    message_id, event_id, kind = headers.get("message-id"), data.get("id"), data.get("event")
    if not isinstance(message_id, str) or not isinstance(event_id, str):
        return None
    if kind == "delivered":
        return Receipt(external_id=f"event:{event_id}", message=_bare(message_id), status="delivered")
    if kind == "failed" and data.get("severity") == "permanent":
        status = _dict(data.get("delivery-status"))
        said = status.get("description") or status.get("message") or "Mailgun could not deliver the email"
        reason = str(data.get("reason") or "generic").replace("-", "_")
        return Receipt(external_id=f"event:{event_id}", message=_bare(message_id), status="failed",
                       error=(f"mailgun_{reason}", str(said)))
    return None


# --- writing emails ----------------------------------------------------------------------------------

def _text_body(text: str, picture: str, footer: bool) -> str:
    parts = [part for part in (text, picture) if part]
    if footer:
        parts.append(f"--\nUnsubscribe: {UNSUBSCRIBE}")
    return "\n\n".join(parts)


def _html_body(text: str, picture: str, footer: bool) -> str:
    """The text as HTML: its lines kept, its addresses links, its picture shown."""
    lines = []
    for line in text.split("\n"):
        label, _, uri = line.rpartition(": ")
        if uri.startswith(("https://", "http://")) and " " not in uri:
            shown = html.escape(label or uri)
            lines.append(f'<a href="{html.escape(uri, quote=True)}">{shown}</a>')
        else:
            lines.append(html.escape(line))
    parts = ["<br>\n".join(lines)] if text else []
    if picture:
        parts.append(f'<img src="{html.escape(picture, quote=True)}" alt="" style="max-width:100%">')
    if footer:
        parts.append(f'<small><a href="{UNSUBSCRIBE}">Unsubscribe</a></small>')
    return "<!doctype html><html><body>" + "\n<p>".join(parts) + "</body></html>"


# --- the API -------------------------------------------------------------------------------------------------

def _v3(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/v3"


async def _add_webhook(http: httpx.AsyncClient, base: str, config: Mapping[str, Any], kind: str, url: str) -> None:
    """The domain's webhook of this kind calls `url` too (beside the URLs it has: Mailgun takes up to 3)."""
    hooks = f"{base}/domains/{config.get('domain', '')}/webhooks"
    found = await _request(http, "GET", f"{hooks}/{kind}", config, missing_ok=True)
    if "webhook" not in found:
        await _request(http, "POST", hooks, config, {"id": kind, "url": url})
        return
    urls = _urls(found)
    if url in urls:
        return
    if len(urls) >= MAX_WEBHOOK_URLS:  # full: the oldest of Heliograph's own (an integration gone with its app)
        ours = [other for other in urls if WEBHOOK_PATH in other]
        if not ours:
            raise ChannelError("bad_request", f"The domain's {kind} webhook calls {MAX_WEBHOOK_URLS} URLs already")
        urls.remove(ours[0])
    await _request(http, "PUT", f"{hooks}/{kind}", config, {"url": [*urls, url]})


async def _undo(http: httpx.AsyncClient, base: str, config: Mapping[str, Any], kinds: Sequence[str]) -> None:
    """Delete the integration's route and take its URL off the domain's webhooks of `kinds` (the others' URLs
    stay); every step is tried, and the first refusal raised after."""
    hooks, url = f"{base}/domains/{config.get('domain', '')}/webhooks", config.get("webhookUrl")
    refused: list[ChannelError] = []
    if config.get("routeId"):
        try:
            await _request(http, "DELETE", f"{base}/routes/{config['routeId']}", config, missing_ok=True)
        except ChannelError as error:
            refused.append(error)
    for kind in kinds:
        try:
            urls = _urls(await _request(http, "GET", f"{hooks}/{kind}", config, missing_ok=True))
            if url in urls:
                kept = [other for other in urls if other != url]
                if kept:
                    await _request(http, "PUT", f"{hooks}/{kind}", config, {"url": kept})
                else:
                    await _request(http, "DELETE", f"{hooks}/{kind}", config, missing_ok=True)
        except ChannelError as error:
            refused.append(error)
    if refused:
        raise refused[0]


def _urls(found: Mapping[str, Any]) -> list[str]:
    urls = _dict(found.get("webhook")).get("urls")
    return [str(url) for url in urls] if isinstance(urls, list) else []


async def _request(http: httpx.AsyncClient, method: str, url: str, config: Mapping[str, Any],
                   form: Mapping[str, str | list[str]] | None = None, *, missing_ok: bool = False) -> dict[str, Any]:
    """One call with the API key (Basic `api:<apiKey>`): its JSON, or ChannelError ({} for a 404 if missing_ok)."""
    response, answer = await call_api(http, "Mailgun", method, url, data=form,
                                      auth=("api", str(config.get("apiKey") or "")))
    if 200 <= response.status_code < 300 or (missing_ok and response.status_code == 404):
        return answer
    said = answer.get("message") or response.text.strip()[:200] or f"HTTP {response.status_code}"
    message = f"Mailgun refused the request: {said}"
    raise refusal(response, message)
